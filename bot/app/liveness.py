"""Several processes on one database: each says it is alive, and takes over the jobs of those that stopped.

A process that dies holding jobs leaves them running in the database. When it comes back under the same
instance name it fails them at start; otherwise, once it has been silent for the instance timeout, whichever
process beats next fails them, releases their bookings and tells their members.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import discord

from bot.app.recovery import tell_interrupted
from bot.core.storage import Storage

log = logging.getLogger(__name__)

BEATS_PER_TIMEOUT = 4  # a process is given up on after missing this many heartbeats


class Heartbeat:
    def __init__(self, client: discord.Client, storage: Storage, timeout: float) -> None:
        self._client = client
        self._storage = storage
        self._timeout = timeout
        self._task: asyncio.Task[None] | None = None
        self._telling: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._beat_forever(), name="heartbeat")

    async def stop(self) -> None:
        for task in (self._task, *self._telling):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def beat(self) -> None:
        """Mark this process alive; fail, settle and tell the jobs of processes silent for the timeout."""
        now = datetime.now(UTC)
        orphans = await self._storage.recover_orphans(now, now - timedelta(seconds=self._timeout))
        if orphans:
            log.warning("took over %d jobs of stopped processes; their quota bookings are released", len(orphans))
            # apart from the beats: telling many members may take longer than this process may stay silent
            telling = asyncio.create_task(tell_interrupted(self._client, orphans), name="tell-interrupted")
            self._telling.add(telling)
            telling.add_done_callback(self._telling.discard)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(self._timeout / BEATS_PER_TIMEOUT)
            try:
                await self.beat()
            except Exception:  # a database hiccup: the next beat tries again
                log.warning("heartbeat failed", exc_info=True)
