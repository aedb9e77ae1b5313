"""The openai kind against the OpenAI Images stand-in: the mapping of the bot's options, edits as multipart, every
fault as a typed error, the key kept out of errors, and what each tier promises."""

import asyncio
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image

from bot.core import errors
from bot.core.images import ImageFormat
from bot.core.inputs import InputPicture, PictureRef
from bot.core.providers.base import ProviderCall, ProviderSettings
from bot.core.providers.openai import OpenAIProvider
from bot.core.request import ASPECT_SIZES, ImageRequest
from tests.loopback import openai_api as faults
from tests.loopback.image_api.render import render_image
from tests.loopback.openai_api import EDITS_PATH, GENERATIONS_PATH, OpenAIImagesServer

KEY = "sk-proj-provider-test-key-0042"
MODEL = "gpt-image-1"
CALL = ProviderCall(
    request=ImageRequest(prompt="a red kite", count=2, size="1792x1024", quality="2k"), model=MODEL, user="u-5f3a"
)
LANDSCAPE, PORTRAIT, SQUARE = "1536x1024", "1024x1536", "1024x1024"


class RecordedSleep:
    """Stands in for asyncio.sleep so retry delays are checked without waiting for them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[OpenAIImagesServer]:
    async with OpenAIImagesServer(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_api(api: OpenAIImagesServer) -> None:
    api.reset()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def provider(session, base_url: str, sleep=None, **settings: object) -> OpenAIProvider:
    options = {"name": "openai", "base_url": base_url, "api_key": KEY, "timeout": 10.0} | settings
    return OpenAIProvider(session, ProviderSettings(**options), sleep=sleep or RecordedSleep(), rand=lambda: 0.0)


def with_request(**changes: object) -> ProviderCall:
    fields = {"prompt": "a red kite", "count": 1, "size": None, "quality": None} | changes
    return ProviderCall(request=ImageRequest(**fields), model=MODEL)  # type: ignore[arg-type]


def input_picture(name: str, size: tuple[int, int], image_format: ImageFormat) -> InputPicture:
    encoded = render_image(name, 0, size, image_format.value)  # type: ignore[arg-type]
    return InputPicture(PictureRef(name, f"https://cdn.discordapp.com/{name}"), encoded.data, image_format, *size)


def pixel_sizes(images) -> list[tuple[int, int]]:
    return [Image.open(io.BytesIO(image.data)).size for image in images]


async def test_generation_maps_count_size_quality_and_user(session, api) -> None:
    images = await provider(session, api.base_url).generate(CALL)

    assert api.last_request.path == GENERATIONS_PATH
    assert api.last_request.json == {
        "model": MODEL,
        "prompt": "a red kite",
        "n": 2,
        "size": LANDSCAPE,
        "quality": "high",
        "user": "u-5f3a",
    }
    assert [image.format for image in images] == [ImageFormat.PNG] * 2
    assert pixel_sizes(images) == [(1536, 1024)] * 2
    assert api.last_request.headers["Authorization"] == f"Bearer {KEY}"


async def test_a_base_url_ending_in_v1_reaches_the_same_endpoint(session, api) -> None:
    await provider(session, api.base_url + "/v1/").generate(with_request())

    assert api.last_request.path == GENERATIONS_PATH
    assert api.last_request.status == 200


@pytest.mark.parametrize(
    ("ratio", "sent"),
    [
        ("1:1", SQUARE),
        ("16:9", LANDSCAPE),
        ("3:2", LANDSCAPE),
        ("4:3", LANDSCAPE),
        ("9:16", PORTRAIT),
        ("2:3", PORTRAIT),
        ("3:4", PORTRAIT),
    ],
)
async def test_each_ratio_asks_for_its_gpt_image_size(session, api, ratio, sent) -> None:
    images = await provider(session, api.base_url).generate(with_request(size=ASPECT_SIZES[ratio], quality="4k"))

    assert api.last_request.json is not None
    assert api.last_request.json["size"] == sent
    width, height = sent.split("x")
    assert pixel_sizes(images) == [(int(width), int(height))]


async def test_no_ratio_leaves_the_size_to_the_model(session, api) -> None:
    images = await provider(session, api.base_url).generate(with_request())

    assert api.last_request.json is not None
    assert "size" not in api.last_request.json
    assert pixel_sizes(images) == [(1024, 1024)]


@pytest.mark.parametrize(("tier", "sent"), [(None, "medium"), ("1k", "medium"), ("2k", "high"), ("4k", "high")])
async def test_each_tier_asks_for_its_quality(session, api, tier, sent) -> None:
    await provider(session, api.base_url).generate(with_request(quality=tier))

    assert api.last_request.json is not None
    assert api.last_request.json["quality"] == sent


async def test_no_response_format_style_or_user_unless_given(session, api) -> None:
    await provider(session, api.base_url).generate(with_request(style="vivid"))

    assert api.last_request.json is not None
    assert set(api.last_request.json) == {"model", "prompt", "n", "quality"}


async def test_edit_sends_every_picture_in_order_as_multipart(session, api) -> None:
    pictures = (
        input_picture("cat.png", (320, 240), ImageFormat.PNG),
        input_picture("hat.jpg", (200, 200), ImageFormat.JPEG),
        input_picture("sky.webp", (240, 320), ImageFormat.WEBP),
    )
    call = ProviderCall(request=CALL.request, model=MODEL, user="u-5f3a", pictures=pictures)

    images = await provider(session, api.base_url).edit(call)

    record = api.last_request
    assert record.path == EDITS_PATH
    assert record.headers["Content-Type"].startswith("multipart/form-data")
    assert [(f.filename, f.content_type, f.data) for f in record.files_named("image[]")] == [
        ("image-1.png", "image/png", pictures[0].data),
        ("image-2.jpg", "image/jpeg", pictures[1].data),
        ("image-3.webp", "image/webp", pictures[2].data),
    ]
    assert record.fields == {
        "model": MODEL,
        "prompt": "a red kite",
        "n": "2",
        "size": LANDSCAPE,
        "quality": "high",
        "user": "u-5f3a",
    }
    assert pixel_sizes(images) == [(1536, 1024)] * 2


async def test_a_retried_edit_sends_its_pictures_again(session, api) -> None:
    api.fail_next(faults.server_error())
    call = ProviderCall(
        request=with_request().request, model=MODEL, pictures=(input_picture("a.png", (64, 64), ImageFormat.PNG),)
    )

    images = await provider(session, api.base_url, max_retries=1).edit(call)

    assert len(images) == 1
    assert [len(record.files_named("image[]")) for record in api.requests] == [1, 1]


@pytest.mark.parametrize("edit", [False, True])
async def test_a_safety_refusal_is_safety_refused(session, api, edit) -> None:
    api.fail_next(faults.moderation_blocked())
    pictures = (input_picture("a.png", (64, 64), ImageFormat.PNG),) if edit else ()
    call = ProviderCall(request=CALL.request, model=MODEL, pictures=pictures)
    openai = provider(session, api.base_url, max_retries=3)

    with pytest.raises(errors.SafetyRefused) as refused:
        await (openai.edit(call) if edit else openai.generate(call))

    assert refused.value.status == 400
    assert "safety system" in str(refused.value)
    assert len(api.requests) == 1  # never retried


async def test_a_wrong_key_is_authentication_failed(session, api) -> None:
    wrong = provider(session, api.base_url, api_key="sk-proj-wrong-key-000000")

    with pytest.raises(errors.AuthenticationFailed) as refused:
        await wrong.generate(CALL)

    assert refused.value.status == 401
    assert "sk-proj-wrong-key-000000" not in str(refused.value)


@pytest.mark.parametrize("header", [True, False])
async def test_a_rate_limit_carries_its_wait(session, api, header) -> None:
    api.fail_next(faults.rate_limited(retry_after=12, header=header))

    with pytest.raises(errors.RateLimited) as limited:
        await provider(session, api.base_url).generate(CALL)

    assert limited.value.retry_after == 12
    assert limited.value.status == 429


async def test_a_rate_limit_is_retried_after_its_wait(session, api) -> None:
    api.fail_next(faults.rate_limited(retry_after=2))
    sleep = RecordedSleep()

    images = await provider(session, api.base_url, sleep=sleep, max_retries=1).generate(CALL)

    assert len(images) == 2
    assert sleep.delays == [2.0]


async def test_insufficient_quota_is_upstream_quota_exhausted(session, api) -> None:
    api.fail_next(faults.insufficient_quota())

    with pytest.raises(errors.UpstreamQuotaExhausted):
        await provider(session, api.base_url, max_retries=3).generate(CALL)

    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (faults.server_error(500), errors.ServerError),
        (faults.server_error(502), errors.ServerError),
        (faults.overloaded(), errors.Overloaded),
        (faults.empty_data(), errors.EmptyResult),
        (faults.drop(), errors.ConnectionFailed),
    ],
)
async def test_each_fault_is_its_typed_error(session, api, fault, error) -> None:
    api.fail_next(fault)

    with pytest.raises(error):
        await provider(session, api.base_url).generate(CALL)


async def test_a_hanging_request_is_an_upstream_timeout(session, api) -> None:
    api.fail_next(faults.hang())

    with pytest.raises(errors.UpstreamTimeout):
        await provider(session, api.base_url, timeout=0.3).generate(CALL)


async def test_a_refused_connection_is_connection_failed(session, api) -> None:
    async with OpenAIImagesServer(api_key=KEY) as gone:
        dead_url = gone.base_url

    with pytest.raises(errors.ConnectionFailed):
        await provider(session, dead_url).generate(CALL)


async def test_another_bad_request_is_rejected_with_the_apis_reason(session, api) -> None:
    message = "Invalid image file or mode for image 1, please check your image file."
    api.fail_next(faults.api_error(400, message, type_="invalid_request_error", code="invalid_image_file"))

    with pytest.raises(errors.RequestRejected) as rejected:
        await provider(session, api.base_url).generate(CALL)

    assert rejected.value.detail == message
    assert rejected.value.status == 400


async def test_a_model_the_account_lacks_is_rejected(session, api) -> None:
    call = ProviderCall(request=CALL.request, model="gpt-image-9")

    with pytest.raises(errors.RequestRejected) as rejected:
        await provider(session, api.base_url).generate(call)

    assert rejected.value.status == 404
    assert "gpt-image-9" in rejected.value.detail


@pytest.mark.parametrize(
    "fault",
    [
        faults.api_error(400, f"bad request for key {KEY}", type_="invalid_request_error", code="invalid_value"),
        faults.api_error(401, f"Incorrect API key provided: {KEY}.", type_="invalid_request_error"),
        faults.api_error(429, f"slow down, {KEY}", type_="requests", code="rate_limit_exceeded"),
        faults.api_error(500, f"upstream said {KEY}", type_="server_error"),
        faults.moderation_blocked(),
    ],
)
async def test_the_key_never_appears_in_an_error(session, api, fault) -> None:
    api.fail_next(fault)

    with pytest.raises(errors.ImageAPIError) as failed:
        await provider(session, api.base_url).generate(CALL)

    assert KEY not in str(failed.value)
    assert KEY not in failed.value.detail
    assert all(KEY not in str(arg) for arg in failed.value.args)


@pytest.mark.parametrize(
    ("headers", "message", "seconds"),
    [
        ({"retry-after-ms": "1500"}, "", 1.5),
        ({"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1m30.5s"}, "", 90.5),
        ({"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "250ms"}, "", 0.25),
        ({"x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "20s"}, "", 0.0),
        ({}, "Rate limit reached. Please try again in 6m0s. Visit …", 360.0),
    ],
)
def test_the_wait_of_a_rate_limit_is_read_from_each_place_openai_puts_it(headers, message, seconds) -> None:
    body = f'{{"error": {{"message": "{message}", "type": "requests", "code": "rate_limit_exceeded"}}}}'.encode()

    error = OpenAIProvider.classify(None, 429, body, headers)  # type: ignore[arg-type]

    assert isinstance(error, errors.RateLimited)
    assert error.retry_after == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, b'{"error": {"message": "Your request was rejected as a result of our safety system.", '
              b'"type": "image_generation_user_error", "param": null, "code": null}}', errors.SafetyRefused),
        (403, b'{"error": {"message": "Your organization must be verified.", "type": "invalid_request_error"}}',
         errors.AuthenticationFailed),
        (504, b"<html>Gateway Time-out</html>", errors.UpstreamTimeout),
        (520, b"", errors.ServerError),
    ],
)  # fmt: skip
def test_other_failures_are_classified(status, body, error) -> None:
    assert type(OpenAIProvider.classify(None, status, body, {})) is error  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [b"<html>Just a moment...</html>", b"[]", b'{"data": {}}'])
def test_an_answer_that_is_not_an_images_response_is_malformed(raw) -> None:
    with pytest.raises(errors.MalformedAnswer):
        OpenAIProvider.parse(None, raw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("quality", "size", "floor"),
    [
        (None, "1024x1024", 0),
        ("1k", "1792x1024", 0),
        ("2k", "1024x1024", 1024),
        ("2k", "1792x1024", 1536),
        ("4k", "960x1280", 1536),
        ("4k", None, 1024),
    ],
)
def test_tier_floor_is_the_largest_size_for_the_ratio_above_1k(session, quality, size, floor) -> None:
    assert provider(session, "https://api.openai.com").tier_floor(quality, size) == floor
