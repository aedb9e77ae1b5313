"""Each storage test runs once on a SQLite file and once on a fresh PostgreSQL schema."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.storage import Storage, open_storage
from tests.storage_backends import postgres_schema, reachable_postgres


@pytest.fixture(scope="session")
async def postgres_server() -> str:
    """The test server's URL, checked once per session (a skip is remembered for every later test)."""
    return await reachable_postgres()


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """A URL whose storage lives in a schema of its own, dropped after the test."""
    async with postgres_schema(postgres_server) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'data' / 'bot.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def storage_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each backend, as a URL for open_storage."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
async def storage(storage_url: str) -> AsyncIterator[Storage]:
    storage = await open_storage(storage_url)
    yield storage
    await storage.close()
