"""The openrouter provider kind against the loopback OpenRouter: the mapping, pictures, refusals and faults."""

import io
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image

from bot.core import errors
from bot.core.imageapi.answers import ImageBytes, ImageLink
from bot.core.images import ImageFormat
from bot.core.inputs import InputPicture, PictureRef, check_picture
from bot.core.providers.base import ProviderCall, ProviderSettings
from bot.core.providers.openrouter import MAX_TOKENS, OpenRouterProvider
from bot.core.request import ASPECT_SIZES, ImageRequest
from tests.loopback import openrouter_api as faults
from tests.loopback.openrouter_api import OpenRouterServer, output_size
from tests.loopback.openrouter_api.sizes import IMAGE_SIZES, ONE_K

KEY = "sk-or-v1-provider-test-key-0123456789"
MODEL = "google/gemini-2.5-flash-image"
GEMINI_3 = "google/gemini-3-pro-image-preview"
PROMPT = "a lighthouse at dusk"
REQUEST = ImageRequest(prompt=PROMPT, count=2, size="1792x1024", quality="2k")


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[OpenRouterServer]:
    async with OpenRouterServer(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_api(api: OpenRouterServer) -> None:
    api.reset()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def provider(session, api, *, base_url: str | None = None, key: str = KEY, timeout: float = 10.0):
    settings = ProviderSettings(name="openrouter", base_url=base_url or api.base_url, api_key=key, timeout=timeout)
    return OpenRouterProvider(session, settings)


def call(
    count: int = 1, size: str | None = None, quality: str | None = None, model: str = MODEL, **fields: object
) -> ProviderCall:
    request = ImageRequest(prompt=PROMPT, count=count, size=size, quality=quality)
    return ProviderCall(request=request, model=model, **fields)


def pixels(image: ImageBytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(image.data)) as picture:
        return picture.size


def picture(name: str, color: str) -> InputPicture:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, format="PNG")
    ref = PictureRef(name=name, url=f"https://cdn.discordapp.com/attachments/1/2/{name}")
    return check_picture(ref, buffer.getvalue(), max_bytes=10_000_000, max_pixels=10_000_000)


async def test_count_two_is_two_calls_each_asking_for_the_ratio_and_tier(session, api) -> None:
    openrouter = provider(session, api)

    images = await openrouter.generate(ProviderCall(request=REQUEST, model=MODEL, user="u-1f2e"))

    assert [image.format for image in images] == [ImageFormat.PNG] * 2
    assert len(api.requests) == 2
    for recorded in api.requests:
        assert recorded.headers["Authorization"] == f"Bearer {KEY}"
        assert recorded.json == {
            "model": MODEL,
            "messages": [{"role": "user", "content": PROMPT}],
            "modalities": ["image", "text"],
            "max_tokens": MAX_TOKENS,
            "image_config": {"aspect_ratio": "16:9", "image_size": "2K"},
            "user": "u-1f2e",
        }
    # gemini-2.5-flash-image makes 1K whatever it is asked: below the 2k floor, so the delivered tier can be told
    assert [pixels(image) for image in images] == [(1344, 768)] * 2
    assert max(pixels(images[0])) < openrouter.tier_floor("2k", "1792x1024")


async def test_a_gemini_3_model_delivers_the_tier_asked(session, api) -> None:
    openrouter = provider(session, api)

    images = await openrouter.generate(ProviderCall(request=REQUEST, model=GEMINI_3))

    assert [pixels(image) for image in images] == [(2752, 1536)] * 2
    assert max(pixels(images[0])) >= openrouter.tier_floor("2k", "1792x1024")


@pytest.mark.parametrize(("ratio", "size"), ASPECT_SIZES.items())
async def test_every_size_the_bot_offers_is_sent_as_its_ratio(session, api, ratio, size) -> None:
    [image] = await provider(session, api).generate(call(size=size))

    assert api.last_request.image_config == {"aspect_ratio": ratio}
    assert pixels(image) == output_size(ratio, None, MODEL)


