import asyncio

import pytest

from bot.core.storage import StorageError, open_storage
from bot.core.storage.migrations import Migration, load_migrations, pending_migrations
from tests.storage_backends import run_sql

KNOWN = (Migration(1, "jobs", ""), Migration(2, "limits", ""), Migration(3, "ledger", ""))


def test_both_dialects_have_the_same_numbered_migrations():
    sqlite, postgres = load_migrations("sqlite"), load_migrations("postgres")
    assert [(m.version, m.name) for m in sqlite] == [(m.version, m.name) for m in postgres]
    assert [m.version for m in sqlite] == list(range(1, len(sqlite) + 1))
    assert all(m.sql.strip() for m in (*sqlite, *postgres))


@pytest.mark.parametrize(
    ("applied", "pending"),
    [((), (1, 2, 3)), ((1,), (2, 3)), ((1, 2), (3,)), ((1, 2, 3), ())],
)
def test_pending_migrations_are_those_above_the_highest_applied(applied, pending):
    assert [m.version for m in pending_migrations(KNOWN, applied)] == list(pending)


def test_a_database_newer_than_the_code_is_refused():
    with pytest.raises(StorageError, match=r"schema version 4, newer than this code knows \(up to 3\)"):
        pending_migrations(KNOWN, (1, 2, 3, 4))


async def test_every_migration_is_applied_once_and_recorded(storage_url: str):
    for _ in range(2):
        storage = await open_storage(storage_url)
        await storage.close()
    rows = await run_sql(storage_url, "SELECT version, applied_at FROM schema_version ORDER BY version")
    assert [version for version, _ in rows] == [m.version for m in load_migrations("sqlite")]
    assert all(applied_at is not None for _, applied_at in rows)


async def test_reopening_applies_nothing(storage_url: str):
    storage = await open_storage(storage_url)
    await storage.close()
    before = await run_sql(storage_url, "SELECT version, applied_at FROM schema_version ORDER BY version")

    storage = await open_storage(storage_url)
    await storage.close()
    assert await run_sql(storage_url, "SELECT version, applied_at FROM schema_version ORDER BY version") == before


async def test_opening_a_database_from_a_newer_release_fails_clearly(storage_url: str):
    storage = await open_storage(storage_url)
    await storage.close()
    await run_sql(storage_url, "INSERT INTO schema_version (version, applied_at) VALUES (999, '2030-01-01')")

    with pytest.raises(StorageError, match="schema version 999, newer than this code knows"):
        await open_storage(storage_url)


async def test_processes_starting_together_migrate_exactly_once(storage_url: str):
    opened = await asyncio.gather(*(open_storage(storage_url) for _ in range(3)))
    await asyncio.gather(*(storage.close() for storage in opened))
    versions = await run_sql(storage_url, "SELECT version FROM schema_version ORDER BY version")
    assert versions == [(m.version,) for m in load_migrations("sqlite")]
