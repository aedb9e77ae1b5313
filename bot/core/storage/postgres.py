"""The PostgreSQL dialect through an asyncpg pool, for several bot processes sharing one database."""

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from functools import cache
from typing import Self
from urllib.parse import urlsplit

import asyncpg

from bot.core.storage import sql
from bot.core.storage.dialect import Params
from bot.core.storage.errors import StorageError
from bot.core.storage.migrations import Migration, load_migrations, pending_migrations
from bot.core.storage.postgres_slots import FREE_ORPHANED_SLOTS, FreedSlots, SharedSlots
from bot.core.storage.records import as_utc

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

FRAGMENTS = {
    "is": "IS NOT DISTINCT FROM",
    "in_ids": "= ANY(CAST(:ids AS TEXT[]))",
    "for_update": "FOR UPDATE",
    "utc_day": "CAST(created_at AT TIME ZONE 'UTC' AS DATE)",
    # Deleting and settling in one statement leaves no window for a reservation to slip between them.
    "taken_reservations": (
        "WITH taken AS (DELETE FROM reservations WHERE job_id = ANY(CAST(:ids AS TEXT[])) RETURNING *)"
    ),
}
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")  # `:name`, but not the `::type` of a cast

_SCHEMA_VERSION = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


class PostgresDialect:
    """A PostgreSQL database, reached through a pool of connections."""

    settle_interrupted: tuple[str, ...] = (sql.INTERRUPT_RESERVATIONS,)
    release_orphaned: tuple[str, ...] = (FREE_ORPHANED_SLOTS,)

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._freed_slots = FreedSlots(pool)  # one listening connection for every pool of slots

    @classmethod
    async def connect(cls, url: str) -> Self:
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
        try:
            await _migrate(pool)
        except BaseException as error:
            pool.terminate()
            if isinstance(error, OSError | TimeoutError | asyncpg.PostgresError | asyncpg.InterfaceError):
                reason = str(error) or type(error).__name__  # e.g. a search_path schema that does not exist
                raise StorageError(f"cannot set up the schema in PostgreSQL at {_where(url)}: {reason}") from error
            raise
        return cls(pool)

    async def fetch(self, statement: str, params: Params) -> list[asyncpg.Record]:
        return await _fetch(self._pool, statement, params)

    async def execute(self, statement: str, params: Params) -> int:
        return await _execute(self._pool, statement, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator["_Transaction"]:
        async with self._pool.acquire() as connection, connection.transaction():
            yield _Transaction(connection)

    def shared_slots(self, instance: str, cap: int, pool: str = "") -> SharedSlots:
        """The `cap` slots of `pool` ('': the image API's), leased through this database by every process that
        shares it."""
        return SharedSlots(self._pool, self._freed_slots, instance, cap, pool)

    async def close(self) -> None:
        """Close the pool, cutting connections that are still busy after CLOSE_TIMEOUT."""
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            self._pool.terminate()

    @staticmethod
    def write_time(moment: datetime) -> datetime:
        return as_utc(moment)

    @staticmethod
    def read_time(stored: datetime) -> datetime:
        return as_utc(stored)

    @staticmethod
    def write_day(day: date) -> date:
        return day

    @staticmethod
    def read_day(stored: date) -> date:
        return stored

    @staticmethod
    def id_list(ids: list[str]) -> list[str]:
        return ids


class _Transaction:
    """Statements inside a transaction on one of the pool's connections."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def fetch(self, statement: str, params: Params) -> list[asyncpg.Record]:
        return await _fetch(self._connection, statement, params)

    async def execute(self, statement: str, params: Params) -> int:
        return await _execute(self._connection, statement, params)

    async def lock_quotas(self, guild_id: int | None, user_id: int) -> None:
        """Take the server's (or member's) advisory lock, released when the transaction ends."""
        await self._connection.execute(
            "SELECT pg_advisory_xact_lock($1::integer, $2::integer)", *quota_lock(guild_id, user_id)
        )

    async def lock_deployment(self) -> None:
        """Take the deployment's advisory lock, released when the transaction ends."""
        # Always after a server lock and never before one, so no two transactions wait for each other.
        await self._connection.execute("SELECT pg_advisory_xact_lock($1::bigint)", _GLOBAL_QUOTAS)


def quota_lock(guild_id: int | None, user_id: int) -> tuple[int, int]:
    """The advisory lock keys that serialise one server's quota checks (a user's, outside servers)."""
    space, target = (_SERVER_QUOTAS, guild_id) if guild_id is not None else (_USER_QUOTAS, user_id)
    # Ids are folded into PostgreSQL's 32-bit key: two servers sharing a key merely queue together.
    folded = (target ^ (target >> 32)) & 0xFFFF_FFFF
    return space, (folded - (1 << 32) if folded >= 1 << 31 else folded)  # int4 is signed


@cache
def _compile(statement: str) -> tuple[str, tuple[str, ...]]:
    """The statement rendered with its `:names` numbered $1, $2, … in order of first use; and those names."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match[1] not in names:
            names.append(match[1])
        return f"${names.index(match[1]) + 1}"

    return _PARAMETER.sub(number, sql.render(statement, FRAGMENTS)), tuple(names)


async def _fetch(db: asyncpg.Pool | asyncpg.Connection, statement: str, params: Params) -> list[asyncpg.Record]:
    text, names = _compile(statement)
    rows: list[asyncpg.Record] = await db.fetch(text, *(params[name] for name in names))
    return rows


async def _execute(db: asyncpg.Pool | asyncpg.Connection, statement: str, params: Params) -> int:
    text, names = _compile(statement)
    status = await db.execute(text, *(params[name] for name in names))
    return int(status.rsplit(" ", 1)[-1])  # "INSERT 0 1", "DELETE 2": the count of rows comes last


async def _migrate(pool: asyncpg.Pool) -> None:
    known = load_migrations("postgres")
    async with pool.acquire() as connection:
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


def _where(url: str) -> str:
    # Host, port and database only: the URL may carry a password.
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
