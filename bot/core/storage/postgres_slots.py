"""The image API's slots as leases in PostgreSQL, taken with `FOR UPDATE SKIP LOCKED`.

A process holds a slot while one of its jobs calls the image API; every process uses the slots below its own
cap, so with one IMAGE_API_CONCURRENCY everywhere, no more calls than that run at once in the deployment.
A lease expires LEASE_SECONDS after its last renewal: the slots of a process that dies come free on their
own. Freeing a slot notifies the other processes, which otherwise look again every POLL_SECONDS.
"""

import asyncio
import contextlib
import logging
import secrets

import asyncpg

from bot.core.slots import Lease

log = logging.getLogger(__name__)

LEASE_SECONDS = 60.0
RENEW_SECONDS = 15.0
POLL_SECONDS = 1.0
RETRY_SECONDS = 2.0  # after the database failed to answer
CHANNEL = "image_api_slots"  # named in FREE too
_DATABASE_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)

CREATE_SLOTS = "INSERT INTO api_slots (slot) SELECT generate_series(0, $1 - 1) ON CONFLICT (slot) DO NOTHING"

# Holdings of this instance's previous run: that process is gone.
FREE_LEFTOVERS = "UPDATE api_slots SET holder = NULL, lease = NULL, expires_at = NULL WHERE holder = $1"

TAKE = """
UPDATE api_slots SET holder = $1, lease = $2, expires_at = now() + make_interval(secs => $3)
WHERE slot = (
    SELECT slot FROM api_slots
    WHERE slot < $4 AND (lease IS NULL OR expires_at < now())
    ORDER BY slot LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING slot
"""

# The notification goes out when the update commits.
FREE = """
WITH freed AS (
    UPDATE api_slots SET holder = NULL, lease = NULL, expires_at = NULL WHERE slot = $1 AND lease = $2
    RETURNING slot
)
SELECT pg_notify('image_api_slots', '') FROM freed
"""

RENEW = "UPDATE api_slots SET expires_at = now() + make_interval(secs => $2) WHERE lease = ANY($1::text[])"

# The slots held by instances not seen since :stale_before: they come free before their leases expire. Storage runs
# this (in the shared form of `sql`) when it takes over those instances' jobs.
FREE_ORPHANED_SLOTS = """
UPDATE api_slots SET holder = NULL, lease = NULL, expires_at = NULL
WHERE holder IS NOT NULL AND holder <> :instance
  AND NOT EXISTS (SELECT 1 FROM instances WHERE name = api_slots.holder AND seen_at >= :stale_before)
"""


class SharedSlots:
    """A SlotGate over the `api_slots` table; `start` before use, `close` after."""

    def __init__(self, pool: asyncpg.Pool, instance: str, cap: int) -> None:
        self._pool = pool
        self._instance = instance
        self._cap = cap
        self._held: set[str] = set()
        self._freed = asyncio.Event()  # set by a notification: a slot may be free
        self._turn = asyncio.Lock()  # one waiter per process asks the database at a time; the rest queue here
        self._listener: asyncpg.pool.PoolConnectionProxy | None = None
        self._renewer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Create the slots, free this instance's leftovers, listen for freed slots and renew held ones."""
        async with self._pool.acquire() as db:
            await db.execute(CREATE_SLOTS, self._cap)
            await db.execute(FREE_LEFTOVERS, self._instance)
        self._listener = await self._pool.acquire()
        await self._listener.add_listener(CHANNEL, self._on_freed)
        self._renewer = asyncio.create_task(self._renew_forever(), name="slot-leases")

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if self._listener is not None:
            with contextlib.suppress(*_DATABASE_ERRORS):
                await self._listener.remove_listener(CHANNEL, self._on_freed)
            await self._pool.release(self._listener)
            self._listener = None

    async def acquire(self) -> Lease:
        """Wait until one of the slots below the cap is free, and hold it; retries while the database is down."""
        with contextlib.suppress(*_DATABASE_ERRORS):
            if (lease := await self._take()) is not None:  # at once, alongside others: slots free together
                return lease
        async with self._turn:
            while True:
                self._freed.clear()  # before looking, so a slot freed meanwhile still wakes us
                try:
                    if (lease := await self._take()) is not None:
                        return lease
                except _DATABASE_ERRORS as error:
                    log.warning("could not take an image API slot (%s); trying again", error)
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._freed.wait(), POLL_SECONDS)

    async def release(self, lease: Lease) -> None:
        self._held.discard(lease.token)
        try:
            await self._pool.execute(FREE, lease.slot, lease.token)
        except _DATABASE_ERRORS as error:
            log.warning(
                "could not free image API slot %d (%s); it frees itself when its lease expires", lease.slot, error
            )

    async def _take(self) -> Lease | None:
        token = secrets.token_hex(8)
        slot = await self._pool.fetchval(TAKE, self._instance, token, LEASE_SECONDS, self._cap)
        if slot is None:
            return None
        self._held.add(token)
        return Lease(slot, token)

    def _on_freed(self, *_: object) -> None:
        self._freed.set()

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            if not self._held:
                continue
            try:
                await self._pool.execute(RENEW, list(self._held), LEASE_SECONDS)
            except _DATABASE_ERRORS as error:
                log.warning("could not renew the image API slot leases (%s)", error)
