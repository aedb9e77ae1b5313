"""What differs between the databases, behind one small interface that the storage logic (`store`) runs on.

Statements come in the shared form of `sql`: named `:parameters` and `{fields}` that each dialect fills in.
"""

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Any, Protocol

from bot.core.storage import SharedSlotGate
from bot.core.storage.rows import Row

Params = Mapping[str, object]


class Connection(Protocol):
    async def fetch(self, statement: str, params: Params) -> Sequence[Row]:
        """The statement's rows."""

    async def execute(self, statement: str, params: Params) -> int:
        """Run the statement; how many rows it changed."""


class Transaction(Connection, Protocol):
    async def lock_quotas(self, guild_id: int | None, user_id: int) -> None:
        """Serialise, until the transaction ends, the quota checks of this server (of this member outside servers)."""

    async def lock_deployment(self) -> None:
        """Serialise, until the transaction ends, the global caps' checks of the whole deployment; taken only after
        `lock_quotas`."""


class Dialect(Connection, Protocol):
    """One database: statements run on their own (`fetch`, `execute`) or together (`transaction`)."""

    # Settle the reservations of :ids as interrupted (at :now) and delete them.
    settle_interrupted: tuple[str, ...]
    # Free what instances not seen since :stale_before (other than :instance) hold besides their jobs.
    release_orphaned: tuple[str, ...]

    def write_time(self, moment: datetime) -> object:
        """An aware datetime as this database stores it."""

    def read_time(self, stored: Any) -> datetime:
        """A stored time as an aware UTC datetime."""

    def write_day(self, day: date) -> object:
        """A UTC calendar day as this database stores it in the rollups (and as `{utc_day}` reads one)."""

    def read_day(self, stored: Any) -> date:
        """A stored `{utc_day}` as a date."""

    def id_list(self, ids: list[str]) -> object:
        """Ids as the `{in_ids}` parameter :ids takes them."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A transaction that commits when the block ends, or rolls back if it raises."""

    def shared_slots(self, instance: str, cap: int, pool: str = "") -> SharedSlotGate | None:
        """The slots of `pool` ('': the image API's) shared through the database, or None when it has none."""

    async def close(self) -> None:
        """Release the connections."""
