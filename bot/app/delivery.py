"""Running a job for an interaction and posting its images, with result buttons, in the interaction's response."""

import asyncio
import logging
from collections.abc import Sequence

import discord

from bot.app import render
from bot.app.i18n import catalogue
from bot.app.requester import requester_of
from bot.app.views.results import result_view
from bot.core.fitting import FittedImage, fit_image
from bot.core.generation import ImageAsk
from bot.core.imageapi import ImageBytes
from bot.core.jobs import Job, JobKind, JobService
from bot.core.storage import JobStatus

log = logging.getLogger(__name__)


async def start_job(interaction: discord.Interaction, jobs: JobService, ask: ImageAsk, kind: JobKind) -> None:
    """Check the ask (a refusal is answered privately, before the defer), acknowledge, then run and deliver."""
    job = await jobs.create(ask, kind, requester_of(interaction))
    await interaction.response.defer(thinking=True)  # the 3 s deadline: acknowledge before any slow work
    await run_and_deliver(interaction, jobs, job)


async def run_and_deliver(interaction: discord.Interaction, jobs: JobService, job: Job) -> None:
    """Run the job of an acknowledged interaction and edit its response with the images.

    Errors propagate to the caller, which words them in the same response; the job's record says how it ended.
    """
    record = job.record
    log.info(
        "job %s: %s for user %s in guild %s (model=%s n=%d quality=%s pictures=%d)",
        job.id,
        record.kind,
        record.user_id,
        record.guild_id,
        record.model,
        record.n,
        record.quality or "1k",
        len(record.pictures),
    )
    generation = await jobs.run(job)
    try:
        limit = min(interaction.filesize_limit, render.MAX_REQUEST_BYTES)
        fitted = await fit_all(generation.images, limit)
        summary = render.ResultSummary(
            job.request,
            generation.seconds,
            record.user_id,
            kind=JobKind(record.kind),
            picture_count=len(record.pictures),
            fitted=tuple(fitted),
            upload_limit=limit,
        )
        message_id = await _post(interaction, job, summary, [item.image for item in fitted])
    except Exception:
        await jobs.finish(job, JobStatus.FAILED, generated=len(generation.images))  # billed upstream all the same
        raise
    await jobs.finish(
        job, JobStatus.DONE, delivered=len(fitted), generated=len(generation.images), message_id=message_id
    )
    log.info("job %s: delivered %d images in %.1fs", job.id, len(fitted), generation.seconds)


async def fit_all(images: Sequence[ImageBytes], limit: int) -> list[FittedImage]:
    """Each image under the upload limit, one at a time in a worker thread: a 4K decode neither blocks the
    event loop nor piles up in memory."""
    return [await asyncio.to_thread(fit_image, image, limit) for image in images]


async def _post(
    interaction: discord.Interaction, job: Job, summary: render.ResultSummary, images: Sequence[ImageBytes]
) -> int:
    """Post the images with their buttons; returns the id of the (first) result message."""
    locale = interaction.locale
    stem = job.record.kind
    view = result_view(job.id, job.record.user_id, locale)
    first, *more = render.upload_batches(images)
    embed = render.result_embed(summary, len(images), locale)
    message = await interaction.edit_original_response(
        embed=embed, attachments=render.image_files(images, first, stem), view=view
    )
    for batch in more:
        note = catalogue.text(locale, "result.more", first=batch[0] + 1, last=batch[-1] + 1, total=len(images))
        await interaction.followup.send(note, files=render.image_files(images, batch, stem), view=view)
    return message.id
