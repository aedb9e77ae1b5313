"""PostgreSQL storage through an asyncpg pool, for several bot processes sharing one database."""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Self
from urllib.parse import urlsplit

import asyncpg

from bot.core.storage import postgres_sql as sql
from bot.core.storage.clock import periods
from bot.core.storage.errors import StorageError
from bot.core.storage.migrations import Migration, load_migrations, pending_migrations
from bot.core.storage.postgres_slots import SharedSlots
from bot.core.storage.quota import (
    Booked,
    DeploymentBooked,
    booked_from_row,
    check_global_quota,
    check_quota,
    deployment_booked_from_row,
    has_global_caps,
)
from bot.core.storage.records import (
    Block,
    Caps,
    DailyUsage,
    HistoryEntry,
    JobRecord,
    JobStatus,
    LimitChange,
    Reservation,
    UsageRecord,
    UsageTotals,
    UserUsage,
    as_utc,
    block_from_row,
    check_block_kind,
    history_from_row,
    job_from_row,
    job_values,
    limit_change_from_row,
    usage_values,
)

log = logging.getLogger(__name__)

POOL_SIZE = 10
CONNECT_TIMEOUT = 10.0  # seconds to open one connection
COMMAND_TIMEOUT = 30.0  # seconds for one query
CLOSE_TIMEOUT = 10.0  # seconds to wait for busy connections before cutting them
MIGRATION_TIMEOUT = 300.0  # seconds for one migration, including the wait for another process's
_MIGRATION_LOCK = 0x696D616765626F74  # "imagebot" in ASCII; any key works if every process uses the same
# Lock spaces of the two-key advisory locks, which never collide with the one-key migration lock.
_SERVER_QUOTAS = 0x696D6753  # "imgS"
_USER_QUOTAS = 0x696D6755  # "imgU"
_GLOBAL_QUOTAS = 0x696D67546F74616C  # "imgTotal": a one-key lock like the migration lock, with another key

_SCHEMA_VERSION = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


