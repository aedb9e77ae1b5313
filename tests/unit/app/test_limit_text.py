import pytest

from bot.app.limit_text import channel_mentions, display
from bot.core.limits import DEFAULT_LIMITS, LIMIT_NAMES, ServerLimits

LOCALES = ("en-US", "zh-CN")


def test_values_read_as_moderators_expect() -> None:
    assert display("monthly_budget", 0, "en-US") == "unlimited"
    assert display("monthly_budget", 25_000_000, "en-US") == "$25.00"
    assert display("channels", (5,), "en-US") == "<#5>"
    assert display("role_daily_images", ((7, 3),), "en-US") == "<@&7>: 3"
    assert display("cooldown_seconds", 0, "en-US") == "none"
    assert display("max_count", 4, "en-US") == "4"
    assert display("max_count", 0, "en-US") == "unlimited"
    assert display("user_daily_images", 0, "en-US") == "unlimited"


@pytest.mark.parametrize(
    ("name", "value", "english", "chinese"),
    [
        ("user_daily_images", 0, "unlimited", "不限"),
        ("monthly_budget", 0, "unlimited", "不限"),
        ("cooldown_seconds", 30, "30 s", "30 秒"),
        ("cooldown_seconds", 0, "none", "无"),
        ("edit_allowed", True, "yes", "是"),
        ("edit_allowed", False, "no", "否"),
        ("models", (), "all", "全部"),
        ("models", ("pro", "flash"), "`pro`, `flash`", "`pro`, `flash`"),
        ("channels", (), "all", "全部"),
        ("exempt_roles", (), "none", "无"),
        ("exempt_roles", (4, 5), "<@&4>, <@&5>", "<@&4>, <@&5>"),
        ("role_daily_images", (), "none", "无"),
        ("blocked_words", (), "none", "无"),
        ("blocked_words", ("dragon*",), "`dragon*`", "`dragon*`"),
        ("moderator_roles", (), "none", "无"),
        ("max_quality", "2k", "2k", "2k"),
    ],
)
def test_every_word_of_a_value_is_in_the_members_language(name, value, english, chinese) -> None:
    assert (display(name, value, "en-US"), display(name, value, "zh-CN")) == (english, chinese)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("limits", [ServerLimits(), DEFAULT_LIMITS], ids=["off", "defaults"])
def test_every_limit_reads_in_every_language(limits: ServerLimits, locale: str) -> None:
    for name in LIMIT_NAMES:
        text = display(name, getattr(limits, name), locale)
        assert text
        assert "{" not in text


def test_channels_are_mentions() -> None:
    assert channel_mentions((1, 2)) == "<#1>, <#2>"
