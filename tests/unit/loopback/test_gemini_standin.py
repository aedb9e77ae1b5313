"""The Gemini stand-in, checked with Google's own client (google-genai): it must parse every answer and error."""

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from google import genai
from google.genai import errors, types
from PIL import Image

from tests.loopback.gemini_api import (
    GENERATE_PATH,
    Fault,
    GeminiAPIServer,
    deadline_exceeded,
    drop,
    finished,
    google_error,
    hang,
    no_image,
    overloaded,
    prompt_blocked,
    rate_limited,
    safety,
    server_error,
)
from tests.loopback.image_api.render import render_image

# the SDK subclasses aiohttp.ClientSession, which aiohttp warns about; nothing for these tests to act on
pytestmark = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")

KEY = "AIza-standin-test-key"
PRO = "gemini-3-pro-image-preview"
FLASH = "gemini-2.5-flash-image"
WIDE_2K = types.GenerateContentConfig(
    response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="16:9", image_size="2K")
)


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[GeminiAPIServer]:
    async with GeminiAPIServer(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_api(api: GeminiAPIServer) -> None:
    api.reset()


def make_client(api: GeminiAPIServer, key: str = KEY, **options: object) -> genai.Client:
    # one attempt: the SDK must see each fault itself, not retry past it
    http_options = types.HttpOptions(
        base_url=api.base_url, api_version="v1beta", retry_options=types.HttpRetryOptions(attempts=1), **options
    )
    return genai.Client(api_key=key, http_options=http_options)


@pytest.fixture
async def client(api: GeminiAPIServer) -> AsyncIterator[genai.Client]:
    sdk = make_client(api)
    yield sdk
    await sdk.aio.aclose()


async def generate(
    client: genai.Client, *, model: str = PRO, contents: object = "a lighthouse at dusk", config: object = WIDE_2K
) -> types.GenerateContentResponse:
    return await client.aio.models.generate_content(model=model, contents=contents, config=config)


def image_parts(response: types.GenerateContentResponse) -> list[types.Part]:
    parts = response.candidates[0].content.parts if response.candidates and response.candidates[0].content else []
    return [part for part in parts or [] if part.inline_data is not None]


def pixel_size(data: bytes | None) -> tuple[int, int]:
    assert data is not None
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


def png(size: tuple[int, int]) -> bytes:
    return render_image("input", 0, size, "png").data


# -- answers -------------------------------------------------------------------------------------------------------


async def test_an_image_answer_parses_into_the_sdks_types(client, api) -> None:
    response = await generate(client)

    assert isinstance(response, types.GenerateContentResponse)
    (part,) = image_parts(response)
    assert part.inline_data is not None
    assert part.inline_data.mime_type == "image/png"
    assert pixel_size(part.inline_data.data) == (2752, 1536)
    assert response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata is not None
    assert response.usage_metadata.candidates_token_count == 1120
    assert response.model_version == PRO
    assert response.response_id
    assert api.last_request.output_sizes == [(2752, 1536)]


async def test_the_sdk_sends_camel_case_with_the_key_in_its_header(client, api) -> None:
    await generate(client)

    request = api.last_request
    assert request.key_from == "header"
    assert request.headers["x-goog-api-key"] == KEY
    assert request.model == PRO
    assert request.json is not None
    assert request.json["generationConfig"] == {
        "responseModalities": ["IMAGE"],
        "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
    }


@pytest.mark.parametrize(
    ("model", "ratio", "image_size", "expected"),
    [
        (PRO, "1:1", "1K", (1024, 1024)),
        (PRO, "1:1", "2K", (2048, 2048)),
        (PRO, "1:1", "4K", (4096, 4096)),
        (PRO, "16:9", "1K", (1376, 768)),
        (PRO, "9:16", "2K", (1536, 2752)),
        (PRO, "3:2", "2K", (2528, 1696)),
        (PRO, "4:3", "1K", (1200, 896)),
        (FLASH, "16:9", "1K", (1344, 768)),
        (FLASH, "16:9", "2K", (1344, 768)),  # 2.5 Flash Image makes 1K only, whatever imageSize asks
    ],
)
async def test_pixel_sizes_follow_geminis_table(client, model, ratio, image_size, expected) -> None:
    config = types.GenerateContentConfig(
        response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio=ratio, image_size=image_size)
    )

    response = await generate(client, model=model, config=config)

    (part,) = image_parts(response)
    assert part.inline_data is not None
    assert pixel_size(part.inline_data.data) == expected


