"""The gateway kind against the loopback image API: shapes, retries, deadlines, the concurrency cap, the body."""

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.core import errors
from bot.core.images import ImageFormat
from bot.core.inputs import InputPicture, PictureRef
from bot.core.providers.base import ProviderCall, ProviderSettings
from bot.core.providers.body import StreamedJSON
from bot.core.providers.gateway import GatewayOptions, GatewayProvider
from bot.core.providers.router import Router, Upstream
from bot.core.request import ImageRequest
from tests.loopback import image_api as faults
from tests.loopback.image_api import ImageAPIServer

KEY = "sk-client-test-key-42"
MODELS = ("gemini-3-pro-image-preview", "gemini-2.5-flash-image")
REQUEST = ImageRequest(prompt="a red kite", model="gemini-3-pro-image-preview", count=2, size="256x256")


class RecordedSleep:
    """Stands in for asyncio.sleep so retry delays are checked without waiting for them."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


@pytest.fixture
async def api() -> AsyncIterator[ImageAPIServer]:
    async with ImageAPIServer(api_key=KEY) as server:
        yield server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def make_client(session, api, sleep=None, concurrency=None, response_format="b64_json", **config: object) -> Router:
    """A router with one gateway provider serving REQUEST's model, as a deployment without a providers file has."""
    base_url = api.base_url if api is not None else "http://127.0.0.1:9"
    settings = {"name": "gateway", "base_url": base_url, "api_key": KEY, "max_retries": 3, "timeout": 10.0} | config
    options = GatewayOptions(response_format=response_format)
    provider = GatewayProvider(
        session, ProviderSettings(**settings), options=options, sleep=sleep or RecordedSleep(), rand=lambda: 0.0
    )
    return Router([Upstream(provider, {model: model for model in MODELS}, concurrency=concurrency)])


@pytest.mark.parametrize("shape", ["b64_json", "url", "data_url", "empty_strings", "markdown"])
async def test_every_answer_shape_gives_the_images(session, api, shape) -> None:
    api.answer_shape = shape

    generation = await make_client(session, api).generate(REQUEST)

    assert [image.format for image in generation.images] == [ImageFormat.PNG] * 2
    assert all(image.data.startswith(b"\x89PNG") for image in generation.images)
    assert generation.seconds > 0


@pytest.mark.parametrize(("fmt", "expected"), [("jpeg", ImageFormat.JPEG), ("webp", ImageFormat.WEBP)])
async def test_formats_are_told_by_their_bytes(session, api, fmt, expected) -> None:
    api.image_format = fmt
    api.answer_shape = "url"

    generation = await make_client(session, api, response_format="url").generate(REQUEST)

    assert [image.format for image in generation.images] == [expected] * 2
    assert api.last_request.json["response_format"] == "url"


async def test_retry_after_is_honoured_then_the_images_come(session, api) -> None:
    sleep = RecordedSleep()
    api.fail_next(faults.rate_limited(retry_after=3))

    generation = await make_client(session, api, sleep).generate(REQUEST)

    assert len(generation.images) == 2
    assert sleep.delays == [3.0]
    assert [request.status for request in api.requests] == [429, 200]


async def test_retry_in_text_is_honoured(session, api) -> None:
    sleep = RecordedSleep()
    api.fail_next(faults.error_code_int(429, retry_in=7))

    await make_client(session, api, sleep).generate(REQUEST)

    assert sleep.delays == [7.0]


async def test_server_faults_back_off_exponentially(session, api) -> None:
    sleep = RecordedSleep()
    api.fail_next(faults.server_error(500), faults.server_error(502, html=True), faults.overloaded())

    generation = await make_client(session, api, sleep).generate(REQUEST)

    assert len(generation.images) == 2
    assert sleep.delays == [0.5, 1.0, 2.0]  # jitter pinned to its low end


async def test_gives_up_after_the_retry_limit(session, api) -> None:
    api.fail_next(*(faults.overloaded() for _ in range(4)))

    with pytest.raises(errors.Overloaded):
        await make_client(session, api).generate(REQUEST)

    assert len(api.requests) == 4


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (faults.safety(), errors.SafetyRefused),
        (faults.quota_exhausted(), errors.UpstreamQuotaExhausted),
        (faults.unauthorized(), errors.AuthenticationFailed),
        (faults.empty_data(), errors.SafetyRefused),
        (faults.not_json(), errors.MalformedAnswer),
        (faults.dead_url(), errors.DownloadFailed),
        (faults.empty_response(), errors.EmptyResult),
        (faults.api_error(400, "size is not supported", code="invalid_size"), errors.RequestRejected),
    ],
    ids=lambda value: getattr(value, "name", None) or value.__name__,
)
async def test_refusals_are_typed_and_not_retried(session, api, fault, error) -> None:
    sleep = RecordedSleep()
    api.fail_next(fault)

    with pytest.raises(error):
        await make_client(session, api, sleep).generate(REQUEST)

    assert len(api.requests) == 1
    assert sleep.delays == []


async def test_a_wrong_key_is_an_authentication_failure(session, api) -> None:
    client = make_client(session, api, api_key="sk-wrong")

    with pytest.raises(errors.AuthenticationFailed) as raised:
        await client.generate(REQUEST)

    assert raised.value.status == 401


