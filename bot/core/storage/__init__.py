"""Durable records behind one interface, in SQLite (the default) or PostgreSQL.

One implementation (`store`) runs the same statements (`sql`) on either database, through its dialect (`sqlite`,
`postgres`); both run the same numbered migrations (see `migrations`), each in its own dialect. Money is
integer micro-dollars (1 USD = 1_000_000); times are aware UTC datetimes; quotas reset on the UTC clock
of `periods`.
"""

from datetime import datetime
from typing import Protocol

from bot.core.slots import SlotGate
from bot.core.storage.clock import periods
from bot.core.storage.errors import StorageError
from bot.core.storage.quota import Booked, DeploymentBooked
from bot.core.storage.records import (
    Block,
    Caps,
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
    new_job_id,
)


class SharedSlotGate(SlotGate, Protocol):
    """Slots leased through the database: started before use, closed after."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class Storage(Protocol):
    async def save_job(self, job: JobRecord) -> None:
        """Insert the job; saving an existing id replaces it."""

    async def load_job(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""

    async def finish_job(
        self, job_id: str, status: JobStatus, finished_at: datetime, message_id: int | None = None
    ) -> None:
        """Record how and when the job ended (and where its results are); an unknown id changes nothing."""

    async def reserve(self, reservation: Reservation, caps: Caps) -> None:
        """Book the reservation if `caps` allow it, else raise QuotaExceeded and book nothing.

        Checking and booking are one transaction, serialised per server across processes, so concurrent
        requests are counted exactly. The checks, in order: concurrent, cooldown, user_daily,
        server_daily, server_budget (the last two only inside a server).
        """

    async def settle(self, usage: UsageRecord) -> None:
        """Replace the job's reservation with its ledger row; a job already settled keeps its first row."""

    async def recover_interrupted(self, now: datetime) -> list[JobRecord]:
        """Fail the jobs this instance's previous run left running, settling their reservations as interrupted;
        the jobs as they were. Marks this instance as alive."""

    async def recover_orphans(self, now: datetime, stale_before: datetime) -> list[JobRecord]:
        """Mark this instance as alive, then do as `recover_interrupted` for the jobs of instances not seen
        since `stale_before` (or gone), and forget those instances."""

    async def leave(self) -> None:
        """Record that this instance has stopped: jobs it still holds are orphans at once."""

    def shared_slots(self, cap: int, pool: str = "") -> SharedSlotGate | None:
        """The `cap` slots of `pool` shared with the other processes on this database ('': the image API's, which
        the queue holds; `provider:<name>`: a provider's own); None when there are none (SQLite)."""

    async def load_limits(self, guild_id: int) -> dict[str, str]:
        """The server's limit overrides: name to value text."""

    async def set_limit(
        self, guild_id: int, name: str, value: str | None, changed_by: int, changed_at: datetime
    ) -> str | None:
        """Set a limit (None: back to the default) and log the change; returns the old value."""

    async def limit_changes(self, guild_id: int, limit: int = 20) -> list[LimitChange]:
        """The server's latest limit changes, newest first."""

    async def usage_totals(self, guild_id: int | None, since: datetime, until: datetime) -> UsageTotals:
        """Ledger totals for requests made in [since, until), in one server or (None) everywhere."""

    async def usage_by_day(self, guild_id: int | None, since: datetime) -> list[DailyUsage]:
        """Images delivered per UTC day and model since `since`, in one server or (None) everywhere."""

    async def top_users(self, guild_id: int, since: datetime, limit: int = 10) -> list[UserUsage]:
        """The server's members with the most images delivered since `since`."""

    async def user_usage(self, guild_id: int, user_id: int, since: datetime, until: datetime) -> UsageTotals:
        """Ledger totals of one member in one server for requests made in [since, until)."""

    async def user_reserved(self, guild_id: int | None, user_id: int) -> int:
        """Images the member has reserved for running jobs in the server (None: in direct messages)."""

    async def booked(self, guild_id: int | None, user_id: int, at: datetime) -> Booked:
        """What the member and the server hold at `at`, counted exactly as `reserve` counts it."""

    async def deployment_booked(self, at: datetime) -> DeploymentBooked:
        """What the whole deployment holds at `at`, counted exactly as `reserve` counts it for the global caps."""

    async def history(self, user_id: int, guild_id: int | None, limit: int = 10) -> list[HistoryEntry]:
        """The member's latest jobs in the server (None: anywhere), newest first, with their ledger rows."""

    async def prune(self, start: datetime | None, before: datetime, keep: int, batch: int) -> datetime | None:
        """Delete a batch (about `batch` rows of each) of the ledger rows and jobs made from `start` (None: the
        oldest) on and before `before`, but not those among their member's latest `keep` in a server (or in direct
        messages), nor a member's latest delivered request, nor a running job; the rollups keep counting what
        goes. Returns where the next batch starts, or None when there is nothing left before `before`."""

    async def load_defaults(self, user_id: int) -> MemberDefaults:
        """The member's own defaults (none set when they never chose any)."""

    async def save_defaults(self, defaults: MemberDefaults) -> None:
        """Keep the member's defaults, replacing those they had."""

    async def set_block(
        self, kind: str, target_id: int, reason: str | None, blocked_by: int, created_at: datetime
    ) -> bool:
        """Block a user or a server; False when it already was."""

    async def remove_block(self, kind: str, target_id: int) -> bool:
        """Lift a block; False when there was none."""

    async def blocks(self) -> list[Block]:
        """Every block, oldest first."""

    async def close(self) -> None:
        """Release the connections."""


async def open_storage(url: str, instance: str = "main") -> Storage:
    """Open the storage `url` names, applying pending migrations; `instance` names this process's jobs.

    `postgresql://…` or `postgres://…` is PostgreSQL (`?search_path=schema` picks the schema);
    `sqlite:///relative.db`, `sqlite:////absolute.db` or a plain file path is SQLite.
    """
    from bot.core.storage.store import SQLStorage

    if url.startswith(("postgresql://", "postgres://")):
        from bot.core.storage.postgres import PostgresDialect  # asyncpg is imported only when used

        return SQLStorage(await PostgresDialect.connect(url), instance)
    if "://" in url and not url.startswith("sqlite:///"):
        raise StorageError(f"storage URL {url.split('://')[0]}:// is not supported; use sqlite:/// or postgresql://")
    from bot.core.storage.sqlite import SQLiteDialect

    return SQLStorage(await SQLiteDialect.open(url.removeprefix("sqlite:///")), instance)


__all__ = [
    "Block",
    "Booked",
    "Caps",
    "DailyUsage",
    "DeploymentBooked",
    "HistoryEntry",
    "JobRecord",
    "JobStatus",
    "LimitChange",
    "MemberDefaults",
    "PictureSource",
    "Reservation",
    "SharedSlotGate",
    "Storage",
    "StorageError",
    "UsageRecord",
    "UsageTotals",
    "UserUsage",
    "new_job_id",
    "open_storage",
    "periods",
]
