"""The loopback image API: answer shapes, image formats and sizes, request checks, records."""

import asyncio
import base64
import io
import json
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from multidict import CIMultiDictProxy
from PIL import Image

from tests.loopback.image_api import GENERATIONS_PATH, ImageAPIServer
from tests.loopback.image_api import server as server_module
from tests.loopback.image_api.render import render_images

KEY = "test-key"
MARKDOWN_IMAGE = re.compile(r"!\[image\]\((data:image/png;base64,[A-Za-z0-9+/=]+)\)")


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[ImageAPIServer]:
    server = ImageAPIServer(api_key=KEY)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def fresh_api(api: ImageAPIServer) -> None:
    api.reset()


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def generate(
    http: aiohttp.ClientSession, api: ImageAPIServer, body: object = None, *, raw: bytes | None = None, key: str = KEY
) -> Answer:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    payload = {"json": body} if raw is None else {"data": io.BytesIO(raw)}  # a stream: big bodies stay off the loop
    async with http.post(api.base_url + GENERATIONS_PATH, headers=headers, **payload) as response:
        return Answer(response.status, response.headers, await response.read())


async def download(http: aiohttp.ClientSession, url: str) -> Answer:
    async with http.get(url) as response:
        return Answer(response.status, response.headers, await response.read())


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_url_is_the_default_and_links_serve_the_image(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    answer = await generate(http, api, {"prompt": "a lighthouse at dusk"})

    assert answer.status == 200
    body = answer.json()
    assert isinstance(body["created"], int)
    [item] = body["data"]
    assert item["url"].startswith(f"{api.base_url}/files/")
    image = await download(http, item["url"])
    assert image.status == 200
    assert image.headers["Content-Type"] == "image/png"
    assert picture(image.body).size == (1024, 1024)
    assert api.image_fetches == 1


async def test_b64_json_answer_holds_n_distinct_images_of_the_requested_size(
    http: aiohttp.ClientSession, api: ImageAPIServer
) -> None:
    body = {"prompt": "tiles", "n": 3, "size": "320x192", "response_format": "b64_json"}
    answer = await generate(http, api, body)

    data = [base64.b64decode(item["b64_json"]) for item in answer.json()["data"]]
    assert [picture(image).size for image in data] == [(320, 192)] * 3
    assert len(set(data)) == 3


@pytest.mark.parametrize(("image_format", "pillow_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
async def test_images_are_encoded_in_the_chosen_format(
    http: aiohttp.ClientSession, api: ImageAPIServer, image_format: str, pillow_format: str
) -> None:
    api.image_format = image_format  # type: ignore[assignment]

    inline = await generate(http, api, {"prompt": "x", "size": "128x96", "response_format": "b64_json"})
    linked = await generate(http, api, {"prompt": "x", "size": "128x96", "response_format": "url"})

    assert picture(base64.b64decode(inline.json()["data"][0]["b64_json"])).format == pillow_format
    file = await download(http, linked.json()["data"][0]["url"])
    assert file.headers["Content-Type"] == f"image/{image_format}"
    assert picture(file.body).format == pillow_format
    assert picture(file.body).size == (128, 96)


@pytest.mark.parametrize(("quality", "expected"), [("1k", (256, 128)), ("2K", (512, 256)), ("4k", (1024, 512))])
async def test_quality_scales_the_requested_size(
    http: aiohttp.ClientSession, api: ImageAPIServer, quality: str, expected: tuple[int, int]
) -> None:
    body = {"prompt": "x", "size": "256x128", "quality": quality, "response_format": "b64_json"}
    answer = await generate(http, api, body)

    assert picture(base64.b64decode(answer.json()["data"][0]["b64_json"])).size == expected


async def test_forced_b64_json_shape_ignores_a_url_request(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.answer_shape = "b64_json"
    answer = await generate(http, api, {"prompt": "x", "size": "64x64", "response_format": "url"})

    [item] = answer.json()["data"]
    assert set(item) == {"b64_json"}
    assert picture(base64.b64decode(item["b64_json"])).size == (64, 64)


async def test_forced_url_shape_ignores_a_b64_request(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.answer_shape = "url"
    answer = await generate(http, api, {"prompt": "x", "size": "64x64", "response_format": "b64_json"})

    [item] = answer.json()["data"]
    assert set(item) == {"url"}
    assert picture((await download(http, item["url"])).body).size == (64, 64)


async def test_data_url_shape_puts_a_data_uri_in_url(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.answer_shape = "data_url"
    api.image_format = "jpeg"
    answer = await generate(http, api, {"prompt": "x", "size": "64x80"})

    url = answer.json()["data"][0]["url"]
    header, _, encoded = url.partition(",")
    assert header == "data:image/jpeg;base64"
    assert picture(base64.b64decode(encoded)).size == (64, 80)


async def test_markdown_shape_puts_a_markdown_image_in_url(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.answer_shape = "markdown"
    answer = await generate(http, api, {"prompt": "x", "size": "64x64", "n": 2})

    items = answer.json()["data"]
    assert len(items) == 2
    for item in items:
        match = MARKDOWN_IMAGE.fullmatch(item["url"])
        assert match is not None
        assert picture(base64.b64decode(match[1].partition(",")[2])).size == (64, 64)


async def test_empty_strings_shape_fills_the_asked_field_only(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    api.answer_shape = "empty_strings"
    inline = (await generate(http, api, {"prompt": "x", "size": "64x64", "response_format": "b64_json"})).json()
    linked = (await generate(http, api, {"prompt": "x", "size": "64x64", "response_format": "url"})).json()

    [inline_item], [linked_item] = inline["data"], linked["data"]
    assert inline_item["url"] == inline_item["revised_prompt"] == ""
    assert picture(base64.b64decode(inline_item["b64_json"])).size == (64, 64)
    assert linked_item["b64_json"] == linked_item["revised_prompt"] == ""
    assert picture((await download(http, linked_item["url"])).body).size == (64, 64)


def test_unknown_shape_or_format_is_refused_at_once(api: ImageAPIServer) -> None:
    with pytest.raises(ValueError, match="answer shape"):
        api.answer_shape = "xml"  # type: ignore[assignment]
    with pytest.raises(ValueError, match="image format"):
        api.image_format = "gif"  # type: ignore[assignment]


async def test_limits_are_inclusive(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    body = {"prompt": "p" * 1000, "n": 10, "size": "8192x64", "model": "gemini-2.5-flash-image", "quality": "1K"}
    answer = await generate(http, api, {**body, "response_format": "b64_json"})

    assert answer.status == 200
    assert [picture(base64.b64decode(item["b64_json"])).size for item in answer.json()["data"]] == [(8192, 64)] * 10


async def test_unknown_fields_are_ignored_and_nulls_mean_absent(
    http: aiohttp.ClientSession, api: ImageAPIServer
) -> None:
    body = {"prompt": "x", "size": "64x64", "seed": 7, "n": None, "style": None, "user": "u-1f3a", "image": None}
    answer = await generate(http, api, body)

    assert answer.status == 200
    assert len(answer.json()["data"]) == 1


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({}, "prompt", "missing_required_parameter"),
        ({"prompt": 5}, "prompt", "invalid_type"),
        ({"prompt": "  "}, "prompt", "invalid_value"),
        ({"prompt": "p" * 1001}, "prompt", "string_above_max_length"),
        ({"prompt": "x", "model": "dall-e-9"}, "model", "model_not_found"),
        ({"prompt": "x", "model": 3}, "model", "invalid_type"),
        ({"prompt": "x", "n": 0}, "n", "invalid_value"),
        ({"prompt": "x", "n": 11}, "n", "invalid_value"),
        ({"prompt": "x", "n": True}, "n", "invalid_type"),
        ({"prompt": "x", "n": "2"}, "n", "invalid_type"),
        ({"prompt": "x", "n": 1.5}, "n", "invalid_type"),
        ({"prompt": "x", "size": 1024}, "size", "invalid_type"),
        ({"prompt": "x", "size": "large"}, "size", "invalid_value"),
        ({"prompt": "x", "size": "1024x"}, "size", "invalid_value"),
        ({"prompt": "x", "size": "0x512"}, "size", "invalid_value"),
        ({"prompt": "x", "size": "63x64"}, "size", "invalid_value"),
        ({"prompt": "x", "size": "8193x1024"}, "size", "invalid_value"),
        ({"prompt": "x", "size": "4096x1024", "quality": "4k"}, "size", "invalid_value"),
        ({"prompt": "x", "quality": "8k"}, "quality", "invalid_value"),
        ({"prompt": "x", "quality": "hd"}, "quality", "invalid_value"),
        ({"prompt": "x", "quality": 2}, "quality", "invalid_value"),
        ({"prompt": "x", "response_format": "png"}, "response_format", "invalid_value"),
        ({"prompt": "x", "style": 1}, "style", "invalid_type"),
        ({"prompt": "x", "user": 42}, "user", "invalid_type"),
        ({"prompt": "x", "image": "https://example.com/a.png"}, "image", "invalid_type"),
        ({"prompt": "x", "image": [7]}, "image", "invalid_type"),
        ({"prompt": "x", "image": ["https://"]}, "image", "invalid_value"),
        ({"prompt": "x", "image": ["not base64 at all!"]}, "image", "invalid_image"),
        ({"prompt": "x", "image": [base64.b64encode(b"plain text, no image").decode()]}, "image", "invalid_image"),
        ({"prompt": "x", "image": ["data:image/png;base64,AAAA"]}, "image", "invalid_image"),
    ],
)
async def test_invalid_fields_are_refused_with_400_naming_the_field(
    http: aiohttp.ClientSession, api: ImageAPIServer, body: dict, param: str, code: str
) -> None:
    answer = await generate(http, api, body)

    assert answer.status == 400
    error = answer.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert error["message"]
    assert api.last_request.status == 400


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1, 2]", b'"prompt"'])
async def test_a_body_that_is_not_a_json_object_is_refused(
    http: aiohttp.ClientSession, api: ImageAPIServer, raw: bytes
) -> None:
    answer = await generate(http, api, raw=raw)

    assert answer.status == 400
    assert answer.json()["error"]["code"] == "invalid_json"
    assert api.last_request.body == raw
    assert api.last_request.json is None


@pytest.mark.parametrize("key", ["wrong-key", ""])
async def test_a_wrong_or_missing_key_gets_401(http: aiohttp.ClientSession, api: ImageAPIServer, key: str) -> None:
    answer = await generate(http, api, {"prompt": "x"}, key=key)

    assert answer.status == 401
    assert answer.json()["error"]["code"] == "invalid_api_key"
    assert api.last_request.status == 401


async def test_the_bearer_scheme_is_required(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    headers = {"Authorization": KEY}
    async with http.post(api.base_url + GENERATIONS_PATH, json={"prompt": "x"}, headers=headers) as response:
        assert response.status == 401


async def test_requests_are_recorded_with_their_input_images(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    first, second = png_bytes((8, 8)), png_bytes((9, 9))
    images = [
        f"data:image/png;base64,{base64.b64encode(first).decode()}",
        "https://cdn.example.com/attachments/1/2/cat.png?ex=1",
        base64.b64encode(second).decode(),
    ]
    body = {"prompt": "make it blue", "image": images, "size": "64x64", "user": "u-1f3a"}
    answer = await generate(http, api, body)

    assert answer.status == 200
    record = api.last_request
    assert record.json == body
    assert record.headers["authorization"] == f"Bearer {KEY}"
    assert record.status == 200
    assert record.fault is None
    assert record.input_images == [first, second]
    assert record.input_links == ["https://cdn.example.com/attachments/1/2/cat.png?ex=1"]


async def test_inline_images_of_several_megabytes_are_accepted(
    http: aiohttp.ClientSession, api: ImageAPIServer
) -> None:
    buffer = io.BytesIO()
    Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(buffer, format="PNG", compress_level=0)
    large = buffer.getvalue()

    body = {"prompt": "x", "size": "64x64", "image": [base64.b64encode(large).decode()]}
    answer = await generate(http, api, raw=json.dumps(body).encode())

    assert answer.status == 200
    assert api.last_request.input_images == [large]


async def test_reset_forgets_requests_settings_and_files(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    linked = (await generate(http, api, {"prompt": "x", "size": "64x64"})).json()["data"][0]["url"]
    api.latency, api.answer_shape, api.image_format = 5.0, "markdown", "webp"

    api.reset()

    assert (api.latency, api.answer_shape, api.image_format) == (0.0, None, "png")
    assert api.requests == []
    assert (await download(http, linked)).status == 404
    assert api.image_fetches == 0
    with pytest.raises(LookupError):
        _ = api.last_request


async def test_unknown_files_are_404(http: aiohttp.ClientSession, api: ImageAPIServer) -> None:
    answer = await download(http, f"{api.base_url}/files/nothing-here.png")

    assert answer.status == 404
    assert api.image_fetches == 0


async def test_equal_requests_share_images_when_unique_images_is_off(http: aiohttp.ClientSession) -> None:
    async with ImageAPIServer(api_key=KEY, unique_images=False) as shared:
        body = {"prompt": "same", "size": "64x64", "response_format": "b64_json"}
        first, second = [json.loads((await generate(http, shared, body)).body)["data"] for _ in range(2)]
        other = json.loads((await generate(http, shared, body | {"prompt": "other"})).body)["data"]

    assert first == second
    assert other != first


async def test_equal_requests_arriving_together_render_once(
    http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders = []

    async def counted(*args: object) -> list:
        renders.append(args)
        return await render_images(*args)

    monkeypatch.setattr(server_module, "render_images", counted)
    async with ImageAPIServer(api_key=KEY, unique_images=False) as shared:
        shared.latency = 0.1
        body = {"prompt": "together", "size": "64x64", "response_format": "b64_json"}
        answers = await asyncio.gather(*(generate(http, shared, body) for _ in range(5)))

    assert {answer.status for answer in answers} == {200}
    assert len({answer.body for answer in answers}) == 1
    assert len(renders) == 1
