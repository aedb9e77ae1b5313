"""The OpenAI Images stand-in, called by the official `openai` client: its answers and errors parse into the client's
own types, so the stand-in speaks the vendor's protocol rather than our guess of it."""

import asyncio
import base64
import io
from collections.abc import AsyncIterator

import aiohttp
import openai
import pytest
from openai.types import Image as OpenAIImage
from openai.types import ImagesResponse
from openai.types.images_response import Usage
from PIL import Image

from tests.loopback import openai_api as faults
from tests.loopback.image_api.render import render_image
from tests.loopback.openai_api import EDITS_PATH, GENERATIONS_PATH, OpenAIImagesServer

KEY = "sk-proj-loopback-0123456789abcdef"
PROMPT = "a lighthouse at dusk"


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[OpenAIImagesServer]:
    async with OpenAIImagesServer(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_api(api: OpenAIImagesServer) -> None:
    api.reset()


@pytest.fixture
async def client(api: OpenAIImagesServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=api.base_url + "/v1", api_key=KEY, max_retries=0, timeout=20) as official:
        yield official


def picture(size: tuple[int, int], image_format: str = "png", seed: str = "input") -> bytes:
    return render_image(seed, 0, size, image_format).data  # type: ignore[arg-type]


def decoded(item: OpenAIImage) -> Image.Image:
    assert item.b64_json is not None
    return Image.open(io.BytesIO(base64.b64decode(item.b64_json)))


async def test_generate_parses_into_the_clients_types(client, api) -> None:
    answer = await client.images.generate(model="gpt-image-1", prompt=PROMPT, n=2, size="1536x1024", quality="high")

    assert isinstance(answer, ImagesResponse)
    assert answer.data is not None
    assert [(decoded(item).format, decoded(item).size) for item in answer.data] == [("PNG", (1536, 1024))] * 2
    assert (answer.size, answer.quality, answer.output_format, answer.background) == (
        "1536x1024",
        "high",
        "png",
        "opaque",
    )
    assert isinstance(answer.usage, Usage)
    assert answer.usage.output_tokens == 2 * 6240
    assert api.last_request.path == GENERATIONS_PATH
    assert api.last_request.json == {
        "model": "gpt-image-1",
        "prompt": PROMPT,
        "n": 2,
        "size": "1536x1024",
        "quality": "high",
    }


async def test_auto_resolves_in_the_answer(client) -> None:
    answer = await client.images.generate(model="gpt-image-1-mini", prompt=PROMPT)

    assert answer.data is not None
    assert len(answer.data) == 1
    assert decoded(answer.data[0]).size == (1024, 1024)
    assert (answer.size, answer.quality, answer.background) == ("1024x1024", "high", "opaque")


@pytest.mark.parametrize(("output_format", "pillow_format"), [("jpeg", "JPEG"), ("webp", "WEBP")])
async def test_output_format_is_honoured(client, output_format, pillow_format) -> None:
    answer = await client.images.generate(model="gpt-image-1", prompt=PROMPT, output_format=output_format)

    assert answer.data is not None
    assert decoded(answer.data[0]).format == pillow_format
    assert answer.output_format == output_format


async def test_gpt_image_2_takes_any_size_in_its_limits(client) -> None:
    answer = await client.images.generate(model="gpt-image-2", prompt=PROMPT, size="1536x864")

    assert answer.data is not None
    assert decoded(answer.data[0]).size == (1536, 864)

    with pytest.raises(openai.BadRequestError) as refused:
        await client.images.generate(model="gpt-image-2", prompt=PROMPT, size="1000x1000")
    assert (refused.value.code, refused.value.param) == ("invalid_value", "size")


async def test_edit_takes_two_pictures_as_image_array(client, api) -> None:
    first, second = picture((640, 480), "png", "first"), picture((300, 300), "webp", "second")

    answer = await client.images.edit(
        model="gpt-image-1",
        image=[("first.png", first, "image/png"), ("second.webp", second, "image/webp")],
        prompt="put them side by side",
        n=2,
        size="1024x1536",
        quality="medium",
    )

    assert isinstance(answer, ImagesResponse)
    assert answer.data is not None
    assert [decoded(item).size for item in answer.data] == [(1024, 1536)] * 2
    assert answer.usage is not None
    assert answer.usage.input_tokens_details.image_tokens > 0
    record = api.last_request
    assert record.path == EDITS_PATH
    assert [(upload.filename, upload.content_type, upload.data) for upload in record.files_named("image[]")] == [
        ("first.png", "image/png", first),
        ("second.webp", "image/webp", second),
    ]
    assert record.fields == {
        "model": "gpt-image-1",
        "prompt": "put them side by side",
        "n": "2",
        "size": "1024x1536",
        "quality": "medium",
    }


async def test_edit_takes_one_picture_as_image_and_sizes_auto_by_it(client, api) -> None:
    answer = await client.images.edit(
        model="gpt-image-1", image=("wide.png", picture((800, 400)), "image/png"), prompt="make it night"
    )

    assert answer.data is not None
    assert decoded(answer.data[0]).size == (1536, 1024)
    assert len(api.last_request.files_named("image")) == 1


async def test_edit_takes_a_mask_of_the_first_pictures_size(client, api) -> None:
    mask = io.BytesIO()
    Image.new("RGBA", (640, 480), (0, 0, 0, 0)).save(mask, format="PNG")
    image = ("photo.png", picture((640, 480)), "image/png")

    answer = await client.images.edit(
        model="gpt-image-1", image=[image], mask=("mask.png", mask.getvalue(), "image/png"), prompt="add a moon"
    )

    assert answer.data is not None
    assert len(api.last_request.files_named("mask")) == 1

    wrong = io.BytesIO()
    Image.new("RGBA", (64, 64)).save(wrong, format="PNG")
    with pytest.raises(openai.BadRequestError) as refused:
        await client.images.edit(
            model="gpt-image-1", image=[image], mask=("mask.png", wrong.getvalue(), "image/png"), prompt="add a moon"
        )
    assert refused.value.param == "mask"


async def test_edit_refuses_more_than_sixteen_pictures(client) -> None:
    image = ("tiny.png", picture((32, 32)), "image/png")

    with pytest.raises(openai.BadRequestError) as refused:
        await client.images.edit(model="gpt-image-1", image=[image] * 17, prompt="a collage")

    assert (refused.value.code, refused.value.param) == ("array_above_max_length", "image")


async def test_edit_refuses_a_file_that_is_no_picture(client) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await client.images.edit(model="gpt-image-1", image=("notes.txt", b"hello", "text/plain"), prompt="draw it")

    assert (refused.value.code, refused.value.param) == ("unsupported_file_mimetype", "image")
    assert "text/plain" in refused.value.message


@pytest.mark.parametrize(
    ("params", "param", "code"),
    [
        ({"size": "1792x1024"}, "size", "invalid_value"),
        ({"quality": "hd"}, "quality", "invalid_value"),
        ({"quality": "HIGH"}, "quality", "invalid_value"),
        ({"n": 0}, "n", "integer_below_min_value"),
        ({"n": 11}, "n", "integer_above_max_value"),
        ({"response_format": "b64_json"}, "response_format", "unknown_parameter"),
        ({"style": "vivid"}, "style", "unknown_parameter"),
        ({"background": "transparent", "output_format": "jpeg"}, "background", "invalid_value"),
    ],
)
async def test_invalid_parameters_get_the_vendors_error(client, params, param, code) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await client.images.generate(model="gpt-image-1", prompt=PROMPT, **params)

    error = refused.value
    assert (error.status_code, error.type, error.param, error.code) == (400, "invalid_request_error", param, code)
    assert error.body is not None
    assert error.request_id is not None
    assert error.request_id.startswith("req_")


async def test_a_missing_prompt_is_named(client) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await client.post("/images/generations", body={"model": "gpt-image-1"}, cast_to=ImagesResponse)

    assert (refused.value.param, refused.value.code) == ("prompt", "missing_required_parameter")
    assert refused.value.message.endswith("Missing required parameter: 'prompt'.")


async def test_an_unknown_model_is_not_found(client) -> None:
    with pytest.raises(openai.NotFoundError) as refused:
        await client.images.generate(model="dall-e-3", prompt=PROMPT)

    assert refused.value.code == "model_not_found"


async def test_a_wrong_key_is_an_authentication_error(api) -> None:
    wrong_key = "sk-proj-not-the-right-key-9999"
    async with openai.AsyncOpenAI(base_url=api.base_url + "/v1", api_key=wrong_key, max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError) as refused:
            await client.images.generate(model="gpt-image-1", prompt=PROMPT)

    assert (refused.value.status_code, refused.value.code) == (401, "invalid_api_key")
    assert wrong_key not in refused.value.message
    assert wrong_key[-4:] in refused.value.message  # masked as the API does
    assert api.requests[-1].json is None  # refused before the body is read


async def test_a_missing_key_is_an_authentication_error(api) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(api.base_url + GENERATIONS_PATH, json={"prompt": PROMPT}) as response,
    ):
        body = await response.json()

    assert response.status == 401
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert "didn't provide an API key" in body["error"]["message"]


