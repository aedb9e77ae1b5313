"""``DiscordServer``: lifecycle, wiring, and the test-facing API (world setup, user actions, inspection)."""

from __future__ import annotations

import asyncio
import collections
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from . import payloads
from .cdn import AttachmentStore
from .commands import CommandRegistry
from .config import ServerConfig
from .context import ServerContext
from .events import EventPublisher
from .faults import FaultInjector
from .gateway import CLOSE_UNKNOWN_ERROR, PRIVILEGED_INTENTS, GatewayHub, GatewaySession
from .interactions import InteractionHandle, InteractionRegistry
from .invocations import AttachmentInput, ChannelRef, GuildRef, InteractionFactory, UserRef
from .messages import MessageComposer, assign_component_ids
from .ratelimits import RateLimiter, RateLimits
from .rest import build_app
from .snowflakes import SnowflakeGenerator
from .state import (
    DEFAULT_ATTACHMENT_SIZE_LIMIT,
    ChannelRecord,
    FileRecord,
    GuildRecord,
    MemberRecord,
    MessageRecord,
    RequestRecord,
    RoleRecord,
    UserRecord,
    id_of,
)
from .world import World

Tamper = Callable[[dict[str, Any]], None]
"""Rewrites an INTERACTION_CREATE payload in place before it is sent (a forged request)."""

_MENTION = re.compile(r"<@!?(\d+)>")
DEFAULT_TOKEN = "loopback-token"
DISPATCH_TIMEOUT = 10.0
"""Seconds ``slash``/``click``/... wait for the event to reach a gateway socket."""


BACKLOG = 1024  # a burst of hundreds of new connections must not overflow the accept queue (SYN retries)


