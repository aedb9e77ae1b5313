from datetime import UTC, datetime, timedelta

import pytest

from bot.core.errors import QuotaExceeded
from bot.core.storage import Caps, Storage
from tests.storage_backends import run_sql
from tests.unit.core.storage.builders import GUILD, NOW, OTHER_GUILD, OTHER_USER, PRICE, USER, reservation, usage

TOMORROW = datetime(2024, 5, 16, tzinfo=UTC)
NEXT_MONTH = datetime(2024, 6, 1, tzinfo=UTC)


async def refusal(storage: Storage, caps: Caps, **fields: object) -> QuotaExceeded:
    with pytest.raises(QuotaExceeded) as caught:
        await storage.reserve(reservation(**fields), caps)
    return caught.value


def described(error: QuotaExceeded) -> tuple[str, int, int, datetime | None]:
    return error.limit, error.used, error.allowed, error.resets_at


async def reservation_rows(storage_url: str) -> int:
    return (await run_sql(storage_url, "SELECT count(*) FROM reservations"))[0][0]


async def test_a_reservation_within_every_cap_is_booked(storage: Storage):
    caps = Caps(user_daily_images=4, server_daily_images=4, server_monthly_budget=4 * PRICE, user_concurrent_jobs=1)
    await storage.reserve(reservation(images=4), caps)
    assert await storage.user_reserved(GUILD, USER) == 4


async def test_concurrent_jobs_are_capped_per_member(storage: Storage, storage_url: str):
    caps = Caps(user_concurrent_jobs=2)
    for _ in range(2):
        await storage.reserve(reservation(), caps)
    await storage.reserve(reservation(user_id=OTHER_USER), caps)
    await storage.reserve(reservation(guild_id=OTHER_GUILD), caps)

    assert described(await refusal(storage, caps)) == ("concurrent", 2, 2, None)
    assert await reservation_rows(storage_url) == 4


async def test_cooldown_runs_from_the_last_delivered_request(storage: Storage, storage_url: str):
    await storage.settle(usage(at=NOW - timedelta(seconds=30)))
    await storage.settle(usage(at=NOW - timedelta(seconds=5), images=0, cost=0, outcome="failed"))
    await storage.settle(usage(at=NOW - timedelta(seconds=5), outcome="interrupted", images=0, cost=0))
    caps = Caps(cooldown_seconds=60)

    error = await refusal(storage, caps)
    assert described(error) == ("cooldown", 30, 60, NOW + timedelta(seconds=30))
    assert await reservation_rows(storage_url) == 0
    await storage.reserve(reservation(at=NOW + timedelta(seconds=30)), caps)
    assert await storage.user_reserved(GUILD, USER) == 1


async def test_cooldown_runs_from_a_running_reservation(storage: Storage):
    await storage.reserve(reservation(at=NOW - timedelta(seconds=10)), Caps())
    error = await refusal(storage, Caps(cooldown_seconds=60))
    assert described(error) == ("cooldown", 10, 60, NOW + timedelta(seconds=50))


async def test_cooldown_is_per_member_and_server(storage: Storage):
    await storage.settle(usage(at=NOW - timedelta(seconds=1)))
    caps = Caps(cooldown_seconds=60)
    await storage.reserve(reservation(user_id=OTHER_USER), caps)
    await storage.reserve(reservation(guild_id=OTHER_GUILD), caps)

    assert await storage.user_reserved(GUILD, OTHER_USER) == 1
    assert await storage.user_reserved(OTHER_GUILD, USER) == 1
    assert described(await refusal(storage, caps)) == ("cooldown", 1, 60, NOW + timedelta(seconds=59))
    assert await storage.user_reserved(GUILD, USER) == 0


async def test_user_daily_counts_todays_delivered_images_and_all_reserved_ones(storage: Storage, storage_url: str):
    await storage.settle(usage(images=2, at=NOW - timedelta(hours=11)))
    await storage.settle(usage(images=0, cost=0, outcome="failed"))
    await storage.reserve(reservation(images=1, at=NOW - timedelta(days=3)), Caps())  # a stuck job still holds
    await storage.settle(usage(images=5, user_id=OTHER_USER))
    await storage.settle(usage(images=5, guild_id=OTHER_GUILD))
    caps = Caps(user_daily_images=5)

    error = await refusal(storage, caps, images=3)
    assert described(error) == ("user_daily", 3, 5, TOMORROW)
    assert await reservation_rows(storage_url) == 1
    await storage.reserve(reservation(images=2), caps)
    assert await storage.user_reserved(GUILD, USER) == 3


