"""Durable records behind one interface, in SQLite (the default) or PostgreSQL.

Both backends run the same numbered migrations (see `migrations`), each in its own dialect.
"""

from datetime import datetime
from typing import Protocol

from bot.core.storage.errors import StorageError
from bot.core.storage.records import JobRecord, JobStatus, PictureSource, new_job_id


class Storage(Protocol):
    async def save_job(self, job: JobRecord) -> None:
        """Insert the job; saving an existing id replaces it."""

    async def load_job(self, job_id: str) -> JobRecord | None:
        """The job with this id, or None."""

    async def finish_job(self, job_id: str, status: JobStatus, finished_at: datetime) -> None:
        """Record how and when the job ended; an unknown id changes nothing."""

    async def close(self) -> None:
        """Release the connections."""


async def open_storage(url: str) -> Storage:
    """Open the storage `url` names, applying pending migrations.

    `postgresql://…` or `postgres://…` is PostgreSQL (`?search_path=schema` picks the schema);
    `sqlite:///relative.db`, `sqlite:////absolute.db` or a plain file path is SQLite.
    """
    if url.startswith(("postgresql://", "postgres://")):
        from bot.core.storage.postgres import PostgresStorage  # asyncpg is imported only when used

        return await PostgresStorage.connect(url)
    if "://" in url and not url.startswith("sqlite:///"):
        raise StorageError(f"storage URL {url.split('://')[0]}:// is not supported; use sqlite:/// or postgresql://")
    from bot.core.storage.sqlite import SQLiteStorage

    return await SQLiteStorage.open(url.removeprefix("sqlite:///"))


__all__ = [
    "JobRecord",
    "JobStatus",
    "PictureSource",
    "Storage",
    "StorageError",
    "new_job_id",
    "open_storage",
]