async def test_a_hang_times_out_within_the_deadline(session, api) -> None:
    api.fail_next(faults.hang())
    client = make_client(session, api, timeout=0.5)

    async with asyncio.timeout(5):
        with pytest.raises(errors.UpstreamTimeout):
            await client.generate(REQUEST)


async def test_a_retry_that_would_pass_the_deadline_is_not_attempted(session, api) -> None:
    sleep = RecordedSleep()
    api.fail_next(faults.rate_limited(retry_after=30))

    with pytest.raises(errors.RateLimited) as raised:
        await make_client(session, api, sleep, timeout=10.0).generate(REQUEST)

    assert raised.value.retry_after == 30
    assert sleep.delays == []


async def test_an_unreachable_api_is_a_connection_failure(session) -> None:
    sleep = RecordedSleep()

    with pytest.raises(errors.ConnectionFailed):
        await make_client(session, None, sleep, max_retries=1).generate(REQUEST)

    assert sleep.delays == [0.5]


async def test_an_oversized_download_is_refused(session, api) -> None:
    api.answer_shape = "url"

    with pytest.raises(errors.DownloadFailed, match="larger than"):
        await make_client(session, api, download_max_bytes=1024).generate(REQUEST)


async def test_the_key_is_redacted_from_errors(session, api) -> None:
    api.fail_next(faults.api_error(400, f"bad key {KEY} for this model", code="invalid_request"))

    with pytest.raises(errors.RequestRejected) as raised:
        await make_client(session, api).generate(REQUEST)

    assert KEY not in str(raised.value)
    assert KEY not in raised.value.detail
    assert "[redacted]" in raised.value.detail


async def test_requests_beyond_the_cap_wait_for_a_slot(session, api) -> None:
    api.latency = 0.2
    client = make_client(session, api, concurrency=2)

    await asyncio.gather(*(client.generate(REQUEST) for _ in range(5)))

    assert api.max_in_flight == 2
    assert len(api.requests) == 5


async def test_the_request_body_is_what_was_asked(session, api) -> None:
    request = ImageRequest(
        prompt="a kite", model="gemini-2.5-flash-image", count=1, size="512x512", quality="2k", style="vivid"
    )

    await make_client(session, api).generate(request, user="u-x")

    assert api.last_request.json == {
        "model": "gemini-2.5-flash-image",
        "prompt": "a kite",
        "n": 1,
        "size": "512x512",
        "quality": "2k",
        "style": "vivid",
        "user": "u-x",
        "response_format": "b64_json",
    }
    assert api.last_request.headers["Authorization"] == f"Bearer {KEY}"


def body_of(request: ImageRequest, options: GatewayOptions | None = None, **call: object) -> dict[str, object]:
    settings = ProviderSettings(name="gateway", base_url="http://gateway.invalid/v1", api_key=KEY)
    provider = GatewayProvider(None, settings, options=options)  # type: ignore[arg-type]  # body() makes no call
    body = provider.body(ProviderCall(request=request, model=request.model or "", **call), False, request.count)
    assert isinstance(body, dict)
    sent: dict[str, object] = json.loads(StreamedJSON(body).decode())  # as it goes out, pictures encoded
    return sent


def test_body_carries_every_field_that_is_set() -> None:
    request = ImageRequest(
        prompt="a fox", model="gemini-3-pro-image-preview", count=3, size="1792x1024", quality="2k", style="vivid"
    )
    picture = InputPicture(PictureRef("a.png", "https://cdn.invalid/a.png"), b"\x89PNG....", ImageFormat.PNG, 1, 1)
    options = GatewayOptions(response_format="url")
    assert body_of(request, options, user="u-1", pictures=(picture,)) == {
        "model": "gemini-3-pro-image-preview",
        "prompt": "a fox",
        "n": 3,
        "size": "1792x1024",
        "quality": "2k",
        "style": "vivid",
        "user": "u-1",
        "response_format": "url",
        "image": ["data:image/png;base64," + base64.b64encode(b"\x89PNG....").decode()],
    }


def test_unset_optional_fields_are_left_out() -> None:
    body = body_of(ImageRequest(prompt="a fox", model="m"))
    assert body == {"model": "m", "prompt": "a fox", "n": 1, "response_format": "b64_json"}


def test_a_gateway_gets_the_quality_values_and_size_format_it_takes() -> None:
    options = GatewayOptions(quality_values={"1k": "1K", "2k": "2K", "4k": "4K"}, size_format="ratio")

    body = body_of(ImageRequest(prompt="a fox", model="m", size="1792x1024", quality="2k"), options)

    assert (body["quality"], body["size"]) == ("2K", "16:9")


def test_the_api_root_may_be_given_with_or_without_its_version() -> None:
    call = ProviderCall(request=ImageRequest(prompt="a fox", model="m"), model="m")
    urls = {
        GatewayProvider(None, ProviderSettings(name="g", base_url=base, api_key=KEY)).url(call, False)  # type: ignore[arg-type]
        for base in ("https://gw.invalid", "https://gw.invalid/", "https://gw.invalid/v1", "https://gw.invalid/v1/")
    }
    assert urls == {"https://gw.invalid/v1/images/generations"}
