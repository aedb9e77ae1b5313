"""REST routes for channels and their messages, DMs, users and guilds."""

from __future__ import annotations

import dataclasses
from urllib.parse import unquote

from aiohttp import web

from . import payloads
from . import permissions as perms
from .context import ServerContext
from .errors import (
    CANNOT_EDIT_OTHER_USERS_MESSAGE,
    UNKNOWN_CHANNEL,
    UNKNOWN_GUILD,
    UNKNOWN_MEMBER,
    UNKNOWN_MESSAGE,
    UNKNOWN_USER,
    DiscordHTTPError,
    form_error,
    missing_permissions,
    unknown,
)
from .responses import json_response, no_content
from .state import ChannelRecord, GuildRecord, MessageRecord
from .uploads import read_body, read_json

REPLY_MESSAGE = 19
MAX_HISTORY = 100


class ChannelRoutes:
    """``/channels/...``, ``/users/...`` and ``/guilds/...``."""

    def __init__(self, ctx: ServerContext) -> None:
        self._ctx = ctx

    def register(self, router: web.UrlDispatcher, prefix: str) -> None:
        """Add the routes below ``prefix``."""
        channel = f"{prefix}/channels/{{channel_id:\\d+}}"
        message = f"{channel}/messages/{{message_id:\\d+}}"
        router.add_get(channel, self.get_channel)
        router.add_post(f"{channel}/typing", self.typing)
        router.add_get(f"{channel}/messages", self.list_messages)
        router.add_post(f"{channel}/messages", self.create_message)
        router.add_get(message, self.get_message)
        router.add_patch(message, self.edit_message)
        router.add_delete(message, self.delete_message)
        router.add_put(f"{message}/reactions/{{emoji}}/@me", self.add_reaction)
        router.add_delete(f"{message}/reactions/{{emoji}}/@me", self.remove_reaction)
        router.add_post(f"{prefix}/users/@me/channels", self.open_dm)
        router.add_get(f"{prefix}/users/{{user_id:\\d+}}", self.get_user)
        guild = f"{prefix}/guilds/{{guild_id:\\d+}}"
        router.add_get(guild, self.get_guild)
        router.add_get(f"{guild}/channels", self.guild_channels)
        router.add_get(f"{guild}/roles", self.guild_roles)
        router.add_get(f"{guild}/members", self.guild_members)
        router.add_get(f"{guild}/members/{{user_id:\\d+}}", self.guild_member)

    # -- helpers ---------------------------------------------------------------------------------

    def _channel(self, request: web.Request) -> ChannelRecord:
        channel = self._ctx.world.channels.get(int(request.match_info["channel_id"]))
        if channel is None:
            raise unknown(UNKNOWN_CHANNEL, "Channel")
        return channel

    def _require(self, channel: ChannelRecord, required: int) -> None:
        if not perms.has(self._ctx.world.bot_permissions(channel), required):
            raise missing_permissions()

    def _message(self, request: web.Request, channel: ChannelRecord) -> MessageRecord:
        record = self._ctx.world.find_message(channel.id, int(request.match_info["message_id"]))
        if record is None or record.ephemeral:
            raise unknown(UNKNOWN_MESSAGE, "Message")
        return record

    def _guild(self, request: web.Request) -> GuildRecord:
        guild = self._ctx.world.guilds.get(int(request.match_info["guild_id"]))
        if guild is None:
            raise unknown(UNKNOWN_GUILD, "Guild")
        return guild

    # -- channels and messages -------------------------------------------------------------------

    async def get_channel(self, request: web.Request) -> web.Response:
        """GET /channels/{id}."""
        channel = self._channel(request)
        self._require(channel, perms.VIEW_CHANNEL)
        return json_response(payloads.channel(channel, self._ctx.world))

    async def typing(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/typing."""
        channel = self._channel(request)
        self._require(channel, perms.VIEW_CHANNEL | perms.SEND_MESSAGES)
        return no_content()

    async def list_messages(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages with ``limit`` and ``before``/``after``/``around``, newest first."""
        channel = self._channel(request)
        self._require(channel, perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        query = request.query
        limit = max(1, min(MAX_HISTORY, int(query.get("limit", "50"))))
        records = [
            record
            for record in self._ctx.world.channel_messages(channel.id)
            if not record.deleted and not record.ephemeral
        ]
        records.sort(key=lambda record: record.id, reverse=True)
        if "before" in query:
            records = [record for record in records if record.id < int(query["before"])][:limit]
        elif "after" in query:
            records = [record for record in records if record.id > int(query["after"])][-limit:]
        elif "around" in query:
            around = int(query["around"])
            newer = [record for record in records if record.id > around][-(limit // 2) :] if limit > 1 else []
            rest = [record for record in records if record.id <= around][: limit - len(newer)]
            records = newer + rest
        else:
            records = records[:limit]
        return json_response([payloads.message(self._ctx.world, record) for record in records])

    async def create_message(self, request: web.Request) -> web.Response:
        """POST /channels/{id}/messages (JSON or multipart)."""
        world = self._ctx.world
        channel = self._channel(request)
        self._require(channel, perms.VIEW_CHANNEL | perms.SEND_MESSAGES)
        body = await read_body(request)
        if body.files:
            self._require(channel, perms.ATTACH_FILES)
        message_type, reference_id = 0, None
        reference = body.payload.get("message_reference")
        if isinstance(reference, dict) and reference.get("message_id") is not None:
            referenced = world.find_message(
                int(reference.get("channel_id") or channel.id), int(reference["message_id"])
            )
            if referenced is not None:
                message_type, reference_id = REPLY_MESSAGE, referenced.id
            elif reference.get("fail_if_not_exists", True):
                raise form_error(("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
        record = self._ctx.composer.compose_new(
            body,
            channel=channel,
            author_id=world.bot.id,
            size_limit=world.attachment_size_limit(channel),
            message_type=message_type,
            reference_id=reference_id,
        )
        world.store_message(record)
        self._ctx.events.message_created(record)
        return json_response(payloads.message(world, record))

    async def get_message(self, request: web.Request) -> web.Response:
        """GET /channels/{id}/messages/{id}."""
        channel = self._channel(request)
        self._require(channel, perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY)
        return json_response(payloads.message(self._ctx.world, self._message(request, channel)))

    async def edit_message(self, request: web.Request) -> web.Response:
        """PATCH /channels/{id}/messages/{id}: the bot may edit its own messages, or only flags of others'."""
        world = self._ctx.world
        channel = self._channel(request)
        previous = self._message(request, channel)
        body = await read_body(request)
        if previous.author_id != world.bot.id:
            if set(body.payload) - {"flags"} or body.files:
                raise DiscordHTTPError(
                    403, CANNOT_EDIT_OTHER_USERS_MESSAGE, "Cannot edit a message authored by another user"
                )
            self._require(channel, perms.MANAGE_MESSAGES)
        record = self._ctx.composer.compose_edit(
            previous, body, channel=channel, size_limit=world.attachment_size_limit(channel)
        )
        world.store_message(record)
        self._ctx.events.message_updated(record)
        return json_response(payloads.message(world, record))

    async def delete_message(self, request: web.Request) -> web.Response:
        """DELETE /channels/{id}/messages/{id}: others' messages need Manage Messages."""
        world = self._ctx.world
        channel = self._channel(request)
        previous = self._message(request, channel)
        if previous.author_id != world.bot.id:
            self._require(channel, perms.MANAGE_MESSAGES)
        record = dataclasses.replace(previous, deleted=True)
        world.store_message(record)
        self._ctx.events.message_deleted(record)
        return no_content()

    async def add_reaction(self, request: web.Request) -> web.Response:
        """PUT .../reactions/{emoji}/@me."""
        channel = self._channel(request)
        self._require(channel, perms.VIEW_CHANNEL | perms.READ_MESSAGE_HISTORY | perms.ADD_REACTIONS)
        previous = self._message(request, channel)
        emoji = unquote(request.match_info["emoji"])
        if emoji not in previous.reactions:
            self._ctx.world.store_message(dataclasses.replace(previous, reactions=[*previous.reactions, emoji]))
        return no_content()

    async def remove_reaction(self, request: web.Request) -> web.Response:
        """DELETE .../reactions/{emoji}/@me."""
        channel = self._channel(request)
        previous = self._message(request, channel)
        emoji = unquote(request.match_info["emoji"])
        remaining = [existing for existing in previous.reactions if existing != emoji]
        self._ctx.world.store_message(dataclasses.replace(previous, reactions=remaining))
        return no_content()

    # -- users and DMs ---------------------------------------------------------------------------

    async def open_dm(self, request: web.Request) -> web.Response:
        """POST /users/@me/channels ``{"recipient_id"}``."""
        body = await read_json(request)
        recipient = body.get("recipient_id") if isinstance(body, dict) else None
        if recipient is None or not str(recipient).isdigit() or int(recipient) not in self._ctx.world.users:
            raise unknown(UNKNOWN_USER, "User")
        channel = self._ctx.world.dm_channel(int(recipient))
        return json_response(payloads.channel(channel, self._ctx.world))

    async def get_user(self, request: web.Request) -> web.Response:
        """GET /users/{id}."""
        user = self._ctx.world.users.get(int(request.match_info["user_id"]))
        if user is None:
            raise unknown(UNKNOWN_USER, "User")
        return json_response(payloads.user(user))

    # -- guilds ----------------------------------------------------------------------------------

    async def get_guild(self, request: web.Request) -> web.Response:
        """GET /guilds/{id} (``with_counts`` adds approximate counts)."""
        guild = self._guild(request)
        payload = payloads.guild_rest(guild)
        if request.query.get("with_counts") in ("1", "true"):
            payload.update(approximate_member_count=len(guild.members) + 1, approximate_presence_count=0)
        return json_response(payload)

    async def guild_channels(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/channels."""
        guild = self._guild(request)
        return json_response([payloads.channel(channel, self._ctx.world) for channel in guild.channels])

    async def guild_roles(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/roles."""
        return json_response([payloads.role(role) for role in self._guild(request).roles])

    async def guild_members(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/members with ``limit`` and ``after``."""
        guild = self._guild(request)
        limit = max(1, min(1000, int(request.query.get("limit", "1"))))
        after = int(request.query.get("after", "0"))
        world = self._ctx.world
        members = [payloads.bot_member(world, guild)]
        members += [payloads.member(world, member) for member in guild.members.values()]
        members = sorted((m for m in members if int(m["user"]["id"]) > after), key=lambda m: int(m["user"]["id"]))
        return json_response(members[:limit])

    async def guild_member(self, request: web.Request) -> web.Response:
        """GET /guilds/{id}/members/{user id}."""
        guild = self._guild(request)
        user_id = int(request.match_info["user_id"])
        world = self._ctx.world
        if user_id == world.bot.id:
            return json_response(payloads.bot_member(world, guild))
        member = guild.members.get(user_id)
        if member is None:
            raise unknown(UNKNOWN_MEMBER, "Member")
        return json_response(payloads.member(world, member))
