"""Retention: the ledger's rows and jobs past the retention period deleted in small batches, in the background.

What quotas and usage count never changes: the rollups keep counting what goes, and nothing of the current or the
previous UTC month goes, whatever the period. Each member keeps their latest requests in each server (what /history
shows) and their latest delivered one (where a cooldown runs from).
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from bot.core.storage import Storage, periods

log = logging.getLogger(__name__)

BATCH = 200  # rows of each table per transaction, so that bookings never wait long behind one
PAUSE = 0.1  # seconds between batches: the bot's own statements go first
INTERVAL = 6 * 3600.0  # seconds between walks through what has aged past the period


def retention_cutoff(now: datetime, days: int) -> datetime:
    """Rows made before this go: `days` ago, but never later than the start of the previous UTC month."""
    previous_month = periods(periods(now)[2] - timedelta(days=1))[2]
    return min(now - timedelta(days=days), previous_month)


class Retention:
    """Prunes storage every INTERVAL; `days` 0 keeps everything."""

    def __init__(self, storage: Storage, days: int, keep: int) -> None:
        self._storage = storage
        self.days = days
        self.keep = keep
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.days > 0:
            self._task = asyncio.create_task(self._prune_forever(), name="retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def prune(self, now: datetime) -> None:
        """One walk from the oldest rows to the cutoff, a batch at a time."""
        before = retention_cutoff(now, self.days)
        start = await self._storage.prune(None, before, self.keep, BATCH)
        while start is not None:
            await asyncio.sleep(PAUSE)
            start = await self._storage.prune(start, before, self.keep, BATCH)

    async def _prune_forever(self) -> None:
        while True:
            try:
                await self.prune(datetime.now(UTC))
            except Exception:  # a database hiccup: the next walk tries again
                log.warning("pruning the ledger failed", exc_info=True)
            await asyncio.sleep(INTERVAL)
