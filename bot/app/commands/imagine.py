"""/imagine: a prompt in, images out."""

from discord import Interaction, app_commands
from discord.app_commands import Choice, Range, Transform, locale_str

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
SIZE_CHOICES = [
    Choice(name=locale_str(f"{SIZE_LABELS[ratio]} ({size})", key=f"command.choice.size.{size}"), value=size)
    for ratio, size in ASPECT_SIZES.items()
]
QUALITY_CHOICES = [Choice(name=quality.upper(), value=quality) for quality in QUALITIES]
STYLE_CHOICES = [
    Choice(name=locale_str("Vivid", key="command.choice.style.vivid"), value="vivid"),
    Choice(name=locale_str("Natural", key="command.choice.style.natural"), value="natural"),
]
IMAGINE_OPTIONS = ("prompt", "model", "count", "size", "quality", "style")
COUNT_DESCRIPTION = "How many images (1-10)"
QUALITY_DESCRIPTION = "Resolution class (default: 1K)"


def model_description(command: str, default_model: str) -> locale_str:
    """The model option's description, naming the configured default model."""
    english = shorten(f"Image model (default: {default_model})", DESCRIPTION_LIMIT)
    return locale_str(english, key=f"command.{command}.option.model.description", model=default_model)


def option_name(command: str, name: str) -> locale_str:
    return locale_str(name, key=f"command.{command}.option.{name}.name")


def imagine_command(jobs: JobService) -> app_commands.Command:
    """The /imagine command; built at start because its model choices and prompt limit come from settings."""
    rules = jobs.generation.rules
    model_choices = [Choice(name=model, value=model) for model in rules.models]

    @app_commands.command(
        name=locale_str("imagine", key="command.imagine.name"),
        description=locale_str("Create images from a text prompt", key="command.imagine.description"),
    )
    @app_commands.guild_only()
    @app_commands.rename(**{name: option_name("imagine", name) for name in IMAGINE_OPTIONS})
    @app_commands.describe(
        prompt=locale_str("What the image should show", key="command.imagine.option.prompt.description"),
        model=model_description("imagine", rules.default_model),
        count=locale_str(COUNT_DESCRIPTION, key="command.imagine.option.count.description"),
        size=locale_str("Aspect ratio (default: square)", key="command.imagine.option.size.description"),
        quality=locale_str(QUALITY_DESCRIPTION, key="command.imagine.option.quality.description"),
        style=locale_str("Rendering style", key="command.imagine.option.style.description"),
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
