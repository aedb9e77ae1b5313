"""The gemini provider kind against the Gemini stand-in: the mapping, pictures, refusals and faults."""

import asyncio
import base64
import io
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image

from bot.core import errors
from bot.core.imageapi.answers import ImageBytes
from bot.core.images import ImageFormat
from bot.core.inputs import InputPicture, PictureRef, check_picture
from bot.core.providers.base import ProviderCall, ProviderSettings
from bot.core.providers.gemini import GeminiProvider
from bot.core.request import ASPECT_SIZES, ImageRequest
from tests.loopback import gemini_api as faults
from tests.loopback.gemini_api import GeminiAPIServer
from tests.loopback.gemini_api.faults import IMAGE_BLOCKED
from tests.loopback.image_api.render import render_image

KEY = "AIza-provider-test-key-0123456789"
MODEL = "gemini-3-pro-image-preview"
FLASH = "gemini-2.5-flash-image"
PROMPT = "a lighthouse at dusk"
REQUEST = ImageRequest(prompt=PROMPT, count=2, size="1792x1024", quality="2k")


class RecordedSleep:
    """Stands in for asyncio.sleep so retry delays are checked without waiting for them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[GeminiAPIServer]:
    async with GeminiAPIServer(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_api(api: GeminiAPIServer) -> None:
    api.reset()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def provider(
    session, api, *, base_url: str | None = None, key: str = KEY, timeout: float = 10.0, **settings: object
) -> GeminiProvider:
    config = ProviderSettings(
        name="gemini", base_url=base_url or api.base_url, api_key=key, timeout=timeout, **settings
    )
    return GeminiProvider(session, config, sleep=RecordedSleep(), rand=lambda: 0.0)


def call(count: int = 1, size: str | None = None, quality: str | None = None, model: str = MODEL, **fields: object):
    request = ImageRequest(prompt=PROMPT, count=count, size=size, quality=quality)
    return ProviderCall(request=request, model=model, **fields)


def pixels(image: ImageBytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(image.data)) as picture:
        return picture.size


def picture(name: str, size: tuple[int, int], image_format: str = "png") -> InputPicture:
    data = render_image(name, 0, size, image_format).data
    ref = PictureRef(name=name, url=f"https://cdn.discordapp.com/attachments/1/2/{name}")
    return check_picture(ref, data, max_bytes=10_000_000, max_pixels=10_000_000)


# -- what is sent ----------------------------------------------------------------------------------------------------


async def test_count_two_is_two_calls_each_asking_for_the_ratio_and_uppercase_tier(session, api) -> None:
    gemini = provider(session, api)

    images = await gemini.generate(ProviderCall(request=REQUEST, model=MODEL, user="u-1f2e"))

    assert [image.format for image in images] == [ImageFormat.PNG] * 2
    assert [pixels(image) for image in images] == [(2752, 1536)] * 2
    assert images[0].data != images[1].data
    assert len(api.requests) == 2
    for recorded in api.requests:
        assert recorded.model == MODEL
        assert recorded.key_from == "header"
        assert recorded.headers["x-goog-api-key"] == KEY
        assert recorded.json == {
            "contents": [{"role": "user", "parts": [{"text": PROMPT}]}],
            "generationConfig": {
                "responseModalities": ["IMAGE"],
                "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
            },
        }


async def test_the_calls_of_one_job_run_one_after_the_other(session, api) -> None:
    api.latency = 0.2

    await provider(session, api).generate(call(count=2))

    first, second = api.requests
    assert second.received_at - first.received_at >= 0.2


@pytest.mark.parametrize(("quality", "image_size"), [("1k", "1K"), ("2k", "2K"), ("4k", "4K"), ("2K", "2K")])
def test_each_tier_goes_as_an_uppercase_image_size(session, api, quality: str, image_size: str) -> None:
    body = provider(session, api).body(call(quality=quality), False, 1)

    assert isinstance(body, dict)
    assert body["generationConfig"]["imageConfig"] == {"imageSize": image_size}


@pytest.mark.parametrize(("ratio", "size"), list(ASPECT_SIZES.items()))
def test_each_offered_size_goes_as_its_aspect_ratio(session, api, ratio: str, size: str) -> None:
    body = provider(session, api).body(call(size=size), False, 1)

    assert isinstance(body, dict)
    assert body["generationConfig"]["imageConfig"] == {"aspectRatio": ratio}


async def test_no_size_and_no_quality_leave_image_config_out(session, api) -> None:
    (image,) = await provider(session, api).generate(call())

    assert pixels(image) == (1024, 1024)
    assert api.last_request.json is not None
    assert api.last_request.json["generationConfig"] == {"responseModalities": ["IMAGE"]}


async def test_a_size_without_a_ratio_is_rejected_before_calling(session, api) -> None:
    with pytest.raises(errors.RequestRejected, match="777x333"):
        await provider(session, api).generate(call(size="777x333"))

    assert api.requests == []


@pytest.mark.parametrize("suffix", ["/v1beta", "/v1beta/", "/"])
async def test_a_base_url_may_end_in_the_version(session, api, suffix: str) -> None:
    (image,) = await provider(session, api, base_url=api.base_url + suffix).generate(call())

    assert image.format is ImageFormat.PNG
    assert api.last_request.status == 200


async def test_an_edit_sends_its_pictures_inline_in_order(session, api) -> None:
    first, second = picture("cat.png", (640, 360)), picture("hat.jpg", (200, 200), "jpeg")

    (image,) = await provider(session, api).edit(call(size="1024x1024", quality="1k", pictures=(first, second)))

    assert pixels(image) == (1024, 1024)
    assert api.last_request.input_images == [first.data, second.data]
    assert api.last_request.input_mime_types == ["image/png", "image/jpeg"]
    assert api.last_request.json is not None
    parts = api.last_request.json["contents"][0]["parts"]
    assert parts[0] == {"text": PROMPT}
    assert [part["inline_data"]["mime_type"] for part in parts[1:]] == ["image/png", "image/jpeg"]
    assert base64.b64decode(parts[1]["inline_data"]["data"]) == first.data


async def test_an_edit_of_count_two_sends_the_pictures_with_each_call(session, api) -> None:
    cat = picture("cat.png", (64, 64))

    images = await provider(session, api).edit(call(count=2, pictures=(cat,)))

    assert len(images) == 2
    assert [recorded.input_images for recorded in api.requests] == [[cat.data], [cat.data]]


# -- what is read ----------------------------------------------------------------------------------------------------


async def test_thought_images_are_skipped_for_the_final_one(session, api) -> None:
    api.thought_images = 2

    images = await provider(session, api).generate(call(count=2, size="1792x1024", quality="2k"))

    assert [pixels(image) for image in images] == [(2752, 1536)] * 2


@pytest.mark.parametrize("image_format", ["jpeg", "webp"])
async def test_the_format_is_told_by_the_bytes(session, api, image_format) -> None:
    api.image_format = image_format

    (image,) = await provider(session, api).generate(call())

    assert image.format is ImageFormat(image_format)


def test_text_parts_are_ignored_and_snake_case_blobs_read(session, api) -> None:
    png = render_image("x", 0, (32, 32), "png").data
    answer = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "Here it is."},
                        {"inline_data": {"mime_type": "image/png", "data": base64.b64encode(png).decode()}},
                    ],
                },
                "finishReason": "STOP",
            }
        ]
    }

    assert provider(session, api).parse(json.dumps(answer).encode()) == [ImageBytes(png, ImageFormat.PNG)]


async def test_a_model_that_ignores_image_size_delivers_below_the_tiers_floor(session, api) -> None:
    gemini = provider(session, api)

    (image,) = await gemini.generate(call(size="1792x1024", quality="2k", model=FLASH))

    assert pixels(image) == (1344, 768)
    assert max(pixels(image)) < gemini.tier_floor("2k", "1792x1024")


# -- refusals and faults ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        (faults.safety(), errors.SafetyRefused),
        (faults.safety(message=None), errors.SafetyRefused),
        (faults.finished("IMAGE_PROHIBITED_CONTENT"), errors.SafetyRefused),
        (faults.finished("PROHIBITED_CONTENT"), errors.SafetyRefused),
        (faults.finished("SAFETY"), errors.SafetyRefused),
        (faults.finished("BLOCKLIST"), errors.SafetyRefused),
        (faults.finished("SPII"), errors.SafetyRefused),
        (faults.finished("IMAGE_RECITATION"), errors.SafetyRefused),
        (faults.finished("RECITATION"), errors.SafetyRefused),
        (faults.prompt_blocked("PROHIBITED_CONTENT"), errors.SafetyRefused),
        (faults.prompt_blocked("OTHER"), errors.SafetyRefused),
        (faults.no_image(), errors.EmptyResult),
        (faults.finished("IMAGE_OTHER"), errors.EmptyResult),
        (faults.finished("OTHER"), errors.EmptyResult),
        (faults.finished("STOP", text="Here is a poem instead."), errors.EmptyResult),
        (faults.finished("IMAGE_OTHER", message=IMAGE_BLOCKED), errors.SafetyRefused),
        (faults.rate_limited(7), errors.RateLimited),
        (faults.server_error(500), errors.ServerError),
        (faults.overloaded(), errors.Overloaded),
        (faults.deadline_exceeded(), errors.UpstreamTimeout),
        (faults.google_error(401, "UNAUTHENTICATED", "Request had invalid credentials."), errors.AuthenticationFailed),
        (faults.google_error(403, "PERMISSION_DENIED", "Permission denied."), errors.AuthenticationFailed),
        (faults.google_error(400, "FAILED_PRECONDITION", "User location is not supported."), errors.RequestRejected),
        (faults.google_error(502, "UNKNOWN", "Bad Gateway"), errors.ServerError),
    ],
)
async def test_each_refusal_and_fault_is_its_typed_error(session, api, fault, error_type) -> None:
    api.fail_next(fault)

    with pytest.raises(error_type) as raised:
        await provider(session, api).generate(call())

    assert type(raised.value) is error_type
    assert KEY not in str(raised.value)
    assert KEY not in raised.value.detail
    assert len(api.requests) == 1  # no retry at the provider: max_retries is 0


async def test_a_safety_refusal_says_the_finish_reason(session, api) -> None:
    api.fail_next(faults.safety())

    with pytest.raises(errors.SafetyRefused) as raised:
        await provider(session, api).generate(call())

    assert raised.value.status == 200
    assert "IMAGE_SAFETY" in raised.value.detail


async def test_a_refused_call_ends_the_job_without_the_next_call(session, api) -> None:
    api.fail_next(faults.safety())

    with pytest.raises(errors.SafetyRefused):
        await provider(session, api).generate(call(count=2))

    assert [recorded.fault for recorded in api.requests] == ["safety"]


async def test_a_rate_limit_waits_the_retry_info_delay(session, api) -> None:
    api.fail_next(faults.rate_limited(7))

    with pytest.raises(errors.RateLimited) as raised:
        await provider(session, api).generate(call())

    assert raised.value.retry_after == 7.0
    assert raised.value.status == 429


async def test_a_rate_limit_without_retry_info_reads_retry_after(session, api) -> None:
    api.fail_next(faults.google_error(429, "RESOURCE_EXHAUSTED", "Resource exhausted.", headers={"Retry-After": "3"}))

    with pytest.raises(errors.RateLimited) as raised:
        await provider(session, api).generate(call())

    assert raised.value.retry_after == 3.0


async def test_a_503_is_retried_at_the_provider_when_allowed(session, api) -> None:
    api.fail_next(faults.overloaded())
    gemini = provider(session, api, max_retries=1)

    images = await gemini.generate(call(count=2))

    assert len(images) == 2
    assert [recorded.status for recorded in api.requests] == [503, 200, 200]


async def test_a_wrong_key_is_an_authentication_failure_without_the_key(session, api) -> None:
    wrong = "AIza-wrong-key-9876543210"

    with pytest.raises(errors.AuthenticationFailed) as raised:
        await provider(session, api, key=wrong).generate(call())

    assert raised.value.status == 400
    assert "API key not valid" in raised.value.detail
    assert wrong not in str(raised.value)


async def test_a_key_echoed_back_is_redacted(session, api) -> None:
    api.fail_next(faults.google_error(400, "INVALID_ARGUMENT", f"API key expired: {KEY}. Please renew the API key."))

    with pytest.raises(errors.AuthenticationFailed) as raised:
        await provider(session, api).generate(call())

    assert KEY not in str(raised.value)
    assert "[redacted]" in raised.value.detail


async def test_an_unknown_model_is_rejected(session, api) -> None:
    with pytest.raises(errors.RequestRejected) as raised:
        await provider(session, api).generate(call(model="gemini-9-imaginary"))

    assert raised.value.status == 404
    assert "is not found" in raised.value.detail


async def test_a_hanging_call_times_out(session, api) -> None:
    api.fail_next(faults.hang())

    with pytest.raises(errors.UpstreamTimeout) as raised:
        await provider(session, api, timeout=0.5).generate(call())

    assert raised.value.status is None
    assert api.last_request.status is None


async def test_a_dropped_connection_is_a_connection_failure(session, api) -> None:
    api.fail_next(faults.drop())

    with pytest.raises(errors.ConnectionFailed):
        await provider(session, api).generate(call())


def test_an_answer_that_is_not_json_is_malformed(session, api) -> None:
    with pytest.raises(errors.MalformedAnswer):
        provider(session, api).parse(b"<html>Just a moment...</html>")


def test_an_error_inside_a_200_answer_is_classified_by_its_code(session, api) -> None:
    answer = {"error": {"code": 429, "message": "Resource exhausted.", "status": "RESOURCE_EXHAUSTED"}}

    with pytest.raises(errors.RateLimited):
        provider(session, api).parse(json.dumps(answer).encode())


def test_an_error_page_that_is_not_json_is_classified_by_status(session, api) -> None:
    gemini = provider(session, api)

    assert isinstance(gemini.classify(503, b"<html>503 Service Unavailable</html>", {}), errors.Overloaded)
    assert isinstance(gemini.classify(502, b"<html>Bad Gateway</html>", {}), errors.ServerError)


# -- tiers -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quality", "floor"), [(None, 0), ("1k", 0), ("2k", 2000), ("2K", 2000), ("4k", 3600), ("4K", 3600)]
)
def test_tier_floor_sits_between_geminis_tiers(session, api, quality, floor: int) -> None:
    assert provider(session, api).tier_floor(quality, "1792x1024") == floor


@pytest.mark.parametrize("ratio", ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"])
def test_every_ratio_delivered_at_a_tier_clears_its_floor_and_not_the_next(session, api, ratio: str) -> None:
    gemini = provider(session, api)
    long_sides = {tier: max(faults.output_size(MODEL, ratio, tier)) for tier in ("1K", "2K", "4K")}

    assert gemini.tier_floor("2k", None) > long_sides["1K"]
    assert long_sides["2K"] >= gemini.tier_floor("2k", None) > 0
    assert gemini.tier_floor("4k", None) > long_sides["2K"]
    assert long_sides["4K"] >= gemini.tier_floor("4k", None)