@pytest.mark.parametrize(("quality", "image_size"), [("1k", "1K"), ("2k", "2K"), ("4k", "4K"), ("4K", "4K")])
async def test_the_quality_tier_is_sent_as_an_uppercase_image_size(session, api, quality, image_size) -> None:
    [image] = await provider(session, api).generate(call(quality=quality, model=GEMINI_3))

    assert api.last_request.image_config == {"image_size": image_size}
    assert pixels(image) == output_size(None, image_size, GEMINI_3)


async def test_without_size_or_quality_no_image_config_is_sent(session, api) -> None:
    await provider(session, api).generate(call())

    assert api.last_request.json is not None
    assert "image_config" not in api.last_request.json
    assert "user" not in api.last_request.json


@pytest.mark.parametrize("suffix", ["", "/", "/api/v1", "/api/v1/"])
async def test_the_base_url_is_the_root_or_ends_in_the_api_version(session, api, suffix) -> None:
    images = await provider(session, api, base_url=api.base_url + suffix).generate(call())

    assert len(images) == 1


async def test_pictures_go_as_image_url_parts_after_the_text_in_order(session, api) -> None:
    first, second = picture("first.png", "red"), picture("second.png", "blue")

    [image] = await provider(session, api).edit(call(pictures=(first, second)))

    assert image.format is ImageFormat.PNG
    assert api.last_request.json is not None
    [message] = api.last_request.json["messages"]
    assert [part["type"] for part in message["content"]] == ["text", "image_url", "image_url"]
    assert message["content"][0] == {"type": "text", "text": PROMPT}
    assert message["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert api.last_request.input_images == [first.data, second.data]


async def test_only_the_first_image_of_an_answer_is_taken(session, api) -> None:
    api.images_per_answer = 3

    images = await provider(session, api).generate(call(count=2))

    assert len(images) == 2
    assert len(api.requests) == 2


async def test_a_low_credit_account_is_served_because_max_tokens_is_set(session, api) -> None:
    api.fail_next(faults.low_credit())

    images = await provider(session, api).generate(call())

    assert len(images) == 1
    assert api.last_request.fault == "low_credit"


@pytest.mark.parametrize(
    ("fault", "error_type", "status"),
    [
        (faults.moderation(), errors.SafetyRefused, 403),
        (faults.content_filter(), errors.SafetyRefused, 200),
        (faults.content_filter("PROHIBITED_CONTENT"), errors.SafetyRefused, 200),
        (faults.refused(), errors.SafetyRefused, 200),
        (faults.text_only(), errors.EmptyResult, 200),
        (faults.text_only("I can't draw that: it breaks the content policy."), errors.SafetyRefused, 200),
        (faults.insufficient_credits(), errors.UpstreamQuotaExhausted, 402),
        (faults.timed_out(), errors.UpstreamTimeout, 408),
        (faults.bad_gateway(), errors.ServerError, 502),
        (faults.no_provider(), errors.Overloaded, 503),
        (faults.error_in_body(502), errors.ServerError, 502),
        (faults.error_in_body(402, "Insufficient credits"), errors.UpstreamQuotaExhausted, 402),
        (faults.choice_error(503), errors.Overloaded, 503),
        (faults.api_error(400, "messages: invalid"), errors.RequestRejected, 400),
        (faults.api_error(400, "Provider returned error", {"raw": "SAFETY block"}), errors.SafetyRefused, 400),
        (faults.api_error(403, "This key's guardrail does not allow the model"), errors.AuthenticationFailed, 403),
        (faults.api_error(404, "No endpoints found that support image output"), errors.RequestRejected, 404),
        (faults.api_error(500, "Internal Server Error"), errors.ServerError, 500),
    ],
)
async def test_each_refusal_and_fault_is_its_typed_error(session, api, fault, error_type, status) -> None:
    api.fail_next(fault)

    with pytest.raises(error_type) as raised:
        await provider(session, api).generate(call(count=2))

    assert raised.value.status == status
    assert len(api.requests) == 1  # no second image is asked for after a failure
    assert KEY not in str(raised.value)


async def test_a_rate_limit_carries_the_retry_after(session, api) -> None:
    api.fail_next(faults.rate_limited(retry_after=7))

    with pytest.raises(errors.RateLimited) as raised:
        await provider(session, api).generate(call())

    assert raised.value.retry_after == 7


async def test_moderation_names_the_reasons_but_never_the_flagged_prompt(session, api) -> None:
    api.fail_next(faults.moderation(reasons=("violence", "hate"), flagged_input="the member's own words"))

    with pytest.raises(errors.SafetyRefused) as raised:
        await provider(session, api).generate(call())

    assert "violence, hate" in str(raised.value)
    assert "the member's own words" not in str(raised.value)


async def test_a_wrong_key_is_authentication_failed_without_the_key(session, api) -> None:
    wrong = "sk-or-v1-wrong-key-9876543210"

    with pytest.raises(errors.AuthenticationFailed) as raised:
        await provider(session, api, key=wrong).generate(call())

    assert raised.value.status == 401
    assert wrong not in str(raised.value)


async def test_a_key_echoed_back_is_redacted(session, api) -> None:
    api.fail_next(faults.api_error(401, f"Key {KEY} is disabled"))

    with pytest.raises(errors.AuthenticationFailed) as raised:
        await provider(session, api).generate(call())

    assert KEY not in str(raised.value)
    assert KEY not in raised.value.detail
    assert "[redacted]" in str(raised.value)


async def test_a_hanging_request_is_an_upstream_timeout(session, api) -> None:
    api.fail_next(faults.hang())

    with pytest.raises(errors.UpstreamTimeout) as raised:
        await provider(session, api, timeout=0.5).generate(call())

    assert raised.value.status is None  # our own deadline, not OpenRouter's 408


async def test_a_dropped_connection_is_connection_failed(session, api) -> None:
    api.fail_next(faults.drop())

    with pytest.raises(errors.ConnectionFailed):
        await provider(session, api).generate(call())


async def test_a_size_without_a_ratio_is_rejected_before_any_call(session, api) -> None:
    with pytest.raises(errors.RequestRejected):
        await provider(session, api).generate(call(size="1000x1000"))

    assert api.requests == []


@pytest.mark.parametrize(("quality", "floor"), [(None, 0), ("1k", 0), ("2k", 2000), ("4k", 3600), ("2K", 2000)])
async def test_tier_floor_is_the_fewest_long_side_pixels_of_the_tier(session, api, quality, floor) -> None:
    assert provider(session, api).tier_floor(quality, "1792x1024") == floor


@pytest.mark.parametrize("ratio", ONE_K)
async def test_tier_floors_tell_every_ratio_of_geminis_table_apart(session, api, ratio) -> None:
    long_sides = {size: max(output_size(ratio, size)) for size in IMAGE_SIZES}
    floor = provider(session, api).tier_floor

    assert long_sides["1K"] < floor("2k", None) <= long_sides["2K"]
    assert long_sides["2K"] < floor("4k", None) <= long_sides["4K"]


def answer(message: dict[str, object], finish_reason: str = "stop") -> bytes:
    choice = {"index": 0, "finish_reason": finish_reason, "message": {"role": "assistant", **message}}
    return json.dumps({"object": "chat.completion", "choices": [choice]}).encode()


async def test_an_image_link_in_the_answer_is_left_to_download(session, api) -> None:
    url = "https://cdn.example/image.png"
    raw = answer({"content": "", "images": [{"type": "image_url", "image_url": {"url": url}}]})

    assert provider(session, api).parse(raw) == [ImageLink(url)]


@pytest.mark.parametrize(
    ("raw", "error_type"),
    [
        (answer({"content": ""}, finish_reason="length"), errors.EmptyResult),
        (
            answer({"content": "", "images": [{"type": "image_url", "image_url": {"url": "ftp://x"}}]}),
            errors.MalformedAnswer,
        ),
        (b"<html>Just a moment...</html>", errors.MalformedAnswer),
        (json.dumps({"object": "chat.completion", "choices": []}).encode(), errors.MalformedAnswer),
    ],
)
async def test_answers_without_a_usable_image_are_typed(session, api, raw, error_type) -> None:
    with pytest.raises(error_type):
        provider(session, api).parse(raw)


async def test_a_proxy_page_is_classified_by_status_without_its_markup(session, api) -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"

    error = provider(session, api).classify(502, page, {})

    assert isinstance(error, errors.ServerError)
    assert "<" not in str(error)
    assert "502 Bad Gateway" in str(error)
