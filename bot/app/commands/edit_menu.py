"""The "Edit image" message menu: a form for the prompt, then the message's pictures are edited."""

from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.app.delivery import start_job
from bot.app.i18n.command_text import label
from bot.app.pictures import message_pictures
from bot.app.views.prompt_modal import FormAnswers, JobForm
from bot.core.errors import NoPictures, TooManyPictures
from bot.core.generation import ImageAsk
from bot.core.jobs import JobKind

if TYPE_CHECKING:
    from bot.app.client import ImageBot


def edit_menu() -> app_commands.ContextMenu:
    """The message command that edits the pictures of any message."""

    @app_commands.context_menu(name=label("command.edit_image.name"))
    @app_commands.guild_only()
    async def edit_image(interaction: "discord.Interaction[ImageBot]", message: discord.Message) -> None:
        bot = interaction.client
        pictures = message_pictures(message, bot.fetcher.is_allowed)
        if not pictures:
            raise NoPictures
        rules = bot.jobs.generation.rules
        if len(pictures) > (allowed := rules.pictures_allowed(rules.default_model)):
            raise TooManyPictures(len(pictures), allowed, rules.default_model)  # say so before the form

        async def submit(submitted: "discord.Interaction[ImageBot]", answers: FormAnswers) -> None:
            ask = ImageAsk(
                answers.prompt,
                submitted.user.id,
                submitted.guild_id,
                count=answers.count,
                quality=answers.quality,
                pictures=tuple(pictures),
            )
            await start_job(submitted, bot.jobs, ask, JobKind.EDIT)

        form = JobForm(
            interaction.locale,
            "modal.edit.title",
            submit,
            prompt_max_length=bot.jobs.generation.rules.prompt_max_length,
            ask_count_and_quality=True,
        )
        await interaction.response.send_modal(form)

    return edit_image
