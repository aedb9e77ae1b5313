from collections.abc import AsyncIterator

import pytest

from bot.core import errors
from bot.core.generation import GenerationService, RequestRules
from bot.core.providers.router import Router
from bot.core.request import ImageRequest

RULES = RequestRules(models=("pro", "flash"), default_model="pro", prompt_max_length=20)


@pytest.fixture
async def service() -> AsyncIterator[GenerationService]:
    yield GenerationService(Router([]), RULES, "salt")  # prepare() asks no provider


def test_a_valid_ask_becomes_the_api_request(service) -> None:
    ask = ImageRequest(prompt="  a fox  ", model="flash", count=3, size="1024x1792", quality="2k", style="vivid")

    request = service.prepare(ask)

    assert (request.prompt, request.model, request.count) == ("a fox", "flash", 3)
    assert (request.size, request.quality, request.style) == ("1024x1792", "2k", "vivid")


@pytest.mark.parametrize(
    ("quality", "size", "model", "expected"),
    [
        ("4K", "1792X1024", "FLASH", ("4k", "1792x1024", "flash")),
        (" 2k ", "16:9", "pro", ("2k", "1792x1024", "pro")),
        (None, None, None, (None, None, "pro")),
    ],
)
def test_choices_in_any_case_or_form_become_their_canonical_values(service, quality, size, model, expected):
    ask = ImageRequest(prompt="a fox", model=model, size=size, quality=quality)

    request = service.prepare(ask)

    assert (request.quality, request.size, request.model) == expected


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("quality", "8k"),
        ("quality", "4K4"),
        ("quality", ""),
        ("size", "4096x4096"),
        ("size", "21:9"),
    ],
)
def test_a_value_no_choice_offers_is_refused_naming_the_option(service, option, value) -> None:
    with pytest.raises(errors.InvalidChoice) as refused:
        service.prepare(ImageRequest(prompt="a fox", **{option: value}))

    assert (refused.value.option, refused.value.value) == (option, value)


def test_the_default_model_is_used_when_none_is_chosen(service) -> None:
    assert service.prepare(ImageRequest(prompt="a fox")).model == "pro"


@pytest.mark.parametrize(
    ("ask", "error"),
    [
        (ImageRequest(prompt="   "), errors.PromptEmpty),
        (ImageRequest(prompt="x" * 21), errors.PromptTooLong),
        (ImageRequest(prompt="a fox", model="dall-e-3"), errors.ModelNotAllowed),
        (ImageRequest(prompt="a fox", count=0), errors.CountOutOfRange),
        (ImageRequest(prompt="a fox", count=11), errors.CountOutOfRange),
    ],
)
def test_a_broken_rule_is_refused_before_any_call(service, ask, error) -> None:
    with pytest.raises(error):
        service.prepare(ask)


def test_the_prompt_limit_counts_the_prompt_as_sent(service) -> None:
    with pytest.raises(errors.PromptTooLong) as raised:
        service.prepare(ImageRequest(prompt="y" * 25))
    assert (raised.value.length, raised.value.limit) == (25, 20)