async def test_without_image_config_the_image_is_square_1k(client) -> None:
    response = await generate(client, config=types.GenerateContentConfig(response_modalities=["IMAGE"]))

    (part,) = image_parts(response)
    assert part.inline_data is not None
    assert pixel_size(part.inline_data.data) == (1024, 1024)


async def test_text_and_image_modalities_add_a_text_part_before_the_image(client) -> None:
    config = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"])

    response = await generate(client, config=config)

    parts = response.candidates[0].content.parts
    assert [part.text is not None for part in parts] == [True, False]
    assert response.text
    assert len(image_parts(response)) == 1


async def test_thought_images_come_first_and_marked(client, api) -> None:
    api.thought_images = 1

    response = await generate(client)

    parts = response.candidates[0].content.parts
    assert [bool(part.thought) for part in parts] == [True, True, False]
    assert parts[-1].inline_data is not None
    assert pixel_size(parts[-1].inline_data.data) == (2752, 1536)


async def test_an_input_picture_goes_inline_and_is_recorded(client, api) -> None:
    picture = png((320, 180))
    contents = ["put a hat on it", types.Part.from_bytes(data=picture, mime_type="image/png")]

    response = await generate(
        client, contents=contents, config=types.GenerateContentConfig(response_modalities=["IMAGE"])
    )

    assert api.last_request.input_images == [picture]
    assert api.last_request.input_mime_types == ["image/png"]
    (part,) = image_parts(response)
    assert part.inline_data is not None
    assert pixel_size(part.inline_data.data) == (1376, 768)  # no ratio named: the input's 16:9 is followed


async def test_snake_case_fields_are_accepted_and_the_key_may_be_a_query_parameter(api) -> None:
    body = {
        "contents": [{"role": "user", "parts": [{"text": "a kite"}]}],
        "generation_config": {"response_modalities": ["IMAGE"], "image_config": {"aspect_ratio": "3:4"}},
    }
    url = api.base_url + GENERATE_PATH.format(model=PRO)
    async with aiohttp.ClientSession() as http, http.post(url, params={"key": KEY}, json=body) as answer:
        assert answer.status == 200
        parts = (await answer.json())["candidates"][0]["content"]["parts"]

    assert "inlineData" in parts[0]
    assert api.last_request.key_from == "query"
    assert api.last_request.output_sizes == [(896, 1200)]


# -- refusals: HTTP 200 without an image -----------------------------------------------------------------------------


async def test_an_image_safety_refusal_parses_with_no_image(client, api) -> None:
    api.fail_next(safety())

    response = await generate(client)

    assert response.candidates[0].finish_reason == types.FinishReason.IMAGE_SAFETY
    assert image_parts(response) == []
    assert api.last_request.status == 200
    assert api.last_request.fault == "safety"


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (finished("IMAGE_PROHIBITED_CONTENT"), types.FinishReason.IMAGE_PROHIBITED_CONTENT),
        (finished("PROHIBITED_CONTENT"), types.FinishReason.PROHIBITED_CONTENT),
        (finished("IMAGE_OTHER"), types.FinishReason.IMAGE_OTHER),
        (finished("IMAGE_RECITATION"), types.FinishReason.IMAGE_RECITATION),
        (no_image(), types.FinishReason.NO_IMAGE),
    ],
)
async def test_every_finish_reason_without_an_image_parses(client, api, fault: Fault, reason) -> None:
    api.fail_next(fault)

    response = await generate(client)

    assert response.candidates[0].finish_reason == reason
    assert image_parts(response) == []


async def test_no_image_carries_the_models_words(client, api) -> None:
    api.fail_next(no_image("I can only describe that."))

    response = await generate(client)

    assert response.text == "I can only describe that."


async def test_a_blocked_prompt_has_a_block_reason_and_no_candidate(client, api) -> None:
    api.fail_next(prompt_blocked("PROHIBITED_CONTENT"))

    response = await generate(client)

    assert response.prompt_feedback is not None
    assert response.prompt_feedback.block_reason == types.BlockedReason.PROHIBITED_CONTENT
    assert response.candidates is None


