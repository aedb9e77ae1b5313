"""What the result buttons do: reroll the job, edit or upscale one of its images, delete the message."""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bot.app.delivery import run_and_deliver, start_job
from bot.app.pictures import message_pictures
from bot.app.requester import requester_of
from bot.app.views.prompt_modal import FormAnswers, JobForm
from bot.core.errors import ResultGone
from bot.core.generation import ImageAsk
from bot.core.inputs import PictureRef
from bot.core.jobs import UPSCALE_PROMPT, JobKind
from bot.core.storage import JobRecord

if TYPE_CHECKING:
    from bot.app.client import ImageBot

Action = Callable[["discord.Interaction[ImageBot]", JobRecord], Awaitable[None]]


async def reroll(interaction: "discord.Interaction[ImageBot]", record: JobRecord) -> None:
    """The same request again, as a new result."""
    jobs = interaction.client.jobs
    job = await jobs.again(record, requester_of(interaction))
    await interaction.response.defer(thinking=True)
    await run_and_deliver(interaction, jobs, job)


async def edit(interaction: "discord.Interaction[ImageBot]", record: JobRecord) -> None:
    """Ask for a new prompt, then edit the chosen image of this result."""
    bot = interaction.client
    pictures = _result_pictures(interaction)

    async def submit(submitted: "discord.Interaction[ImageBot]", answers: FormAnswers) -> None:
        ask = _ask_from(record, submitted, answers.prompt, pictures[answers.picture])
        await start_job(submitted, bot.jobs, ask, JobKind.EDIT)

    form = JobForm(
        interaction.locale,
        "modal.edit.title",
        submit,
        prompt_max_length=bot.jobs.generation.rules.prompt_max_length,
        pictures=len(pictures),
    )
    await interaction.response.send_modal(form)


async def upscale(interaction: "discord.Interaction[ImageBot]", record: JobRecord) -> None:
    """Re-render one image of this result at the highest quality the server allows; asks which one of several."""
    bot = interaction.client
    pictures = _result_pictures(interaction)
    quality = (await bot.jobs.policy.limits(interaction.guild_id)).max_quality

    async def submit(submitted: "discord.Interaction[ImageBot]", answers: FormAnswers) -> None:
        ask = _ask_from(record, submitted, UPSCALE_PROMPT, pictures[answers.picture], quality=quality)
        await start_job(submitted, bot.jobs, ask, JobKind.UPSCALE)

    if len(pictures) == 1:
        await submit(interaction, FormAnswers())
    else:
        await interaction.response.send_modal(
            JobForm(interaction.locale, "modal.upscale.title", submit, pictures=len(pictures))
        )


async def delete(interaction: "discord.Interaction[ImageBot]", record: JobRecord) -> None:
    """Remove the result message (the requester or a moderator; checked by the button)."""
    await interaction.response.defer()
    await interaction.delete_original_response()


ACTIONS: dict[str, Action] = {"reroll": reroll, "edit": edit, "upscale": upscale, "delete": delete}


def _result_pictures(interaction: discord.Interaction) -> list[PictureRef]:
    # results carry their images as attachments; embedded links are not followed here
    if interaction.message is None or not (pictures := message_pictures(interaction.message, lambda _: False)):
        raise ResultGone
    return pictures


def _ask_from(
    record: JobRecord,
    interaction: discord.Interaction,
    prompt: str,
    picture: PictureRef,
    *,
    quality: str | None = None,
) -> ImageAsk:
    """An ask on one picture of a result, with the result's model, size and quality."""
    return ImageAsk(
        prompt=prompt,
        user_id=interaction.user.id,
        guild_id=interaction.guild_id,
        model=record.model,
        size=record.size,
        quality=quality or record.quality,
        pictures=(picture,),
    )
