from datetime import timedelta

import pytest

from bot.core.storage import Block, Storage
from tests.unit.core.storage.builders import GUILD, MODERATOR, NOW, OTHER_GUILD, OTHER_USER, USER


async def test_nobody_is_blocked_at_first(storage: Storage):
    assert await storage.blocked(USER, GUILD) is None
    assert await storage.blocks() == []


async def test_a_blocked_user_is_blocked_everywhere(storage: Storage):
    assert await storage.set_block("user", USER, "spam", MODERATOR, NOW) is True
    block = Block("user", USER, "spam", MODERATOR, NOW)
    assert await storage.blocked(USER, GUILD) == block
    assert await storage.blocked(USER, None) == block
    assert await storage.blocked(OTHER_USER, GUILD) is None


async def test_a_blocked_server_blocks_its_members(storage: Storage):
    await storage.set_block("guild", GUILD, None, MODERATOR, NOW)
    assert await storage.blocked(OTHER_USER, GUILD) == Block("guild", GUILD, None, MODERATOR, NOW)
    assert await storage.blocked(OTHER_USER, OTHER_GUILD) is None
    assert await storage.blocked(OTHER_USER, None) is None


async def test_a_users_own_block_comes_before_the_servers(storage: Storage):
    await storage.set_block("guild", GUILD, "raid", MODERATOR, NOW)
    await storage.set_block("user", USER, "spam", MODERATOR, NOW + timedelta(seconds=1))
    assert (await storage.blocked(USER, GUILD)).kind == "user"


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
