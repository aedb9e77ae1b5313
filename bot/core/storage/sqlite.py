"""The SQLite dialect through aiosqlite: one file, one connection, the default for a single bot process."""

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from functools import cache
from os import PathLike
from pathlib import Path
from typing import Self

import aiosqlite

from bot.core.storage import sql
from bot.core.storage.dialect import Params
from bot.core.storage.errors import StorageError
from bot.core.storage.migrations import Migration, load_migrations, pending_migrations
from bot.core.storage.records import as_utc

log = logging.getLogger(__name__)

BUSY_TIMEOUT = 5.0  # seconds a writer waits for another connection's lock before failing

# Every transaction holds the file's write lock from its start (BEGIN IMMEDIATE), so no row needs a lock of its own.
# The ids come as one JSON array.
FRAGMENTS = {
    "is": "IS",
    "in_ids": "IN (SELECT value FROM json_each(:ids))",
    "for_update": "",
    "utc_day": "substr(created_at, 1, 10)",  # times are fixed-width ISO text: its first 10 characters are the day
    "taken_reservations": (
        "WITH taken AS (SELECT * FROM reservations WHERE job_id IN (SELECT value FROM json_each(:ids)))"
    ),
}

_SCHEMA_VERSION = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
)
"""


class SQLiteDialect:
    """One SQLite file on one connection, which callers take in turn."""

    # Settling reads the reservations, then deletes them: no writer can come between in an IMMEDIATE transaction.
    settle_interrupted: tuple[str, ...] = (sql.INTERRUPT_RESERVATIONS, sql.CLEAR_RESERVATIONS)
    release_orphaned: tuple[str, ...] = ()

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection
        # Unserialised, a statement of one caller would run inside another's transaction and be rolled back with it.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | PathLike[str]) -> Self:
        """Open (or create) the file, its parent folders and its schema; StorageError if the file can't be."""
        file = Path(path)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions; the ones we need are explicit and IMMEDIATE.
            db = await aiosqlite.connect(file, timeout=BUSY_TIMEOUT, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"cannot open the SQLite database {file}: {error}") from error
        try:
            db.row_factory = aiosqlite.Row
            await _use_wal(db)
            await db.execute("PRAGMA synchronous = NORMAL")  # with WAL a power cut may lose commits, never the file
            await db.execute("PRAGMA foreign_keys = ON")
            known = load_migrations("sqlite")
            while (migration := await _apply_next_migration(db, known)) is not None:
                log.info("applied storage migration %03d_%s to %s", migration.version, migration.name, file)
        except BaseException as error:
            await db.close()
            if isinstance(error, OSError | sqlite3.Error):  # not a database, read-only, disk full
                raise StorageError(f"cannot open the SQLite database {file}: {error}") from error
            raise
        return cls(db)

    async def fetch(self, statement: str, params: Params) -> list[sqlite3.Row]:
        async with self._lock:
            return await _fetch(self._db, statement, params)

    async def execute(self, statement: str, params: Params) -> int:
        async with self._lock:
            return await _execute(self._db, statement, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator["_Transaction"]:
        # Other processes wait for the write lock from the transaction's first read to its commit.
        async with self._lock, _transaction(self._db):
            yield _Transaction(self._db)

    def shared_slots(self, instance: str, cap: int, pool: str = "") -> None:
        """None: an SQLite file belongs to one process, which keeps the image API's and the providers' caps itself."""
        return None

    async def close(self) -> None:
        await self._db.close()

    @staticmethod
    def write_time(moment: datetime) -> str:
        # A fixed-width form (microseconds always present, +00:00), so comparing the text compares the times.
        return as_utc(moment).isoformat(timespec="microseconds")

    @staticmethod
    def read_time(stored: str) -> datetime:
        return datetime.fromisoformat(stored)

    @staticmethod
    def write_day(day: date) -> str:
        return day.isoformat()

    @staticmethod
    def read_day(stored: str) -> date:
        return date.fromisoformat(stored)

    @staticmethod
    def id_list(ids: list[str]) -> str:
        return json.dumps(ids)


class _Transaction:
    """Statements inside an IMMEDIATE transaction on the shared connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def fetch(self, statement: str, params: Params) -> list[sqlite3.Row]:
        return await _fetch(self._db, statement, params)

    async def execute(self, statement: str, params: Params) -> int:
        return await _execute(self._db, statement, params)

    async def lock_quotas(self, guild_id: int | None, user_id: int) -> None:
        """Nothing to lock: the transaction is the file's only writer already."""

    async def lock_deployment(self) -> None:
        """Nothing to lock, as for `lock_quotas`."""


@cache
def _render(statement: str) -> str:
    return sql.render(statement, FRAGMENTS)


async def _fetch(db: aiosqlite.Connection, statement: str, params: Params) -> list[sqlite3.Row]:
    return list(await db.execute_fetchall(_render(statement), params))


async def _execute(db: aiosqlite.Connection, statement: str, params: Params) -> int:
    async with db.execute(_render(statement), params) as cursor:
        return cursor.rowcount


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
            (migration.version, SQLiteDialect.write_time(datetime.now(UTC))),
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
