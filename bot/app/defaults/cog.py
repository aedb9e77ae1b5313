"""/settings: a member's own defaults for the options they leave out of /imagine and /edit, shown only to them."""

from typing import TYPE_CHECKING, TypeAlias

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.i18n import catalogue
from bot.app.i18n.command_text import label, names, option_descriptions, option_names
from bot.app.options import QUALITY_CHOICES, SIZE_CHOICES, offer_models, style_choices
from bot.core.member_defaults import DEFAULTED
from bot.core.request import RATIOS
from bot.core.storage import MemberDefaults

if TYPE_CHECKING:
    from bot.app.client import ImageBot

Interaction: TypeAlias = "discord.Interaction[ImageBot]"


@app_commands.guild_only()
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)  # guild_only leaves a group's open
class Defaults(
    commands.GroupCog,
    group_name=label("command.settings.name"),
    group_description=label("command.settings.description"),
):
    """/settings show, set and reset."""

    def __init__(self, bot: "ImageBot") -> None:
        self.bot = bot
        super().__init__()
        offer_models(self.set_defaults, "settings.set", bot.jobs.generation.rules)

    @app_commands.command(**names("settings.show"))
    async def show(self, interaction: Interaction) -> None:
        await _answer(interaction, await self.bot.jobs.defaults(interaction.user.id), "settings.title")

    @app_commands.command(**names("settings.set"))
    @app_commands.rename(**option_names("settings.set", *DEFAULTED))
    @app_commands.describe(**option_descriptions("settings.set", *(name for name in DEFAULTED if name != "model")))
    @app_commands.choices(size=SIZE_CHOICES, quality=QUALITY_CHOICES)
    async def set_defaults(
        self,
        interaction: Interaction,
        model: str | None = None,
        size: str | None = None,
        quality: str | None = None,
        style: str | None = None,
        private: bool | None = None,
    ) -> None:
        current = await self.bot.jobs.defaults(interaction.user.id)
        changed = MemberDefaults(  # what the member gave changes; the rest stays
            interaction.user.id,
            model=current.model if model is None else model,
            size=current.size if size is None else size,
            quality=current.quality if quality is None else quality,
            style=current.style if style is None else style,
            private=current.private if private is None else private,
        )
        kept = await self.bot.jobs.set_defaults(changed, interaction.guild_id)
        await _answer(interaction, kept, "settings.saved")

    @set_defaults.autocomplete("style")
    async def style_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return style_choices(await self.bot.jobs.styles(interaction.guild_id), current, interaction.locale)

    @app_commands.command(**names("settings.reset"))
    async def reset(self, interaction: Interaction) -> None:
        kept = await self.bot.jobs.set_defaults(MemberDefaults(interaction.user.id), interaction.guild_id)
        await _answer(interaction, kept, "settings.cleared")


async def _answer(interaction: Interaction, defaults: MemberDefaults, title_key: str) -> None:
    """The member's defaults, each value or "not set", privately."""
    locale = interaction.locale
    lines = [
        catalogue.text(locale, "settings.line", option=catalogue.text(locale, f"settings.option.{name}"), value=value)
        for name in DEFAULTED
        for value in (_shown(name, getattr(defaults, name), locale),)
    ]
    embed = discord.Embed(
        title=catalogue.text(locale, title_key),
        description="\n".join([*lines, "", catalogue.text(locale, "settings.note")]),
        colour=discord.Colour.blurple(),
    )
    await interaction.response.send_message(embed=embed, ephemeral=True)


def _shown(name: str, value: object, locale: discord.Locale) -> str:
    if value is None:
        return catalogue.text(locale, "settings.unset")
    if name == "private":
        return catalogue.text(locale, "limits.value.yes" if value else "limits.value.no")
    if name == "size" and isinstance(value, str):
        return f"`{value}` ({RATIOS.get(value, value)})"
    return f"`{value}`"
