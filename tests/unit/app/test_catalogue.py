import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

import bot
from bot.app.errors import MESSAGES, user_message
from bot.app.i18n import catalogue
from bot.core import errors

SOURCE = Path(bot.__file__).parent
KEY_LITERAL = re.compile(r"""["']((?:error|result|command)\.[a-z0-9_.-]+)["']""")
LOCALES = ("en-US", "zh-CN")


@pytest.mark.parametrize("locale", LOCALES)
def test_every_key_the_code_uses_exists(locale: str) -> None:
    used = {key for path in SOURCE.rglob("*.py") for key in KEY_LITERAL.findall(path.read_text())}
    assert len(used) > 20
    assert used - catalogue.keys(locale) == set()


def test_every_catalogue_has_the_same_keys() -> None:
    assert catalogue.keys("zh-CN") == catalogue.keys("en-US")


@pytest.mark.parametrize("key", sorted(catalogue.keys("en-US")))
def test_every_translation_takes_the_same_placeholders(key: str) -> None:
    assert catalogue.placeholders("zh-CN", key) == catalogue.placeholders("en-US", key)


def test_the_chinese_catalogue_is_translated() -> None:
    same = {key for key in catalogue.keys("en-US") if catalogue.text("zh-CN", key) == catalogue.text("en-US", key)}
    assert same <= {"history.line", "history.line.linked", "history.kind.imagine", "history.kind.edit"}


def test_every_error_class_has_a_message() -> None:
    classes = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.BotError)]
    assert set(classes) <= set(MESSAGES)


SAMPLES = [
    errors.PromptEmpty(),
    errors.PromptTooLong(1200, 1000),
    errors.ModelNotAllowed("dall-e-3", ("a", "b")),
    errors.CountOutOfRange(11, 1, 10),
    errors.InvalidPromptParameter("--chaos", "unknown"),
    errors.InvalidPromptParameter("--ar", "missing"),
    errors.InvalidPromptParameter("--n", "repeated"),
    errors.InvalidPromptParameter("--q", "value", "8k", ("1k", "2k", "4k")),
    errors.RateLimited(12.0),
    errors.RateLimited(0.0),
    errors.RequestRejected("size *10x10* is not supported @everyone", 400),
    *(
        cls("detail", 500)
        for cls in MESSAGES
        if issubclass(cls, errors.ImageAPIError) and cls is not errors.RateLimited
    ),
]


@pytest.mark.parametrize("error", SAMPLES, ids=lambda error: type(error).__name__)
def test_every_error_message_fills_its_placeholders(error: errors.BotError) -> None:
    message = user_message(error, "en-US")
    assert "{" not in message
    assert 0 < len(message) <= 2000


def test_messages_name_the_specifics() -> None:
    assert "1200" in user_message(errors.PromptTooLong(1200, 1000), "en-US")
    assert "<t:" in user_message(errors.RateLimited(12.0), "en-US")
    rejected = user_message(errors.RequestRejected("size *10x10* is not supported @everyone", 400), "en-US")
    assert "\\*10x10\\*" in rejected
    assert "@everyone" not in rejected


@pytest.mark.parametrize("locale", LOCALES)
def test_global_quota_messages_give_images_and_dollars_and_when_they_reset(locale: str) -> None:
    resets = datetime(2024, 6, 1, tzinfo=UTC)
    daily = user_message(errors.QuotaExceeded("global_daily", 500, 500, resets), locale)
    budget = user_message(errors.QuotaExceeded("global_budget", 99_500_000, 100_000_000, resets), locale)
    assert "500" in daily
    assert "$99.50" in budget
    assert "$100.00" in budget
    assert all("<t:1717200000:R>" in message and "{" not in message for message in (daily, budget))


@pytest.mark.parametrize("error", SAMPLES, ids=lambda error: type(error).__name__)
def test_every_error_message_has_a_chinese_wording(error: errors.BotError) -> None:
    message = user_message(error, "zh-CN")
    assert "{" not in message
    assert message != user_message(error, "en-US")


def test_an_unknown_locale_falls_back_to_english() -> None:
    assert catalogue.text("xx-XX", "error.safety") == catalogue.text("en-US", "error.safety")


@pytest.mark.parametrize("locale", LOCALES)
def test_a_refused_channel_names_the_allowed_ones_as_mentions(locale: str) -> None:
    message = user_message(errors.ChannelNotAllowed((5, 6)), locale)
    assert "<#5>, <#6>" in message
    assert "{" not in message
