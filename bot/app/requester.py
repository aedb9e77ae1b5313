"""Who is asking, and where, as the core's rules need to know it; and the bot they ask."""

from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.limits import Requester

if TYPE_CHECKING:
    from bot.app.client import ImageBot


def requester_of(interaction: discord.Interaction) -> Requester:
    """The member's id and roles, the server, and the channel (a thread's parent counts as its channel)."""
    user = interaction.user
    roles = frozenset(role.id for role in user.roles) if isinstance(user, discord.Member) else frozenset()
    channel = interaction.channel
    parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
    return Requester(user.id, interaction.guild_id, interaction.channel_id, roles, parent_id)


def bot_of(interaction: discord.Interaction[Any]) -> "ImageBot":
    """The bot an interaction came to, where discord.py's own signature types it as any client (a DynamicItem's
    or a modal's callbacks)."""
    return cast("ImageBot", interaction.client)
