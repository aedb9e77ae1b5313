"""The accountant on a real SQLite store: the operator's global caps apply to every reservation."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app.client import global_caps
from bot.core.accounting import Accountant
from bot.core.errors import QuotaExceeded
from bot.core.storage import Caps, Storage, open_storage
from bot.settings import load_settings
from tests.unit.core.storage.builders import GUILD, NOW, OTHER_GUILD, USER, job
from tests.unit.test_settings import REQUIRED

PRICES = {"*": 100_000}  # micro-dollars per image; a builder job asks for 2 images


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    storage = await open_storage(f"sqlite:///{tmp_path / 'bot.db'}")
    yield storage
    await storage.close()


async def refused_limit(accountant: Accountant, caps: Caps) -> str:
    with pytest.raises(QuotaExceeded) as caught:
        await accountant.reserve(job(guild_id=OTHER_GUILD), caps)
    return caught.value.limit


async def test_global_daily_images_hold_for_members_free_of_every_other_quota(storage: Storage):
    accountant = Accountant(storage, PRICES, Caps(global_daily_images=3))
    await accountant.reserve(job(), Caps())  # Caps() is what an exempt role gets
    assert await refused_limit(accountant, Caps()) == "global_daily"


async def test_global_budget_holds_for_members_free_of_every_other_quota(storage: Storage):
    accountant = Accountant(storage, PRICES, Caps(global_monthly_budget=300_000))
    await accountant.reserve(job(), Caps())
    assert await refused_limit(accountant, Caps()) == "global_budget"


async def test_zero_global_caps_are_no_caps(storage: Storage):
    settings = load_settings(REQUIRED | {"GLOBAL_DAILY_IMAGES": "0", "GLOBAL_MONTHLY_BUDGET": "0"})
    accountant = Accountant(storage, PRICES, global_caps(settings))
    for _ in range(3):
        await accountant.reserve(job(), Caps())

    assert await storage.user_reserved(GUILD, USER) == 6  # every image booked: a cap of 0 would refuse the first
    allowance = await accountant.allowance(GUILD, USER, Caps(), NOW)
    assert (allowance.global_images_remaining, allowance.global_budget_remaining) == (None, None)
