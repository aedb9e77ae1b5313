"""The loopback OpenRouter, checked with the official `openai` package's chat completions client.

If the vendor's own client parses every answer into its `ChatCompletion` and every error into its exception types,
the stand-in speaks OpenRouter's protocol rather than our guess of it.
"""

import asyncio
import base64
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletion
from PIL import Image

from tests.loopback.openrouter_api import (
    OpenRouterServer,
    api_error,
    bad_gateway,
    choice_error,
    content_filter,
    drop,
    error_in_body,
    hang,
    insufficient_credits,
    low_credit,
    moderation,
    no_provider,
    rate_limited,
    refused,
    text_only,
    timed_out,
)

KEY = "sk-or-v1-standin-test-key"
MODEL = "google/gemini-3-pro-image-preview"
FLASH_25 = "google/gemini-2.5-flash-image"


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[OpenRouterServer]:
    async with OpenRouterServer(api_key=KEY) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_api(api: OpenRouterServer) -> None:
    api.reset()


@pytest.fixture
async def client(api: OpenRouterServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=api.api_base, api_key=KEY, max_retries=0, timeout=10) as openai_client:
        yield openai_client


async def ask(
    client: openai.AsyncOpenAI,
    content: str | list[dict[str, Any]] = "a lighthouse at dusk",
    *,
    image_config: dict[str, str] | None = None,
    modalities: list[str] | None = None,
    **options: Any,
) -> ChatCompletion:
    """One image request as the OpenRouter guide writes it; `None` options are left out of the request."""
    if modalities is None:
        modalities = ["image", "text"]
    extra_body = {"image_config": image_config} if image_config is not None else None
    return await client.chat.completions.create(
        model=options.pop("model", MODEL),
        messages=[{"role": "user", "content": content}],
        modalities=modalities,
        extra_body=extra_body,
        **{name: value for name, value in ({"max_tokens": 1024} | options).items() if value is not None},
    )


def decoded(url: str) -> Image.Image:
    header, _, payload = url.partition(",")
    assert header == "data:image/png;base64"
    return Image.open(io.BytesIO(base64.b64decode(payload)))


