"""Reaching real storage backends from tests: the PostgreSQL test server and throwaway schemas in it.

PostgreSQL tests skip when no server answers, unless REQUIRE_POSTGRES=1 (as in CI) makes them fail (tests/required.py).
"""

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aiosqlite
import asyncpg

from tests.required import unavailable

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REACH_TIMEOUT = 2.0


async def reachable_postgres() -> str:
    """The test server's URL (TEST_DATABASE_URL); skips, or fails under REQUIRE_POSTGRES=1, if it doesn't answer."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_POSTGRES_URL)
    try:
        connection = await asyncpg.connect(url, timeout=REACH_TIMEOUT)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        reason = (
            f"PostgreSQL is not reachable at {_without_password(url)}: {str(error) or type(error).__name__}; "
            "set TEST_DATABASE_URL or start it"
        )
        unavailable(reason, required_by="REQUIRE_POSTGRES")
    await connection.close()
    return url


@asynccontextmanager
async def postgres_schema(base_url: str) -> AsyncIterator[str]:
    """A new schema with a random name, dropped on exit; yields a URL whose connections use only it."""
    name = f"test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(base_url, timeout=REACH_TIMEOUT)
    try:
        await admin.execute(f"CREATE SCHEMA {name}")
        try:
            yield with_query(base_url, search_path=name)
        finally:
            await admin.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        await admin.close()


def with_query(url: str, **params: str) -> str:
    """The URL with these query parameters added (asyncpg sends unknown ones to the server as settings)."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), *params.items()])
    return urlunsplit(parts._replace(query=query))


async def run_sql(url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Run one statement straight on the database behind a storage URL and return its rows."""
    if url.startswith("sqlite:///"):
        async with aiosqlite.connect(url.removeprefix("sqlite:///"), isolation_level=None) as db:
            return [tuple(row) for row in await db.execute_fetchall(sql, args)]
    connection = await asyncpg.connect(url, timeout=REACH_TIMEOUT)
    try:
        return [tuple(row) for row in await connection.fetch(sql, *args)]
    finally:
        await connection.close()


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")))
