"""The image API's slots as leases in PostgreSQL, taken with `FOR UPDATE SKIP LOCKED`.

A process holds a slot while one of its jobs calls the image API; every process uses the slots below its own
cap, so with one IMAGE_API_CONCURRENCY everywhere, no more calls than that run at once in the deployment.
Slots come in pools: the queue's is '', and each provider with a concurrency of its own has one more
('provider:<name>'), which holds that provider's cap across processes in the same way.
A lease expires LEASE_SECONDS after its last renewal: the slots of a process that dies come free on their
own. Freeing a slot notifies the other processes (one listening connection each, the pool as payload), which
otherwise look again every POLL_SECONDS.
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

CREATE_SLOTS = (
    "INSERT INTO api_slots (pool, slot) SELECT $1, generate_series(0, $2 - 1) ON CONFLICT (pool, slot) DO NOTHING"
)

# Holdings in this pool of this instance's previous run: that process is gone.
FREE_LEFTOVERS = "UPDATE api_slots SET holder = NULL, lease = NULL, expires_at = NULL WHERE pool = $1 AND holder = $2"

TAKE = """
UPDATE api_slots SET holder = $2, lease = $3, expires_at = now() + make_interval(secs => $4)
WHERE pool = $1 AND slot = (
    SELECT slot FROM api_slots
    WHERE pool = $1 AND slot < $5 AND (lease IS NULL OR expires_at < now())
    ORDER BY slot LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING slot
"""

# The notification, naming the pool, goes out when the update commits.
FREE = """
WITH freed AS (
    UPDATE api_slots SET holder = NULL, lease = NULL, expires_at = NULL WHERE pool = $1 AND slot = $2 AND lease = $3
    RETURNING pool
)
SELECT pg_notify('image_api_slots', pool) FROM freed
"""

RENEW = "UPDATE api_slots SET expires_at = now() + make_interval(secs => $2) WHERE lease = ANY($1::text[])"

# The slots, in every pool, held by instances not seen since :stale_before: they come free before their leases
# expire. Storage runs this (in the shared form of `sql`) when it takes over those instances' jobs.
FREE_ORPHANED_SLOTS = """
UPDATE api_slots SET holder = NULL, lease = NULL, expires_at = NULL
WHERE holder IS NOT NULL AND holder <> :instance
  AND NOT EXISTS (SELECT 1 FROM instances WHERE name = api_slots.holder AND seen_at >= :stale_before)
"""


class FreedSlots:
    """One listening connection for every gate on a database pool: wakes the gates of the pool a slot came free in."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._waiting: dict[str, set[asyncio.Event]] = {}  # slot pool -> the events of its gates
        self._listener: asyncpg.pool.PoolConnectionProxy | None = None
        self._change = asyncio.Lock()  # one gate at a time opens or closes the listening connection

    async def subscribe(self, slot_pool: str, freed: asyncio.Event) -> None:
        """Set `freed` whenever a slot of `slot_pool` comes free; listens from the first subscription on."""
        async with self._change:
            if self._listener is None:
                listener = await self._pool.acquire()
                try:
                    await listener.add_listener(CHANNEL, self._on_freed)
                except BaseException:
                    await self._pool.release(listener)
                    raise
                self._listener = listener
            self._waiting.setdefault(slot_pool, set()).add(freed)

    async def unsubscribe(self, slot_pool: str, freed: asyncio.Event) -> None:
        """Stop setting `freed`; the last one to go closes the listening connection."""
        async with self._change:
            if (events := self._waiting.get(slot_pool)) is not None:
                events.discard(freed)
                if not events:
                    del self._waiting[slot_pool]
            if self._waiting or self._listener is None:
                return
            listener, self._listener = self._listener, None
            with contextlib.suppress(*_DATABASE_ERRORS):
                await listener.remove_listener(CHANNEL, self._on_freed)
            await self._pool.release(listener)

    def _on_freed(self, _connection: object, _pid: int, _channel: str, slot_pool: str) -> None:
        for freed in self._waiting.get(slot_pool, ()):
            freed.set()


class SharedSlots:
    """A SlotGate over one pool of the `api_slots` table; `start` before use, `close` after."""

    def __init__(self, pool: asyncpg.Pool, freed_slots: FreedSlots, instance: str, cap: int, slot_pool: str) -> None:
        self._pool = pool
        self._freed_slots = freed_slots
        self._instance = instance
        self._cap = cap
        self._slot_pool = slot_pool
        self._label = slot_pool or "image API"  # as the logs name this pool
        self._held: set[str] = set()
        self._freed = asyncio.Event()  # set by a notification: a slot may be free
        self._turn = asyncio.Lock()  # one waiter per process asks the database at a time; the rest queue here
        self._listening = False
        self._renewer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Create the slots, free this instance's leftovers, listen for freed slots and renew held ones."""
        async with self._pool.acquire() as db:
            await db.execute(CREATE_SLOTS, self._slot_pool, self._cap)
            await db.execute(FREE_LEFTOVERS, self._slot_pool, self._instance)
        await self._freed_slots.subscribe(self._slot_pool, self._freed)
        self._listening = True
        self._renewer = asyncio.create_task(self._renew_forever(), name=f"slot-leases-{self._label}")

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer
        if self._listening:
            self._listening = False
            await self._freed_slots.unsubscribe(self._slot_pool, self._freed)

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
                    log.warning("could not take a %s slot (%s); trying again", self._label, error)
                    await asyncio.sleep(RETRY_SECONDS)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._freed.wait(), POLL_SECONDS)

    async def release(self, lease: Lease) -> None:
        self._held.discard(lease.token)
        try:
            await self._pool.execute(FREE, self._slot_pool, lease.slot, lease.token)
        except _DATABASE_ERRORS as error:
            log.warning(
                "could not free %s slot %d (%s); it frees itself when its lease expires", self._label, lease.slot, error
            )

    async def _take(self) -> Lease | None:
        token = secrets.token_hex(8)
        slot = await self._pool.fetchval(TAKE, self._slot_pool, self._instance, token, LEASE_SECONDS, self._cap)
        if slot is None:
            return None
        self._held.add(token)
        return Lease(slot, token)

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(RENEW_SECONDS)
            if not self._held:
                continue
            try:
                await self._pool.execute(RENEW, list(self._held), LEASE_SECONDS)
            except _DATABASE_ERRORS as error:
                log.warning("could not renew the %s slot leases (%s)", self._label, error)
