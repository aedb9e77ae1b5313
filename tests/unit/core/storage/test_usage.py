from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

from bot.core.storage import Caps, DailyUsage, HistoryEntry, JobStatus, Storage, UsageTotals, UserUsage
from tests.unit.core.storage.builders import GUILD, NOW, OTHER_GUILD, OTHER_USER, PRICE, USER, job, reservation, usage

MAY = datetime(2024, 5, 1, tzinfo=UTC)
JUNE = datetime(2024, 6, 1, tzinfo=UTC)
NEW_YORK = timezone(timedelta(hours=-4))


async def settle_all(storage: Storage, *records: object) -> None:
    for record in records:
        await storage.settle(record)


async def test_images_are_counted_per_utc_day_and_model(storage: Storage):
    await settle_all(
        storage,
        usage(images=2, model="gpt-image-1", at=datetime(2024, 5, 14, 9, tzinfo=UTC)),
        usage(images=1, model="gemini", at=datetime(2024, 5, 14, 10, tzinfo=UTC)),
        usage(images=3, model="gpt-image-1", at=datetime(2024, 5, 14, 21, tzinfo=NEW_YORK)),  # the 15th in UTC
        usage(images=4, model="gpt-image-1", user_id=OTHER_USER, at=datetime(2024, 5, 15, 1, tzinfo=UTC)),
        usage(images=0, cost=0, outcome="failed", model="dall-e", at=datetime(2024, 5, 15, 2, tzinfo=UTC)),
        usage(images=5, model="gemini", guild_id=OTHER_GUILD, at=datetime(2024, 5, 15, 3, tzinfo=UTC)),
        usage(images=6, model="gemini", at=datetime(2024, 5, 13, 23, 59, 59, tzinfo=UTC)),
    )
    since = datetime(2024, 5, 14, tzinfo=UTC)

    assert await storage.usage_by_day(GUILD, since) == [
        DailyUsage(date(2024, 5, 14), "gemini", 1),
        DailyUsage(date(2024, 5, 14), "gpt-image-1", 2),
        DailyUsage(date(2024, 5, 15), "gpt-image-1", 7),
    ]
    assert await storage.usage_by_day(None, since) == [
        DailyUsage(date(2024, 5, 14), "gemini", 1),
        DailyUsage(date(2024, 5, 14), "gpt-image-1", 2),
        DailyUsage(date(2024, 5, 15), "gemini", 5),
        DailyUsage(date(2024, 5, 15), "gpt-image-1", 7),
    ]


async def test_totals_cover_requests_made_in_the_window(storage: Storage):
    await settle_all(
        storage,
        usage(images=2, at=MAY),
        usage(images=0, cost=PRICE, outcome="failed", at=NOW),
        usage(images=1, at=JUNE - timedelta(microseconds=1)),
        usage(images=8, at=JUNE),
        usage(images=3, guild_id=OTHER_GUILD, at=NOW),
        usage(images=1, guild_id=None, at=NOW),
    )
    await storage.reserve(reservation(images=5), Caps())  # not used until settled

    assert await storage.usage_totals(GUILD, MAY, JUNE) == UsageTotals(jobs=2, images=3, cost=4 * PRICE)
    assert await storage.usage_totals(None, MAY, JUNE) == UsageTotals(jobs=4, images=7, cost=8 * PRICE)
    assert await storage.usage_totals(OTHER_GUILD, JUNE, JUNE + timedelta(days=1)) == UsageTotals(0, 0, 0)


async def test_a_members_usage_is_theirs_in_that_server(storage: Storage):
    await settle_all(
        storage,
        usage(images=2),
        usage(images=0, cost=0, outcome="failed"),
        usage(images=3, user_id=OTHER_USER),
        usage(images=4, guild_id=OTHER_GUILD),
        usage(images=5, at=MAY - timedelta(days=1)),
    )
    assert await storage.user_usage(GUILD, USER, MAY, JUNE) == UsageTotals(jobs=1, images=2, cost=2 * PRICE)


async def test_top_users_rank_by_images_then_cost_then_id(storage: Storage):
    await settle_all(
        storage,
        usage(user_id=30, images=2, cost=100),
        usage(user_id=10, images=2, cost=100),
        usage(user_id=20, images=2, cost=300),
        usage(user_id=40, images=5),
        usage(user_id=50, images=9, at=MAY - timedelta(seconds=1)),
        usage(user_id=60, images=9, guild_id=OTHER_GUILD),
        usage(user_id=70, images=0, cost=0, outcome="failed"),
    )
    assert await storage.top_users(GUILD, MAY) == [
        UserUsage(40, 5, 5 * PRICE),
        UserUsage(20, 2, 300),
        UserUsage(10, 2, 100),
        UserUsage(30, 2, 100),
    ]
    assert await storage.top_users(GUILD, MAY, limit=2) == [UserUsage(40, 5, 5 * PRICE), UserUsage(20, 2, 300)]


async def test_history_shows_the_latest_jobs_with_what_they_delivered(storage: Storage):
    old, failed, running = (job(at=NOW - timedelta(hours=h)) for h in (3, 2, 1))
    elsewhere = job(guild_id=OTHER_GUILD, at=NOW)
    for record in (old, failed, running, elsewhere, job(user_id=OTHER_USER, at=NOW)):
        await storage.save_job(record)
    await storage.finish_job(old.id, JobStatus.DONE, NOW, message_id=42)
    await storage.settle(usage(job_id=old.id, images=2))
    await storage.settle(usage(job_id=failed.id, images=0, cost=0, outcome="failed"))
    delivered = replace(old, status=JobStatus.DONE, finished_at=NOW, message_id=42)

    assert await storage.history(USER, GUILD) == [
        HistoryEntry(running, None, None),
        HistoryEntry(failed, 0, "failed"),
        HistoryEntry(delivered, 2, "delivered"),
    ]
    assert (await storage.history(USER, GUILD))[-1].job.message_id == 42
    assert [entry.job for entry in await storage.history(USER, None, limit=2)] == [elsewhere, running]
    assert await storage.history(USER, 123) == []
