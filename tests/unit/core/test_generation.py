from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.core import errors
from bot.core.generation import GenerationService, ImageAsk, RequestRules
from bot.core.imageapi import ImageAPIClient, ImageAPIConfig, hash_user

RULES = RequestRules(models=("pro", "flash"), default_model="pro", prompt_max_length=20)


@pytest.fixture
async def service() -> AsyncIterator[GenerationService]:
    async with aiohttp.ClientSession() as session:  # never used: prepare() makes no call
        yield GenerationService(ImageAPIClient(session, ImageAPIConfig("http://127.0.0.1:9", "k")), RULES, "salt")


def test_a_valid_ask_becomes_the_api_request(service) -> None:
    ask = ImageAsk("  a fox  ", user_id=42, model="flash", count=3, size="1024x1792", quality="2k", style="vivid")

    request = service.prepare(ask)

    assert (request.prompt, request.model, request.n) == ("a fox", "flash", 3)
    assert (request.size, request.quality, request.style) == ("1024x1792", "2k", "vivid")
    assert request.user == hash_user(42, "salt")


@pytest.mark.parametrize(
    ("quality", "size", "style", "model", "expected"),
    [
        ("4K", "1792X1024", "VIVID", "FLASH", ("4k", "1792x1024", "vivid", "flash")),
        (" 2k ", "16:9", "Natural", "pro", ("2k", "1792x1024", "natural", "pro")),
        (None, None, None, None, (None, None, None, "pro")),
    ],
)
def test_choices_in_any_case_or_form_become_their_canonical_values(service, quality, size, style, model, expected):
    ask = ImageAsk("a fox", user_id=1, model=model, size=size, quality=quality, style=style)

    request = service.prepare(ask)

    assert (request.quality, request.size, request.style, request.model) == expected


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("quality", "8k"),
        ("quality", "4K4"),
        ("quality", ""),
        ("size", "4096x4096"),
        ("size", "21:9"),
        ("style", "ugly"),
    ],
)
def test_a_value_no_choice_offers_is_refused_naming_the_option(service, option, value) -> None:
    with pytest.raises(errors.InvalidChoice) as refused:
        service.prepare(ImageAsk("a fox", user_id=1, **{option: value}))

    assert (refused.value.option, refused.value.value) == (option, value)


def test_the_default_model_is_used_when_none_is_chosen(service) -> None:
    assert service.prepare(ImageAsk("a fox", user_id=1)).model == "pro"


@pytest.mark.parametrize(
    ("ask", "error"),
    [
        (ImageAsk("   ", user_id=1), errors.PromptEmpty),
        (ImageAsk("x" * 21, user_id=1), errors.PromptTooLong),
        (ImageAsk("a fox", user_id=1, model="dall-e-3"), errors.ModelNotAllowed),
        (ImageAsk("a fox", user_id=1, count=0), errors.CountOutOfRange),
        (ImageAsk("a fox", user_id=1, count=11), errors.CountOutOfRange),
    ],
)
def test_a_broken_rule_is_refused_before_any_call(service, ask, error) -> None:
    with pytest.raises(error):
        service.prepare(ask)


def test_the_prompt_limit_counts_the_prompt_as_sent(service) -> None:
    with pytest.raises(errors.PromptTooLong) as raised:
        service.prepare(ImageAsk("y" * 25, user_id=1))
    assert (raised.value.length, raised.value.limit) == (25, 20)