# -- errors ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "error_type", "code", "status"),
    [
        (rate_limited(7), errors.ClientError, 429, "RESOURCE_EXHAUSTED"),
        (server_error(), errors.ServerError, 500, "INTERNAL"),
        (overloaded(), errors.ServerError, 503, "UNAVAILABLE"),
        (deadline_exceeded(), errors.ServerError, 504, "DEADLINE_EXCEEDED"),
        (google_error(403, "PERMISSION_DENIED", "Permission denied."), errors.ClientError, 403, "PERMISSION_DENIED"),
    ],
)
async def test_faults_become_the_sdks_errors(client, api, fault: Fault, error_type, code, status) -> None:
    api.fail_next(fault)

    with pytest.raises(error_type) as raised:
        await generate(client)

    assert (raised.value.code, raised.value.status) == (code, status)
    assert raised.value.message


async def test_rate_limits_carry_a_retry_delay(client, api) -> None:
    api.fail_next(rate_limited(7))

    with pytest.raises(errors.ClientError) as raised:
        await generate(client)

    details = raised.value.details["error"]["details"]
    assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"} in details


@pytest.mark.parametrize(
    ("image_config", "wrong"),
    [
        (types.ImageConfig(image_size="2k"), "2k"),
        (types.ImageConfig(image_size="8K"), "8K"),
        (types.ImageConfig(image_size="1024x1024"), "1024x1024"),
        (types.ImageConfig(aspect_ratio="7:4"), "7:4"),
    ],
)
async def test_wrong_image_config_is_invalid_argument(client, api, image_config, wrong: str) -> None:
    config = types.GenerateContentConfig(response_modalities=["IMAGE"], image_config=image_config)

    with pytest.raises(errors.ClientError) as raised:
        await generate(client, config=config)

    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")
    assert wrong in str(raised.value.message)
    assert api.last_request.output_sizes == []


async def test_a_wrong_key_is_api_key_invalid(api) -> None:
    wrong = make_client(api, key="AIza-wrong")
    try:
        with pytest.raises(errors.ClientError) as raised:
            await generate(wrong)
    finally:
        await wrong.aio.aclose()

    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")
    assert raised.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"


async def test_no_key_is_permission_denied(api) -> None:
    url = api.base_url + GENERATE_PATH.format(model=PRO)
    body = {"contents": [{"parts": [{"text": "a kite"}]}]}
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as answer:
        assert answer.status == 403
        assert (await answer.json())["error"]["status"] == "PERMISSION_DENIED"


async def test_an_unknown_model_is_not_found(client) -> None:
    with pytest.raises(errors.ClientError) as raised:
        await generate(client, model="gemini-9-imaginary")

    assert (raised.value.code, raised.value.status) == (404, "NOT_FOUND")
    assert "models/gemini-9-imaginary is not found" in str(raised.value.message)


async def test_an_unknown_field_is_refused_by_name(api) -> None:
    url = api.base_url + GENERATE_PATH.format(model=PRO)
    body = {"contents": [{"parts": [{"text": "a kite"}]}], "generationConfig": {"imageConfig": {"size": "2K"}}}
    async with aiohttp.ClientSession() as http, http.post(url, headers={"x-goog-api-key": KEY}, json=body) as answer:
        error = (await answer.json())["error"]

    assert answer.status == 400
    assert error["message"] == (
        "Invalid JSON payload received. Unknown name \"size\" at 'generation_config.image_config': Cannot find field."
    )


async def test_a_text_only_modality_is_refused_for_an_image_model(client) -> None:
    with pytest.raises(errors.ClientError) as raised:
        await generate(client, config=types.GenerateContentConfig(response_modalities=["TEXT"]))

    assert raised.value.code == 400
    assert "response modalities" in str(raised.value.message)


async def test_a_hanging_request_times_out_in_the_sdk(api) -> None:
    api.fail_next(hang())
    impatient = make_client(api, timeout=300)  # milliseconds
    try:
        with pytest.raises((TimeoutError, aiohttp.ClientError)):
            await generate(impatient)
    finally:
        await impatient.aio.aclose()

    assert api.last_request.fault == "hang"
    assert api.last_request.status is None


async def test_a_dropped_connection_reaches_the_sdk(client, api) -> None:
    api.fail_next(drop())

    with pytest.raises(aiohttp.ServerDisconnectedError):
        await generate(client)

    assert api.last_request.status is None
    assert api.pending_faults == 0
