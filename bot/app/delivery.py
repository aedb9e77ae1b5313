"""Running a generation for an interaction and posting its images in the interaction's response."""

import logging
import secrets

import discord

from bot.app import render
from bot.app.i18n import catalogue
from bot.core.generation import GenerationService
from bot.core.imageapi import GenerationRequest

log = logging.getLogger(__name__)


async def generate_and_deliver(
    interaction: discord.Interaction, service: GenerationService, request: GenerationRequest, stem: str
) -> None:
    """Generate for an acknowledged interaction and edit its response with the images.

    Errors propagate to the command tree, which words them in the same response.
    """
    job_id = secrets.token_hex(8)
    log.info(
        "job %s: %s for user %s in guild %s (model=%s n=%d quality=%s)",
        job_id,
        stem,
        interaction.user.id,
        interaction.guild_id,
        request.model,
        request.n,
        request.quality or "1k",
    )
    generation = await service.generate(request)
    images = generation.images
    summary = render.ResultSummary(request, generation.seconds, interaction.user.id)
    first, *more = render.upload_batches(images)
    embed = render.result_embed(summary, len(images), interaction.locale)
    await interaction.edit_original_response(embed=embed, attachments=render.image_files(images, first, stem))
    for batch in more:
        note = catalogue.text(
            interaction.locale, "result.more", first=batch[0] + 1, last=batch[-1] + 1, total=len(images)
        )
        await interaction.followup.send(note, files=render.image_files(images, batch, stem))
    log.info("job %s: delivered %d images in %.1fs", job_id, len(images), generation.seconds)
