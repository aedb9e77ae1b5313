"""The delivery port of an interaction: how a job started from Discord is acknowledged, shows its progress, posts its
images with their buttons, and tells its failure, all in the interaction's response while it lives."""

import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord

from bot.app import render
from bot.app.errors import PRIVATE_JOB, PUBLIC_JOB, report_failure
from bot.app.i18n import catalogue
from bot.app.posting import elsewhere_may_work, to_channel_or_dm, token_alive, with_retries
from bot.app.requester import requester_of
from bot.app.results.buttons import result_view
from bot.core.jobs import Job, JobKind, JobResult
from bot.core.request import ImageRequest

if TYPE_CHECKING:
    from bot.app.client import ImageBot

log = logging.getLogger(__name__)


async def start_job(interaction: "discord.Interaction[ImageBot]", ask: ImageRequest, kind: JobKind) -> None:
    """Have the job service handle a member's request, answering in this interaction."""
    await interaction.client.jobs.handle(ask, kind, requester_of(interaction), InteractionPort(interaction))


class InteractionPort:
    """A job's delivery port for the interaction that asked for it."""

    def __init__(self, interaction: "discord.Interaction[ImageBot]") -> None:
        self._interaction = interaction
        self._bot = interaction.client
        self._private = False

    @property
    def upload_limit(self) -> int:
        return min(self._interaction.filesize_limit, render.MAX_REQUEST_BYTES)

    async def accept(self, private: bool) -> None:
        # the 3 s deadline: acknowledge before slow work
        await self._interaction.response.defer(thinking=True, ephemeral=private)
        self._private = private
        # once the token is gone, a failure may be told in the channel, or for a private job by direct message
        self._interaction.extras[PRIVATE_JOB if private else PUBLIC_JOB] = True

    def show_progress(self, job_id: str) -> None:
        self._bot.progress.watch(job_id, self._interaction)

    async def stop_progress(self, job_id: str) -> None:
        await self._bot.progress.unwatch(job_id)

    async def tell_failure(self, error: Exception) -> None:
        await report_failure(self._interaction, error)

    async def deliver(self, job: Job, result: JobResult) -> int | None:
        """Post the images with their buttons; returns the id of the first result message (None if none got out)."""
        record = job.record
        summary = render.ResultSummary(
            # as the member asked (their prompt, the style's name) at the tier delivered, if it fell short
            dataclasses.replace(job.request, prompt=record.prompt, style=record.style, quality=result.quality),
            result.seconds,
            record.user_id,
            kind=JobKind(record.kind),
            picture_count=len(record.pictures),
            fitted=tuple(result.images),
            upload_limit=self.upload_limit,
            asked_quality=job.request.quality if result.quality != job.request.quality else None,
            from_defaults=job.from_defaults,
        )
        images = [item.image for item in result.images]
        locale = self._interaction.locale
        view = result_view(job.id, locale)
        first_id: int | None = None
        for number, batch in enumerate(render.upload_batches(images)):
            files = functools.partial(render.image_files, images, batch, record.kind)  # an upload consumes files
            if number == 0:
                embed = render.result_embed(summary, len(images), locale)
                late = catalogue.text(locale, "result.late", user=f"<@{record.user_id}>")
                posted = await self._post_batch(job, None, late, embed, files, view)
            else:
                total = len(images)
                note = catalogue.text(locale, "result.more", first=batch[0] + 1, last=batch[-1] + 1, total=total)
                posted = await self._post_batch(job, note, note, None, files, view)
            if first_id is None and posted is not None:
                first_id = posted.id
        return first_id

    async def _post_batch(
        self,
        job: Job,
        content: str | None,
        late_content: str,
        embed: discord.Embed | None,
        files: Callable[[], list[discord.File]],
        view: discord.ui.View,
    ) -> discord.Message | None:
        """One message of a result: in the interaction's response while its token lives (the first batch edits
        the "thinking" message, later ones follow up), else in the channel mentioning the member, or by DM."""
        interaction, metrics = self._interaction, self._bot.metrics
        if token_alive(interaction, self._bot.settings.interaction_token_lifetime):
            try:
                if embed is not None:
                    return await with_retries(
                        lambda: interaction.edit_original_response(
                            content=content, embed=embed, attachments=files(), view=view
                        ),
                        metrics,
                    )
                return await with_retries(
                    lambda: interaction.followup.send(content or "", files=files(), view=view, ephemeral=self._private),
                    metrics,
                )
            except discord.HTTPException as error:
                if not elsewhere_may_work(error):
                    raise
                log.warning("job %s: the interaction response failed; posting elsewhere", job.id, exc_info=True)
        return await to_channel_or_dm(
            interaction, late_content, private=self._private, embed=embed, files=files, view=view
        )
