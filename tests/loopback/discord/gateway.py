"""The gateway websocket: HELLO, IDENTIFY/READY, heartbeats, dispatches with sequence numbers, RESUME replay."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from . import payloads
from .config import ServerConfig
from .responses import dumps
from .world import World

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE_UPDATE = 3
OP_VOICE_STATE_UPDATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_GUILD_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT
ALL_INTENTS = (1 << 26) - 1

CLOSE_UNKNOWN_ERROR = 4000
CLOSE_UNKNOWN_OPCODE = 4001
CLOSE_DECODE_ERROR = 4002
CLOSE_NOT_AUTHENTICATED = 4003
CLOSE_AUTHENTICATION_FAILED = 4004
CLOSE_ALREADY_AUTHENTICATED = 4005
CLOSE_INVALID_SHARD = 4010
CLOSE_INVALID_INTENTS = 4013
CLOSE_DISALLOWED_INTENTS = 4014

_SESSION_ENDING_CLIENT_CODES = frozenset({1000, 1001})


@dataclass(eq=False, slots=True)
class GatewayEvent:
    """One dispatch in a session's log; ``written`` resolves to the loop time it reached a socket."""

    seq: int
    name: str
    text: str
    written: asyncio.Future[float]


class GatewayConnection:
    """One websocket; a writer task sends queued frames in order (so dispatch order equals socket order)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.closed_by_server = False
        self.keep_session = True
        self._queue: asyncio.Queue[GatewayEvent | str] = asyncio.Queue()
        self._writer = asyncio.create_task(self._write(), name="loopback-gateway-writer")

    def send(self, item: GatewayEvent | str) -> None:
        """Queue a dispatch event or an already serialised non-dispatch frame."""
        self._queue.put_nowait(item)

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            item = await self._queue.get()
            text = item if isinstance(item, str) else item.text
            try:
                await self.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                return
            if isinstance(item, GatewayEvent) and not item.written.done():
                item.written.set_result(loop.time())

    async def stop_writer(self) -> None:
        """Stop sending; frames still queued are dropped (a RESUME replays dispatches from the log)."""
        self._writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._writer

    async def close(self, code: int, reason: str = "", *, keep_session: bool = True) -> None:
        """Close from the server side; ``keep_session`` decides whether the session stays resumable."""
        self.closed_by_server = True
        self.keep_session = keep_session
        await self.stop_writer()
        await self.ws.close(code=code, message=reason.encode())


class GatewaySession:
    """A gateway session: its event log survives disconnects so a RESUME can replay what was missed."""

    def __init__(self, session_id: str, *, shard: tuple[int, int] | None, intents: int) -> None:
        self.session_id = session_id
        self.shard = shard
        self.intents = intents
        self.events: list[GatewayEvent] = []
        self.connection: GatewayConnection | None = None
        self.resumable = True
        self.ready = asyncio.Event()

    @property
    def seq(self) -> int:
        """The last sequence number dispatched."""
        return self.events[-1].seq if self.events else 0

    @property
    def connected(self) -> bool:
        """Whether a websocket is currently attached."""
        return self.connection is not None

    def has_intents(self, intents: int) -> bool:
        """Whether every bit of ``intents`` was requested in IDENTIFY."""
        return self.intents & intents == intents

    def handles_guild(self, guild_id: int | None) -> bool:
        """Whether this session's shard receives a guild's events (DMs go to shard 0)."""
        if self.shard is None:
            return True
        shard_id, shard_count = self.shard
        return ((guild_id or 0) >> 22) % shard_count == shard_id

    def dispatch(self, name: str, data: Any) -> GatewayEvent:
        """Append an event to the log and send it if a socket is attached."""
        seq = self.seq + 1
        text = dumps({"op": OP_DISPATCH, "t": name, "s": seq, "d": data})
        event = GatewayEvent(seq, name, text, asyncio.get_running_loop().create_future())
        self.events.append(event)
        if self.connection is not None:
            self.connection.send(event)
        return event

    def attach(self, connection: GatewayConnection, *, after_seq: int | None = None) -> None:
        """Attach a socket; with ``after_seq`` replay every logged event after that sequence number."""
        self.connection = connection
        if after_seq is not None:
            for event in self.events:
                if event.seq > after_seq:
                    connection.send(event)


def _frame(op: int, data: Any) -> str:
    return dumps({"op": op, "d": data, "s": None, "t": None})


class GatewayHub:
    """Accepts gateway websockets and routes dispatches to sessions (by shard and intents)."""

    def __init__(self, config: ServerConfig, world: World) -> None:
        self._config = config
        self._world = world
        self._sessions: dict[str, GatewaySession] = {}
        self._connections: set[GatewayConnection] = set()
        self._ready = asyncio.Event()
        self._ready_count = 0
        self._ready_changed = asyncio.Condition()
        self.identify_count = 0
        self.resume_count = 0

    @property
    def sessions(self) -> list[GatewaySession]:
        """Sessions with a live websocket."""
        return [session for session in self._sessions.values() if session.connected]

    @property
    def all_sessions(self) -> list[GatewaySession]:
        """Live sessions plus disconnected ones that may still RESUME."""
        return list(self._sessions.values())

    async def wait_ready(self, timeout: float, count: int = 1) -> None:
        """Wait until `count` sessions in all have been sent READY and all their GUILD_CREATEs."""
        async with asyncio.timeout(timeout), self._ready_changed:
            await self._ready_changed.wait_for(lambda: self._ready_count >= count)

    def broadcast(
        self,
        name: str,
        data: Any,
        *,
        guild_id: int | None = None,
        intents: int = 0,
        transform: Callable[[GatewaySession, Any], Any] | None = None,
    ) -> list[GatewayEvent]:
        """Dispatch to every (live or resumable) session that handles the guild and asked for ``intents``."""
        return [
            session.dispatch(name, transform(session, data) if transform else data)
            for session in self._listeners(guild_id, intents)
        ]

    def wants(self, *, guild_id: int | None, intents: int) -> bool:
        """Whether any session would receive such an event (so its payload is worth building)."""
        return bool(self._listeners(guild_id, intents))

    def _listeners(self, guild_id: int | None, intents: int) -> list[GatewaySession]:
        return [
            session
            for session in list(self._sessions.values())
            if session.handles_guild(guild_id) and (not intents or session.intents & intents)
        ]

    async def disconnect(self, *, code: int = CLOSE_UNKNOWN_ERROR, resumable: bool = True) -> None:
        """Close every live socket; when not ``resumable`` the sessions are forgotten (RESUME gets op 9)."""
        for session in list(self._sessions.values()):
            connection = session.connection
            if not resumable:
                self._drop(session)
            if connection is not None:
                await connection.close(code, "loopback disconnect", keep_session=resumable)

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every live session (the client closes and RESUMEs)."""
        for session in self.sessions:
            if session.connection is not None:
                session.connection.send(_frame(OP_RECONNECT, None))

    async def close(self) -> None:
        """Close every socket and forget every session."""
        for connection in list(self._connections):
            await connection.close(1001, "loopback shutting down", keep_session=False)
        self._sessions.clear()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The ``/gateway`` websocket endpoint."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        connection = GatewayConnection(ws)
        self._connections.add(connection)
        connection.send(
            _frame(OP_HELLO, {"heartbeat_interval": self._config.heartbeat_interval_ms, "_trace": ["loopback"]})
        )
        session: GatewaySession | None = None
        try:
            async for message in ws:
                if message.type is not WSMsgType.TEXT:
                    await connection.close(CLOSE_DECODE_ERROR, "Error while decoding payload.")
                    break
                try:
                    frame = json.loads(message.data)
                    op = frame["op"]
                except (ValueError, KeyError, TypeError):
                    await connection.close(CLOSE_DECODE_ERROR, "Error while decoding payload.")
                    break
                session = await self._on_frame(connection, session, op, frame.get("d"))
                if connection.closed_by_server:
                    break
        finally:
            self._connections.discard(connection)
            await connection.stop_writer()
            self._detach(connection, session, ws.close_code)
        return ws

    async def _on_frame(
        self, connection: GatewayConnection, session: GatewaySession | None, op: Any, data: Any
    ) -> GatewaySession | None:
        if op == OP_HEARTBEAT:
            connection.send(_frame(OP_HEARTBEAT_ACK, None))
            return session
        if op == OP_IDENTIFY:
            if session is not None:
                await connection.close(CLOSE_ALREADY_AUTHENTICATED, "Already authenticated.")
                return session
            return await self._identify(connection, data if isinstance(data, dict) else {})
        if op == OP_RESUME:
            return await self._resume(connection, data if isinstance(data, dict) else {})
        if session is None:
            await connection.close(CLOSE_NOT_AUTHENTICATED, "Not authenticated.")
            return None
        if op == OP_REQUEST_GUILD_MEMBERS:
            self._send_members_chunk(session, data if isinstance(data, dict) else {})
        elif op not in (OP_PRESENCE_UPDATE, OP_VOICE_STATE_UPDATE):
            await connection.close(CLOSE_UNKNOWN_OPCODE, "Unknown opcode.")
        return session

    def _token_ok(self, token: Any) -> bool:
        if not isinstance(token, str):
            return False
        return token.removeprefix("Bot ").strip() == self._config.token

    async def _identify(self, connection: GatewayConnection, data: dict[str, Any]) -> GatewaySession | None:
        if not self._token_ok(data.get("token")):
            await connection.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.", keep_session=False)
            return None
        intents = data.get("intents")
        if not isinstance(intents, int) or isinstance(intents, bool) or not 0 <= intents <= ALL_INTENTS:
            await connection.close(CLOSE_INVALID_INTENTS, "Invalid intent(s).", keep_session=False)
            return None
        if intents & PRIVILEGED_INTENTS & ~self._config.privileged_intents:
            await connection.close(CLOSE_DISALLOWED_INTENTS, "Disallowed intent(s).", keep_session=False)
            return None
        shard = self._parse_shard(data.get("shard"))
        if shard is False:
            await connection.close(CLOSE_INVALID_SHARD, "Invalid shard.", keep_session=False)
            return None
        self.identify_count += 1
        session = GatewaySession(secrets.token_hex(16), shard=shard or None, intents=intents)
        self._sessions[session.session_id] = session
        session.attach(connection)
        guilds = [guild for guild in self._world.guilds.values() if session.handles_guild(guild.id)]
        last = session.dispatch("READY", self._ready_payload(session, guilds))
        for guild in guilds:
            last = session.dispatch("GUILD_CREATE", payloads.guild_create(self._world, guild))
        last.written.add_done_callback(lambda _: self._mark_ready(session))
        return session

    @staticmethod
    def _parse_shard(value: Any) -> tuple[int, int] | bool | None:
        if value is None:
            return None
        if (
            isinstance(value, list)
            and len(value) == 2
            and all(isinstance(part, int) for part in value)
            and 0 <= value[0] < value[1]
        ):
            return (value[0], value[1])
        return False

    def _mark_ready(self, session: GatewaySession) -> None:
        session.ready.set()
        self._ready.set()
        self._ready_count += 1
        asyncio.get_running_loop().create_task(self._notify_ready())

    async def _notify_ready(self) -> None:
        async with self._ready_changed:
            self._ready_changed.notify_all()

    def _ready_payload(self, session: GatewaySession, guilds: list[Any]) -> dict[str, Any]:
        ready: dict[str, Any] = {
            "v": 10,
            "user": payloads.current_user(self._world.bot),
            "guilds": [payloads.unavailable_guild(guild) for guild in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self._config.gateway_url,
            "application": {"id": str(self._config.application_id), "flags": self._config.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "auth": {},
            "_trace": ["loopback"],
        }
        if session.shard is not None:
            ready["shard"] = list(session.shard)
        return ready

    async def _resume(self, connection: GatewayConnection, data: dict[str, Any]) -> GatewaySession | None:
        if not self._token_ok(data.get("token")):
            await connection.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.", keep_session=False)
            return None
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or not session.resumable:
            connection.send(_frame(OP_INVALID_SESSION, False))
            return None
        previous = session.connection
        if previous is not None and previous is not connection:
            session.connection = None
            await previous.close(CLOSE_UNKNOWN_ERROR, "Session resumed elsewhere.")
        seq = data.get("seq")
        session.attach(connection, after_seq=seq if isinstance(seq, int) else 0)
        session.dispatch("RESUMED", {"_trace": ["loopback"]})
        self.resume_count += 1
        return session

    def _send_members_chunk(self, session: GatewaySession, data: dict[str, Any]) -> None:
        try:
            guild = self._world.guild(int(data.get("guild_id", 0)))
        except (LookupError, TypeError, ValueError):
            return
        user_ids = {int(user_id) for user_id in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        limit = int(data.get("limit") or 0)
        members = [payloads.bot_member(self._world, guild)]
        members += [payloads.member(self._world, member) for member in guild.members.values()]
        if user_ids:
            members = [member for member in members if int(member["user"]["id"]) in user_ids]
        elif query:
            members = [member for member in members if member["user"]["username"].lower().startswith(query)]
        if limit:
            members = members[:limit]
        found = {int(member["user"]["id"]) for member in members}
        chunk: dict[str, Any] = {
            "guild_id": str(guild.id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [str(user_id) for user_id in user_ids - found],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        if data.get("presences"):
            chunk["presences"] = []
        session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    def _detach(self, connection: GatewayConnection, session: GatewaySession | None, close_code: int | None) -> None:
        if session is None or session.connection is not connection:
            return
        session.connection = None
        ended_by_client = not connection.closed_by_server and close_code in _SESSION_ENDING_CLIENT_CODES
        if ended_by_client or not connection.keep_session:
            self._drop(session)

    def _drop(self, session: GatewaySession) -> None:
        session.resumable = False
        self._sessions.pop(session.session_id, None)
