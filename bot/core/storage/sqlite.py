"""SQLite storage through aiosqlite: one file, one connection, the default for a single bot process."""

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from os import PathLike
from pathlib import Path
from typing import Self

import aiosqlite

from bot.core.storage.migrations import Migration, load_migrations, pending_migrations
from bot.core.storage.records import JobRecord, JobStatus, as_utc, job_from_row, job_values

log = logging.getLogger(__name__)

BUSY_TIMEOUT = 5.0  # seconds a writer waits for another connection's lock before failing

_SCHEMA_VERSION = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
)
"""

_SAVE_JOB = """
INSERT INTO jobs (id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
                  pictures, status, created_at, finished_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    kind = excluded.kind, user_id = excluded.user_id, guild_id = excluded.guild_id,
    channel_id = excluded.channel_id, prompt = excluded.prompt, model = excluded.model, n = excluded.n,
    size = excluded.size, quality = excluded.quality, style = excluded.style, pictures = excluded.pictures,
    status = excluded.status, created_at = excluded.created_at, finished_at = excluded.finished_at
"""

_LOAD_JOB = """
SELECT id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
       pictures, status, created_at, finished_at
FROM jobs WHERE id = ?
"""


class SQLiteStorage:
    """Storage in one SQLite file."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection

    @classmethod
    async def open(cls, path: str | PathLike[str]) -> Self:
        """Open (or create) the file, its parent folders and its schema."""
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; the ones we need are explicit and IMMEDIATE.
        db = await aiosqlite.connect(file, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            db.row_factory = aiosqlite.Row
            await _use_wal(db)
            await db.execute("PRAGMA synchronous = NORMAL")  # with WAL a power cut may lose commits, never the file
            await db.execute("PRAGMA foreign_keys = ON")
            known = load_migrations("sqlite")
            while (migration := await _apply_next_migration(db, known)) is not None:
                log.info("applied storage migration %03d_%s to %s", migration.version, migration.name, file)
        except BaseException:
            await db.close()
            raise
        return cls(db)

    async def save_job(self, job: JobRecord) -> None:
        """Insert the job; saving an existing id replaces it."""
        await self._db.execute(_SAVE_JOB, job_values(job, _text))

    async def load_job(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""
        async with self._db.execute(_LOAD_JOB, (job_id,)) as cursor:
            row = await cursor.fetchone()
        return None if row is None else job_from_row(row, datetime.fromisoformat)

    async def finish_job(self, job_id: str, status: JobStatus, finished_at: datetime) -> None:
        """Record how and when the job ended; an unknown id changes nothing."""
        await self._db.execute(
            "UPDATE jobs SET status = ?, finished_at = ? WHERE id = ?", (str(status), _text(finished_at), job_id)
        )

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()


async def _use_wal(db: aiosqlite.Connection) -> None:
    """Switch the file to write-ahead logging, so that readers never block the writer."""
    # The switch needs the file to itself, and SQLite refuses at once rather than wait when another
    # connection is reading it (as happens when processes create the file together): try again shortly.
    deadline = asyncio.get_running_loop().time() + BUSY_TIMEOUT
    while True:
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or asyncio.get_running_loop().time() > deadline:
                raise
        await asyncio.sleep(0.01)


async def _apply_next_migration(db: aiosqlite.Connection, known: tuple[Migration, ...]) -> Migration | None:
    """Apply the lowest pending migration with its version row, or return None when none is left."""
    async with _transaction(db):
        await db.execute(_SCHEMA_VERSION)
        async with db.execute("SELECT version FROM schema_version") as cursor:
            applied = [row[0] async for row in cursor]
        if not (pending := pending_migrations(known, applied)):
            return None
        migration = pending[0]
        for statement in _statements(migration.sql):
            await db.execute(statement)
        await db.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
            (migration.version, _text(datetime.now(UTC))),
        )
        return migration


@asynccontextmanager
async def _transaction(db: aiosqlite.Connection) -> AsyncIterator[None]:
    # IMMEDIATE takes the write lock up front, so two processes opening one file migrate in turn.
    await db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        await db.execute("ROLLBACK")
        raise
    await db.execute("COMMIT")


def _statements(script: str) -> Iterator[str]:
    # executescript() would commit our transaction first, so statements run one by one; sqlite3 itself
    # says where each ends (it knows about strings, comments and trigger bodies).
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            yield statement
            statement = ""
    if statement.strip():
        yield statement


def _text(moment: datetime) -> str:
    # A fixed-width form (microseconds always present, +00:00), so comparing the text compares the times.
    return as_utc(moment).isoformat(timespec="microseconds")
