"""/imagine: a prompt in, images out."""

from discord import Interaction, app_commands
from discord.app_commands import Choice, Range, Transform

from bot.app.commands.options import PromptText
from bot.app.delivery import start_job
from bot.app.render import shorten
from bot.core.generation import ASPECT_SIZES, MAX_COUNT, ImageAsk
from bot.core.imageapi import QUALITIES
from bot.core.jobs import JobKind, JobService

DESCRIPTION_LIMIT = 100  # Discord's limit for command and option descriptions
SIZE_LABELS = {
    "1:1": "Square 1:1",
    "16:9": "Landscape 16:9",
    "9:16": "Portrait 9:16",
    "3:2": "Landscape 3:2",
    "2:3": "Portrait 2:3",
    "4:3": "Landscape 4:3",
    "3:4": "Portrait 3:4",
}
SIZE_CHOICES = [Choice(name=f"{SIZE_LABELS[ratio]} ({size})", value=size) for ratio, size in ASPECT_SIZES.items()]
QUALITY_CHOICES = [Choice(name=quality.upper(), value=quality) for quality in QUALITIES]
STYLE_CHOICES = [Choice(name="Vivid", value="vivid"), Choice(name="Natural", value="natural")]


def imagine_command(jobs: JobService) -> app_commands.Command:
    """The /imagine command; built at start because its model choices and prompt limit come from settings."""
    rules = jobs.generation.rules
    model_choices = [Choice(name=model, value=model) for model in rules.models]

    @app_commands.command(name="imagine", description="Create images from a text prompt")
    @app_commands.guild_only()
    @app_commands.describe(
        prompt="What the image should show",
        model=shorten(f"Image model (default: {rules.default_model})", DESCRIPTION_LIMIT),
        count="How many images (1-10)",
        size="Aspect ratio (default: square)",
        quality="Resolution class (default: 1K)",
        style="Rendering style",
    )
    @app_commands.choices(model=model_choices, size=SIZE_CHOICES, quality=QUALITY_CHOICES, style=STYLE_CHOICES)
    async def imagine(
        interaction: Interaction,
        prompt: Transform[str, PromptText(rules.prompt_max_length)],
        model: str | None = None,
        count: Range[int, 1, MAX_COUNT] = 1,
        size: str | None = None,
        quality: str | None = None,
        style: str | None = None,
    ) -> None:
        ask = ImageAsk(prompt, interaction.user.id, interaction.guild_id, model, count, size, quality, style)
        await start_job(interaction, jobs, ask, JobKind.IMAGINE)

    return imagine
