"""Records for storage tests, with defaults that tests override by keyword."""

from datetime import UTC, datetime

from bot.core.storage import JobRecord, JobStatus, Reservation, UsageRecord, new_job_id

GUILD = 700_000_000_000_000_001
OTHER_GUILD = 700_000_000_000_000_002
USER = 800_000_000_000_000_001
OTHER_USER = 800_000_000_000_000_002
MODERATOR = 900_000_000_000_000_001
NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
PRICE = 40_000  # micro-dollars per image


def reservation(
    *, guild_id: int | None = GUILD, user_id: int = USER, images: int = 1, at: datetime = NOW, job_id: str | None = None
) -> Reservation:
    return Reservation(
        job_id=job_id or new_job_id(),
        guild_id=guild_id,
        user_id=user_id,
        images=images,
        cost=images * PRICE,
        created_at=at,
    )


def usage(
    *,
    guild_id: int | None = GUILD,
    user_id: int = USER,
    images: int = 1,
    cost: int | None = None,
    outcome: str = "delivered",
    model: str = "gpt-image-1",
    at: datetime = NOW,
    job_id: str | None = None,
) -> UsageRecord:
    return UsageRecord(
        job_id=job_id or new_job_id(),
        guild_id=guild_id,
        user_id=user_id,
        model=model,
        quality="1k",
        n=max(images, 1),
        images=images,
        cost=images * PRICE if cost is None else cost,
        outcome=outcome,
        created_at=at,
        finished_at=at,
    )


def job(
    *,
    guild_id: int | None = GUILD,
    user_id: int = USER,
    at: datetime = NOW,
    status: JobStatus = JobStatus.RUNNING,
    quality: str | None = "2k",
    prompt: str = "a lighthouse at dusk",
) -> JobRecord:
    return JobRecord(
        id=new_job_id(),
        kind="imagine",
        user_id=user_id,
        guild_id=guild_id,
        channel_id=1,
        prompt=prompt,
        model="gpt-image-1",
        n=2,
        quality=quality,
        status=status,
        created_at=at,
    )
