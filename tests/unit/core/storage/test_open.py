import sqlite3
from pathlib import Path

import pytest

from bot.core.storage import StorageError, open_storage
from bot.core.storage.postgres import PostgresDialect
from bot.core.storage.sqlite import SQLiteDialect
from bot.core.storage.store import SQLStorage


async def test_a_plain_path_opens_sqlite_and_creates_its_folders(tmp_path: Path):
    path = tmp_path / "nested" / "deeper" / "bot.db"
    storage = await open_storage(str(path))
    await storage.close()
    assert isinstance(storage, SQLStorage)
    assert isinstance(storage.dialect, SQLiteDialect)
    assert path.is_file()


async def test_a_sqlite_file_is_in_wal_mode(sqlite_url: str):
    storage = await open_storage(sqlite_url)
    await storage.close()
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_a_postgres_url_opens_postgres(postgres_url: str):
    storage = await open_storage(postgres_url.replace("postgresql://", "postgres://", 1))
    await storage.close()
    assert isinstance(storage, SQLStorage)
    assert isinstance(storage.dialect, PostgresDialect)


async def test_an_unreachable_postgres_fails_without_showing_the_password():
    with pytest.raises(StorageError, match=r"cannot connect to PostgreSQL at 127\.0\.0\.1:1/test") as caught:
        await open_storage("postgresql://bot:hunter2@127.0.0.1:1/test")
    assert "hunter2" not in str(caught.value)


async def test_an_unknown_url_scheme_is_refused():
    with pytest.raises(StorageError, match=r"mysql:// is not supported"):
        await open_storage("mysql://localhost/bot")
