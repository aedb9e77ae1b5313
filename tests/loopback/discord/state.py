"""Records the loopback Discord keeps: users, guilds, channels, roles, members, messages, files, requests."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from . import permissions as perms

# Channel types.
GUILD_TEXT = 0
DM = 1
GUILD_CATEGORY = 4

# Message flags.
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15

DEFAULT_ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


def id_of(value: Any) -> int:
    """The id of a record, or the value itself as an int (records and raw ids are accepted alike)."""
    return int(value.id) if hasattr(value, "id") else int(value)


def utcnow() -> datetime.datetime:
    """The current time, timezone-aware."""
    return datetime.datetime.now(datetime.UTC)


@dataclass(slots=True)
class UserRecord:
    """A Discord user (a human test user, a guild owner or the bot itself)."""

    id: int
    name: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None


@dataclass(slots=True)
class RoleRecord:
    """A guild role; the @everyone role's id equals its guild's id."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False


@dataclass(slots=True)
class MemberRecord:
    """A user's membership in a guild; ``permissions`` is the member's computed guild permission integer."""

    user_id: int
    guild_id: int
    roles: list[int]
    permissions: int
    joined_at: datetime.datetime = field(default_factory=utcnow)
    nick: str | None = None


@dataclass(slots=True)
class ChannelRecord:
    """A guild channel (or a DM channel when ``guild_id`` is ``None``).

    ``bot_permissions`` overrides the guild-wide bot permissions in this channel when set.
    """

    id: int
    guild_id: int | None
    name: str
    type: int = GUILD_TEXT
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    bot_permissions: int | None = None
    recipient_id: int | None = None
    last_message_id: int | None = None


@dataclass(slots=True)
class GuildRecord:
    """A guild with its channels, roles and members.

    ``bot_permissions`` is what the bot may do in the guild's channels (``app_permissions`` of interactions);
    ``attachment_size_limit`` is the per-file upload limit (``Interaction.filesize_limit``).
    """

    id: int
    name: str
    owner_id: int
    attachment_size_limit: int = DEFAULT_ATTACHMENT_SIZE_LIMIT
    channels: list[ChannelRecord] = field(default_factory=list)
    roles: list[RoleRecord] = field(default_factory=list)
    members: dict[int, MemberRecord] = field(default_factory=dict)
    preferred_locale: str = "en-US"
    bot_permissions: int = perms.DEFAULT_BOT
    features: list[str] = field(default_factory=list)
    joined_at: datetime.datetime = field(default_factory=utcnow)

    @property
    def default_channel(self) -> ChannelRecord:
        """The first text channel ("general" unless removed)."""
        return next(channel for channel in self.channels if channel.type == GUILD_TEXT)

    @property
    def everyone_role(self) -> RoleRecord:
        """The @everyone role."""
        return next(role for role in self.roles if role.id == self.id)

    @property
    def premium_tier(self) -> int:
        """The boost tier that matches the configured upload limit."""
        if self.attachment_size_limit >= 100 * 1024 * 1024:
            return 3
        if self.attachment_size_limit >= 50 * 1024 * 1024:
            return 2
        return 0


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One uploaded file exactly as the client sent it."""

    filename: str
    data: bytes
    content_type: str
    description: str | None = None
    spoiler: bool = False
    attachment_id: int | None = None

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One state of a channel message; every edit produces a new record with the same ``id``."""

    id: int
    channel_id: int
    guild_id: int | None
    author_id: int
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    interaction_id: int | None = None
    deleted: bool = False
    edited_at: datetime.datetime | None = None
    type: int = 0
    webhook_id: int | None = None
    application_id: int | None = None
    created_at: datetime.datetime = field(default_factory=utcnow)
    tts: bool = False
    nonce: str | None = None
    reference_id: int | None = None
    mention_ids: list[int] = field(default_factory=list)
    reactions: list[str] = field(default_factory=list)
    interaction_metadata: dict[str, Any] | None = None
    poll: dict[str, Any] | None = None

    @property
    def ephemeral(self) -> bool:
        """Whether the message is only visible to the invoking user."""
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """Whether this is a deferred "<bot> is thinking..." placeholder."""
        return bool(self.flags & LOADING)


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One REST (or CDN) request and the status it was answered with."""

    method: str
    path: str
    status: int
    time: float
    code: int | None = None
    query: str = ""
    injected: bool = False
    bucket: str | None = None  # the rate limit bucket that refused it ("global", "message_create", ...), if any
