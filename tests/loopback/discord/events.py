"""Gateway events about messages, guilds, channels and members, honouring intents like Discord does."""

from __future__ import annotations

import copy
from typing import Any

from . import payloads
from .gateway import (
    INTENT_DIRECT_MESSAGES,
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    INTENT_MESSAGE_CONTENT,
    GatewayHub,
    GatewaySession,
)
from .state import ChannelRecord, GuildRecord, MemberRecord, MessageRecord, RoleRecord
from .world import World

_CONTENT_FIELDS = ("content", "embeds", "attachments", "components", "poll")


class EventPublisher:
    """Publishes world changes to gateway sessions."""

    def __init__(self, hub: GatewayHub, world: World) -> None:
        self._hub = hub
        self._world = world

    def _message_intent(self, record: MessageRecord) -> int:
        return INTENT_DIRECT_MESSAGES if record.guild_id is None else INTENT_GUILD_MESSAGES

    def _strip_content(self, record: MessageRecord) -> Any:
        """Without the message content intent, others' guild messages arrive without their content."""
        bot_id = self._world.bot.id
        exempt = record.guild_id is None or record.author_id == bot_id or bot_id in record.mention_ids

        def transform(session: GatewaySession, data: dict[str, Any]) -> dict[str, Any]:
            if exempt or session.has_intents(INTENT_MESSAGE_CONTENT):
                return data
            stripped = copy.deepcopy(data)
            for field in _CONTENT_FIELDS:
                if field in stripped:
                    stripped[field] = "" if field == "content" else []
            return stripped

        return transform

    def message_created(self, record: MessageRecord) -> None:
        """MESSAGE_CREATE (never for ephemeral messages)."""
        intents = self._message_intent(record)
        if record.ephemeral or not self._hub.wants(guild_id=record.guild_id, intents=intents):
            return
        data = payloads.message(self._world, record, with_member=True)
        self._hub.broadcast(
            "MESSAGE_CREATE",
            data,
            guild_id=record.guild_id,
            intents=intents,
            transform=self._strip_content(record),
        )

    def message_updated(self, record: MessageRecord) -> None:
        """MESSAGE_UPDATE (never for ephemeral messages)."""
        intents = self._message_intent(record)
        if record.ephemeral or not self._hub.wants(guild_id=record.guild_id, intents=intents):
            return
        data = payloads.message(self._world, record, with_member=True)
        self._hub.broadcast(
            "MESSAGE_UPDATE",
            data,
            guild_id=record.guild_id,
            intents=intents,
            transform=self._strip_content(record),
        )

    def message_deleted(self, record: MessageRecord) -> None:
        """MESSAGE_DELETE (never for ephemeral messages)."""
        if record.ephemeral:
            return
        data: dict[str, Any] = {"id": str(record.id), "channel_id": str(record.channel_id)}
        if record.guild_id is not None:
            data["guild_id"] = str(record.guild_id)
        self._hub.broadcast("MESSAGE_DELETE", data, guild_id=record.guild_id, intents=self._message_intent(record))

    def guild_created(self, guild: GuildRecord) -> None:
        """GUILD_CREATE for a guild the bot joined while connected (no ``unavailable`` key: a join)."""
        data = payloads.guild_create(self._world, guild)
        del data["unavailable"]  # a guild joined while connected, not one becoming available
        self._hub.broadcast("GUILD_CREATE", data, guild_id=guild.id)

    def channel_created(self, channel: ChannelRecord) -> None:
        """CHANNEL_CREATE for a new guild channel."""
        if channel.guild_id is None:
            return
        self._hub.broadcast(
            "CHANNEL_CREATE",
            payloads.channel(channel, self._world),
            guild_id=channel.guild_id,
            intents=INTENT_GUILDS,
        )

    def role_created(self, role: RoleRecord) -> None:
        """GUILD_ROLE_CREATE (guilds intent), so that clients can resolve members' new roles."""
        self._hub.broadcast(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(role.guild_id), "role": payloads.role(role)},
            guild_id=role.guild_id,
            intents=INTENT_GUILDS,
        )

    def member_added(self, member: MemberRecord) -> None:
        """GUILD_MEMBER_ADD (members intent only)."""
        data = {**payloads.member(self._world, member), "guild_id": str(member.guild_id)}
        self._hub.broadcast("GUILD_MEMBER_ADD", data, guild_id=member.guild_id, intents=INTENT_GUILD_MEMBERS)
