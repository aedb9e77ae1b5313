"""PostgreSQL storage through an asyncpg pool, for several bot processes sharing one database."""

import asyncio
import logging
from datetime import datetime
from typing import Self
from urllib.parse import urlsplit

import asyncpg

from bot.core.storage.errors import StorageError
from bot.core.storage.migrations import Migration, load_migrations, pending_migrations
from bot.core.storage.records import JobRecord, JobStatus, as_utc, job_from_row, job_values

log = logging.getLogger(__name__)

POOL_SIZE = 10
CONNECT_TIMEOUT = 10.0  # seconds to open one connection
COMMAND_TIMEOUT = 30.0  # seconds for one query
CLOSE_TIMEOUT = 10.0  # seconds to wait for busy connections before cutting them
MIGRATION_TIMEOUT = 300.0  # seconds for one migration, including the wait for another process's
_MIGRATION_LOCK = 0x696D616765626F74  # "imagebot" in ASCII; any key works if every process uses the same

_SCHEMA_VERSION = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""

_SAVE_JOB = """
INSERT INTO jobs (id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
                  pictures, status, created_at, finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (id) DO UPDATE SET
    kind = EXCLUDED.kind, user_id = EXCLUDED.user_id, guild_id = EXCLUDED.guild_id,
    channel_id = EXCLUDED.channel_id, prompt = EXCLUDED.prompt, model = EXCLUDED.model, n = EXCLUDED.n,
    size = EXCLUDED.size, quality = EXCLUDED.quality, style = EXCLUDED.style, pictures = EXCLUDED.pictures,
    status = EXCLUDED.status, created_at = EXCLUDED.created_at, finished_at = EXCLUDED.finished_at
"""

_LOAD_JOB = """
SELECT id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
       pictures, status, created_at, finished_at
FROM jobs WHERE id = $1
"""


class PostgresStorage:
    """Storage in a PostgreSQL database."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

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
        storage = cls(pool)
        try:
            await storage._migrate()
        except BaseException:
            pool.terminate()
            raise
        return storage

    async def save_job(self, job: JobRecord) -> None:
        """Insert the job; saving an existing id replaces it."""
        await self._pool.execute(_SAVE_JOB, *job_values(job, as_utc))

    async def load_job(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""
        row = await self._pool.fetchrow(_LOAD_JOB, job_id)
        return None if row is None else job_from_row(row, as_utc)

    async def finish_job(self, job_id: str, status: JobStatus, finished_at: datetime) -> None:
        """Record how and when the job ended; an unknown id changes nothing."""
        await self._pool.execute(
            "UPDATE jobs SET status = $1, finished_at = $2 WHERE id = $3", str(status), as_utc(finished_at), job_id
        )

    async def close(self) -> None:
        """Close the pool, cutting connections that are still busy after CLOSE_TIMEOUT."""
        try:
            await asyncio.wait_for(self._pool.close(), CLOSE_TIMEOUT)
        except TimeoutError:
            self._pool.terminate()

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


def _where(url: str) -> str:
    # Host, port and database only: the URL may carry a password.
    parts = urlsplit(url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 5432}{parts.path}"
