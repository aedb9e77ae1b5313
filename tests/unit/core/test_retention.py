from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.retention import Retention, retention_cutoff
from bot.core.storage import JobStatus, open_storage
from tests.unit.core.storage.builders import NOW, job, usage


def test_the_cutoff_is_the_period_ago():
    assert retention_cutoff(NOW, 90) == NOW - timedelta(days=90)


def test_the_cutoff_never_reaches_into_the_previous_month():
    assert retention_cutoff(NOW, 1) == datetime(2024, 4, 1, tzinfo=UTC)  # NOW is 15 May
    assert retention_cutoff(datetime(2024, 1, 3, tzinfo=UTC), 20) == datetime(2023, 12, 1, tzinfo=UTC)


async def test_a_walk_deletes_the_jobs_and_rows_past_the_period(tmp_path: Path):
    storage = await open_storage(str(tmp_path / "bot.db"))
    try:
        records = [job(at=NOW - timedelta(days=day), user_id=day % 2 + 1) for day in range(200)]
        for record in records:
            await storage.save_job(record)
            await storage.finish_job(record.id, JobStatus.DONE, record.created_at)
            await storage.settle(usage(job_id=record.id, user_id=record.user_id, at=record.created_at))

        await Retention(storage, days=100, keep=4).prune(NOW)

        kept = {entry.job.id for user in (1, 2) for entry in await storage.history(user, None, limit=500)}
        assert kept == {record.id for record in records[:101]}  # 100 days and NOW itself
    finally:
        await storage.close()
