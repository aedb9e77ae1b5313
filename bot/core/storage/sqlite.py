"""SQLite storage through aiosqlite: one file, one connection, the default for a single bot process."""

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from os import PathLike
from pathlib import Path
from typing import Self

import aiosqlite

from bot.core.storage import sqlite_sql as sql
from bot.core.storage.clock import periods
from bot.core.storage.errors import StorageError
from bot.core.storage.migrations import Migration, load_migrations, pending_migrations
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

Params = Sequence[object] | Mapping[str, object]

BUSY_TIMEOUT = 5.0  # seconds a writer waits for another connection's lock before failing

_SCHEMA_VERSION = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    applied_at TEXT NOT NULL
)
"""


class SQLiteStorage:
    """Storage in one SQLite file."""

    def __init__(self, connection: aiosqlite.Connection, instance: str = "main") -> None:
        self._db = connection
        self._instance = instance
        # Every caller shares the one connection: unserialised, a statement of one caller would run inside
        # another's transaction and be rolled back with it.
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | PathLike[str], instance: str = "main") -> Self:
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
        return cls(db, instance)

    async def save_job(self, job: JobRecord) -> None:
        """Insert the job; saving an existing id replaces it."""
        await self._execute(sql.SAVE_JOB, (*job_values(job, _text), self._instance))

    async def load_job(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""
        rows = await self._fetch(sql.LOAD_JOB, (job_id,))
        return job_from_row(rows[0], datetime.fromisoformat) if rows else None

    async def finish_job(
        self, job_id: str, status: JobStatus, finished_at: datetime, message_id: int | None = None
    ) -> None:
        """Record how and when the job ended (and where its results are); an unknown id changes nothing."""
        await self._execute(sql.FINISH_JOB, (str(status), _text(finished_at), message_id, job_id))

    async def reserve(self, reservation: Reservation, caps: Caps) -> None:
        """Book the reservation if `caps` allow it, else raise QuotaExceeded and book nothing."""
        r = reservation
        counted = {"guild": r.guild_id, "user": r.user_id, **_windows(r.created_at)}
        # BEGIN IMMEDIATE holds the file's write lock from the count to the insert: other processes wait.
        async with self._transaction() as db:
            if await _one(db, sql.HAS_RESERVATION, (r.job_id,)) is not None:
                raise ValueError(f"job {r.job_id} already holds a reservation")
            check_quota(r, caps, booked_from_row(await _one(db, sql.BOOKED, counted), datetime.fromisoformat))
            if has_global_caps(caps):
                deployment = deployment_booked_from_row(await _one(db, sql.GLOBAL_BOOKED, counted))
                check_global_quota(r, caps, deployment)
            await db.execute(sql.RESERVE, (r.job_id, r.guild_id, r.user_id, r.images, r.cost, _text(r.created_at)))

    async def settle(self, usage: UsageRecord) -> None:
        """Replace the job's reservation with its ledger row; a job already settled keeps its first row."""
        async with self._transaction() as db:
            await db.execute(sql.UNRESERVE, (usage.job_id,))
            await db.execute(sql.SETTLE, usage_values(usage, _text))

    async def recover_interrupted(self, now: datetime) -> list[JobRecord]:
        """Fail the jobs this instance's previous run left running, settling their reservations as interrupted;
        the jobs as they were. Marks this instance as alive."""
        async with self._transaction() as db:
            await db.execute(sql.SEEN, (self._instance, _text(now)))
            rows = await db.execute_fetchall(sql.OWN_RUNNING_JOBS, (self._instance,))
            await _interrupt(db, rows, now)
        return [job_from_row(row, datetime.fromisoformat) for row in rows]

    async def recover_orphans(self, now: datetime, stale_before: datetime) -> list[JobRecord]:
        """Mark this instance as alive, then do as `recover_interrupted` for the jobs of instances not seen
        since `stale_before` (or gone), and forget those instances."""
        async with self._transaction() as db:
            await db.execute(sql.SEEN, (self._instance, _text(now)))
            rows = await db.execute_fetchall(sql.ORPHANED_JOBS, (self._instance, _text(stale_before)))
            await _interrupt(db, rows, now)
            await db.execute(sql.FORGET_STALE, (_text(stale_before), self._instance))
        return [job_from_row(row, datetime.fromisoformat) for row in rows]

    async def leave(self) -> None:
        """Record that this instance has stopped: jobs it still holds are orphans at once."""
        await self._execute(sql.LEAVE, (self._instance,))

    def shared_slots(self, cap: int) -> None:
        """None: an SQLite file belongs to one process, whose own queue keeps the image API's cap."""
        return None

    async def load_limits(self, guild_id: int) -> dict[str, str]:
        """The server's limit overrides: name to value text."""
        return {row["name"]: row["value"] for row in await self._fetch(sql.LOAD_LIMITS, (guild_id,))}

    async def set_limit(
        self, guild_id: int, name: str, value: str | None, changed_by: int, changed_at: datetime
    ) -> str | None:
        """Set a limit (None: back to the default) and log the change; returns the old value."""
        async with self._transaction() as db:
            row = await _one(db, sql.LIMIT_VALUE, (guild_id, name))
            old = None if row is None else row["value"]
            if old != value:
                if value is None:
                    await db.execute(sql.RESET_LIMIT, (guild_id, name))
                else:
                    await db.execute(sql.SET_LIMIT, (guild_id, name, value, changed_by, _text(changed_at)))
                await db.execute(sql.LOG_LIMIT_CHANGE, (guild_id, name, old, value, changed_by, _text(changed_at)))
        return old

    async def limit_changes(self, guild_id: int, limit: int = 20) -> list[LimitChange]:
        """The server's latest limit changes, newest first."""
        return [
            limit_change_from_row(row, datetime.fromisoformat)
            for row in await self._fetch(sql.LIMIT_CHANGES, (guild_id, limit))
        ]

    async def usage_totals(self, guild_id: int | None, since: datetime, until: datetime) -> UsageTotals:
        """Ledger totals for requests made in [since, until), in one server or (None) everywhere."""
        rows = await self._fetch(sql.USAGE_TOTALS, {"guild": guild_id, "since": _text(since), "until": _text(until)})
        return UsageTotals(jobs=rows[0]["jobs"], images=rows[0]["images"], cost=rows[0]["cost"])

    async def usage_by_day(self, guild_id: int | None, since: datetime) -> list[DailyUsage]:
        """Images delivered per UTC day and model since `since`, in one server or (None) everywhere."""
        rows = await self._fetch(sql.USAGE_BY_DAY, {"guild": guild_id, "since": _text(since)})
        return [
            DailyUsage(day=date.fromisoformat(row["day"]), model=row["model"], images=row["images"]) for row in rows
        ]

    async def top_users(self, guild_id: int, since: datetime, limit: int = 10) -> list[UserUsage]:
        """The server's members with the most images delivered since `since`."""
        rows = await self._fetch(sql.TOP_USERS, (guild_id, _text(since), limit))
        return [UserUsage(user_id=row["user_id"], images=row["images"], cost=row["cost"]) for row in rows]

    async def user_usage(self, guild_id: int, user_id: int, since: datetime, until: datetime) -> UsageTotals:
        """Ledger totals of one member in one server for requests made in [since, until)."""
        rows = await self._fetch(sql.USER_USAGE, (user_id, guild_id, _text(since), _text(until)))
        return UsageTotals(jobs=rows[0]["jobs"], images=rows[0]["images"], cost=rows[0]["cost"])

    async def user_reserved(self, guild_id: int | None, user_id: int) -> int:
        """Images the member has reserved for running jobs in the server (None: in direct messages)."""
        return (await self._fetch(sql.USER_RESERVED, (guild_id, user_id)))[0][0]

    async def booked(self, guild_id: int | None, user_id: int, at: datetime) -> Booked:
        """What the member and the server hold at `at`, counted exactly as `reserve` counts it."""
        (row,) = await self._fetch(sql.BOOKED, {"guild": guild_id, "user": user_id, **_windows(at)})
        return booked_from_row(row, datetime.fromisoformat)

    async def deployment_booked(self, at: datetime) -> DeploymentBooked:
        """What the whole deployment holds at `at`, counted exactly as `reserve` counts it for the global caps."""
        (row,) = await self._fetch(sql.GLOBAL_BOOKED, _windows(at))
        return deployment_booked_from_row(row)

    async def history(self, user_id: int, guild_id: int | None, limit: int = 10) -> list[HistoryEntry]:
        """The member's latest jobs in the server (None: anywhere), newest first, with their ledger rows."""
        rows = await self._fetch(sql.HISTORY, {"user": user_id, "guild": guild_id, "limit": limit})
        return [history_from_row(row, datetime.fromisoformat) for row in rows]

    async def set_block(
        self, kind: str, target_id: int, reason: str | None, blocked_by: int, created_at: datetime
    ) -> bool:
        """Block a user or a server; False when it already was."""
        values = (check_block_kind(kind), target_id, reason, blocked_by, _text(created_at))
        return await self._execute(sql.SET_BLOCK, values) == 1

    async def remove_block(self, kind: str, target_id: int) -> bool:
        """Lift a block; False when there was none."""
        return await self._execute(sql.REMOVE_BLOCK, (check_block_kind(kind), target_id)) == 1

    async def blocked(self, user_id: int, guild_id: int | None) -> Block | None:
        """The block that refuses this user here: the user's own first, else the server's."""
        rows = await self._fetch(sql.BLOCKED, (user_id, guild_id))
        return block_from_row(rows[0], datetime.fromisoformat) if rows else None

    async def blocks(self) -> list[Block]:
        """Every block, oldest first."""
        return [block_from_row(row, datetime.fromisoformat) for row in await self._fetch(sql.BLOCKS)]

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()

    async def _fetch(self, statement: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._lock:
            return list(await self._db.execute_fetchall(statement, params))

    async def _execute(self, statement: str, params: Params = ()) -> int:
        """Run one statement on its own; returns how many rows it changed."""
        async with self._lock, self._db.execute(statement, params) as cursor:
            return cursor.rowcount

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock, _transaction(self._db):
            yield self._db


async def _interrupt(db: aiosqlite.Connection, rows: Iterable[sqlite3.Row], now: datetime) -> None:
    """Fail these running jobs and settle their reservations as interrupted (inside a transaction)."""
    ids = json.dumps([row["id"] for row in rows])
    await db.execute(sql.FAIL_JOBS, (_text(now), ids))
    await db.execute(sql.INTERRUPT_RESERVATIONS, (_text(now), ids))
    await db.execute(sql.CLEAR_RESERVATIONS, (ids,))


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


async def _one(db: aiosqlite.Connection, statement: str, params: Params) -> sqlite3.Row | None:
    async with db.execute(statement, params) as cursor:
        return await cursor.fetchone()


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


def _windows(at: datetime) -> dict[str, str]:
    """The quota periods around `at`, as the named parameters BOOKED and GLOBAL_BOOKED take."""
    return dict(zip(("day", "next_day", "month", "next_month"), map(_text, periods(at)), strict=True))


def _text(moment: datetime) -> str:
    # A fixed-width form (microseconds always present, +00:00), so comparing the text compares the times.
    return as_utc(moment).isoformat(timespec="microseconds")
