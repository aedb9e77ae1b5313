"""What storage keeps: the records themselves, free of any database detail."""

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol

_JOB_ID = re.compile(r"[0-9a-f]{16}")


class JobStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class PictureSource:
    """An input picture of an edit: a link, and the name the member knows it by."""

    name: str
    url: str


@dataclass(frozen=True, slots=True)
class JobRecord:
    """One request to the image API, kept so that its result buttons still work after a restart."""

    id: str
    kind: str
    user_id: int
    guild_id: int | None
    channel_id: int | None
    prompt: str
    model: str
    n: int
    size: str | None = None
    quality: str | None = None
    style: str | None = None
    pictures: tuple[PictureSource, ...] = ()
    status: JobStatus = JobStatus.RUNNING
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None

    def __post_init__(self) -> None:
        if not _JOB_ID.fullmatch(self.id):
            raise ValueError(f"job id {self.id!r} is not 16 lowercase hex characters")
        as_utc(self.created_at)
        if self.finished_at is not None:
            as_utc(self.finished_at)


def new_job_id() -> str:
    """A fresh random job id: 16 lowercase hex characters, short enough for a button's custom_id."""
    return secrets.token_hex(8)


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; naive times are refused because their zone would be a guess."""
    if moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.astimezone(UTC)


def pictures_to_json(pictures: tuple[PictureSource, ...]) -> str:
    """The pictures as JSON text: a list of {"name", "url"} in their order."""
    return json.dumps([{"name": p.name, "url": p.url} for p in pictures], ensure_ascii=False)


def pictures_from_json(text: str) -> tuple[PictureSource, ...]:
    """The pictures back from JSON text written by `pictures_to_json`."""
    return tuple(PictureSource(name=item["name"], url=item["url"]) for item in json.loads(text))


class Row(Protocol):
    """A database row read by column name (sqlite3.Row and asyncpg.Record both are)."""

    def __getitem__(self, key: str, /) -> Any: ...


def job_values(job: JobRecord, write_time: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """A job's column values in table order; `write_time` turns a datetime into what the backend stores."""
    return (
        job.id,
        job.kind,
        job.user_id,
        job.guild_id,
        job.channel_id,
        job.prompt,
        job.model,
        job.n,
        job.size,
        job.quality,
        job.style,
        pictures_to_json(job.pictures),
        str(job.status),
        write_time(job.created_at),
        None if job.finished_at is None else write_time(job.finished_at),
    )


def job_from_row(row: Row, read_time: Callable[[Any], datetime]) -> JobRecord:
    """A job from its row; `read_time` turns the backend's stored time into an aware datetime."""
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
    )
