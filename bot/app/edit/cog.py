"""/edit and the "Edit image" message menu: the member's own pictures, or a message's, edited as a prompt says."""

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import Range, Transform
from discord.ext import commands

from bot.app.delivery import start_job
from bot.app.i18n.command_text import label, names, option_descriptions, option_names
from bot.app.options import QUALITY_CHOICES, SIZE_CHOICES, PromptText, drop_options, fit_to_rules
from bot.app.pictures import attachment_picture, message_pictures
from bot.app.requester import requester_of
from bot.app.results.form import FormAnswers, JobForm
from bot.core.errors import NoPictures
from bot.core.generation import MAX_COUNT
from bot.core.jobs import JobKind
from bot.core.prompt_params import asked_request
from bot.settings import MAX_EDIT_OPTIONS

if TYPE_CHECKING:
    from bot.app.client import ImageBot

OPTIONS = ("prompt", "image", "model", "count", "size", "quality", "private")
MORE_IMAGES = tuple(f"image{number}" for number in range(2, MAX_EDIT_OPTIONS + 1))


def _number(name: str) -> int:
    return int(name.removeprefix("image") or 1)


class Edit(commands.Cog):
    def __init__(self, bot: "ImageBot") -> None:
        self.bot = bot
        fit_to_rules(self.edit, "edit", bot.jobs.generation.rules)
        drop_options(self.edit, *MORE_IMAGES[bot.settings.edit_max_attachments - 1 :])
        self.edit_image = app_commands.ContextMenu(name=label("command.edit_image.name"), callback=self.edit_message)
        self.edit_image.guild_only = True
        self.edit_image.allowed_contexts = app_commands.AppCommandContext(guild=True)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.edit_image)  # discord.py can't declare a context menu in a cog

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.edit_image.name, type=self.edit_image.type)

    @app_commands.command(**names("edit"))
    @app_commands.guild_only()
    @app_commands.rename(
        **option_names("edit", *OPTIONS),
        **{name: label("command.edit.option.image_more.name", number=_number(name)) for name in MORE_IMAGES},
    )
    @app_commands.describe(
        **option_descriptions("edit", *(name for name in OPTIONS if name != "model")),
        **{name: label("command.edit.option.image_more.description", number=_number(name)) for name in MORE_IMAGES},
    )
    @app_commands.choices(size=SIZE_CHOICES, quality=QUALITY_CHOICES)
    async def edit(
        self,
        interaction: "discord.Interaction[ImageBot]",
        prompt: Transform[str, PromptText],
        image: discord.Attachment,
        image2: discord.Attachment | None = None,
        image3: discord.Attachment | None = None,
        image4: discord.Attachment | None = None,
        image5: discord.Attachment | None = None,
        image6: discord.Attachment | None = None,
        image7: discord.Attachment | None = None,
        image8: discord.Attachment | None = None,
        image9: discord.Attachment | None = None,
        image10: discord.Attachment | None = None,
        model: str | None = None,
        count: Range[int, 1, MAX_COUNT] | None = None,
        size: str | None = None,
        quality: str | None = None,
        private: bool | None = None,
    ) -> None:
        attachments = [image, image2, image3, image4, image5, image6, image7, image8, image9, image10]
        pictures = tuple(attachment_picture(item) for item in attachments if item is not None)
        ask = asked_request(
            prompt, model=model, count=count, size=size, quality=quality, private=private, pictures=pictures
        )
        await start_job(interaction, ask, JobKind.EDIT)

    async def edit_message(self, interaction: "discord.Interaction[ImageBot]", message: discord.Message) -> None:
        """A form for the prompt, then the message's pictures are edited."""
        pictures = tuple(message_pictures(message, self.bot.fetcher.is_allowed))
        if not pictures:
            raise NoPictures
        # say so before the form: more pictures than the model this server would use takes
        await self.bot.jobs.check_pictures(len(pictures), requester_of(interaction))

        async def submit(submitted: "discord.Interaction[ImageBot]", answers: FormAnswers) -> None:
            ask = asked_request(answers.prompt, count=answers.count, quality=answers.quality, pictures=pictures)
            await start_job(submitted, ask, JobKind.EDIT)

        rules = self.bot.jobs.generation.rules
        form = JobForm(
            interaction.locale,
            "modal.edit.title",
            submit,
            prompt_max_length=rules.prompt_max_length,
            ask_count_and_quality=True,
        )
        await interaction.response.send_modal(form)
