from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone

from bot.core.storage import JobRecord, JobStatus, PictureSource, Storage, new_job_id, open_storage
from tests.storage_backends import run_sql

BIGGEST_SNOWFLAKE = 2**63 - 1


def edit_job(**changes: object) -> JobRecord:
    job = JobRecord(
        id=new_job_id(),
        kind="edit",
        user_id=BIGGEST_SNOWFLAKE,
        guild_id=BIGGEST_SNOWFLAKE - 1,
        channel_id=1_234_567_890_123_456_789,
        prompt="灯塔在黄昏 — a lighthouse at dusk 🌅, \"quoted\" and 'single'",
        model="gemini-3-pro-image-preview",
        n=4,
        size="1024x1536",
        quality="high",
        style="vivid",
        pictures=(
            PictureSource(name="first.png", url="https://cdn.example/a/first.png?ex=1&is=2"),
            PictureSource(name="照片.jpg", url="https://cdn.example/b/photo.jpg"),
            PictureSource(name="first.png", url="https://cdn.example/c/again.png"),
        ),
        status=JobStatus.DONE,
        created_at=datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=UTC),
        finished_at=datetime(2024, 5, 1, 12, 31, 2, 999999, tzinfo=UTC),
    )
    return replace(job, **changes)


def field_by_field(job: JobRecord | None) -> dict[str, tuple[object, type]]:
    """Each field's value and type: a status read back as plain text, or a time in another zone, differs here
    though it would compare equal."""
    assert job is not None
    return {field.name: (getattr(job, field.name), type(getattr(job, field.name))) for field in fields(job)}


async def job_rows(storage_url: str) -> int:
    return (await run_sql(storage_url, "SELECT count(*) FROM jobs"))[0][0]


async def test_every_field_survives_a_round_trip(storage: Storage):
    job = edit_job()
    await storage.save_job(job)
    loaded = await storage.load_job(job.id)
    assert loaded == job
    assert field_by_field(loaded) == field_by_field(job)
    assert loaded.created_at.tzinfo is UTC and loaded.finished_at.tzinfo is UTC


async def test_empty_optional_fields_come_back_empty(storage: Storage):
    job = JobRecord(
        id=new_job_id(), kind="imagine", user_id=1, guild_id=None, channel_id=None, prompt="a cat", model="m", n=1
    )
    await storage.save_job(job)
    loaded = await storage.load_job(job.id)
    assert loaded == job
    assert field_by_field(loaded) == field_by_field(job)
    assert loaded.pictures == ()
    assert loaded.status is JobStatus.RUNNING
    assert loaded.finished_at is None
    optional = [loaded.guild_id, loaded.channel_id, loaded.size, loaded.quality, loaded.style, loaded.message_id]
    assert optional == [None] * 6


async def test_times_come_back_as_the_same_instant_in_utc(storage: Storage):
    tokyo = timezone(timedelta(hours=9))
    job = edit_job(created_at=datetime(2024, 12, 31, 23, 59, 59, tzinfo=tokyo), finished_at=None)
    await storage.save_job(job)
    loaded = await storage.load_job(job.id)
    assert loaded.created_at == job.created_at
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.created_at == datetime(2024, 12, 31, 14, 59, 59, tzinfo=UTC)
    assert loaded.finished_at is None


async def test_an_unknown_id_loads_as_none(storage: Storage):
    assert await storage.load_job(new_job_id()) is None


async def test_finishing_a_job_records_status_and_time(storage: Storage):
    job = edit_job(status=JobStatus.RUNNING, finished_at=None, message_id=None)
    await storage.save_job(job)
    finished_at = datetime(2024, 5, 1, 12, 32, tzinfo=UTC)
    await storage.finish_job(job.id, JobStatus.FAILED, finished_at)
    loaded = await storage.load_job(job.id)
    assert loaded == replace(job, status=JobStatus.FAILED, finished_at=finished_at)
    assert loaded.status is JobStatus.FAILED
    assert loaded.finished_at == finished_at
    assert loaded.message_id is None  # finished without a result message


async def test_finishing_an_unknown_job_changes_nothing(storage: Storage, storage_url: str):
    job = edit_job(status=JobStatus.RUNNING, finished_at=None)
    await storage.save_job(job)
    unknown = new_job_id()
    await storage.finish_job(unknown, JobStatus.DONE, datetime.now(UTC), message_id=5)
    assert await storage.load_job(unknown) is None
    assert await storage.load_job(job.id) == job
    assert await job_rows(storage_url) == 1


async def test_saving_an_existing_id_replaces_the_job(storage: Storage, storage_url: str):
    first = edit_job()
    second = edit_job(id=first.id, kind="upscale", prompt="sharper", pictures=(), size=None, guild_id=None)
    await storage.save_job(first)
    await storage.save_job(second)
    assert await storage.load_job(first.id) == second
    assert field_by_field(await storage.load_job(first.id)) == field_by_field(second)
    assert await job_rows(storage_url) == 1


async def test_jobs_survive_closing_and_reopening(storage_url: str):
    job = edit_job()
    storage = await open_storage(storage_url)
    await storage.save_job(job)
    await storage.close()

    reopened = await open_storage(storage_url)
    try:
        assert await reopened.load_job(job.id) == job
        assert field_by_field(await reopened.load_job(job.id)) == field_by_field(job)
    finally:
        await reopened.close()
