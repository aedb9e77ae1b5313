"""The policy's cache: its own changes apply at once, another process's within the TTL."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core import errors
from bot.core.limits import Requester, ServerLimits
from bot.core.policy import Policy
from bot.core.storage import Block, Storage, open_storage

DEFAULTS = ServerLimits(user_daily_images=25)
GUILD = 7


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'policy.db'}")
    yield storage
    await storage.close()


async def test_own_changes_apply_at_once_and_others_within_the_ttl(storage) -> None:
    clock = Clock()
    mine, other = Policy(storage, DEFAULTS, ttl=30, clock=clock), Policy(storage, DEFAULTS, ttl=30, clock=clock)
    assert (await mine.limits(GUILD)).user_daily_images == 25

    await other.set_limit(GUILD, "user_daily_images", 5, changed_by=1)
    assert (await other.limits(GUILD)).user_daily_images == 5
    assert (await mine.limits(GUILD)).user_daily_images == 25  # cached
    clock.now = 31
    assert (await mine.limits(GUILD)).user_daily_images == 5

    await mine.set_limit(GUILD, "user_daily_images", None, changed_by=1)
    assert (await mine.limits(GUILD)).user_daily_images == 25
    assert await mine.overrides(GUILD) == set()
    assert [(change.old_value, change.new_value) for change in await mine.changes(GUILD)] == [("5", None), (None, "5")]


async def test_blocks_refuse_users_and_servers(storage) -> None:
    policy = Policy(storage, DEFAULTS)
    member = Requester(user_id=3, guild_id=GUILD, channel_id=None)

    assert await policy.block("user", 3, "spam", blocked_by=1)
    assert not await policy.block("user", 3, "again", blocked_by=1)
    with pytest.raises(errors.UserBlocked):
        await policy.check_not_blocked(member)
    assert await policy.unblock("user", 3)
    await policy.check_not_blocked(member)

    await policy.block("guild", GUILD, None, blocked_by=1)
    with pytest.raises(errors.ServerBlocked):
        await policy.check_not_blocked(member)


async def test_outside_servers_the_defaults_apply(storage) -> None:
    assert await Policy(storage, DEFAULTS).limits(None) == DEFAULTS


class CountedReads:
    """The storage, counting the reads the policy makes of limits and blocks; `answer` holds their answers back."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self.reads: Counter[str] = Counter()
        self.answer = asyncio.Event()
        self.answer.set()
        self.asked = asyncio.Event()  # a read of limits has begun

    def __getattr__(self, name: str) -> object:
        return getattr(self._storage, name)

    async def load_limits(self, guild_id: int) -> dict[str, str]:
        self.reads["limits"] += 1
        self.asked.set()
        limits = await self._storage.load_limits(guild_id)
        await self.answer.wait()
        return limits

    async def blocks(self) -> list[Block]:
        self.reads["blocks"] += 1
        return await self._storage.blocks()


async def test_a_burst_of_requests_missing_the_cache_reads_once(storage) -> None:
    counted = CountedReads(storage)
    policy = Policy(counted, DEFAULTS)  # type: ignore[arg-type]
    requester = Requester(user_id=1, guild_id=GUILD, channel_id=None)

    limits = await asyncio.gather(*(policy.limits(GUILD) for _ in range(50)))
    await asyncio.gather(*(policy.check_not_blocked(requester) for _ in range(50)))

    assert {limit.user_daily_images for limit in limits} == {25}
    assert counted.reads == {"limits": 1, "blocks": 1}


async def test_a_read_begun_before_a_change_does_not_answer_after_it(storage) -> None:
    slow = CountedReads(storage)
    policy = Policy(slow, DEFAULTS)  # type: ignore[arg-type]
    slow.answer.clear()
    early = asyncio.ensure_future(policy.limits(GUILD))
    await slow.asked.wait()
    await policy.set_limit(GUILD, "user_daily_images", 5, changed_by=1)  # while the early read is answering
    late = asyncio.ensure_future(policy.limits(GUILD))
    await asyncio.sleep(0.01)
    slow.answer.set()

    assert (await early).user_daily_images == 25  # read before the change
    assert (await late).user_daily_images == 5
    assert (await policy.limits(GUILD)).user_daily_images == 5  # the early read was not cached over the change


async def test_a_name_no_limit_has_is_refused_and_nothing_is_stored(storage) -> None:
    policy = Policy(storage, DEFAULTS)

    with pytest.raises(errors.InvalidChoice):
        await policy.set_limit(GUILD, "__class__", None, changed_by=1)

    assert await policy.changes(GUILD) == []


async def test_a_members_own_block_is_told_before_their_servers(storage) -> None:
    policy = Policy(storage, DEFAULTS)
    await policy.block("guild", GUILD, "spam", blocked_by=1)
    await policy.block("user", 5, "abuse", blocked_by=1)

    with pytest.raises(errors.UserBlocked):
        await policy.check_not_blocked(Requester(user_id=5, guild_id=GUILD, channel_id=None))
    with pytest.raises(errors.ServerBlocked):
        await policy.check_not_blocked(Requester(user_id=6, guild_id=GUILD, channel_id=None))
