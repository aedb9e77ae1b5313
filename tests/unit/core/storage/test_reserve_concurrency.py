"""Reserving is exact under concurrency: a cap is never overshot however many requests race for it."""

import asyncio

from bot.core.errors import QuotaExceeded
from bot.core.storage import Caps, Reservation, Storage, open_storage
from bot.core.storage.postgres import quota_lock
from tests.unit.core.storage.builders import GUILD, USER, reservation


async def race(storages: list[Storage], reservations: list[Reservation], caps: Caps) -> tuple[int, list[str]]:
    """Reserve all at once, spread over the storages; how many were booked and which limits refused the rest."""
    results = await asyncio.gather(
        *(storages[i % len(storages)].reserve(r, caps) for i, r in enumerate(reservations)), return_exceptions=True
    )
    refused = [result for result in results if result is not None]
    assert all(isinstance(result, QuotaExceeded) for result in refused), refused
    return len(results) - len(refused), sorted({error.limit for error in refused})


async def booked_in_guild(storage: Storage, users: range) -> int:
    return sum([await storage.user_reserved(GUILD, user) for user in users])


async def test_a_hundred_members_racing_for_ten_server_images_get_exactly_ten(storage: Storage):
    users = range(USER, USER + 100)
    booked, refused = await race([storage], [reservation(user_id=user) for user in users], Caps(server_daily_images=10))
    assert (booked, refused) == (10, ["server_daily"])
    assert await booked_in_guild(storage, users) == 10


async def test_one_member_racing_twenty_requests_for_three_images_gets_exactly_three(storage: Storage):
    booked, refused = await race([storage], [reservation() for _ in range(20)], Caps(user_daily_images=3))
    assert (booked, refused) == (3, ["user_daily"])
    assert await storage.user_reserved(GUILD, USER) == 3


async def test_two_processes_sharing_the_database_stay_exact(storage: Storage, storage_url: str):
    second = await open_storage(storage_url)  # its own connections, as another bot process would have
    try:
        users = range(USER, USER + 100)
        requests = [reservation(user_id=user) for user in users]
        booked, refused = await race([storage, second], requests, Caps(server_daily_images=10))
        assert (booked, refused) == (10, ["server_daily"])

        assert await booked_in_guild(second, users) == 10

        newcomer = [reservation(user_id=USER + 1000) for _ in range(20)]
        booked, refused = await race([second, storage], newcomer, Caps(user_daily_images=3))
        assert (booked, refused) == (3, ["user_daily"])
    finally:
        await second.close()


def test_each_server_has_its_own_lock_and_outside_servers_each_member_has():
    keys = [quota_lock(GUILD, USER), quota_lock(GUILD + 1, USER), quota_lock(None, USER), quota_lock(None, USER + 1)]
    assert len(set(keys)) == 4
    assert quota_lock(GUILD, USER) == quota_lock(GUILD, USER + 1)
    assert all(-(2**31) <= key < 2**31 for pair in [*keys, quota_lock(2**63 - 1, 0)] for key in pair)
