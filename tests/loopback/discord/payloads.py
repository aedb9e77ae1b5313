"""JSON payloads in the shapes Discord's API v10 sends (users, members, roles, channels, guilds, messages)."""

from __future__ import annotations

from typing import Any

import orjson

from .snowflakes import iso_timestamp
from .state import DM, GUILD_CATEGORY, ChannelRecord, GuildRecord, MemberRecord, MessageRecord, RoleRecord, UserRecord
from .world import World


def user(record: UserRecord) -> dict[str, Any]:
    """A user object."""
    payload: dict[str, Any] = {
        "id": str(record.id),
        "username": record.name,
        "discriminator": "0",
        "global_name": record.global_name,
        "avatar": record.avatar,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "collectibles": None,
        "primary_guild": None,
    }
    if record.bot:
        payload["bot"] = True
    return payload


def current_user(record: UserRecord) -> dict[str, Any]:
    """The ``GET /users/@me`` / READY shape of the bot's own user."""
    return {**user(record), "verified": True, "mfa_enabled": False, "locale": "en-US", "email": None}


def role(record: RoleRecord) -> dict[str, Any]:
    """A role object."""
    return {
        "id": str(record.id),
        "name": record.name,
        "color": record.color,
        "colors": {"primary_color": record.color, "secondary_color": None, "tertiary_color": None},
        "hoist": record.hoist,
        "icon": None,
        "unicode_emoji": None,
        "position": record.position,
        "permissions": str(record.permissions),
        "managed": record.managed,
        "mentionable": record.mentionable,
        "flags": 0,
    }


def _member_body(roles: list[int], joined_at: str, nick: str | None) -> dict[str, Any]:
    return {
        "roles": [str(role_id) for role_id in roles],
        "joined_at": joined_at,
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "nick": nick,
        "avatar": None,
        "banner": None,
        "communication_disabled_until": None,
    }


def member(world: World, record: MemberRecord, *, permissions: int | None = None) -> dict[str, Any]:
    """A guild member with its user; ``permissions`` is added for interaction payloads."""
    payload = {
        "user": user(world.user(record.user_id)),
        **_member_body(record.roles, iso_timestamp(record.joined_at), record.nick),
    }
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


def partial_member(record: MemberRecord) -> dict[str, Any]:
    """A member without its user (``MESSAGE_CREATE.member``, ``resolved.members``)."""
    return _member_body(record.roles, iso_timestamp(record.joined_at), record.nick)


def bot_member(world: World, guild: GuildRecord) -> dict[str, Any]:
    """The bot's own membership in a guild."""
    return {"user": user(world.bot), **_member_body([], iso_timestamp(guild.joined_at), None)}


def channel(record: ChannelRecord, world: World, *, permissions: int | None = None) -> dict[str, Any]:
    """A channel object; ``permissions`` (the invoker's) is added for interaction payloads."""
    if record.type == DM:
        recipients = [user(world.user(record.recipient_id))] if record.recipient_id is not None else []
        payload: dict[str, Any] = {
            "id": str(record.id),
            "type": DM,
            "last_message_id": _optional_id(record.last_message_id),
            "flags": 0,
            "recipients": recipients,
        }
    else:
        payload = {
            "id": str(record.id),
            "type": record.type,
            "guild_id": _optional_id(record.guild_id),
            "name": record.name,
            "position": record.position,
            "permission_overwrites": [],
            "parent_id": _optional_id(record.parent_id),
            "nsfw": record.nsfw,
            "flags": 0,
        }
        if record.type != GUILD_CATEGORY:
            payload.update(
                topic=record.topic,
                last_message_id=_optional_id(record.last_message_id),
                rate_limit_per_user=0,
            )
    if permissions is not None:
        payload["permissions"] = str(permissions)
    return payload


def guild_rest(guild: GuildRecord) -> dict[str, Any]:
    """The ``GET /guilds/{id}`` shape."""
    system_channel = next((c.id for c in guild.channels if c.type == 0), None)
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "icon_hash": None,
        "splash": None,
        "discovery_splash": None,
        "owner_id": str(guild.owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "widget_enabled": False,
        "widget_channel_id": None,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [role(record) for record in guild.roles],
        "emojis": [],
        "stickers": [],
        "features": list(guild.features),
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": _optional_id(system_channel),
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "max_presences": None,
        "max_members": 500000,
        "vanity_url_code": None,
        "description": None,
        "banner": None,
        "premium_tier": guild.premium_tier,
        "premium_subscription_count": 0,
        "preferred_locale": guild.preferred_locale,
        "public_updates_channel_id": None,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "premium_progress_bar_enabled": False,
        "safety_alerts_channel_id": None,
        "incidents_data": None,
    }