async def test_a_safety_refusal_is_a_bad_request_with_moderation_blocked(client, api) -> None:
    api.fail_next(faults.moderation_blocked())

    with pytest.raises(openai.BadRequestError) as refused:
        await client.images.generate(model="gpt-image-1", prompt=PROMPT)

    assert (refused.value.code, refused.value.type) == ("moderation_blocked", "image_generation_user_error")
    assert "safety system" in refused.value.message
    assert api.last_request.fault == "safety"


async def test_a_safety_refusal_of_an_edit_too(client, api) -> None:
    api.fail_next(faults.moderation_blocked())

    with pytest.raises(openai.BadRequestError) as refused:
        await client.images.edit(model="gpt-image-1", image=("a.png", picture((64, 64)), "image/png"), prompt="x")

    assert refused.value.code == "moderation_blocked"


async def test_rate_limit_carries_its_wait(client, api) -> None:
    api.fail_next(faults.rate_limited(retry_after=12))

    with pytest.raises(openai.RateLimitError) as limited:
        await client.images.generate(model="gpt-image-1", prompt=PROMPT)

    error = limited.value
    assert (error.status_code, error.code, error.type) == (429, "rate_limit_exceeded", "requests")
    assert error.response.headers["retry-after"] == "12"
    assert error.response.headers["x-ratelimit-remaining-requests"] == "0"
    assert error.response.headers["x-ratelimit-reset-requests"] == "12s"
    assert "Please try again in 12s." in error.message


