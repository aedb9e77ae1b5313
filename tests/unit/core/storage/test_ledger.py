from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.storage import Caps, JobStatus, Storage, UsageTotals
from tests.storage_backends import run_sql
from tests.unit.core.storage.builders import GUILD, NOW, PRICE, USER, job, reservation, usage

TODAY = datetime(2024, 5, 15, tzinfo=UTC)
TOMORROW = TODAY + timedelta(days=1)


async def ledger_rows(storage_url: str) -> list[tuple[object, ...]]:
    return await run_sql(
        storage_url, "SELECT job_id, model, quality, n, images, cost, outcome FROM usage_ledger ORDER BY job_id"
    )


async def test_settling_a_delivery_moves_the_reservation_into_the_ledger(storage: Storage):
    booked = reservation(images=2)
    await storage.reserve(booked, Caps())
    await storage.settle(usage(job_id=booked.job_id, images=2))

    assert await storage.user_reserved(GUILD, USER) == 0
    assert await storage.user_usage(GUILD, USER, TODAY, TOMORROW) == UsageTotals(jobs=1, images=2, cost=2 * PRICE)
    await storage.reserve(reservation(images=1), Caps(user_daily_images=3))
    assert await storage.user_reserved(GUILD, USER) == 1


async def test_settling_a_failure_frees_the_reserved_images(storage: Storage):
    booked = reservation(images=3)
    await storage.reserve(booked, Caps())
    await storage.settle(usage(job_id=booked.job_id, images=0, cost=0, outcome="failed"))

    assert await storage.user_reserved(GUILD, USER) == 0
    assert await storage.user_usage(GUILD, USER, TODAY, TOMORROW) == UsageTotals(jobs=0, images=0, cost=0)
    await storage.reserve(reservation(images=3), Caps(user_daily_images=3, cooldown_seconds=3600))
    assert await storage.user_reserved(GUILD, USER) == 3


async def test_the_first_settlement_of_a_job_stands(storage: Storage, storage_url: str):
    booked = reservation()
    await storage.reserve(booked, Caps())
    first = usage(job_id=booked.job_id, images=1)
    await storage.settle(first)
    await storage.settle(replace(first, images=0, cost=0, outcome="failed"))

    assert await ledger_rows(storage_url) == [(first.job_id, "gpt-image-1", "1k", 1, 1, PRICE, "delivered")]


async def test_recovery_fails_running_jobs_and_settles_their_reservations_as_interrupted(
    storage: Storage, storage_url: str
):
    running = [job(at=NOW - timedelta(minutes=2)), job(at=NOW - timedelta(minutes=1), quality=None)]
    done = job(status=JobStatus.DONE)
    for record in (*running, done):
        await storage.save_job(record)
    for record in running:
        await storage.reserve(reservation(job_id=record.id, images=record.n), Caps())
    later = NOW + timedelta(hours=1)

    assert await storage.recover_interrupted(later) == running
    for record in running:
        assert await storage.load_job(record.id) == replace(record, status=JobStatus.FAILED, finished_at=later)
    assert await storage.load_job(done.id) == done
    assert await storage.user_reserved(GUILD, USER) == 0
    assert sorted(await ledger_rows(storage_url)) == sorted(
        [
            (running[0].id, "gpt-image-1", "2k", 2, 0, 0, "interrupted"),
            (running[1].id, "gpt-image-1", "1k", 2, 0, 0, "interrupted"),
        ]
    )
    assert await storage.recover_interrupted(later) == []


async def test_a_recovered_reservation_keeps_its_request_time(storage: Storage, storage_url: str):
    record = job(at=NOW)
    await storage.save_job(record)
    await storage.reserve(reservation(job_id=record.id, at=NOW), Caps())
    await storage.recover_interrupted(NOW + timedelta(days=40))

    rows = await run_sql(storage_url, "SELECT created_at FROM usage_ledger")
    assert len(rows) == 1
    stored = rows[0][0]
    assert (datetime.fromisoformat(stored) if isinstance(stored, str) else stored) == NOW


async def test_finishing_a_job_records_its_result_message(storage: Storage):
    record = job()
    await storage.save_job(record)
    await storage.finish_job(record.id, JobStatus.DONE, NOW, message_id=123_456_789_012_345_678)
    await storage.finish_job(record.id, JobStatus.DONE, NOW)  # a later finish without a message keeps it

    loaded = await storage.load_job(record.id)
    assert loaded == replace(record, status=JobStatus.DONE, finished_at=NOW, message_id=123_456_789_012_345_678)