def guild_create(world: World, guild: GuildRecord) -> dict[str, Any]:
    """The full ``GUILD_CREATE`` payload (members: only the bot itself, as without the presences intent)."""
    return {
        **guild_rest(guild),
        "joined_at": iso_timestamp(guild.joined_at),
        "large": False,
        "unavailable": False,
        "lazy": True,
        "member_count": len(guild.members) + 1,
        "voice_states": [],
        "members": [bot_member(world, guild)],
        "channels": [channel(record, world) for record in guild.channels],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "embedded_activities": [],
        "application_command_counts": {},
    }


def unavailable_guild(guild: GuildRecord) -> dict[str, Any]:
    """The READY stub of a guild."""
    return {"id": str(guild.id), "unavailable": True}


def reaction(emoji: str, *, count: int) -> dict[str, Any]:
    """A unicode-emoji reaction the bot added."""
    return {
        "emoji": {"id": None, "name": emoji},
        "count": count,
        "count_details": {"burst": 0, "normal": count},
        "burst_colors": [],
        "me_burst": False,
        "burst_me": False,
        "me": True,
        "burst_count": 0,
    }


def message(world: World, record: MessageRecord, *, with_member: bool = False) -> dict[str, Any]:
    """A message object; ``with_member`` adds the author's ``member`` as gateway events carry it."""
    author = world.user(record.author_id)
    payload: dict[str, Any] = {
        "id": str(record.id),
        "channel_id": str(record.channel_id),
        "author": user(author),
        "content": record.content,
        "timestamp": iso_timestamp(record.created_at),
        "edited_timestamp": iso_timestamp(record.edited_at) if record.edited_at else None,
        "tts": record.tts,
        "mention_everyone": False,
        "mentions": [user(world.user(uid)) for uid in record.mention_ids if uid in world.users],
        "mention_roles": [],
        "attachments": json_copy(record.attachments),
        "embeds": json_copy(record.embeds),
        "pinned": False,
        "type": record.type,
        "flags": record.flags,
        "components": json_copy(record.components),
    }
    if record.guild_id is not None:
        payload["guild_id"] = str(record.guild_id)
        guild = world.guilds.get(record.guild_id)
        if with_member and guild is not None and record.author_id in guild.members:
            payload["member"] = partial_member(guild.members[record.author_id])
    if record.reactions:
        counts: dict[str, int] = {}
        for emoji in record.reactions:
            counts[emoji] = counts.get(emoji, 0) + 1
        payload["reactions"] = [reaction(emoji, count=count) for emoji, count in counts.items()]
    if record.nonce is not None:
        payload["nonce"] = record.nonce
    if record.webhook_id is not None:
        payload["webhook_id"] = str(record.webhook_id)
    if record.application_id is not None:
        payload["application_id"] = str(record.application_id)
    if record.interaction_metadata is not None:
        metadata = json_copy(record.interaction_metadata)
        payload["interaction_metadata"] = metadata
        if "name" in metadata:
            payload["interaction"] = {
                "id": metadata["id"],
                "type": metadata["type"],
                "name": metadata["name"],
                "user": metadata["user"],
            }
    if record.reference_id is not None:
        payload["message_reference"] = {
            "type": 0,
            "message_id": str(record.reference_id),
            "channel_id": str(record.channel_id),
            **({"guild_id": str(record.guild_id)} if record.guild_id is not None else {}),
        }
        try:
            referenced = world.message(record.reference_id)
        except LookupError:
            payload["referenced_message"] = None
        else:
            payload["referenced_message"] = None if referenced.deleted else message(world, referenced)
    return payload


def _optional_id(value: int | None) -> str | None:
    return None if value is None else str(value)


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (several times faster than copy.deepcopy, which matters under load)."""
    return orjson.loads(orjson.dumps(value))
