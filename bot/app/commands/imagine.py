"""/imagine: a prompt in, images out."""

from discord import Interaction, app_commands
from discord.app_commands import Choice, Range, Transform, locale_str

from bot.app.commands.options import PromptText
from bot.app.delivery import start_job
from bot.app.i18n.command_text import label, names, option_descriptions, option_names
from bot.app.render import shorten
from bot.core.generation import ASPECT_SIZES, MAX_COUNT, STYLES, ImageAsk
from bot.core.imageapi import QUALITIES
from bot.core.jobs import JobKind, JobService

DESCRIPTION_LIMIT = 100  # Discord's limit for command and option descriptions
SIZE_CHOICES = [Choice(name=label(f"command.choice.size.{size}"), value=size) for size in ASPECT_SIZES.values()]
QUALITY_CHOICES = [Choice(name=quality.upper(), value=quality) for quality in QUALITIES]  # the same in every language
STYLE_CHOICES = [Choice(name=label(f"command.choice.style.{style}"), value=style) for style in STYLES]
IMAGINE_OPTIONS = ("prompt", "model", "count", "size", "quality", "style")


def model_description(command: str, default_model: str) -> locale_str:
    """The model option's description, naming the configured default model (cut to Discord's limit)."""
    described = label(f"command.{command}.option.model.description", model=default_model)
    return locale_str(shorten(described.message, DESCRIPTION_LIMIT), **described.extras)


def imagine_command(jobs: JobService) -> app_commands.Command:
    """The /imagine command; built at start because its model choices and prompt limit come from settings."""
    rules = jobs.generation.rules
    model_choices = [Choice(name=model, value=model) for model in rules.models]

    @app_commands.command(
        **names("imagine"),
    )
    @app_commands.guild_only()
    @app_commands.rename(**option_names("imagine", *IMAGINE_OPTIONS))
    @app_commands.describe(
        **option_descriptions("imagine", "prompt", "count", "size", "quality", "style"),
        model=model_description("imagine", rules.default_model),
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
