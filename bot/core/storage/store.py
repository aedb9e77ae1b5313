"""The one Storage implementation: the logic and statements shared by every database, over its dialect."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.storage import SharedSlotGate, Storage, sql
from bot.core.storage.clock import periods
from bot.core.storage.dialect import Connection, Dialect, Params, Transaction
from bot.core.storage.quota import Booked, DeploymentBooked, check_global_quota, check_quota, has_global_caps
from bot.core.storage.records import (
    Block,
    Caps,
    DailyUsage,
    HistoryEntry,
    JobRecord,
    JobStatus,
    LimitChange,
    MemberDefaults,
    Reservation,
    UsageRecord,
    UsageTotals,
    UserUsage,
    as_utc,
    check_block_kind,
)
from bot.core.storage.rows import (
    Row,
    block_from_row,
    booked_from_row,
    daily_usage_from_row,
    defaults_from_row,
    deployment_booked_from_row,
    history_from_row,
    job_from_row,
    job_params,
    limit_change_from_row,
    params,
    rollup_params,
    totals_from_row,
    user_usage_from_row,
)
from bot.core.storage.spans import Period, Span, day_of, first_boundary, month_of, span


class SQLStorage(Storage):
    """Storage in a relational database; each method is documented on `Storage`."""

    def __init__(self, dialect: Dialect, instance: str = "main") -> None:
        self.dialect = dialect
        self._instance = instance

    async def save_job(self, job: JobRecord) -> None:
        await self.dialect.execute(sql.SAVE_JOB, {**job_params(job, self.dialect.write_time), "owner": self._instance})

    async def load_job(self, job_id: str) -> JobRecord | None:
        rows = await self.dialect.fetch(sql.LOAD_JOB, {"id": job_id})
        return job_from_row(rows[0], self.dialect.read_time) if rows else None

    async def finish_job(
        self, job_id: str, status: JobStatus, finished_at: datetime, message_id: int | None = None
    ) -> None:
        finished = {"status": str(status), "finished_at": self._time(finished_at), "message_id": message_id}
        await self.dialect.execute(sql.FINISH_JOB, {**finished, "id": job_id})

    async def reserve(self, reservation: Reservation, caps: Caps) -> None:
        r = reservation
        counted = {"guild": r.guild_id, "user": r.user_id, **self._windows(r.created_at)}
        async with self.dialect.transaction() as db:
            # From here to the insert, other requests of this server wait, in every process.
            await db.lock_quotas(r.guild_id, r.user_id)
            if await db.fetch(sql.HAS_RESERVATION, {"job_id": r.job_id}):
                raise ValueError(f"job {r.job_id} already holds a reservation")
            booked = await _one(db, sql.BOOKED[_member_scope(r.guild_id)], counted)
            check_quota(r, caps, booked_from_row(booked, self.dialect.read_time))
            if has_global_caps(caps):
                # The global caps stay exact only if no two bookings of the deployment count at once: without the
                # lock, two processes would both count the same total and both book past a cap. The lock is held
                # for little: taken after the server's own checks (so a request its server refuses never waits for
                # it; always after the server lock, so no deadlock), it covers one read of today's and this month's
                # rollup rows (one per server and model and day, however much traffic they sum) and the insert.
                await db.lock_deployment()
                deployment = deployment_booked_from_row(await _one(db, sql.GLOBAL_BOOKED, counted))
                check_global_quota(r, caps, deployment)
            await db.execute(sql.RESERVE, params(r, self.dialect.write_time))

    async def settle(self, usage: UsageRecord) -> None:
        async with self.dialect.transaction() as db:
            await db.execute(sql.UNRESERVE, {"job_id": usage.job_id})
            if await db.execute(sql.SETTLE, params(usage, self.dialect.write_time)) == 1:  # the first one stands
                rolled = rollup_params(usage, self.dialect.write_day)
                for statement in sql.ROLL_UPS:
                    await db.execute(statement, rolled)

    async def recover_interrupted(self, now: datetime) -> list[JobRecord]:
        async with self.dialect.transaction() as db:
            await self._seen(db, now)
            rows = await db.fetch(sql.OWN_RUNNING_JOBS, {"instance": self._instance})
            await self._interrupt(db, rows, now)
        return [job_from_row(row, self.dialect.read_time) for row in rows]

    async def recover_orphans(self, now: datetime, stale_before: datetime) -> list[JobRecord]:
        stale = {"instance": self._instance, "stale_before": self._time(stale_before)}
        async with self.dialect.transaction() as db:
            await self._seen(db, now)
            rows = await db.fetch(sql.ORPHANED_JOBS, stale)
            await self._interrupt(db, rows, now)
            for statement in self.dialect.release_orphaned:
                await db.execute(statement, stale)
            await db.execute(sql.FORGET_STALE, stale)
        return [job_from_row(row, self.dialect.read_time) for row in rows]

    async def leave(self) -> None:
        await self.dialect.execute(sql.LEAVE, {"instance": self._instance})

    def shared_slots(self, cap: int, pool: str = "") -> SharedSlotGate | None:
        return self.dialect.shared_slots(self._instance, cap, pool)

    async def load_limits(self, guild_id: int) -> dict[str, str]:
        rows = await self.dialect.fetch(sql.LOAD_LIMITS, {"guild_id": guild_id})
        return {row["name"]: row["value"] for row in rows}

    async def set_limit(
        self, guild_id: int, name: str, value: str | None, changed_by: int, changed_at: datetime
    ) -> str | None:
        async with self.dialect.transaction() as db:
            await db.lock_quotas(guild_id, changed_by)  # so the log's old values chain up
            rows = await db.fetch(sql.LIMIT_VALUE, {"guild_id": guild_id, "name": name})
            old = rows[0]["value"] if rows else None
            if old != value:
                change = LimitChange(guild_id, name, old, value, changed_by, changed_at)
                values = params(change, self.dialect.write_time)
                await db.execute(sql.RESET_LIMIT if value is None else sql.SET_LIMIT, values)
                await db.execute(sql.LOG_LIMIT_CHANGE, values)
        return old

    async def limit_changes(self, guild_id: int, limit: int = 20) -> list[LimitChange]:
        rows = await self.dialect.fetch(sql.LIMIT_CHANGES, {"guild_id": guild_id, "limit": limit})
        return [limit_change_from_row(row, self.dialect.read_time) for row in rows]

    async def usage_totals(self, guild_id: int | None, since: datetime, until: datetime) -> UsageTotals:
        window = {"guild": guild_id, **self._span(span(since, until, day_of))}
        return totals_from_row(await _one(self.dialect, sql.USAGE_TOTALS[_usage_scope(guild_id)], window))

    async def usage_by_day(self, guild_id: int | None, since: datetime) -> list[DailyUsage]:
        window = {"guild": guild_id, **self._head(since, day_of)}
        rows = await self.dialect.fetch(sql.USAGE_BY_DAY[_usage_scope(guild_id)], window)
        return [daily_usage_from_row(row, self.dialect.read_day) for row in rows]

    async def top_users(self, guild_id: int, since: datetime, limit: int = 10) -> list[UserUsage]:
        ranked = {"guild": guild_id, "limit": limit, **self._head(since, month_of)}
        return [user_usage_from_row(row) for row in await self.dialect.fetch(sql.TOP_USERS, ranked)]

    async def user_usage(self, guild_id: int, user_id: int, since: datetime, until: datetime) -> UsageTotals:
        window = {"guild": guild_id, "user": user_id, **self._span(span(since, until, month_of))}
        return totals_from_row(await _one(self.dialect, sql.USER_USAGE, window))

    async def user_reserved(self, guild_id: int | None, user_id: int) -> int:
        statement = sql.USER_RESERVED[_member_scope(guild_id)]
        images: int = (await _one(self.dialect, statement, {"guild": guild_id, "user": user_id}))["images"]
        return images

    async def booked(self, guild_id: int | None, user_id: int, at: datetime) -> Booked:
        counted = {"guild": guild_id, "user": user_id, **self._windows(at)}
        return booked_from_row(
            await _one(self.dialect, sql.BOOKED[_member_scope(guild_id)], counted), self.dialect.read_time
        )

    async def deployment_booked(self, at: datetime) -> DeploymentBooked:
        return deployment_booked_from_row(await _one(self.dialect, sql.GLOBAL_BOOKED, self._windows(at)))

    async def history(self, user_id: int, guild_id: int | None, limit: int = 10) -> list[HistoryEntry]:
        latest = {"user": user_id, "guild": guild_id, "limit": limit}
        rows = await self.dialect.fetch(sql.HISTORY[_usage_scope(guild_id)], latest)
        return [history_from_row(row, self.dialect.read_time) for row in rows]

    async def prune(self, start: datetime | None, before: datetime, keep: int, batch: int) -> datetime | None:
        start = start or await self._oldest()
        if start is None or start >= before:
            return None
        walked = {"start": self._time(start), "cutoff": self._time(before), "batch": batch}
        ends = [
            row["created_at"]
            for end in (sql.LEDGER_BATCH_END, sql.JOBS_BATCH_END)
            for row in await self.dialect.fetch(end, walked)
        ]
        stop = min((self.dialect.read_time(end) for end in ends), default=before)
        stop = max(stop, start + timedelta(microseconds=1))  # past a batch of rows that share one time
        window = {"start": self._time(start), "stop": self._time(stop), "keep": keep}
        async with self.dialect.transaction() as db:
            for statement in (*sql.PRUNE_LEDGER.values(), *sql.PRUNE_JOBS.values()):
                await db.execute(statement, window)
        return stop

    async def load_defaults(self, user_id: int) -> MemberDefaults:
        rows = await self.dialect.fetch(sql.LOAD_DEFAULTS, {"user_id": user_id})
        return defaults_from_row(rows[0]) if rows else MemberDefaults(user_id)

    async def save_defaults(self, defaults: MemberDefaults) -> None:
        await self.dialect.execute(sql.SAVE_DEFAULTS, params(defaults, self.dialect.write_time))

    async def set_block(
        self, kind: str, target_id: int, reason: str | None, blocked_by: int, created_at: datetime
    ) -> bool:
        block = Block(check_block_kind(kind), target_id, reason, blocked_by, created_at)
        return await self.dialect.execute(sql.SET_BLOCK, params(block, self.dialect.write_time)) == 1

    async def remove_block(self, kind: str, target_id: int) -> bool:
        block = {"kind": check_block_kind(kind), "target_id": target_id}
        return await self.dialect.execute(sql.REMOVE_BLOCK, block) == 1

    async def blocks(self) -> list[Block]:
        return [block_from_row(row, self.dialect.read_time) for row in await self.dialect.fetch(sql.BLOCKS, {})]

    async def close(self) -> None:
        await self.dialect.close()

    async def _seen(self, db: Transaction, now: datetime) -> None:
        await db.execute(sql.SEEN, {"instance": self._instance, "now": self._time(now)})

    async def _interrupt(self, db: Transaction, rows: Sequence[Row], now: datetime) -> None:
        """Fail these running jobs and settle their reservations as interrupted."""
        ids = {"ids": self.dialect.id_list([row["id"] for row in rows]), "now": self._time(now)}
        await db.execute(sql.FAIL_JOBS, ids)
        for statement in self.dialect.settle_interrupted:
            await db.execute(statement, ids)

    def _windows(self, at: datetime) -> dict[str, object]:
        """The quota periods around `at`, as BOOKED and GLOBAL_BOOKED take them: times for the member's own rows,
        days for the rollups."""
        day, next_day, month, next_month = periods(at)
        days = {"today": day, "this_month": month, "next_month_day": next_month}
        return {
            "day": self._time(day),
            "next_day": self._time(next_day),
            **{name: self.dialect.write_day(moment.date()) for name, moment in days.items()},
        }

    def _span(self, window: Span) -> dict[str, object]:
        """A cut window as USAGE_TOTALS and USER_USAGE take it."""
        return {
            "since": self._time(window.since),
            "first": self._time(window.first),
            "end": self._time(window.end),
            "until": self._time(window.until),
            "first_day": self._day(window.first),
            "end_day": self._day(window.end),
        }

    def _head(self, since: datetime, period: Period) -> dict[str, object]:
        """[since, ∞) as USAGE_BY_DAY and TOP_USERS take it: a head of ledger rows, then whole periods."""
        first = first_boundary(since, period)
        return {"since": self._time(since), "first": self._time(first), "first_day": self._day(first)}

    async def _oldest(self) -> datetime | None:
        """When the oldest ledger row or job was made; None when there are none."""
        oldest = [
            row["created_at"]
            for statement in (sql.OLDEST_LEDGER_ROW, sql.OLDEST_JOB)
            for row in await self.dialect.fetch(statement, {})
        ]
        return min((self.dialect.read_time(moment) for moment in oldest if moment is not None), default=None)

    def _time(self, moment: datetime) -> object:
        return self.dialect.write_time(moment)

    def _day(self, moment: datetime) -> object:
        """The UTC day of `moment` as the rollups store it."""
        return self.dialect.write_day(as_utc(moment).date())


def _member_scope(guild_id: int | None) -> sql.Scope:
    """A member's rows: in the server, or (None) in direct messages."""
    return "direct" if guild_id is None else "server"


def _usage_scope(guild_id: int | None) -> sql.Scope:
    """Usage: of the server, or (None) everywhere."""
    return "everywhere" if guild_id is None else "server"


async def _one(db: Connection, statement: str, values: Params) -> Row:
    """The one row of a statement that always returns one (an aggregate)."""
    (row,) = await db.fetch(statement, values)
    return row
