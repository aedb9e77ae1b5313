"""Who is asking, and where, as the core's rules need to know it."""

import discord

from bot.core.limits import Requester


def requester_of(interaction: discord.Interaction) -> Requester:
    """The member's id and roles, the server, and the channel (a thread's parent counts as its channel)."""
    user = interaction.user
    roles = frozenset(role.id for role in user.roles) if isinstance(user, discord.Member) else frozenset()
    channel = interaction.channel
    parent_id = channel.parent_id if isinstance(channel, discord.Thread) else None
    return Requester(user.id, interaction.guild_id, interaction.channel_id, roles, parent_id)
