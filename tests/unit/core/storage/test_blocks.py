from datetime import timedelta

import pytest

from bot.core.storage import Block, Storage
from tests.unit.core.storage.builders import GUILD, MODERATOR, NOW, USER


async def test_nobody_is_blocked_at_first(storage: Storage):
    assert await storage.blocks() == []


async def test_a_users_block_is_kept_with_its_reason_author_and_time(storage: Storage):
    assert await storage.set_block("user", USER, "spam", MODERATOR, NOW) is True
    assert await storage.blocks() == [Block("user", USER, "spam", MODERATOR, NOW)]


async def test_a_servers_block_is_kept_without_a_reason(storage: Storage):
    assert await storage.set_block("guild", GUILD, None, MODERATOR, NOW) is True
    assert await storage.blocks() == [Block("guild", GUILD, None, MODERATOR, NOW)]


async def test_blocks_are_listed_oldest_first(storage: Storage):
    await storage.set_block("guild", GUILD, "raid", MODERATOR, NOW)
    await storage.set_block("user", USER, "spam", MODERATOR, NOW + timedelta(seconds=1))
    await storage.set_block("user", USER + 1, None, MODERATOR, NOW - timedelta(seconds=1))
    assert [(block.kind, block.target_id) for block in await storage.blocks()] == [
        ("user", USER + 1),
        ("guild", GUILD),
        ("user", USER),
    ]


async def test_blocking_twice_keeps_the_first_block(storage: Storage):
    await storage.set_block("user", USER, "spam", MODERATOR, NOW)
    assert await storage.set_block("user", USER, "again", MODERATOR + 1, NOW + timedelta(days=1)) is False
    assert await storage.blocks() == [Block("user", USER, "spam", MODERATOR, NOW)]


async def test_lifting_a_block(storage: Storage):
    await storage.set_block("user", USER, None, MODERATOR, NOW)
    await storage.set_block("guild", USER, None, MODERATOR, NOW + timedelta(seconds=1))  # same id, other kind
    assert await storage.remove_block("user", USER) is True
    assert await storage.remove_block("user", USER) is False
    assert await storage.blocks() == [Block("guild", USER, None, MODERATOR, NOW + timedelta(seconds=1))]


async def test_an_unknown_kind_is_refused(storage: Storage):
    with pytest.raises(ValueError, match="block kind 'channel'"):
        await storage.set_block("channel", 1, None, MODERATOR, NOW)
    with pytest.raises(ValueError, match="block kind 'channel'"):
        await storage.remove_block("channel", 1)
    assert await storage.blocks() == []
