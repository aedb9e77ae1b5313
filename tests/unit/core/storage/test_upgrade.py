from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.core.storage import (
    Block,
    Caps,
    DailyUsage,
    JobRecord,
    JobStatus,
    LimitChange,
    Storage,
    UsageTotals,
    open_storage,
)
from bot.core.storage.migrations import load_migrations
from tests.storage_backends import run_sql
from tests.unit.core.storage.builders import GUILD, MODERATOR, NOW, USER, job, reservation, usage

SCHEMA_VERSION = {
    "sqlite": "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
    "postgres": (
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
    ),
}

JOB_AT_VERSION_1 = """
INSERT INTO jobs (id, kind, user_id, guild_id, channel_id, prompt, model, n, size, quality, style,
                  pictures, status, created_at, finished_at)
VALUES ('0123456789abcdef', 'imagine', 800000000000000001, 700000000000000001, 5, 'a cat', 'gpt-image-1', 2,
        NULL, 'high', NULL, '[]', 'done', '2024-05-01T12:30:45.123456+00:00', '2024-05-01T12:31:00.000000+00:00')
"""


async def test_a_database_at_version_1_upgrades_without_losing_jobs(storage_url: str):
    dialect = "sqlite" if storage_url.startswith("sqlite:///") else "postgres"
    if dialect == "sqlite":
        Path(storage_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    await run_sql(storage_url, SCHEMA_VERSION[dialect])
    await run_sql(storage_url, load_migrations(dialect)[0].sql)
    await run_sql(storage_url, "INSERT INTO schema_version (version, applied_at) VALUES (1, '2024-01-01T00:00:00Z')")
    await run_sql(storage_url, JOB_AT_VERSION_1)

    storage = await open_storage(storage_url)
    try:
        assert await storage.load_job("0123456789abcdef") == JobRecord(
            id="0123456789abcdef",
            kind="imagine",
            user_id=USER,
            guild_id=GUILD,
            channel_id=5,
            prompt="a cat",
            model="gpt-image-1",
            n=2,
            quality="high",
            status=JobStatus.DONE,
            created_at=datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=UTC),
            finished_at=datetime(2024, 5, 1, 12, 31, tzinfo=UTC),
        )
        assert [entry.job.id for entry in await storage.history(USER, GUILD)] == ["0123456789abcdef"]
        await storage.reserve(reservation(), Caps(user_daily_images=1))
        await storage.set_limit(GUILD, "user_daily_images", "1", MODERATOR, NOW)
        await storage.set_block("guild", GUILD, None, MODERATOR, NOW)
    finally:
        await storage.close()
    versions = await run_sql(storage_url, "SELECT version FROM schema_version ORDER BY version")
    assert versions == [(m.version,) for m in load_migrations(dialect)]


async def test_everything_survives_closing_and_reopening(storage: Storage, storage_url: str):
    record = job()
    await storage.save_job(record)
    await storage.finish_job(record.id, JobStatus.DONE, NOW, message_id=99)
    await storage.settle(usage(job_id=record.id, images=2))
    await storage.reserve(reservation(images=3), Caps())
    await storage.set_limit(GUILD, "user_daily_images", "7", MODERATOR, NOW)
    await storage.set_block("user", USER + 1, "spam", MODERATOR, NOW)
    await storage.close()

    reopened = await open_storage(storage_url)
    try:
        assert (await reopened.load_job(record.id)).message_id == 99
        finished = replace(record, status=JobStatus.DONE, finished_at=NOW, message_id=99)
        assert await reopened.load_job(record.id) == finished
        assert await reopened.usage_by_day(GUILD, NOW - timedelta(days=1)) == [
            DailyUsage(date(2024, 5, 15), "gpt-image-1", 2)
        ]
        assert await reopened.usage_totals(GUILD, NOW, NOW + timedelta(days=1)) == UsageTotals(1, 2, 80_000)
        assert await reopened.user_reserved(GUILD, USER) == 3
        assert await reopened.load_limits(GUILD) == {"user_daily_images": "7"}
        assert await reopened.limit_changes(GUILD) == [
            LimitChange(GUILD, "user_daily_images", None, "7", MODERATOR, NOW)
        ]
        assert await reopened.blocks() == [Block("user", USER + 1, "spam", MODERATOR, NOW)]
    finally:
        await reopened.close()
