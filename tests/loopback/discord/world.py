"""The loopback Discord's data: users, guilds, channels, roles, members and messages, plus permission rules."""

from __future__ import annotations

from collections.abc import Iterable

from . import permissions as perms
from .snowflakes import SnowflakeGenerator
from .state import (
    DEFAULT_ATTACHMENT_SIZE_LIMIT,
    DM,
    GUILD_TEXT,
    ChannelRecord,
    GuildRecord,
    MemberRecord,
    MessageRecord,
    RoleRecord,
    UserRecord,
)

DM_PERMISSIONS = (
    perms.VIEW_CHANNEL
    | perms.SEND_MESSAGES
    | perms.EMBED_LINKS
    | perms.ATTACH_FILES
    | perms.READ_MESSAGE_HISTORY
    | perms.ADD_REACTIONS
    | perms.USE_EXTERNAL_EMOJIS
)
"""What anyone may do in a DM channel."""


class World:
    """All records of the loopback Discord; lookups raise ``LookupError`` for unknown ids."""

    def __init__(self, ids: SnowflakeGenerator, *, bot_name: str, owner_name: str) -> None:
        self.ids = ids
        self.bot = UserRecord(id=ids.next(), name=bot_name, bot=True)
        self.owner = UserRecord(id=ids.next(), name=owner_name)
        self.users: dict[int, UserRecord] = {self.bot.id: self.bot, self.owner.id: self.owner}
        self.guilds: dict[int, GuildRecord] = {}
        self.channels: dict[int, ChannelRecord] = {}
        self._messages: dict[int, MessageRecord] = {}
        self._channel_messages: dict[int, list[int]] = {}
        self._dm_channels: dict[int, int] = {}

    # -- users, guilds, channels, roles, members -------------------------------------------------

    def add_user(self, name: str, *, global_name: str | None = None, bot: bool = False) -> UserRecord:
        """Create a user that belongs to no guild yet."""
        user = UserRecord(id=self.ids.next(), name=name, global_name=global_name, bot=bot)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        *,
        owner_id: int | None = None,
        attachment_size_limit: int = DEFAULT_ATTACHMENT_SIZE_LIMIT,
    ) -> GuildRecord:
        """Create a guild with an @everyone role, a "general" text channel and its owner as a member."""
        owner = self.user(owner_id) if owner_id is not None else self.owner
        guild = GuildRecord(
            id=self.ids.next(), name=name, owner_id=owner.id, attachment_size_limit=attachment_size_limit
        )
        guild.roles.append(
            RoleRecord(id=guild.id, guild_id=guild.id, name="@everyone", permissions=perms.DEFAULT_EVERYONE)
        )
        self.guilds[guild.id] = guild
        self.add_channel(guild.id, "general")
        self.add_member(guild.id, owner.id, permissions=perms.ALL)
        return guild

    def add_channel(
        self,
        guild_id: int,
        name: str,
        *,
        type: int = GUILD_TEXT,
        topic: str | None = None,
        parent_id: int | None = None,
        nsfw: bool = False,
        bot_permissions: int | None = None,
    ) -> ChannelRecord:
        """Create a guild channel."""
        guild = self.guild(guild_id)
        channel = ChannelRecord(
            id=self.ids.next(),
            guild_id=guild.id,
            name=name,
            type=type,
            position=len(guild.channels),
            topic=topic,
            parent_id=parent_id,
            nsfw=nsfw,
            bot_permissions=bot_permissions,
        )
        guild.channels.append(channel)
        self.channels[channel.id] = channel
        return channel

    def add_role(self, guild_id: int, name: str, *, permissions: int = 0, color: int = 0) -> RoleRecord:
        """Create a role (positioned above the existing ones)."""
        guild = self.guild(guild_id)
        role = RoleRecord(
            id=self.ids.next(),
            guild_id=guild.id,
            name=name,
            permissions=permissions,
            position=len(guild.roles),
            color=color,
        )
        guild.roles.append(role)
        return role

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        *,
        permissions: int | None = None,
        roles: Iterable[int | RoleRecord] = (),
        nick: str | None = None,
    ) -> MemberRecord:
        """Make a user a guild member; without ``permissions`` they are @everyone's plus the roles' permissions."""
        guild = self.guild(guild_id)
        self.user(user_id)
        role_ids = [role.id if isinstance(role, RoleRecord) else int(role) for role in roles]
        known = {role.id: role for role in guild.roles}
        for role_id in role_ids:
            if role_id not in known:
                raise LookupError(f"guild {guild.id} has no role {role_id}")
        if permissions is None:
            permissions = guild.everyone_role.permissions
            for role_id in role_ids:
                permissions |= known[role_id].permissions
        member = MemberRecord(user_id=user_id, guild_id=guild.id, roles=role_ids, permissions=permissions, nick=nick)
        guild.members[user_id] = member
        return member

    def dm_channel(self, user_id: int) -> ChannelRecord:
        """The bot's DM channel with a user (created on first use)."""
        self.user(user_id)
        channel_id = self._dm_channels.get(user_id)
        if channel_id is not None:
            return self.channels[channel_id]
        channel = ChannelRecord(id=self.ids.next(), guild_id=None, name="", type=DM, recipient_id=user_id)
        self.channels[channel.id] = channel
        self._dm_channels[user_id] = channel.id
        return channel

    def user(self, user_id: int) -> UserRecord:
        """A user by id."""
        try:
            return self.users[user_id]
        except KeyError:
            raise LookupError(f"no user {user_id}") from None

    def guild(self, guild_id: int) -> GuildRecord:
        """A guild by id."""
        try:
            return self.guilds[guild_id]
        except KeyError:
            raise LookupError(f"no guild {guild_id}") from None

    def channel(self, channel_id: int) -> ChannelRecord:
        """A channel by id."""
        try:
            return self.channels[channel_id]
        except KeyError:
            raise LookupError(f"no channel {channel_id}") from None

    def member(self, guild_id: int, user_id: int) -> MemberRecord:
        """A guild member."""
        try:
            return self.guild(guild_id).members[user_id]
        except KeyError:
            raise LookupError(f"user {user_id} is not a member of guild {guild_id}") from None

    # -- permissions -----------------------------------------------------------------------------

    def member_permissions(self, guild: GuildRecord, user_id: int) -> int:
        """A member's effective permissions (the owner has them all)."""
        if user_id == guild.owner_id:
            return perms.ALL
        return perms.effective(self.member(guild.id, user_id).permissions)

    def bot_permissions(self, channel: ChannelRecord) -> int:
        """The bot's effective permissions in a channel (``app_permissions``)."""
        if channel.guild_id is None:
            return DM_PERMISSIONS
        guild = self.guild(channel.guild_id)
        granted = channel.bot_permissions if channel.bot_permissions is not None else guild.bot_permissions
        return perms.effective(granted)

    def attachment_size_limit(self, channel: ChannelRecord) -> int:
        """The per-file upload limit in a channel."""
        if channel.guild_id is None:
            return DEFAULT_ATTACHMENT_SIZE_LIMIT
        return self.guild(channel.guild_id).attachment_size_limit

    # -- messages --------------------------------------------------------------------------------

    def store_message(self, message: MessageRecord) -> MessageRecord:
        """Record a new message or a new state of an existing one."""
        if message.id not in self._messages:
            self._channel_messages.setdefault(message.channel_id, []).append(message.id)
            channel = self.channels.get(message.channel_id)
            if channel is not None:
                channel.last_message_id = message.id
        self._messages[message.id] = message
        return message

    def message(self, message_id: int) -> MessageRecord:
        """The current state of a message."""
        try:
            return self._messages[message_id]
        except KeyError:
            raise LookupError(f"no message {message_id}") from None

    def find_message(self, channel_id: int, message_id: int) -> MessageRecord | None:
        """The current, not deleted, state of a message in a channel."""
        message = self._messages.get(message_id)
        if message is None or message.channel_id != channel_id or message.deleted:
            return None
        return message

    def channel_messages(self, channel_id: int) -> list[MessageRecord]:
        """Current states of every message ever posted in a channel (deleted ones included), oldest first."""
        return [self._messages[message_id] for message_id in self._channel_messages.get(channel_id, [])]
