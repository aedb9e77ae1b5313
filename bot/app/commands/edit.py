"""/edit: the member's own pictures and a prompt in, edited images out."""

import inspect

import discord
from discord import Interaction, app_commands
from discord.app_commands import Choice, Range, Transform

from bot.app.commands.imagine import (
    QUALITY_CHOICES,
    SIZE_CHOICES,
    model_description,
)
from bot.app.commands.options import PromptText
from bot.app.delivery import start_job
from bot.app.i18n.command_text import label, names, option_descriptions, option_names
from bot.app.pictures import attachment_picture
from bot.core.generation import MAX_COUNT, ImageAsk
from bot.core.jobs import JobKind, JobService


def edit_command(jobs: JobService, picture_options: int) -> app_commands.Command:
    """The /edit command with `picture_options` attachment options (`image`, `image2`, …).

    Built at start: how many picture options it has, its model choices and its prompt limit come from settings.
    """
    rules = jobs.generation.rules

    async def edit(
        interaction: Interaction,
        prompt: str,
        image: discord.Attachment,
        model: str | None = None,
        count: int = 1,
        size: str | None = None,
        quality: str | None = None,
        **more_images: discord.Attachment | None,
    ) -> None:
        attachments = [image, *(more_images[name] for name in sorted(more_images, key=_number) if more_images[name])]
        ask = ImageAsk(
            prompt,
            interaction.user.id,
            interaction.guild_id,
            model,
            count,
            size,
            quality,
            pictures=tuple(attachment_picture(attachment) for attachment in attachments),
        )
        await start_job(interaction, jobs, ask, JobKind.EDIT)

    # discord.py reads the options from the callback's signature: spell it out with the configured picture count.
    image_names = ["image", *(f"image{n}" for n in range(2, picture_options + 1))]
    edit.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            _param("interaction", Interaction),
            _param("prompt", Transform[str, PromptText(rules.prompt_max_length)]),
            _param("image", discord.Attachment),
            *(_param(name, discord.Attachment | None, None) for name in image_names[1:]),
            _param("model", str | None, None),
            _param("count", Range[int, 1, MAX_COUNT], 1),
            _param("size", str | None, None),
            _param("quality", str | None, None),
        ]
    )
    more = image_names[1:]
    edit = app_commands.rename(
        **option_names("edit", "prompt", "image", "model", "count", "size", "quality"),
        **{name: label("command.edit.option.image_more.name", number=_number(name)) for name in more},
    )(edit)
    edit = app_commands.describe(
        **option_descriptions("edit", "prompt", "image", "count", "size", "quality"),
        model=model_description("edit", rules.default_model),
        **{name: label("command.edit.option.image_more.description", number=_number(name)) for name in more},
    )(edit)
    edit = app_commands.choices(
        model=[Choice(name=name, value=name) for name in rules.models], size=SIZE_CHOICES, quality=QUALITY_CHOICES
    )(edit)
    command = app_commands.command(
        **names("edit"),
    )(edit)
    return app_commands.guild_only()(command)


def _param(name: str, annotation: object, default: object = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)


def _number(name: str) -> int:
    return int(name.removeprefix("image") or 1)
