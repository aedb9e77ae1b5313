"""Several processes (instances) on one database: each recovers only its own jobs, or those of a silent one."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.core.storage import Caps, JobRecord, JobStatus, Storage, open_storage
from tests.storage_backends import run_sql
from tests.unit.core.storage.builders import GUILD, NOW, OTHER_GUILD, USER, job, reservation


@pytest.fixture
async def pair(storage_url: str) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two processes' storages on one database, both started at NOW."""
    first = await open_storage(storage_url, "shards-0")
    second = await open_storage(storage_url, "shards-1")
    for storage in (first, second):
        await storage.recover_interrupted(NOW)
    yield first, second
    for storage in (first, second):
        await storage.close()


async def start_job(storage: Storage, guild_id: int = GUILD) -> JobRecord:
    record = job(at=NOW, guild_id=guild_id)
    await storage.save_job(record)
    await storage.reserve(reservation(job_id=record.id, guild_id=guild_id, images=record.n), Caps())
    return record


async def test_a_restarted_instance_fails_only_its_own_jobs(pair, storage_url):
    first, second = pair
    mine, theirs = await start_job(first), await start_job(second, OTHER_GUILD)

    restarted = await open_storage(storage_url, "shards-0")
    try:
        later = NOW + timedelta(minutes=1)
        assert await restarted.recover_interrupted(later) == [mine]
    finally:
        await restarted.close()

    assert (await first.load_job(mine.id)).status is JobStatus.FAILED
    assert await first.load_job(mine.id) == replace(mine, status=JobStatus.FAILED, finished_at=later)
    assert await second.load_job(theirs.id) == theirs
    assert await second.user_reserved(OTHER_GUILD, USER) == theirs.n
    assert await first.user_reserved(GUILD, USER) == 0


async def test_the_jobs_of_a_silent_instance_are_taken_over_once_it_is_stale(pair):
    first, second = pair
    mine, theirs = await start_job(first), await start_job(second, OTHER_GUILD)
    soon = NOW + timedelta(seconds=30)

    assert await first.recover_orphans(soon, stale_before=NOW - timedelta(seconds=30)) == []
    assert await first.recover_orphans(soon, stale_before=NOW + timedelta(seconds=1)) == [theirs]

    assert (await first.load_job(theirs.id)).status is JobStatus.FAILED
    assert await first.load_job(theirs.id) == replace(theirs, status=JobStatus.FAILED, finished_at=soon)
    assert await first.user_reserved(OTHER_GUILD, USER) == 0
    assert await first.load_job(mine.id) == mine  # its own, though "seen" only at NOW, are left alone
    assert await first.user_reserved(GUILD, USER) == mine.n


async def test_a_beating_instance_keeps_its_jobs(pair):
    first, second = pair
    theirs = await start_job(second, OTHER_GUILD)
    later = NOW + timedelta(minutes=5)

    await second.recover_orphans(later, stale_before=later - timedelta(minutes=1))  # its heartbeat
    assert await first.recover_orphans(later, stale_before=later - timedelta(minutes=1)) == []
    assert await first.load_job(theirs.id) == theirs


async def test_jobs_of_an_instance_that_left_are_taken_over_at_once(pair):
    first, second = pair
    theirs = await start_job(second, OTHER_GUILD)
    await second.leave()

    assert await first.recover_orphans(NOW, stale_before=NOW - timedelta(minutes=1)) == [theirs]
    assert await first.recover_orphans(NOW, stale_before=NOW - timedelta(minutes=1)) == []


async def test_jobs_saved_before_instances_were_recorded_are_recovered_at_start(pair, storage_url):
    first, _ = pair
    old = await start_job(first)
    await run_sql(storage_url, "UPDATE jobs SET owner = NULL")

    assert await first.recover_interrupted(NOW) == [old]


async def test_a_job_taken_over_is_not_recovered_again_by_its_restarted_owner(pair):
    first, second = pair
    orphan = await start_job(second, OTHER_GUILD)
    await second.leave()

    assert await first.recover_orphans(NOW, stale_before=NOW - timedelta(minutes=1)) == [orphan]
    assert await second.recover_interrupted(NOW + timedelta(seconds=1)) == []
    assert await first.load_job(orphan.id) == replace(orphan, status=JobStatus.FAILED, finished_at=NOW)
