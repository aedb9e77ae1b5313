from datetime import timedelta

from bot.core.storage import LimitChange, Storage
from tests.unit.core.storage.builders import GUILD, MODERATOR, NOW, OTHER_GUILD

LATER = NOW + timedelta(minutes=5)


async def test_a_server_without_overrides_has_none(storage: Storage):
    assert await storage.load_limits(GUILD) == {}
    assert await storage.limit_changes(GUILD) == []


async def test_setting_a_limit_returns_the_old_value_and_overrides_it(storage: Storage):
    assert await storage.set_limit(GUILD, "user_daily_images", "5", MODERATOR, NOW) is None
    assert await storage.set_limit(GUILD, "user_daily_images", "10", MODERATOR + 1, LATER) == "5"
    await storage.set_limit(GUILD, "blocked_words", '["spoiler", "n*sfw"]', MODERATOR, NOW)
    await storage.set_limit(OTHER_GUILD, "user_daily_images", "1", MODERATOR, NOW)

    assert await storage.load_limits(GUILD) == {"user_daily_images": "10", "blocked_words": '["spoiler", "n*sfw"]'}


async def test_resetting_a_limit_goes_back_to_the_default(storage: Storage):
    await storage.set_limit(GUILD, "cooldown_seconds", "30", MODERATOR, NOW)
    assert await storage.set_limit(GUILD, "cooldown_seconds", None, MODERATOR, LATER) == "30"
    assert await storage.load_limits(GUILD) == {}
    assert await storage.set_limit(GUILD, "cooldown_seconds", None, MODERATOR, LATER) is None


async def test_every_change_is_logged_newest_first(storage: Storage):
    await storage.set_limit(GUILD, "cooldown_seconds", "30", MODERATOR, NOW)
    await storage.set_limit(GUILD, "cooldown_seconds", "60", MODERATOR + 1, LATER)
    await storage.set_limit(GUILD, "cooldown_seconds", "60", MODERATOR + 2, LATER)  # no change, nothing logged
    await storage.set_limit(GUILD, "cooldown_seconds", None, MODERATOR, LATER)
    await storage.set_limit(OTHER_GUILD, "cooldown_seconds", "5", MODERATOR, LATER)

    assert await storage.limit_changes(GUILD) == [
        LimitChange(GUILD, "cooldown_seconds", "60", None, MODERATOR, LATER),
        LimitChange(GUILD, "cooldown_seconds", "30", "60", MODERATOR + 1, LATER),
        LimitChange(GUILD, "cooldown_seconds", None, "30", MODERATOR, NOW),
    ]
    assert len(await storage.limit_changes(GUILD, limit=2)) == 2
