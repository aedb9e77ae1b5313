"""/styles: moderators keep their server's own styles, named prompt templates members pick in the `style` option.

A server's styles are one of its limits (`styles`), so every change is in `/limits history` like the others.
"""

from typing import TYPE_CHECKING, TypeAlias

import discord
from discord import app_commands
from discord.app_commands import Range
from discord.ext import commands

from bot.app.errors import in_code
from bot.app.i18n import catalogue
from bot.app.i18n.command_text import label, names, option_descriptions, option_names
from bot.app.moderation import require_moderator
from bot.app.render import shorten
from bot.core.errors import InvalidStyle
from bot.core.styles import MAX_NAME, MAX_SERVER_STYLES, MAX_TEMPLATE, check_style, style_name

if TYPE_CHECKING:
    from bot.app.client import ImageBot

Interaction: TypeAlias = "discord.Interaction[ImageBot]"
TEMPLATE_PREVIEW = 200  # characters of each template /styles list shows


@app_commands.guild_only()
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)  # guild_only leaves a group's open
@app_commands.default_permissions(manage_guild=True)
class Styles(
    commands.GroupCog, group_name=label("command.styles.name"), group_description=label("command.styles.description")
):
    """/styles: hidden from members without Manage Server by default, checked on every use."""

    def __init__(self, bot: "ImageBot") -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(**names("styles.add"))
    @app_commands.rename(**option_names("styles.add", "name", "template"))
    @app_commands.describe(**option_descriptions("styles.add", "name", "template"))
    async def add(
        self, interaction: Interaction, name: Range[str, 1, MAX_NAME], template: Range[str, 1, MAX_TEMPLATE]
    ) -> None:
        limits = await require_moderator(interaction)
        style = check_style(name, template)
        kept = tuple((held, text) for held, text in limits.styles if held != style.name)
        if len(kept) >= MAX_SERVER_STYLES:
            raise InvalidStyle("full", style.name)
        await self._store(interaction, (*kept, (style.name, style.template)))
        await _answer(interaction, catalogue.text(interaction.locale, "styles.added", name=in_code(style.name)))

    @app_commands.command(**names("styles.remove"))
    @app_commands.rename(**option_names("styles.remove", "name"))
    @app_commands.describe(**option_descriptions("styles.remove", "name"))
    async def remove(self, interaction: Interaction, name: Range[str, 1, MAX_NAME]) -> None:
        limits = await require_moderator(interaction)
        wanted = style_name(name)
        kept = tuple((held, text) for held, text in limits.styles if held != wanted)
        if len(kept) == len(limits.styles):
            raise InvalidStyle("unknown", wanted)
        await self._store(interaction, kept)
        await _answer(interaction, catalogue.text(interaction.locale, "styles.removed", name=in_code(wanted)))

    @app_commands.command(**names("styles.list"))
    async def list_styles(self, interaction: Interaction) -> None:
        limits = await require_moderator(interaction)
        locale = interaction.locale
        lines = [
            catalogue.text(locale, "styles.line", name=in_code(name), template=in_code(shorten(text, TEMPLATE_PREVIEW)))
            for name, text in limits.styles
        ]
        shipped = [style.name for style in self.bot.settings.styles]
        embed = discord.Embed(
            title=catalogue.text(locale, "styles.title"),
            description="\n".join(lines) or catalogue.text(locale, "styles.empty"),
            colour=discord.Colour.blurple(),
        )
        if shipped:
            embed.set_footer(text=catalogue.text(locale, "styles.operator", names=", ".join(shipped)))
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _store(self, interaction: Interaction, styles: tuple[tuple[str, str], ...]) -> None:
        await self.bot.policy.set_limit(interaction.guild_id or 0, "styles", styles or None, interaction.user.id)


async def _answer(interaction: Interaction, text: str) -> None:
    await interaction.response.send_message(text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
