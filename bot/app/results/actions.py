"""What a job's buttons do: reroll it, edit or upscale one of its images, delete its message, cancel it."""

import dataclasses
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bot.app.delivery import start_job
from bot.app.i18n import catalogue
from bot.app.pictures import message_pictures
from bot.app.requester import requester_of
from bot.app.results.form import FormAnswers, JobForm
from bot.core.errors import ResultGone
from bot.core.inputs import PictureRef
from bot.core.jobs import UPSCALE_PROMPT, JobKind, request_of
from bot.core.prompt_params import split_parameters
from bot.core.request import ImageRequest
from bot.core.storage import JobRecord

if TYPE_CHECKING:
    from bot.app.client import ImageBot

Action = Callable[["discord.Interaction[ImageBot]", JobRecord], Awaitable[None]]


async def reroll(interaction: "discord.Interaction[ImageBot]", record: JobRecord) -> None:
    """The same request again, as a new result (also the Retry of a job a crash cut off)."""
    await start_job(
        interaction, dataclasses.replace(request_of(record), private=_private(interaction)), JobKind(record.kind)
    )


async def edit(interaction: "discord.Interaction[ImageBot]", record: JobRecord) -> None:
    """Ask for a new prompt, then edit the chosen image of this result."""
    bot = interaction.client
    pictures = _result_pictures(interaction)

    private = _private(interaction)

    async def submit(submitted: "discord.Interaction[ImageBot]", answers: FormAnswers) -> None:
        ask = _ask_from(record, answers.prompt, pictures[answers.picture], private=private)
        await start_job(submitted, ask, JobKind.EDIT)

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
    quality = await bot.jobs.highest_quality(requester_of(interaction))
    private = _private(interaction)

    async def submit(submitted: "discord.Interaction[ImageBot]", answers: FormAnswers) -> None:
        ask = _ask_from(record, UPSCALE_PROMPT, pictures[answers.picture], quality=quality, private=private)
        await start_job(submitted, ask, JobKind.UPSCALE)

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


async def cancel(interaction: "discord.Interaction[ImageBot]", record: JobRecord) -> None:
    """Take the queued job out of the queue; its own response then says it was cancelled."""
    if interaction.client.jobs.cancel(record.id):
        await interaction.response.defer()
    else:
        text = catalogue.text(interaction.locale, "progress.too_late_to_cancel")
        await interaction.response.send_message(text, ephemeral=True)


ACTIONS: dict[str, Action] = {"reroll": reroll, "edit": edit, "upscale": upscale, "delete": delete, "cancel": cancel}


def _result_pictures(interaction: discord.Interaction) -> list[PictureRef]:
    # results carry their images as attachments; embedded links are not followed here
    if interaction.message is None or not (pictures := message_pictures(interaction.message, lambda _: False)):
        raise ResultGone
    return pictures


def _private(interaction: discord.Interaction) -> bool:
    """Whether the pressed result was shown to its member only: what its buttons make is, too."""
    return interaction.message is not None and interaction.message.flags.ephemeral


def _ask_from(
    record: JobRecord, prompt: str, picture: PictureRef, *, quality: str | None = None, private: bool = False
) -> ImageRequest:
    """A request on one picture of a result, with the result's model, size and quality unless the prompt's
    parameters ask otherwise."""
    typed = split_parameters(prompt)
    return ImageRequest(
        prompt=typed.prompt,
        model=record.model,
        count=typed.count or 1,
        size=typed.size or record.size,
        quality=quality or typed.quality or record.quality,
        style=typed.style,
        pictures=(picture,),
        private=private or bool(typed.private),
    )