class DiscordServer:
    """A loopback Discord (REST v10 subset, gateway, CDN) on 127.0.0.1 for the unmodified discord.py client."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        token_lifetime: float = 15 * 60,
        ack_deadline: float = 3.0,
        *,
        bot_name: str = "loopback-bot",
        application_name: str = "Loopback Bot",
        owner_name: str = "owner",
        privileged_intents: int = PRIVILEGED_INTENTS,
        application_flags: int = 0,
        host: str = "127.0.0.1",
        rate_limits: bool | RateLimits = True,
        recommended_shards: int = 1,
    ) -> None:
        """``rate_limits``: ``True`` enforces Discord's limits, ``False`` none, a ``RateLimits`` those numbers.
        ``recommended_shards``: the shard count ``GET /gateway/bot`` recommends."""
        ids = SnowflakeGenerator()
        config = ServerConfig(
            token=token,
            token_lifetime=token_lifetime,
            ack_deadline=ack_deadline,
            application_id=ids.next(),
            application_name=application_name,
            application_flags=application_flags,
            privileged_intents=privileged_intents,
            recommended_shards=recommended_shards,
        )
        world = World(ids, bot_name=bot_name, owner_name=owner_name)
        cdn = AttachmentStore(ids)
        hub = GatewayHub(config, world)
        commands = CommandRegistry(config.application_id, ids)
        self._ctx = ServerContext(
            config=config,
            ids=ids,
            world=world,
            cdn=cdn,
            commands=commands,
            interactions=InteractionRegistry(),
            hub=hub,
            events=EventPublisher(hub, world),
            composer=MessageComposer(cdn, ids),
            faults=FaultInjector(),
            rate_limiter=RateLimiter.from_option(rate_limits),
        )
        self._factory = InteractionFactory(config, world, commands, cdn, ids)
        self._host = host
        self._runner: web.AppRunner | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind ``host`` on a free port and start serving."""
        if self._runner is not None:
            raise RuntimeError("already started")
        runner = web.AppRunner(build_app(self._ctx), handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self._host, 0, backlog=BACKLOG)
        await site.start()
        self._runner = runner
        port = runner.addresses[0][1]
        origin = f"http://{self._host}:{port}"
        self._ctx.config.origin = origin
        self._ctx.cdn.origin = origin

    async def stop(self) -> None:
        """Close every gateway socket and stop serving."""
        if self._runner is None:
            return
        await self._ctx.hub.close()
        await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.stop()

    # -- addresses and identity ------------------------------------------------------------------

    @property
    def rest_base(self) -> str:
        """Value for ``discord.http.Route.BASE``: ``http://127.0.0.1:PORT/api/v10``."""
        return self._ctx.config.rest_base

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY``; also the READY ``resume_gateway_url``."""
        return self._ctx.config.gateway_url

    @property
    def cdn_base(self) -> str:
        """Base URL of the route serving attachments."""
        return self._ctx.config.cdn_base

    @property
    def token(self) -> str:
        """The bot token the server accepts."""
        return self._ctx.config.token

    @property
    def application_id(self) -> int:
        """The application (and interaction webhook) id."""
        return self._ctx.config.application_id

    @property
    def bot_user_id(self) -> int:
        """The bot user's id."""
        return self._ctx.world.bot.id

    @property
    def bot_user(self) -> UserRecord:
        """The bot user."""
        return self._ctx.world.bot

    @property
    def owner(self) -> UserRecord:
        """The application owner, also the default owner of guilds."""
        return self._ctx.world.owner

    @property
    def world(self) -> World:
        """All records (guilds, channels, users, messages) for advanced setups."""
        return self._ctx.world

    # -- world setup -----------------------------------------------------------------------------

    def add_guild(
        self,
        name: str = "Test",
        owner_id: int | None = None,
        attachment_size_limit: int = DEFAULT_ATTACHMENT_SIZE_LIMIT,
        *,
        preferred_locale: str = "en-US",
        bot_permissions: int | None = None,
    ) -> GuildRecord:
        """A guild with @everyone and "general"; connected sessions get GUILD_CREATE."""
        guild = self._ctx.world.add_guild(name, owner_id=owner_id, attachment_size_limit=attachment_size_limit)
        guild.preferred_locale = preferred_locale
        if bot_permissions is not None:
            guild.bot_permissions = bot_permissions
        self._ctx.events.guild_created(guild)
        return guild

    def add_channel(self, guild_id: int, name: str, **options: Any) -> ChannelRecord:
        """A guild channel (``type``, ``topic``, ``parent_id``, ``nsfw``, ``bot_permissions``); sends CHANNEL_CREATE."""
        channel = self._ctx.world.add_channel(id_of(guild_id), name, **options)
        self._ctx.events.channel_created(channel)
        return channel

    def add_role(self, guild_id: int, name: str, permissions: int = 0, *, color: int = 0) -> RoleRecord:
        """A guild role; sends GUILD_ROLE_CREATE."""
        role = self._ctx.world.add_role(id_of(guild_id), name, permissions=permissions, color=color)
        self._ctx.events.role_created(role)
        return role

    def add_user(
        self,
        name: str,
        permissions: int | None = None,
        roles: Iterable[RoleRecord | int] | None = None,
        guild_id: int | None = None,
        *,
        global_name: str | None = None,
    ) -> UserRecord:
        """A user who joins ``guild_id`` (or, when ``None``, every existing guild).

        ``permissions`` is the member's computed permission integer; without it, @everyone's plus the roles'.
        """
        world = self._ctx.world
        user = world.add_user(name, global_name=global_name)
        role_list = list(roles or [])
        guild_ids = [id_of(guild_id)] if guild_id is not None else list(world.guilds)
        for gid in guild_ids:
            guild = world.guild(gid)
            in_guild = [role for role in role_list if id_of(role) in {r.id for r in guild.roles}]
            if guild_id is not None and len(in_guild) != len(role_list):
                raise LookupError(f"some roles are not in guild {gid}")
            self.add_member(gid, user, permissions=permissions, roles=in_guild)
        return user

    def add_member(
        self,
        guild_id: int,
        user: UserRef,
        *,
        permissions: int | None = None,
        roles: Iterable[RoleRecord | int] = (),
        nick: str | None = None,
    ) -> MemberRecord:
        """Make an existing user a member of a guild; sends GUILD_MEMBER_ADD (members intent)."""
        member = self._ctx.world.add_member(
            id_of(guild_id), id_of(user), permissions=permissions, roles=roles, nick=nick
        )
        self._ctx.events.member_added(member)
        return member

    def add_attachment(
        self,
        data: bytes,
        filename: str,
        content_type: str | None = "image/png",
        width: int | None = None,
        height: int | None = None,
    ) -> dict[str, Any]:
        """Store bytes on the CDN and return an attachment payload usable in options and messages.

        ``content_type=None`` yields a payload without ``content_type`` (as Discord sometimes sends).
        """
        stored = self._ctx.cdn.store(
            data,
            filename,
            scope=f"ephemeral-attachments/{self.application_id}",
            content_type=content_type,
            width=width,
            height=height,
        )
        payload = self._ctx.cdn.payload(stored)
        if content_type is None:
            payload.pop("content_type", None)
        return payload

    def expire_attachment(self, attachment_id: int | str) -> None:
        """Make an attachment's URLs answer 404."""
        self._ctx.cdn.expire(int(attachment_id))

    # -- readiness -------------------------------------------------------------------------------

    async def wait_ready(self, timeout: float = 10, sessions: int = 1) -> None:
        """Wait until ``sessions`` sessions in all (a reconnecting client's new ones count) have IDENTIFYed and been
        sent READY and every GUILD_CREATE."""
        await self._ctx.hub.wait_ready(timeout, sessions)

    async def wait_commands(self, timeout: float = 10) -> None:
        """Wait until at least one command set has been registered."""
        async with asyncio.timeout(timeout):
            await self._ctx.commands.registered.wait()

    def open_command_to_everyone(self, guild_id: int, name: str) -> None:
        """A server admin's override: every member may use the command whatever its default permissions."""
        self._ctx.commands.open_to_everyone(id_of(guild_id), name)

    def command_syncs(self, guild_id: int | None = None) -> int:
        """How many times a scope's whole command set was overwritten (a client's sync), global by default."""
        return self._ctx.commands.overwrites[None if guild_id is None else id_of(guild_id)]

    def commands(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The registered commands, globally (``None``) or for a guild, as stored."""
        return self._ctx.commands.list(None if guild_id is None else id_of(guild_id))

    # -- user actions ----------------------------------------------------------------------------

    async def slash(
        self,
        name: str,
        *,
        user: UserRef,
        guild: GuildRef = None,
        channel: ChannelRef = None,
        locale: str = "en-US",
        options: Mapping[str, Any] | None = None,
        attachments: Mapping[str, AttachmentInput] | None = None,
        tamper: Tamper | None = None,
    ) -> InteractionHandle:
        """Invoke a registered chat-input command (``"group sub"`` names reach subcommands).

        ``guild=None`` with ``channel=None`` means a DM with the bot. Raises ``LookupError`` for an unknown
        command and ``ValueError`` for unknown, missing or ill-typed options. ``tamper`` rewrites the checked
        payload before it is sent: what a forged request carries, that Discord's own client never would.
        """
        handle = self._factory.slash(
            name,
            user=user,
            guild=guild,
            channel=channel,
            locale=locale,
            options=options or {},
            attachments=attachments or {},
        )
        return await self._dispatch(handle, tamper)

    async def autocomplete(
        self,
        name: str,
        *,
        user: UserRef,
        focused: str,
        options: Mapping[str, Any],
        guild: GuildRef = None,
        channel: ChannelRef = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """A member typing into ``focused`` (its text so far in ``options``); the bot's choices arrive in the
        handle's ``autocomplete_choices``."""
        handle = self._factory.autocomplete(
            name, user=user, guild=guild, channel=channel, locale=locale, options=options, focused=focused
        )
        return await self._dispatch(handle)

    async def context_menu(
        self,
        name: str,
        *,
        user: UserRef,
        message: MessageRecord | None = None,
        target_user: UserRef | None = None,
        guild: GuildRef = None,
        channel: ChannelRef = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Invoke a message command (``message=``) or a user command (``target_user=``)."""
        handle = self._factory.context_menu(
            name, message=message, target_user=target_user, user=user, guild=guild, channel=channel, locale=locale
        )
        return await self._dispatch(handle)

    async def click(
        self,
        message: MessageRecord,
        custom_id: str,
        *,
        user: UserRef,
        guild: GuildRef = None,
        values: Sequence[Any] | None = None,
        locale: str = "en-US",
        tamper: Tamper | None = None,
    ) -> InteractionHandle:
        """Click a button (or pick ``values`` in a select menu) on the current state of ``message``."""
        if guild is not None and message.guild_id != id_of(guild):
            raise ValueError(f"message {message.id} is not in guild {id_of(guild)}")
        handle = self._factory.component(message, custom_id, user=user, values=values, locale=locale)
        return await self._dispatch(handle, tamper)

    async def submit_modal(
        self,
        modal_source: InteractionHandle,
        values: Mapping[str, Any],
        *,
        user: UserRef | None = None,
        locale: str | None = None,
        tamper: Tamper | None = None,
    ) -> InteractionHandle:
        """Submit the modal that ``modal_source``'s callback opened; ``values`` are keyed by custom id."""
        handle = self._factory.modal_submit(modal_source, values, user=user, locale=locale)
        return await self._dispatch(handle, tamper)

    def direct_message_envelope(self, user: UserRef) -> dict[str, Any]:
        """The payload fields of an interaction from ``user``'s direct messages with the bot (for forging one)."""
        return self._factory.direct_message_envelope(user)

    async def _dispatch(self, handle: InteractionHandle, tamper: Tamper | None = None) -> InteractionHandle:
        if tamper is not None:
            tamper(handle.payload)
            handle.guild_id = int(handle.payload["guild_id"]) if "guild_id" in handle.payload else None
            handle.channel_id = int(handle.payload["channel_id"])
        self._ctx.interactions.add(handle)
        events = self._ctx.hub.broadcast("INTERACTION_CREATE", handle.payload, guild_id=handle.guild_id)
        if not events:
            raise RuntimeError("no gateway session to deliver the interaction to (await wait_ready() first)")
        for event in events:
            event.written.add_done_callback(
                lambda future: handle.note_dispatched(future.result()) if not future.cancelled() else None
            )
        await asyncio.wait(
            [event.written for event in events], timeout=DISPATCH_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if handle.dispatched_at is None:
            raise TimeoutError(f"interaction {handle.id} did not reach a gateway socket within {DISPATCH_TIMEOUT}s")
        return handle

    def post_message(
        self,
        channel_id: int,
        author: UserRef,
        content: str = "",
        attachments: Sequence[AttachmentInput] | None = None,
        embeds: Sequence[Mapping[str, Any]] | None = None,
        *,
        reply_to: MessageRecord | None = None,
    ) -> MessageRecord:
        """A user's message: recorded and dispatched as MESSAGE_CREATE (subject to intents)."""
        world = self._ctx.world
        channel = world.channel(id_of(channel_id))
        user = world.user(id_of(author))
        if channel.guild_id is not None:
            world.member(channel.guild_id, user.id)
        files, attachment_payloads = self._user_attachments(attachments or [])
        record = MessageRecord(
            id=self._ctx.ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=user.id,
            content=content,
            embeds=[dict(embed) for embed in embeds or []],
            files=files,
            attachments=attachment_payloads,
            components=assign_component_ids([]),
            type=19 if reply_to is not None else 0,
            reference_id=reply_to.id if reply_to is not None else None,
            mention_ids=[int(match) for match in _MENTION.findall(content)],
        )
        world.store_message(record)
        self._ctx.events.message_created(record)
        return record

    def _user_attachments(self, items: Sequence[AttachmentInput]) -> tuple[list[FileRecord], list[dict[str, Any]]]:
        files: list[FileRecord] = []
        attachment_payloads: list[dict[str, Any]] = []
        for item in items:
            attachment = self._factory.attachment_payload(item)
            stored = self._ctx.cdn.get(int(attachment["id"]))
            if stored is not None:
                files.append(
                    FileRecord(
                        filename=stored.filename,
                        data=stored.data,
                        content_type=attachment.get("content_type") or stored.content_type,
                        attachment_id=stored.id,
                    )
                )
            attachment.pop("ephemeral", None)
            attachment_payloads.append(attachment)
        return files, attachment_payloads

    # -- inspection ------------------------------------------------------------------------------

    def messages(self, channel_id: int) -> list[MessageRecord]:
        """Every message of a channel in its current state, oldest first (deleted and ephemeral ones included)."""
        return self._ctx.world.channel_messages(id_of(channel_id))

    def message(self, message_id: int) -> MessageRecord:
        """The current state of one message."""
        return self._ctx.world.message(id_of(message_id))

    def message_payload(self, message_id: int) -> dict[str, Any]:
        """A message as the REST API would serve it."""
        return payloads.message(self._ctx.world, self.message(message_id))

    @property
    def interactions(self) -> list[InteractionHandle]:
        """Every interaction dispatched, oldest first."""
        return self._ctx.interactions.all()

    @property
    def requests(self) -> list[RequestRecord]:
        """Every REST and CDN request with its answer status, in order."""
        return self._ctx.requests

    def status_counts(self) -> collections.Counter[int]:
        """How many requests got each status."""
        return collections.Counter(record.status for record in self._ctx.requests)

    @property
    def rate_limits(self) -> RateLimits | None:
        """The limits enforced, or ``None`` when rate limiting is off."""
        return self._ctx.rate_limiter.limits

    @property
    def rate_limited(self) -> int:
        """How many 429s the rate limiter answered (injected ones not included)."""
        return sum(1 for record in self._ctx.requests if record.bucket is not None)

    def rate_limit_trips(self) -> collections.Counter[str]:
        """How many requests each bucket (``global``, ``interaction_webhook``, ...) refused."""
        return collections.Counter(record.bucket for record in self._ctx.requests if record.bucket is not None)

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        retry_after: float | None = None,
        count: int = 1,
        code: int = 0,
    ) -> None:
        """The next ``count`` requests with ``method`` (``"*"`` for any) whose path below ``/api/v10`` matches
        ``path_regex`` (``re.search``) get ``status``: 429 as Discord sends it (``Via`` and ``Retry-After``
        headers, ``retry_after`` in the body, default 0.05 s), other statuses with ``{"message", "code"}``.
        """
        self._ctx.faults.add(method, path_regex, status, retry_after=retry_after, count=count, code=code)

    # -- gateway control -------------------------------------------------------------------------

    @property
    def sessions(self) -> list[GatewaySession]:
        """Gateway sessions with a live websocket (``.shard``, ``.intents``, ``.session_id``, ``.seq``)."""
        return self._ctx.hub.sessions

    @property
    def identify_count(self) -> int:
        """How many IDENTIFYs were accepted."""
        return self._ctx.hub.identify_count

    @property
    def resume_count(self) -> int:
        """How many RESUMEs succeeded."""
        return self._ctx.hub.resume_count

    async def disconnect_sessions(self, code: int = CLOSE_UNKNOWN_ERROR, resumable: bool = True) -> None:
        """Close every gateway socket; a resumable session's missed events are replayed on RESUME."""
        await self._ctx.hub.disconnect(code=code, resumable=resumable)

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every live session."""
        self._ctx.hub.request_reconnect()
