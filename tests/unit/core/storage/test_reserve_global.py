"""Deployment-wide caps: every server, direct message and process counts against one shared cap, exactly."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from bot.core.errors import QuotaExceeded
from bot.core.storage import Caps, DeploymentBooked, Reservation, Storage, open_storage
from bot.core.storage.postgres import _GLOBAL_QUOTAS, _MIGRATION_LOCK
from tests.storage_backends import run_sql
from tests.unit.core.storage.builders import GUILD, NOW, OTHER_GUILD, OTHER_USER, PRICE, USER, reservation, usage
from tests.unit.core.storage.test_reserve_concurrency import race

TOMORROW = datetime(2024, 5, 16, tzinfo=UTC)
NEXT_MONTH = datetime(2024, 6, 1, tzinfo=UTC)
WAIT = 5.0  # seconds a reservation that should not queue may take


def across_servers(servers: int = 20, per_server: int = 2) -> list[Reservation]:
    """One-image reservations from different members of many servers."""
    return [
        reservation(guild_id=GUILD + 1000 + s, user_id=USER + s * per_server + m)
        for s in range(servers)
        for m in range(per_server)
    ]


async def refusal(storage: Storage, caps: Caps, **fields: object) -> tuple[str, int, int, datetime | None]:
    with pytest.raises(QuotaExceeded) as caught:
        await storage.reserve(reservation(**fields), caps)
    error = caught.value
    return error.limit, error.used, error.allowed, error.resets_at


async def reservation_rows(storage_url: str) -> int:
    return (await run_sql(storage_url, "SELECT count(*) FROM reservations"))[0][0]


async def test_forty_requests_from_twenty_servers_get_exactly_ten_global_images(storage: Storage, storage_url: str):
    booked, refused = await race([storage], across_servers(), Caps(global_daily_images=10))
    assert (booked, refused) == (10, ["global_daily"])
    assert await reservation_rows(storage_url) == 10


async def test_forty_requests_from_twenty_servers_get_exactly_a_ten_image_global_budget(
    storage: Storage, storage_url: str
):
    booked, refused = await race([storage], across_servers(), Caps(global_monthly_budget=10 * PRICE))
    assert (booked, refused) == (10, ["global_budget"])
    assert await reservation_rows(storage_url) == 10


async def test_two_processes_sharing_the_database_stay_exact_globally(storage: Storage, storage_url: str):
    second = await open_storage(storage_url)  # its own connections, as another bot process would have
    try:
        booked, refused = await race([storage, second], across_servers(), Caps(global_daily_images=10))
        assert (booked, refused) == (10, ["global_daily"])

        more = across_servers(servers=10)
        booked, refused = await race([second, storage], more, Caps(global_monthly_budget=15 * PRICE))
        assert (booked, refused) == (5, ["global_budget"])
        assert await reservation_rows(storage_url) == 15
    finally:
        await second.close()


async def test_global_daily_counts_todays_delivered_images_everywhere_and_all_reserved_ones(storage: Storage):
    await storage.settle(usage(images=3))
    await storage.settle(usage(images=2, guild_id=OTHER_GUILD, user_id=OTHER_USER))
    await storage.settle(usage(images=1, guild_id=None))  # direct messages count too
    await storage.settle(usage(images=4, guild_id=OTHER_GUILD, outcome="failed"))  # not delivered
    await storage.settle(usage(images=9, at=NOW - timedelta(days=1)))  # yesterday
    await storage.reserve(reservation(guild_id=OTHER_GUILD, at=NOW - timedelta(days=3)), Caps())  # a stuck job
    caps = Caps(global_daily_images=8)

    assert await refusal(storage, caps, images=2, guild_id=GUILD + 5) == ("global_daily", 7, 8, TOMORROW)
    await storage.reserve(reservation(images=1, guild_id=None), caps)
    assert await refusal(storage, caps, images=1) == ("global_daily", 8, 8, TOMORROW)


async def test_global_budget_counts_this_months_cost_everywhere_failed_rows_included(storage: Storage):
    await storage.settle(usage(images=0, cost=PRICE, outcome="failed"))  # billed though nothing was delivered
    await storage.settle(usage(images=1, guild_id=OTHER_GUILD, at=datetime(2024, 5, 1, tzinfo=UTC)))
    await storage.settle(usage(images=1, guild_id=None))
    await storage.settle(usage(images=9, at=datetime(2024, 4, 30, 23, 59, 59, 999999, tzinfo=UTC)))  # last month
    await storage.reserve(reservation(guild_id=OTHER_GUILD, user_id=OTHER_USER), Caps())
    caps = Caps(global_monthly_budget=5 * PRICE)

    assert await refusal(storage, caps, images=2) == ("global_budget", 4 * PRICE, 5 * PRICE, NEXT_MONTH)
    await storage.reserve(reservation(images=1, guild_id=None), caps)
    assert await storage.user_reserved(None, USER) == 1


async def test_deployment_booked_shows_what_reserve_counts_globally(storage: Storage, storage_url: str):
    await storage.settle(usage(images=3))
    await storage.settle(usage(images=2, guild_id=OTHER_GUILD, user_id=OTHER_USER))
    await storage.settle(usage(images=1, guild_id=None))
    await storage.settle(usage(images=4, guild_id=OTHER_GUILD, outcome="failed"))  # its cost counts, not its images
    await storage.settle(usage(images=9, at=NOW - timedelta(days=1)))  # yesterday: this month's cost only
    await storage.settle(usage(images=5, at=datetime(2024, 4, 30, 23, 59, 59, 999999, tzinfo=UTC)))  # last month
    await storage.reserve(reservation(images=2, guild_id=OTHER_GUILD, at=NOW - timedelta(days=3)), Caps())

    booked = await storage.deployment_booked(NOW + timedelta(minutes=1))

    assert booked == DeploymentBooked(images=8, cost=21 * PRICE)
    assert await reservation_rows(storage_url) == 1  # reading books nothing
    daily = await refusal(storage, Caps(global_daily_images=8), at=NOW + timedelta(minutes=1))
    budget = await refusal(storage, Caps(global_monthly_budget=21 * PRICE), at=NOW + timedelta(minutes=1))
    assert (daily[:2], budget[:2]) == (("global_daily", booked.images), ("global_budget", booked.cost))


async def test_deployment_booked_is_zero_on_an_empty_database(storage: Storage):
    assert await storage.deployment_booked(NOW) == DeploymentBooked(images=0, cost=0)


async def test_global_caps_are_checked_after_the_others(storage: Storage):
    await storage.settle(usage(images=2))
    caps = Caps(server_daily_images=2, global_daily_images=2, global_monthly_budget=0)
    assert (await refusal(storage, caps))[0] == "server_daily"
    assert (await refusal(storage, caps, guild_id=OTHER_GUILD))[0] == "global_daily"
    assert (await refusal(storage, Caps(global_monthly_budget=PRICE), guild_id=OTHER_GUILD))[0] == "global_budget"


def test_the_global_lock_is_not_the_migration_lock():
    assert _GLOBAL_QUOTAS != _MIGRATION_LOCK
    assert -(2**63) <= _GLOBAL_QUOTAS < 2**63


async def test_only_a_global_cap_queues_behind_the_global_lock(postgres_url: str):
    storage = await open_storage(postgres_url)
    holder = await asyncpg.connect(postgres_url)
    try:
        await holder.execute("SELECT pg_advisory_lock($1::bigint)", _GLOBAL_QUOTAS)  # as a busy global reserve
        await asyncio.wait_for(storage.reserve(reservation(), Caps(server_daily_images=10)), WAIT)

        capped = asyncio.create_task(storage.reserve(reservation(guild_id=OTHER_GUILD), Caps(global_daily_images=10)))
        await asyncio.sleep(0.3)
        assert not capped.done()
        await holder.execute("SELECT pg_advisory_unlock($1::bigint)", _GLOBAL_QUOTAS)
        await asyncio.wait_for(capped, WAIT)
        assert await storage.user_reserved(OTHER_GUILD, USER) == 1
    finally:
        await holder.close()
        await storage.close()
