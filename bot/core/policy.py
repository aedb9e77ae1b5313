"""What a server allows and who is blocked, read from storage and cached briefly.

Every request is checked here before it is acknowledged, so lookups must be cheap: limits and blocks
are kept for `ttl` seconds (changes made through this object apply at once; other bot processes see
them within `ttl`), and requests that miss the cache together share one read.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bot.core import errors
from bot.core.limits import LIMIT_NAMES, Requester, ServerLimits, resolve, to_json
from bot.core.storage import Block, LimitChange, Storage

DEFAULT_TTL = 30.0
T = TypeVar("T")


class Policy:
    """A server's limits (defaults plus its overrides) and the bot-wide blocks."""

    def __init__(
        self,
        storage: Storage,
        defaults: ServerLimits,
        *,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._defaults = defaults
        self._ttl = ttl
        self._clock = clock
        self._limits: dict[int, tuple[float, ServerLimits]] = {}
        self._blocks: tuple[float, dict[tuple[str, int], Block]] | None = None
        self._reading: dict[object, asyncio.Task[Any]] = {}  # reads under way, by what they read
        self._changes = 0  # limit changes made through this object

    @property
    def defaults(self) -> ServerLimits:
        return self._defaults

    async def limits(self, guild_id: int | None) -> ServerLimits:
        """The limits in force in a server (the defaults outside servers)."""
        if guild_id is None:
            return self._defaults
        cached = self._limits.get(guild_id)
        if cached is not None and self._clock() - cached[0] < self._ttl:
            return cached[1]
        changes = self._changes
        overrides = await self._read(("limits", guild_id), lambda: self._storage.load_limits(guild_id))
        limits = resolve(self._defaults, overrides)
        if self._changes == changes:  # a read that a change overtook is not kept
            self._limits[guild_id] = (self._clock(), limits)
        return limits

    async def overrides(self, guild_id: int) -> set[str]:
        """The names of the limits a server's moderators have set."""
        return set(await self._storage.load_limits(guild_id)) & set(LIMIT_NAMES)

    async def set_limit(self, guild_id: int, name: str, value: Any | None, changed_by: int) -> None:
        """Set a limit (None: back to the default), recording who changed what; refuses a name no limit has."""
        if name not in LIMIT_NAMES:
            raise errors.InvalidChoice("limit", name, LIMIT_NAMES)
        stored = None if value is None else to_json(name, value)
        await self._storage.set_limit(guild_id, name, stored, changed_by, datetime.now(UTC))
        self._changes += 1
        self._limits.pop(guild_id, None)
        self._reading.pop(("limits", guild_id), None)  # a read begun before the change must not serve after it

    async def changes(self, guild_id: int, limit: int = 20) -> list[LimitChange]:
        return await self._storage.limit_changes(guild_id, limit)

    async def check_not_blocked(self, requester: Requester) -> None:
        """Refuse members and servers the bot's admins have blocked."""
        blocks = await self._all_blocks()
        if ("user", requester.user_id) in blocks:
            raise errors.UserBlocked
        if requester.guild_id is not None and ("guild", requester.guild_id) in blocks:
            raise errors.ServerBlocked

    async def block(self, kind: str, target_id: int, reason: str | None, blocked_by: int) -> bool:
        """Block a user or a server everywhere; False when it already was."""
        added = await self._storage.set_block(kind, target_id, reason, blocked_by, datetime.now(UTC))
        self._forget_blocks()
        return added

    async def unblock(self, kind: str, target_id: int) -> bool:
        """Lift a block; False when there was none."""
        removed = await self._storage.remove_block(kind, target_id)
        self._forget_blocks()
        return removed

    async def _all_blocks(self) -> dict[tuple[str, int], Block]:
        if self._blocks is None or self._clock() - self._blocks[0] >= self._ttl:
            blocks = {
                (block.kind, block.target_id): block for block in await self._read("blocks", self._storage.blocks)
            }
            self._blocks = (self._clock(), blocks)
        return self._blocks[1]

    def _forget_blocks(self) -> None:
        self._blocks = None
        self._reading.pop("blocks", None)

    async def _read(self, key: object, read: Callable[[], Awaitable[T]]) -> T:
        """`read()`, shared by every caller that asks for `key` while it runs (a burst reads once, not N times)."""
        task = self._reading.get(key)
        if task is None:
            task = self._reading[key] = asyncio.ensure_future(read())
            task.add_done_callback(lambda _: self._reading.pop(key, None))
        return await asyncio.shield(task)  # a caller that gives up doesn't cancel the others' read