def png(color: str, size: tuple[int, int] = (32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


async def test_an_image_answer_parses_into_the_clients_chat_completion(api, client) -> None:
    completion = await ask(client, image_config={"aspect_ratio": "16:9", "image_size": "2K"})

    assert isinstance(completion, ChatCompletion)
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.model_extra == {"native_finish_reason": "STOP"}
    message = choice.message
    assert message.role == "assistant"
    assert message.model_extra is not None
    assert message.model_extra["images"] == message.images  # kept as an extra field
    [image] = message.model_extra["images"]
    assert image["type"] == "image_url"
    assert decoded(image["image_url"]["url"]).size == (2752, 1536)
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0


@pytest.mark.parametrize(
    ("aspect_ratio", "image_size", "pixels"),
    [
        ("1:1", None, (1024, 1024)),
        (None, None, (1024, 1024)),
        ("9:16", "1K", (768, 1376)),
        ("3:2", "2K", (2528, 1696)),
        ("21:9", "2K", (3168, 1344)),
        ("3:4", "4K", (3584, 4800)),
    ],
)
async def test_images_are_made_at_geminis_pixels_for_ratio_and_size(
    api, client, aspect_ratio, image_size, pixels
) -> None:
    config = {key: value for key, value in (("aspect_ratio", aspect_ratio), ("image_size", image_size)) if value}
    completion = await ask(client, image_config=config)

    [image] = completion.choices[0].message.model_extra["images"]
    assert decoded(image["image_url"]["url"]).size == pixels
    assert api.last_request.output_sizes == [pixels]


@pytest.mark.parametrize("image_size", ["2k", "4k", "1024", "8K"])
async def test_an_image_size_other_than_uppercase_1k_2k_4k_is_ignored(api, client, image_size) -> None:
    completion = await ask(client, image_config={"aspect_ratio": "16:9", "image_size": image_size})

    [image] = completion.choices[0].message.model_extra["images"]
    assert decoded(image["image_url"]["url"]).size == (1376, 768)  # 1K
    assert api.last_request.image_config == {"aspect_ratio": "16:9", "image_size": image_size}


async def test_gemini_25_flash_image_makes_1k_whatever_the_image_size(api, client) -> None:
    completion = await ask(client, model=FLASH_25, image_config={"aspect_ratio": "16:9", "image_size": "2K"})

    [image] = completion.choices[0].message.model_extra["images"]
    assert decoded(image["image_url"]["url"]).size == (1344, 768)


@pytest.mark.parametrize("aspect_ratio", ["7:4", "1792x1024", "16/9"])
async def test_an_unknown_aspect_ratio_is_a_bad_request(api, client, aspect_ratio) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await ask(client, image_config={"aspect_ratio": aspect_ratio})

    assert raised.value.status_code == 400
    assert raised.value.body["code"] == 400
    assert "aspect_ratio" in raised.value.body["message"]


async def test_without_image_in_modalities_the_answer_is_text_only(api, client) -> None:
    for modalities in ([], ["text"]):
        completion = await ask(client, modalities=modalities)

        message = completion.choices[0].message
        assert message.content
        assert "images" not in (message.model_extra or {})


async def test_a_wrong_key_is_the_clients_authentication_error(api) -> None:
    async with openai.AsyncOpenAI(base_url=api.api_base, api_key="sk-or-v1-wrong", max_retries=0) as wrong:
        with pytest.raises(openai.AuthenticationError) as raised:
            await ask(wrong)

    assert raised.value.status_code == 401
    assert raised.value.body == {"code": 401, "message": "User not found."}
    assert api.last_request.chat is None  # refused before the body is read


async def test_input_pictures_are_image_url_parts_recorded_in_order(api, client) -> None:
    first, second = png("red"), png("blue")
    content = [
        {"type": "text", "text": "put the red one on the blue one"},
        {"type": "image_url", "image_url": {"url": data_url(first)}},
        {"type": "image_url", "image_url": {"url": data_url(second)}},
    ]
    completion = await ask(client, content, user="member-hash", max_tokens=2048)

    assert completion.choices[0].message.model_extra["images"]
    chat = api.last_request.chat
    assert chat is not None
    assert chat.images == (first, second)
    assert chat.prompt == "put the red one on the blue one"
    assert (chat.user, chat.max_tokens) == ("member-hash", 2048)


async def test_a_damaged_input_picture_is_a_bad_request(api, client) -> None:
    content = [{"type": "text", "text": "x"}, {"type": "image_url", "image_url": {"url": data_url(b"not a png")}}]

    with pytest.raises(openai.BadRequestError):
        await ask(client, content)


async def test_an_unknown_model_is_a_bad_request(api, client) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        await ask(client, model="acme/no-such-model")

    assert "not a valid model ID" in raised.value.body["message"]


async def test_low_credit_without_max_tokens_is_a_402(api, client) -> None:
    api.fail_next(low_credit(), low_credit())

    with pytest.raises(openai.APIStatusError) as raised:
        await ask(client, max_tokens=None)
    served = await ask(client, max_tokens=4096)

    assert raised.value.status_code == 402
    assert "fewer max_tokens" in raised.value.body["message"]
    assert served.choices[0].message.model_extra["images"]


async def test_spent_credits_are_a_402(api, client) -> None:
    api.fail_next(insufficient_credits())

    with pytest.raises(openai.APIStatusError) as raised:
        await ask(client)

    assert type(raised.value) is openai.APIStatusError
    assert raised.value.status_code == 402


async def test_moderation_is_permission_denied_with_its_metadata(api, client) -> None:
    api.fail_next(moderation(reasons=("violence", "harassment")))

    with pytest.raises(openai.PermissionDeniedError) as raised:
        await ask(client)

    metadata = raised.value.body["metadata"]
    assert metadata["reasons"] == ["violence", "harassment"]
    assert len(metadata["flagged_input"]) <= 100
    assert api.last_request.fault == "moderation"


async def test_a_content_filter_refusal_is_a_completion_without_images(api, client) -> None:
    api.fail_next(content_filter())

    completion = await ask(client)

    choice = completion.choices[0]
    assert choice.finish_reason == "content_filter"
    assert choice.model_extra == {"native_finish_reason": "IMAGE_SAFETY"}
    assert "images" not in (choice.message.model_extra or {})


async def test_a_worded_refusal_and_a_text_answer_carry_no_images(api, client) -> None:
    api.fail_next(refused("I can't make that."), text_only("A poem instead."))

    refusal, text = await ask(client), await ask(client)

    assert refusal.choices[0].message.refusal == "I can't make that."
    assert text.choices[0].message.content == "A poem instead."
    assert all("images" not in (c.choices[0].message.model_extra or {}) for c in (refusal, text))


async def test_a_rate_limit_is_the_clients_rate_limit_error_with_retry_after(api, client) -> None:
    api.fail_next(rate_limited(retry_after=3))

    with pytest.raises(openai.RateLimitError) as raised:
        await ask(client)

    assert raised.value.response.headers["retry-after"] == "3"
    assert raised.value.body["code"] == 429


@pytest.mark.parametrize(("fault", "status"), [(bad_gateway(), 502), (no_provider(), 503)])
async def test_server_side_failures_are_internal_server_errors(api, client, fault, status) -> None:
    api.fail_next(fault)

    with pytest.raises(openai.InternalServerError) as raised:
        await ask(client)

    assert raised.value.status_code == status


async def test_a_timeout_at_openrouter_is_a_408(api, client) -> None:
    api.fail_next(timed_out())

    with pytest.raises(openai.APIStatusError) as raised:
        await ask(client)

    assert raised.value.status_code == 408


async def test_errors_after_the_model_started_come_inside_a_200(api, client) -> None:
    api.fail_next(error_in_body(502), choice_error(503))

    whole, in_choice = await ask(client), await ask(client)

    assert whole.model_extra is not None
    assert whole.model_extra["error"]["code"] == 502
    choice = in_choice.choices[0]
    assert choice.finish_reason == "error"
    assert choice.model_extra is not None
    assert choice.model_extra["error"]["code"] == 503


async def test_any_error_can_be_injected_in_openrouters_shape(api, client) -> None:
    api.fail_next(api_error(404, "No endpoints found that support image output", {"provider_name": None}))

    with pytest.raises(openai.NotFoundError) as raised:
        await ask(client)

    assert raised.value.body == {
        "code": 404,
        "message": "No endpoints found that support image output",
        "metadata": {"provider_name": None},
    }


async def test_a_hanging_request_is_the_clients_timeout(api, client) -> None:
    api.fail_next(hang())

    with pytest.raises(openai.APITimeoutError):
        await ask(client.with_options(timeout=0.3))

    assert api.last_request.status is None


async def test_a_dropped_connection_is_the_clients_connection_error(api, client) -> None:
    api.fail_next(drop())

    with pytest.raises(openai.APIConnectionError) as raised:
        await ask(client)

    assert not isinstance(raised.value, openai.APITimeoutError)
    await asyncio.wait_for(api.wait_idle(), 2)
    assert api.last_request.status is None


async def test_latency_delays_the_answer(api, client) -> None:
    api.latency = 0.3
    started = time.monotonic()

    await ask(client)

    assert time.monotonic() - started >= 0.3
