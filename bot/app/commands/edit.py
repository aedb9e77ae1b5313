"""/edit: the member's own pictures and a prompt in, edited images out."""

import inspect

import discord
from discord import Interaction, app_commands
from discord.app_commands import Choice, Range, Transform

from bot.app.commands.imagine import DESCRIPTION_LIMIT, QUALITY_CHOICES, SIZE_CHOICES
from bot.app.commands.options import PromptText
from bot.app.delivery import start_job
from bot.app.pictures import attachment_picture
from bot.app.render import shorten
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
    descriptions = {name: f"Another picture to use (#{name.removeprefix('image')})" for name in image_names[1:]}
    edit = app_commands.describe(
        prompt="What to change, or what to make from the pictures",
        image="The picture to edit",
        model=shorten(f"Image model (default: {rules.default_model})", DESCRIPTION_LIMIT),
        count="How many images (1-10)",
        size="Aspect ratio of the result (default: square)",
        quality="Resolution class (default: 1K)",
        **descriptions,
    )(edit)
    edit = app_commands.choices(
        model=[Choice(name=name, value=name) for name in rules.models], size=SIZE_CHOICES, quality=QUALITY_CHOICES
    )(edit)
    command = app_commands.command(name="edit", description="Edit your pictures with a text prompt")(edit)
    return app_commands.guild_only()(command)


def _param(name: str, annotation: object, default: object = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)


def _number(name: str) -> int:
    return int(name.removeprefix("image") or 1)
