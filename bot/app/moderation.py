"""Who counts as a moderator: Manage Server, or one of the server's moderator roles."""

from typing import TYPE_CHECKING

import discord

from bot.core.errors import NotPermitted
from bot.core.limits import ServerLimits

if TYPE_CHECKING:
    from bot.app.client import ImageBot


async def require_moderator(interaction: "discord.Interaction[ImageBot]") -> ServerLimits:
    """The server's limits, for a moderator; NotPermitted for anyone else, whatever the command's permissions say.

    Discord lets server admins change who sees a command, so this is checked on every use.
    """
    limits = await interaction.client.policy.limits(interaction.guild_id)
    user = interaction.user
    roles = {role.id for role in user.roles} if isinstance(user, discord.Member) else set()
    if interaction.guild_id is None or not (
        interaction.permissions.manage_guild or roles & set(limits.moderator_roles)
    ):
        raise NotPermitted("moderator")
    return limits
