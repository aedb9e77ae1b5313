"""/help: the commands this member may use here, a line each, in their language."""

from typing import TYPE_CHECKING, TypeAlias

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.i18n import catalogue
from bot.app.i18n.command_text import names
from bot.app.moderation import require_moderator
from bot.core.errors import NotPermitted

if TYPE_CHECKING:
    from bot.app.client import ImageBot

Interaction: TypeAlias = "discord.Interaction[ImageBot]"

MEMBER_COMMANDS = ("imagine", "edit", "edit_image", "quota", "history", "show", "settings", "help")
MODERATOR_COMMANDS = ("limits", "styles", "usage")
ADMIN_COMMANDS = ("admin",)


class Help(commands.Cog):
    def __init__(self, bot: "ImageBot") -> None:
        self.bot = bot

    @app_commands.command(**names("help"))
    @app_commands.guild_only()
    async def help_(self, interaction: Interaction) -> None:
        locale = interaction.locale
        sections: list[tuple[str, tuple[str, ...]]] = [("help.members", MEMBER_COMMANDS)]
        if await _is_moderator(interaction):
            sections.append(("help.moderators", MODERATOR_COMMANDS))
        if interaction.user.id in self.bot.settings.owner_ids:
            sections.append(("help.admins", ADMIN_COMMANDS))
        embed = discord.Embed(title=catalogue.text(locale, "help.title"), colour=discord.Colour.blurple())
        for heading, names_ in sections:
            lines = [catalogue.text(locale, f"help.command.{name}") for name in names_]
            embed.add_field(name=catalogue.text(locale, heading), value="\n".join(lines), inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def _is_moderator(interaction: Interaction) -> bool:
    try:
        await require_moderator(interaction)
    except NotPermitted:
        return False
    return True
