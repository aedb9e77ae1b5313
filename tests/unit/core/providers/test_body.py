import base64
import io
import json

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from PIL import Image

from bot.core.images import ImageFormat
from bot.core.inputs import INPUT_MODES, InputPicture, PictureRef
from bot.core.providers.body import SLICE, Base64Of, StreamedJSON, encode_for_api


def picture(size: int, fmt: ImageFormat = ImageFormat.PNG, seed: int = 7) -> InputPicture:
    data = bytes((seed * index) % 251 for index in range(size))  # not an image: the body never looks inside
    return InputPicture(PictureRef(f"p{seed}.{fmt.extension}", "https://cdn.discordapp.com/x"), data, fmt, 1, 1)


@pytest.mark.parametrize("size", [0, 1, 2, 3, SLICE - 1, SLICE, SLICE + 1, 3 * SLICE + 2])
def test_a_picture_is_the_same_base64_whatever_its_length(size: int) -> None:
    shown = picture(size)
    body = {"prompt": 'a fox ✓ "quoted"', "n": 2, "image": [Base64Of(shown, "data:image/png;base64,")]}

    payload = StreamedJSON(body)
    sent = payload.decode().encode()

    assert json.loads(sent) == {
        "prompt": 'a fox ✓ "quoted"',
        "n": 2,
        "image": ["data:image/png;base64," + base64.b64encode(shown.data).decode()],
    }
    assert payload.size == len(sent)  # the Content-Length told beforehand is the body's


def test_pictures_are_encoded_for_the_api_in_each_mode() -> None:
    pictures = [picture(100, ImageFormat.PNG, 1), picture(50, ImageFormat.WEBP, 2)]

    sent = json.loads(StreamedJSON({mode: list(encode_for_api(pictures, mode)) for mode in INPUT_MODES}).decode())

    assert [url.partition(",")[0] for url in sent["data_url"]] == ["data:image/png;base64", "data:image/webp;base64"]
    assert [base64.b64decode(url.partition(",")[2]) for url in sent["data_url"]] == [p.data for p in pictures]
    assert [base64.b64decode(text) for text in sent["base64"]] == [p.data for p in pictures]
    assert sent["link"] == ["https://cdn.discordapp.com/x"] * 2
    with pytest.raises(ValueError, match="unknown input mode"):
        encode_for_api([], "inline")


def test_no_piece_of_the_body_holds_a_whole_picture() -> None:
    big = picture(5 * SLICE)
    chunks = list(StreamedJSON({"image": [Base64Of(big)]}).chunks())
    assert max(len(chunk) for chunk in chunks) <= 4 * SLICE // 3 + 16
    assert sum(len(chunk) for chunk in chunks) == 4 * len(big.data) // 3 + len('{"image":[""]}')


async def test_a_server_reads_the_body_with_its_length_and_type() -> None:
    got: dict[str, object] = {}

    async def record(request: web.Request) -> web.Response:
        got["type"] = request.content_type
        got["length"] = request.content_length
        got["body"] = await request.json()
        return web.Response()

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/", record)
    buffer = io.BytesIO()
    Image.new("RGB", (300, 200), (9, 99, 199)).save(buffer, format="PNG")
    real = InputPicture(
        PictureRef("a.png", "https://cdn.discordapp.com/a"), buffer.getvalue(), ImageFormat.PNG, 300, 200
    )
    payload = StreamedJSON({"inline_data": {"mime_type": "image/png", "data": Base64Of(real)}})

    async with (
        TestServer(app, host="127.0.0.1") as server,
        ClientSession() as session,
        session.post(server.make_url("/"), data=payload) as response,
    ):
        assert response.status == 200

    assert (got["type"], got["length"]) == ("application/json", payload.size)
    assert got["body"] == {"inline_data": {"mime_type": "image/png", "data": base64.b64encode(real.data).decode()}}
