"""Running a job for an interaction and posting its images, with result buttons, in the interaction's response."""

import functools
import logging
from collections.abc import Callable, Sequence

import discord

from bot.app import render
from bot.app.errors import PUBLIC_JOB
from bot.app.i18n import catalogue
from bot.app.posting import elsewhere_may_work, to_channel_or_dm, token_alive, with_retries
from bot.app.requester import requester_of
from bot.app.views.results import result_view
from bot.core.errors import BotError
from bot.core.generation import ImageAsk
from bot.core.imageapi import ImageBytes
from bot.core.jobs import Job, JobKind, JobService
from bot.core.log_context import job_context
from bot.core.metrics import Metrics, job_outcome
from bot.core.storage import JobStatus

log = logging.getLogger(__name__)


async def start_job(interaction: discord.Interaction, jobs: JobService, ask: ImageAsk, kind: JobKind) -> None:
    """Check the ask (a refusal is answered privately, before the defer), acknowledge, then run and deliver."""
    try:
        job = await jobs.create(ask, kind, requester_of(interaction))
    except BotError as error:
        interaction.client.metrics.job_finished(job_outcome(error), 0)  # type: ignore[attr-defined]
        raise
    await interaction.response.defer(thinking=True)  # the 3 s deadline: acknowledge before any slow work
    await run_and_deliver(interaction, jobs, job)


async def run_and_deliver(interaction: discord.Interaction, jobs: JobService, job: Job) -> None:
    """Run the job of an acknowledged interaction and edit its response with the images.

    Errors propagate to the caller, which words them in the same response; the job's record says how it ended.
    """
    interaction.extras[PUBLIC_JOB] = True  # a failure may be told in the channel once the token is gone
    metrics: Metrics = interaction.client.metrics  # type: ignore[attr-defined]
    with job_context(job.id, job.record.guild_id, job.record.user_id):  # every line below names the job
        try:
            delivered = await _run(interaction, jobs, job)
        except Exception as error:
            metrics.job_finished(job_outcome(error), 0)
            raise
    metrics.job_finished("delivered", delivered)


async def _run(interaction: discord.Interaction, jobs: JobService, job: Job) -> int:
    """Submit the job, show its progress, post its result; returns the images delivered."""
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
    limit = min(interaction.filesize_limit, render.MAX_REQUEST_BYTES)
    await jobs.submit(job, limit)
    board = interaction.client.progress  # type: ignore[attr-defined]
    board.watch(job.id, interaction)
    try:
        result = await jobs.outcome(job)
    finally:
        await board.unwatch(job.id)  # no progress edit may land on top of the result
    generated = len(result.images)
    try:
        summary = render.ResultSummary(
            job.request,
            result.seconds,
            record.user_id,
            kind=JobKind(record.kind),
            picture_count=len(record.pictures),
            fitted=tuple(result.images),
            upload_limit=limit,
        )
        message_id = await _post(interaction, job, summary, [item.image for item in result.images])
    except Exception:
        await jobs.finish(job, JobStatus.FAILED, generated=generated)  # billed upstream all the same
        raise
    await jobs.finish(job, JobStatus.DONE, delivered=generated, generated=generated, message_id=message_id)
    log.info("job %s: delivered %d images in %.1fs", job.id, generated, result.seconds)
    return generated


async def _post(
    interaction: discord.Interaction, job: Job, summary: render.ResultSummary, images: Sequence[ImageBytes]
) -> int | None:
    """Post the images with their buttons; returns the id of the first result message (None if none got out)."""
    locale = interaction.locale
    view = result_view(job.id, locale)
    first_id: int | None = None
    for number, batch in enumerate(render.upload_batches(images)):
        files = functools.partial(render.image_files, images, batch, job.record.kind)  # an upload consumes files
        if number == 0:
            embed = render.result_embed(summary, len(images), locale)
            late = catalogue.text(locale, "result.late", user=f"<@{job.record.user_id}>")
            posted = await _post_batch(interaction, job, None, late, embed, files, view)
        else:
            note = catalogue.text(locale, "result.more", first=batch[0] + 1, last=batch[-1] + 1, total=len(images))
            posted = await _post_batch(interaction, job, note, note, None, files, view)
        if first_id is None and posted is not None:
            first_id = posted.id
    return first_id


async def _post_batch(
    interaction: discord.Interaction,
    job: Job,
    content: str | None,
    late_content: str,
    embed: discord.Embed | None,
    files: Callable[[], list[discord.File]],
    view: discord.ui.View,
) -> discord.Message | None:
    """One message of a result: in the interaction's response while its token lives (the first batch edits
    the "thinking" message, later ones follow up), else in the channel mentioning the member, or by DM."""
    lifetime = interaction.client.settings.interaction_token_lifetime  # type: ignore[attr-defined]
    metrics = interaction.client.metrics  # type: ignore[attr-defined]
    if token_alive(interaction, lifetime):
        try:
            if embed is not None:
                return await with_retries(
                    lambda: interaction.edit_original_response(
                        content=content, embed=embed, attachments=files(), view=view
                    ),
                    metrics,
                )
            return await with_retries(
                lambda: interaction.followup.send(content or "", files=files(), view=view), metrics
            )
        except discord.HTTPException as error:
            if not elsewhere_may_work(error):
                raise
            log.warning("job %s: the interaction response failed; posting elsewhere", job.id, exc_info=True)
    return await to_channel_or_dm(interaction, late_content, embed=embed, files=files, view=view)
