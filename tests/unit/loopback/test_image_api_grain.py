"""Grain in the loopback image API: pictures that compress like photos when a test asks for them."""

import base64
import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from PIL import Image, ImageChops, ImageStat

from tests.loopback.image_api import GENERATIONS_PATH, ImageAPIServer
from tests.loopback.image_api.render import BULKY_GRAIN, render_image

KEY = "test-key"
SIZE = (256, 192)


def pixels(data: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(data))
    picture.load()
    return picture


def test_no_grain_is_the_plain_picture() -> None:
    assert render_image("seed", 0, SIZE, "png", 0.0).data == render_image("seed", 0, SIZE, "png").data


def test_grain_makes_a_bigger_png_of_the_same_picture() -> None:
    plain = render_image("seed", 0, SIZE, "png")
    grainy = render_image("seed", 0, SIZE, "png", BULKY_GRAIN)

    assert len(grainy.data) > 4 * len(plain.data)
    difference = ImageStat.Stat(ImageChops.difference(pixels(plain.data), pixels(grainy.data)).convert("L"))
    assert 2 < difference.mean[0] < 2 * BULKY_GRAIN  # noise around the picture, not a different picture
    assert pixels(grainy.data).size == SIZE


def test_grain_is_repeatable_and_more_grain_weighs_more() -> None:
    assert render_image("seed", 1, SIZE, "png", 8.0).data == render_image("seed", 1, SIZE, "png", 8.0).data
    assert len(render_image("seed", 1, SIZE, "png", 32.0).data) > len(render_image("seed", 1, SIZE, "png", 8.0).data)


def test_negative_grain_is_refused() -> None:
    with pytest.raises(ValueError, match="grain"):
        render_image("seed", 0, SIZE, "png", -1.0)


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def generated(http: aiohttp.ClientSession, api: ImageAPIServer) -> bytes:
    body = {"prompt": "grain", "size": "256x192", "response_format": "b64_json"}
    headers = {"Authorization": f"Bearer {KEY}"}
    async with http.post(api.base_url + GENERATIONS_PATH, json=body, headers=headers) as response:
        return base64.b64decode((await response.json())["data"][0]["b64_json"])


async def test_the_server_applies_grain_and_reset_removes_it(http: aiohttp.ClientSession) -> None:
    async with ImageAPIServer(api_key=KEY, unique_images=False) as api:
        plain = await generated(http, api)
        api.grain = BULKY_GRAIN
        grainy = await generated(http, api)  # equal requests share renders, so grain must be part of the key
        api.reset()

        assert api.grain == 0.0
        assert await generated(http, api) == plain
    assert len(grainy) > 4 * len(plain)
