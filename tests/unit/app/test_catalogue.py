import re
from pathlib import Path

import pytest

import bot
from bot.app.errors import MESSAGES, user_message
from bot.app.i18n import catalogue
from bot.core import errors

SOURCE = Path(bot.__file__).parent
KEY_LITERAL = re.compile(r"""["']((?:error|result)\.[a-z_.]+)["']""")


def test_every_key_the_code_uses_exists() -> None:
    used = {key for path in SOURCE.rglob("*.py") for key in KEY_LITERAL.findall(path.read_text())}
    assert len(used) > 20
    assert used - catalogue.keys("en-US") == set()


def test_every_error_class_has_a_message() -> None:
    classes = [cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.BotError)]
    assert set(classes) <= set(MESSAGES)


SAMPLES = [
    errors.PromptEmpty(),
    errors.PromptTooLong(1200, 1000),
    errors.ModelNotAllowed("dall-e-3", ("a", "b")),
    errors.CountOutOfRange(11, 1, 10),
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


def test_an_unknown_locale_falls_back_to_english() -> None:
    assert catalogue.text("xx-XX", "error.safety") == catalogue.text("en-US", "error.safety")
