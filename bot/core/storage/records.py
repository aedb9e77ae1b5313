"""What storage keeps: the records themselves, free of any database detail."""

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

_JOB_ID = re.compile(r"[0-9a-f]{16}")
OUTCOMES = ("delivered", "failed", "interrupted")
BLOCK_KINDS = ("user", "guild")
NO_SERVER = 0  # the server of direct messages in the ledger's rollups, whose keys cannot be NULL; no Discord id is 0


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
    message_id: int | None = None  # the message the results were posted in

    def __post_init__(self) -> None:
        if not _JOB_ID.fullmatch(self.id):
            raise ValueError(f"job id {self.id!r} is not 16 lowercase hex characters")
        as_utc(self.created_at)
        if self.finished_at is not None:
            as_utc(self.finished_at)


@dataclass(frozen=True, slots=True)
class Caps:
    """The quota limits that apply to one request; None is unlimited.

    The server limits count only inside a server: a request outside one (guild_id None) has no server to count.
    The global limits count every server and direct message of the deployment together.
    """

    user_daily_images: int | None = None
    server_daily_images: int | None = None
    server_monthly_budget: int | None = None  # micro-dollars
    cooldown_seconds: int = 0
    user_concurrent_jobs: int | None = None
    global_daily_images: int | None = None
    global_monthly_budget: int | None = None  # micro-dollars


@dataclass(frozen=True, slots=True)
class Reservation:
    """Images (and their estimated cost) booked for a job while it runs."""

    job_id: str
    guild_id: int | None
    user_id: int
    images: int
    cost: int  # micro-dollars
    created_at: datetime

    def __post_init__(self) -> None:
        as_utc(self.created_at)


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """One settled job in the ledger: `images` delivered, `cost` in micro-dollars, `outcome` one of OUTCOMES."""

    job_id: str
    guild_id: int | None
    user_id: int
    model: str
    quality: str
    n: int
    images: int
    cost: int
    outcome: str
    created_at: datetime  # when the request was made, which is the day and month it counts in
    finished_at: datetime
    provider: str | None = None  # the provider that served it; None when none did

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} is not one of {', '.join(OUTCOMES)}")
        as_utc(self.created_at)
        as_utc(self.finished_at)


@dataclass(frozen=True, slots=True)
class LimitChange:
    """One change of a server's limit; a None value is the default."""

    guild_id: int
    name: str
    old_value: str | None
    new_value: str | None
    changed_by: int
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class UsageTotals:
    jobs: int  # jobs that delivered
    images: int
    cost: int  # micro-dollars


@dataclass(frozen=True, slots=True)
class DailyUsage:
    day: date  # the UTC calendar day
    model: str
    images: int


@dataclass(frozen=True, slots=True)
class UserUsage:
    user_id: int
    images: int
    cost: int  # micro-dollars


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """A job with what its ledger row says; `images` and `outcome` are None until it is settled."""

    job: JobRecord
    images: int | None
    outcome: str | None


@dataclass(frozen=True, slots=True)
class Block:
    """A user or a server (`kind` one of BLOCK_KINDS) the bot refuses to serve."""

    kind: str
    target_id: int
    reason: str | None
    blocked_by: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MemberDefaults:
    """A member's own values for the options they leave out, wherever they ask (None: not set)."""

    user_id: int
    model: str | None = None
    size: str | None = None
    quality: str | None = None
    style: str | None = None
    private: bool | None = None


def new_job_id() -> str:
    """A fresh random job id: 16 lowercase hex characters, short enough for a button's custom_id."""
    return secrets.token_hex(8)


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; naive times are refused because their zone would be a guess."""
    if moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.astimezone(UTC)


def check_block_kind(kind: str) -> str:
    """The kind, if it is one of BLOCK_KINDS."""
    if kind not in BLOCK_KINDS:
        raise ValueError(f"block kind {kind!r} is not one of {', '.join(BLOCK_KINDS)}")
    return kind
