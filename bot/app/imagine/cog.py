"""/imagine: a prompt in, images out."""

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import Range, Transform
from discord.ext import commands

from bot.app.delivery import start_job
from bot.app.i18n.command_text import names, option_descriptions, option_names
from bot.app.options import QUALITY_CHOICES, SIZE_CHOICES, PromptText, fit_to_rules, style_choices
from bot.core.generation import MAX_COUNT
from bot.core.jobs import JobKind
from bot.core.prompt_params import asked_request

if TYPE_CHECKING:
    from bot.app.client import ImageBot

OPTIONS = ("prompt", "model", "count", "size", "quality", "style", "private")


class Imagine(commands.Cog):
    def __init__(self, bot: "ImageBot") -> None:
        self.bot = bot
        fit_to_rules(self.imagine, "imagine", bot.jobs.generation.rules)

    @app_commands.command(**names("imagine"))
    @app_commands.guild_only()
    @app_commands.rename(**option_names("imagine", *OPTIONS))
    @app_commands.describe(**option_descriptions("imagine", *(name for name in OPTIONS if name != "model")))
    @app_commands.choices(size=SIZE_CHOICES, quality=QUALITY_CHOICES)
    async def imagine(
        self,
        interaction: "discord.Interaction[ImageBot]",
        prompt: Transform[str, PromptText],
        model: str | None = None,
        count: Range[int, 1, MAX_COUNT] | None = None,
        size: str | None = None,
        quality: str | None = None,
        style: str | None = None,
        private: bool | None = None,
    ) -> None:
        ask = asked_request(prompt, model=model, count=count, size=size, quality=quality, style=style, private=private)
        await start_job(interaction, ask, JobKind.IMAGINE)

    @imagine.autocomplete("style")
    async def style_autocomplete(
        self, interaction: "discord.Interaction[ImageBot]", current: str
    ) -> list[app_commands.Choice[str]]:
        """The spec's styles, the operator's and this server's."""
        return style_choices(await self.bot.jobs.styles(interaction.guild_id), current, interaction.locale)
