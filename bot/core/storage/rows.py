"""Records to statement parameters and rows back to records, for every dialect.

Each record type's fields are the columns of its table, under the same names (`sql` builds its column lists from
them); a dialect supplies only how it stores times (`write_time`) and reads them back (`read_time`).
"""

import json
from collections.abc import Callable
from dataclasses import fields
from datetime import date, datetime
from typing import Any, Protocol

from bot.core.storage.clock import periods
from bot.core.storage.quota import Booked, DeploymentBooked
from bot.core.storage.records import (
    NO_SERVER,
    Block,
    DailyUsage,
    HistoryEntry,
    JobRecord,
    JobStatus,
    LimitChange,
    MemberDefaults,
    PictureSource,
    Reservation,
    UsageRecord,
    UsageTotals,
    UserUsage,
)

# The records kept in a table of their own, one column per field.
Stored = JobRecord | Reservation | UsageRecord | LimitChange | Block | MemberDefaults
WriteTime = Callable[[datetime], object]
ReadTime = Callable[[Any], datetime]
WriteDay = Callable[[date], object]


class Row(Protocol):
    """A database row read by column name (sqlite3.Row and asyncpg.Record both are)."""

    def __getitem__(self, key: str, /) -> Any: ...


def pictures_to_json(pictures: tuple[PictureSource, ...]) -> str:
    """The pictures as JSON text: a list of {"name", "url"} in their order."""
    return json.dumps([{"name": p.name, "url": p.url} for p in pictures], ensure_ascii=False)


def pictures_from_json(text: str) -> tuple[PictureSource, ...]:
    """The pictures back from JSON text written by `pictures_to_json`."""
    return tuple(PictureSource(name=item["name"], url=item["url"]) for item in json.loads(text))


def params(record: Stored, write_time: WriteTime) -> dict[str, object]:
    """A record's fields as the named parameters of its columns, times as the dialect stores them."""
    values = {field.name: getattr(record, field.name) for field in fields(record)}
    return {name: write_time(value) if isinstance(value, datetime) else value for name, value in values.items()}


def rollup_params(usage: UsageRecord, write_day: WriteDay) -> dict[str, object]:
    """What one settled ledger row adds to its rows of the rollups (`sql.ROLL_UPS`), by their keys and measures."""
    delivered = usage.outcome == "delivered"
    day, _, month, _ = periods(usage.created_at)
    return {
        "guild_id": NO_SERVER if usage.guild_id is None else usage.guild_id,
        "day": write_day(day.date()),
        "month": write_day(month.date()),
        "model": usage.model,
        "user_id": usage.user_id,
        "jobs": int(delivered),
        "images": usage.images,
        "cost": usage.cost,
        "delivered_images": usage.images if delivered else 0,
        "delivered_cost": usage.cost if delivered else 0,
    }


def job_params(job: JobRecord, write_time: WriteTime) -> dict[str, object]:
    """A job's columns as named parameters: its pictures as JSON, its status as text."""
    return {**params(job, write_time), "pictures": pictures_to_json(job.pictures), "status": str(job.status)}


def job_from_row(row: Row, read_time: ReadTime) -> JobRecord:
    """A job from its row."""
    finished_at = row["finished_at"]
    return JobRecord(
        id=row["id"],
        kind=row["kind"],
        user_id=row["user_id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        prompt=row["prompt"],
        model=row["model"],
        n=row["n"],
        size=row["size"],
        quality=row["quality"],
        style=row["style"],
        pictures=pictures_from_json(row["pictures"]),
        status=JobStatus(row["status"]),
        created_at=read_time(row["created_at"]),
        finished_at=None if finished_at is None else read_time(finished_at),
        message_id=row["message_id"],
    )


def history_from_row(row: Row, read_time: ReadTime) -> HistoryEntry:
    """A job row joined with its ledger row's `images` and `outcome` (None when unsettled)."""
    return HistoryEntry(job=job_from_row(row, read_time), images=row["images"], outcome=row["outcome"])


def limit_change_from_row(row: Row, read_time: ReadTime) -> LimitChange:
    """A limit change from its row."""
    return LimitChange(
        guild_id=row["guild_id"],
        name=row["name"],
        old_value=row["old_value"],
        new_value=row["new_value"],
        changed_by=row["changed_by"],
        changed_at=read_time(row["changed_at"]),
    )


def defaults_from_row(row: Row) -> MemberDefaults:
    """A member's defaults from their row (SQLite keeps a boolean as 0 or 1)."""
    private = row["private"]
    return MemberDefaults(
        user_id=row["user_id"],
        model=row["model"],
        size=row["size"],
        quality=row["quality"],
        style=row["style"],
        private=None if private is None else bool(private),
    )


def block_from_row(row: Row, read_time: ReadTime) -> Block:
    """A block from its row."""
    return Block(
        kind=row["kind"],
        target_id=row["target_id"],
        reason=row["reason"],
        blocked_by=row["blocked_by"],
        created_at=read_time(row["created_at"]),
    )


def booked_from_row(row: Row, read_time: ReadTime) -> Booked:
    """What a member and their server hold, from the row of `sql.BOOKED`."""
    last_start = row["last_start"]
    return Booked(
        user_jobs=row["user_jobs"],
        last_start=None if last_start is None else read_time(last_start),
        user_images=row["user_images"],
        server_images=row["server_images"],
        server_cost=row["server_cost"],
    )


def deployment_booked_from_row(row: Row) -> DeploymentBooked:
    """What the deployment holds, from the row of `sql.GLOBAL_BOOKED`."""
    return DeploymentBooked(images=row["images"], cost=row["cost"])


def totals_from_row(row: Row) -> UsageTotals:
    """Ledger totals from a row with `jobs`, `images` and `cost`."""
    return UsageTotals(jobs=row["jobs"], images=row["images"], cost=row["cost"])


def user_usage_from_row(row: Row) -> UserUsage:
    """One member's usage from a row of `sql.TOP_USERS`."""
    return UserUsage(user_id=row["user_id"], images=row["images"], cost=row["cost"])


def daily_usage_from_row(row: Row, read_day: Callable[[Any], date]) -> DailyUsage:
    """One day and model's images from a row of `sql.USAGE_BY_DAY`."""
    return DailyUsage(day=read_day(row["day"]), model=row["model"], images=row["images"])