async def test_a_day_is_a_utc_calendar_day(storage: Storage):
    await storage.settle(usage(images=5, at=datetime(2024, 5, 14, 23, 59, 59, 999999, tzinfo=UTC)))
    caps = Caps(user_daily_images=5, server_daily_images=5)
    await storage.reserve(reservation(images=5, at=datetime(2024, 5, 15, tzinfo=UTC)), caps)

    error = await refusal(storage, caps, at=datetime(2024, 5, 15, 23, 59, 59, 999999, tzinfo=UTC))
    assert described(error) == ("user_daily", 5, 5, TOMORROW)


async def test_server_daily_counts_every_member(storage: Storage):
    await storage.settle(usage(images=3, user_id=OTHER_USER))
    await storage.reserve(reservation(images=2, user_id=OTHER_USER + 1), Caps())
    await storage.settle(usage(images=9, guild_id=OTHER_GUILD))
    caps = Caps(server_daily_images=6)

    assert described(await refusal(storage, caps, images=2)) == ("server_daily", 5, 6, TOMORROW)
    assert await storage.user_reserved(GUILD, USER) == 0
    await storage.reserve(reservation(images=1), caps)
    assert await storage.user_reserved(GUILD, USER) == 1


async def test_server_budget_counts_this_months_cost_and_reserved_cost(storage: Storage):
    await storage.settle(usage(images=0, cost=PRICE, outcome="failed"))  # billed though nothing was delivered
    await storage.settle(usage(images=1, at=datetime(2024, 5, 1, tzinfo=UTC)))
    await storage.settle(usage(images=9, at=datetime(2024, 4, 30, 23, 59, 59, 999999, tzinfo=UTC)))
    await storage.reserve(reservation(images=1), Caps())
    caps = Caps(server_monthly_budget=4 * PRICE)

    assert described(await refusal(storage, caps, images=2)) == ("server_budget", 3 * PRICE, 4 * PRICE, NEXT_MONTH)
    assert await storage.user_reserved(GUILD, USER) == 1
    await storage.reserve(reservation(images=1), caps)
    assert await storage.user_reserved(GUILD, USER) == 2


@pytest.mark.parametrize(
    ("caps", "expected"),
    [
        (Caps(1, 1, PRICE, 3600, 1), "concurrent"),
        (Caps(1, 1, PRICE, 3600, None), "cooldown"),
        (Caps(1, 1, PRICE, 0, None), "user_daily"),
        (Caps(None, 1, PRICE, 0, None), "server_daily"),
        (Caps(None, None, PRICE, 0, None), "server_budget"),
    ],
)
async def test_limits_are_checked_in_order(storage: Storage, caps: Caps, expected: str):
    await storage.reserve(reservation(at=NOW - timedelta(seconds=1)), Caps())
    assert (await refusal(storage, caps)).limit == expected


async def test_outside_a_server_only_the_members_own_limits_count(storage: Storage):
    await storage.settle(usage(guild_id=GUILD, images=5))
    caps = Caps(user_daily_images=2, server_daily_images=1, server_monthly_budget=1, user_concurrent_jobs=2)
    await storage.reserve(reservation(guild_id=None, images=2), caps)

    assert described(await refusal(storage, caps, guild_id=None)) == ("user_daily", 2, 2, TOMORROW)
    assert await storage.user_reserved(None, USER) == 2
    assert await storage.user_reserved(GUILD, USER) == 0


async def test_a_job_is_reserved_once(storage: Storage):
    booked = reservation()
    await storage.reserve(booked, Caps())
    with pytest.raises(ValueError, match="already holds a reservation"):
        await storage.reserve(booked, Caps())
    assert await storage.user_reserved(GUILD, USER) == 1


async def test_booked_shows_what_reserve_counts(storage: Storage):
    await storage.settle(usage(images=2, at=NOW - timedelta(hours=1)))
    await storage.settle(usage(user_id=OTHER_USER, images=5, at=NOW - timedelta(hours=2)))
    await storage.reserve(reservation(images=3, at=NOW), Caps())
    await storage.reserve(reservation(user_id=OTHER_USER, images=1, at=NOW), Caps())

    booked = await storage.booked(GUILD, USER, NOW + timedelta(minutes=1))

    assert (booked.user_jobs, booked.user_images, booked.server_images) == (1, 5, 11)
    assert booked.server_cost == 11 * PRICE
    assert booked.last_start == NOW
    refused = await refusal(storage, Caps(server_daily_images=11), images=1, at=NOW + timedelta(minutes=1))
    assert (refused.limit, refused.used) == ("server_daily", booked.server_images)