async def test_insufficient_quota_is_a_rate_limit_error_with_its_code(client, api) -> None:
    api.fail_next(faults.insufficient_quota())

    with pytest.raises(openai.RateLimitError) as limited:
        await client.images.generate(model="gpt-image-1", prompt=PROMPT)

    assert (limited.value.code, limited.value.type) == ("insufficient_quota", "insufficient_quota")


@pytest.mark.parametrize(("fault", "status"), [(faults.server_error(), 500), (faults.overloaded(), 503)])
async def test_server_faults_are_internal_server_errors(client, api, fault, status) -> None:
    api.fail_next(fault)

    with pytest.raises(openai.InternalServerError) as failed:
        await client.images.generate(model="gpt-image-1", prompt=PROMPT)

    assert (failed.value.status_code, failed.value.type) == (status, "server_error")


async def test_latency_delays_every_answer(client, api) -> None:
    api.latency = 0.2
    started = asyncio.get_running_loop().time()

    await client.images.generate(model="gpt-image-1", prompt=PROMPT)

    assert asyncio.get_running_loop().time() - started >= 0.2


async def test_empty_data_parses_as_an_answer_without_images(client, api) -> None:
    api.fail_next(faults.empty_data())

    answer = await client.images.generate(model="gpt-image-1", prompt=PROMPT)

    assert answer.data == []


async def test_a_hanging_request_times_the_client_out(api) -> None:
    api.fail_next(faults.hang())
    async with openai.AsyncOpenAI(base_url=api.base_url + "/v1", api_key=KEY, max_retries=0, timeout=0.3) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.images.generate(model="gpt-image-1", prompt=PROMPT)

    assert api.last_request.status is None


async def test_a_dropped_connection_is_a_connection_error(client, api) -> None:
    api.fail_next(faults.drop())

    with pytest.raises(openai.APIConnectionError) as failed:
        await client.images.generate(model="gpt-image-1", prompt=PROMPT)

    assert not isinstance(failed.value, openai.APITimeoutError)
    assert api.last_request.fault == "drop"


async def test_faults_wait_for_a_request_that_passes_the_checks(client, api) -> None:
    api.fail_next(faults.server_error())

    with pytest.raises(openai.BadRequestError):
        await client.images.generate(model="gpt-image-1", prompt=PROMPT, quality="ultra")
    assert api.pending_faults == 1
    with pytest.raises(openai.InternalServerError):
        await client.images.generate(model="gpt-image-1", prompt=PROMPT)
    assert api.pending_faults == 0
