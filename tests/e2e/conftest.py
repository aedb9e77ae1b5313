"""Fixtures of the end-to-end tests that change the shared test server's limits."""

from collections.abc import AsyncIterator

import pytest

from tests.e2e.deployment import Deployment
from tests.loopback.discord import permissions

MODERATOR = permissions.DEFAULT_EVERYONE | permissions.MANAGE_GUILD


@pytest.fixture
async def limits_reset(bot, guild) -> AsyncIterator[None]:
    """Limits live in the session's shared server: a test using this leaves the defaults as it found them."""
    yield
    for name in await bot.policy.overrides(guild.id):
        await bot.policy.set_limit(guild.id, name, None, changed_by=0)


@pytest.fixture
def moderator(discord_api, guild):
    return discord_api.add_user("mod", permissions=MODERATOR, guild_id=guild.id)


@pytest.fixture
async def deployment(own_discord, tmp_path) -> AsyncIterator[Deployment]:
    """A bot process of the test's own with a providers file (stopped by the test to read its log, else here)."""
    running = Deployment(own_discord, tmp_path)
    yield running
    if getattr(running, "process", None) is not None and running.process.returncode is None:
        await running.stop()