class PostgresStorage:
    """Storage in a PostgreSQL database."""

    def __init__(self, pool: asyncpg.Pool, instance: str = "main") -> None:
        self._pool = pool
        self._instance = instance

    @classmethod
    async def connect(cls, url: str, instance: str = "main") -> Self:
        """Connect a pool to `url` and bring the schema up to date.

        asyncpg passes unknown URL query parameters to the server as settings, so
        `postgresql://host/db?search_path=myschema` keeps the tables in `myschema` (which must exist).
        """
        try:
            pool = await asyncpg.create_pool(
                url, min_size=1, max_size=POOL_SIZE, timeout=CONNECT_TIMEOUT, command_timeout=COMMAND_TIMEOUT
            )
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            reason = str(error) or type(error).__name__
            raise StorageError(f"cannot connect to PostgreSQL at {_where(url)}: {reason}") from error
        storage = cls(pool, instance)
        try:
            await storage._migrate()
        except BaseException as error:
            pool.terminate()
            if isinstance(error, OSError | TimeoutError | asyncpg.PostgresError | asyncpg.InterfaceError):
                reason = str(error) or type(error).__name__  # e.g. a search_path schema that does not exist
                raise StorageError(f"cannot set up the schema in PostgreSQL at {_where(url)}: {reason}") from error
            raise
        return storage

    async def save_job(self, job: JobRecord) -> None:
        """Insert the job; saving an existing id replaces it."""
        await self._pool.execute(sql.SAVE_JOB, *job_values(job, as_utc), self._instance)

    async def load_job(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""
        row = await self._pool.fetchrow(sql.LOAD_JOB, job_id)
        return None if row is None else job_from_row(row, as_utc)

    async def finish_job(
        self, job_id: str, status: JobStatus, finished_at: datetime, message_id: int | None = None
    ) -> None:
        """Record how and when the job ended (and where its results are); an unknown id changes nothing."""
        await self._pool.execute(sql.FINISH_JOB, str(status), as_utc(finished_at), message_id, job_id)

    async def reserve(self, reservation: Reservation, caps: Caps) -> None:
        """Book the reservation if `caps` allow it, else raise QuotaExceeded and book nothing."""
        r = reservation
        day, next_day, month, next_month = periods(r.created_at)
        global_caps = has_global_caps(caps)
        async with self._transaction() as db:
            if global_caps:
                # Every request of the deployment queues here; always before the server lock, so no deadlock.
                await db.execute(sql.GLOBAL_LOCK, _GLOBAL_QUOTAS)
            # Requests of one server queue here, in every process, from the count to the insert.
            await db.execute(sql.LOCK, *quota_lock(r.guild_id, r.user_id))
            if await db.fetchval(sql.HAS_RESERVATION, r.job_id):
                raise ValueError(f"job {r.job_id} already holds a reservation")
            row = await db.fetchrow(sql.BOOKED, r.guild_id, r.user_id, day, next_day, month, next_month)
            check_quota(r, caps, booked_from_row(row, as_utc))
            if global_caps:
                deployment = await db.fetchrow(sql.GLOBAL_BOOKED, day, next_day, month, next_month)
                check_global_quota(r, caps, deployment_booked_from_row(deployment))
            await db.execute(sql.RESERVE, r.job_id, r.guild_id, r.user_id, r.images, r.cost, as_utc(r.created_at))

    async def settle(self, usage: UsageRecord) -> None:
        """Replace the job's reservation with its ledger row; a job already settled keeps its first row."""
        async with self._transaction() as db:
            await db.execute(sql.UNRESERVE, usage.job_id)
            await db.execute(sql.SETTLE, *usage_values(usage, as_utc))

    async def recover_interrupted(self, now: datetime) -> list[JobRecord]:
        """Fail the jobs this instance's previous run left running, settling their reservations as interrupted;
        the jobs as they were. Marks this instance as alive."""
        async with self._transaction() as db:
            await db.execute(sql.SEEN, self._instance, as_utc(now))
            rows = await db.fetch(sql.OWN_RUNNING_JOBS, self._instance)
            await _interrupt(db, rows, now)
        return [job_from_row(row, as_utc) for row in rows]

    async def recover_orphans(self, now: datetime, stale_before: datetime) -> list[JobRecord]:
        """Mark this instance as alive, then do as `recover_interrupted` for the jobs of instances not seen
        since `stale_before` (or gone), free their image API slots, and forget those instances."""
        async with self._transaction() as db:
            await db.execute(sql.SEEN, self._instance, as_utc(now))
            rows = await db.fetch(sql.ORPHANED_JOBS, self._instance, as_utc(stale_before))
            await _interrupt(db, rows, now)
            await db.execute(sql.FREE_ORPHANED_SLOTS, self._instance, as_utc(stale_before))
            await db.execute(sql.FORGET_STALE, as_utc(stale_before), self._instance)
        return [job_from_row(row, as_utc) for row in rows]

    async def leave(self) -> None:
        """Record that this instance has stopped: jobs it still holds are orphans at once."""
        await self._pool.execute(sql.LEAVE, self._instance)

    def shared_slots(self, cap: int) -> SharedSlots:
        """The image API's `cap` slots, leased through this database by every process that shares it."""
        return SharedSlots(self._pool, self._instance, cap)

    async def load_limits(self, guild_id: int) -> dict[str, str]:
        """The server's limit overrides: name to value text."""
        return {row["name"]: row["value"] for row in await self._pool.fetch(sql.LOAD_LIMITS, guild_id)}

    async def set_limit(
        self, guild_id: int, name: str, value: str | None, changed_by: int, changed_at: datetime
    ) -> str | None:
        """Set a limit (None: back to the default) and log the change; returns the old value."""
        async with self._transaction() as db:
            await db.execute(sql.LOCK, *quota_lock(guild_id, changed_by))  # so the log's old values chain up
            old = await db.fetchval(sql.LIMIT_VALUE, guild_id, name)
            if old != value:
                if value is None:
                    await db.execute(sql.RESET_LIMIT, guild_id, name)
                else:
                    await db.execute(sql.SET_LIMIT, guild_id, name, value, changed_by, as_utc(changed_at))
                await db.execute(sql.LOG_LIMIT_CHANGE, guild_id, name, old, value, changed_by, as_utc(changed_at))
        return old

    async def limit_changes(self, guild_id: int, limit: int = 20) -> list[LimitChange]:
        """The server's latest limit changes, newest first."""
        return [
            limit_change_from_row(row, as_utc) for row in await self._pool.fetch(sql.LIMIT_CHANGES, guild_id, limit)
        ]

    async def usage_totals(self, guild_id: int | None, since: datetime, until: datetime) -> UsageTotals:
        """Ledger totals for requests made in [since, until), in one server or (None) everywhere."""
        row = await self._pool.fetchrow(sql.USAGE_TOTALS, guild_id, as_utc(since), as_utc(until))
        return UsageTotals(jobs=row["jobs"], images=row["images"], cost=row["cost"])

    async def usage_by_day(self, guild_id: int | None, since: datetime) -> list[DailyUsage]:
        """Images delivered per UTC day and model since `since`, in one server or (None) everywhere."""
        rows = await self._pool.fetch(sql.USAGE_BY_DAY, guild_id, as_utc(since))
        return [DailyUsage(day=row["day"], model=row["model"], images=row["images"]) for row in rows]

    async def top_users(self, guild_id: int, since: datetime, limit: int = 10) -> list[UserUsage]:
        """The server's members with the most images delivered since `since`."""
        rows = await self._pool.fetch(sql.TOP_USERS, guild_id, as_utc(since), limit)
        return [UserUsage(user_id=row["user_id"], images=row["images"], cost=row["cost"]) for row in rows]

    async def user_usage(self, guild_id: int, user_id: int, since: datetime, until: datetime) -> UsageTotals:
        """Ledger totals of one member in one server for requests made in [since, until)."""
        row = await self._pool.fetchrow(sql.USER_USAGE, user_id, guild_id, as_utc(since), as_utc(until))
        return UsageTotals(jobs=row["jobs"], images=row["images"], cost=row["cost"])

    async def user_reserved(self, guild_id: int | None, user_id: int) -> int:
        """Images the member has reserved for running jobs in the server (None: in direct messages)."""
        return await self._pool.fetchval(sql.USER_RESERVED, guild_id, user_id)

    async def booked(self, guild_id: int | None, user_id: int, at: datetime) -> Booked:
        """What the member and the server hold at `at`, counted exactly as `reserve` counts it."""
        row = await self._pool.fetchrow(sql.BOOKED, guild_id, user_id, *periods(at))
        return booked_from_row(row, as_utc)

    async def deployment_booked(self, at: datetime) -> DeploymentBooked:
        """What the whole deployment holds at `at`, counted exactly as `reserve` counts it for the global caps."""
        return deployment_booked_from_row(await self._pool.fetchrow(sql.GLOBAL_BOOKED, *periods(at)))

    async def history(self, user_id: int, guild_id: int | None, limit: int = 10) -> list[HistoryEntry]:
        """The member's latest jobs in the server (None: anywhere), newest first, with their ledger rows."""
        rows = await self._pool.fetch(sql.HISTORY, user_id, guild_id, limit)
        return [history_from_row(row, as_utc) for row in rows]

    async def set_block(
        self, kind: str, target_id: int, reason: str | None, blocked_by: int, created_at: datetime
    ) -> bool:
        """Block a user or a server; False when it already was."""
        values = (check_block_kind(kind), target_id, reason, blocked_by, as_utc(created_at))
        return bool(await self._pool.fetchval(sql.SET_BLOCK, *values))

    async def remove_block(self, kind: str, target_id: int) -> bool:
        """Lift a block; False when there was none."""
        return bool(await self._pool.fetchval(sql.REMOVE_BLOCK, check_block_kind(kind), target_id))

    async def blocked(self, user_id: int, guild_id: int | None) -> Block | None:
        """The block that refuses this user here: the user's own first, else the server's."""
        row = await self._pool.fetchrow(sql.BLOCKED, user_id, guild_id)
        return None if row is None else block_from_row(row, as_utc)

    async def blocks(self) -> list[Block]:
        """Every block, oldest first."""
        return [block_from_row(row, as_utc) for row in await self._pool.fetch(sql.BLOCKS)]

    async def close(self) -> None:
        """Close the pool, cutting connections that are still busy after CLOSE_TIMEOUT."""
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            self._pool.terminate()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self._pool.acquire() as connection, connection.transaction():
            yield connection

    async def _migrate(self) -> None:
        known = load_migrations("postgres")
        async with self._pool.acquire() as connection:
            while (migration := await _apply_next_migration(connection, known)) is not None:
                log.info("applied storage migration %03d_%s", migration.version, migration.name)


async def _apply_next_migration(connection: asyncpg.Connection, known: tuple[Migration, ...]) -> Migration | None:
    """Apply the lowest pending migration with its version row, or return None when none is left."""
    async with connection.transaction():
        # Bot processes starting together queue here; each then sees what the one before it applied.
        await connection.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK, timeout=MIGRATION_TIMEOUT)
        await connection.execute(_SCHEMA_VERSION)
        applied = [row["version"] for row in await connection.fetch("SELECT version FROM schema_version")]
        if not (pending := pending_migrations(known, applied)):
            return None
        migration = pending[0]
        await connection.execute(migration.sql, timeout=MIGRATION_TIMEOUT)
        await connection.execute("INSERT INTO schema_version (version) VALUES ($1)", migration.version)
        return migration


async def _interrupt(db: asyncpg.Connection, rows: list[asyncpg.Record], now: datetime) -> None:
    """Fail these (locked) running jobs and settle their reservations as interrupted."""
    ids = [row["id"] for row in rows]
    await db.execute(sql.FAIL_JOBS, as_utc(now), ids)
    await db.execute(sql.INTERRUPT_RESERVATIONS, as_utc(now), ids)


def quota_lock(guild_id: int | None, user_id: int) -> tuple[int, int]:
    """The advisory lock keys that serialise one server's quota checks (a user's, outside servers)."""
    space, target = (_SERVER_QUOTAS, guild_id) if guild_id is not None else (_USER_QUOTAS, user_id)
    # Ids are folded into PostgreSQL's 32-bit key: two servers sharing a key merely queue together.
    folded = (target ^ (target >> 32)) & 0xFFFF_FFFF
    return space, (folded - (1 << 32) if folded >= 1 << 31 else folded)  # int4 is signed


def _where(url: str) -> str:
    # Host, port and database only: the URL may carry a password.
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
