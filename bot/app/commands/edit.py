"""/edit: the member's own pictures and a prompt in, edited images out."""

import inspect

import discord
from discord import Interaction, app_commands
from discord.app_commands import Choice, Range, Transform, locale_str

from bot.app.commands.imagine import (
    COUNT_DESCRIPTION,
    QUALITY_CHOICES,
    QUALITY_DESCRIPTION,
    SIZE_CHOICES,
    model_description,
    option_name,
)
from bot.app.commands.options import PromptText
from bot.app.delivery import start_job
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
        **{name: option_name("edit", name) for name in ("prompt", "image", "model", "count", "size", "quality")},
        **{name: locale_str(name, key="command.edit.option.image_more.name", number=_number(name)) for name in more},
    )(edit)
    edit = app_commands.describe(
        prompt=locale_str(
            "What to change, or what to make from the pictures", key="command.edit.option.prompt.description"
        ),
        image=locale_str("The picture to edit", key="command.edit.option.image.description"),
        model=model_description("edit", rules.default_model),
        count=locale_str(COUNT_DESCRIPTION, key="command.edit.option.count.description"),
        size=locale_str("Aspect ratio of the result (default: square)", key="command.edit.option.size.description"),
        quality=locale_str(QUALITY_DESCRIPTION, key="command.edit.option.quality.description"),
        **{
            name: locale_str(
                f"Another picture to use (#{_number(name)})",
                key="command.edit.option.image_more.description",
                number=_number(name),
            )
            for name in more
        },
    )(edit)
    edit = app_commands.choices(
        model=[Choice(name=name, value=name) for name in rules.models], size=SIZE_CHOICES, quality=QUALITY_CHOICES
    )(edit)
    command = app_commands.command(
        name=locale_str("edit", key="command.edit.name"),
        description=locale_str("Edit your pictures with a text prompt", key="command.edit.description"),
    )(edit)
    return app_commands.guild_only()(command)


def _param(name: str, annotation: object, default: object = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)


def _number(name: str) -> int:
    return int(name.removeprefix("image") or 1)
