"""Input pictures: every check on real image bytes, and downloads from a real local HTTP server."""

import asyncio
import base64
import io
import json
import random
import struct
import time
import warnings
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from PIL import Image, ImageFile

from bot.core.errors import CorruptImage, NotAnImage, PictureTooLarge, PictureUnavailable, TooManyPixels
from bot.core.imageapi.spool import Spool
from bot.core.images import ImageFormat
from bot.core.inputs import (
    DISCORD_CDN_ORIGINS,
    InputPicture,
    PictureFetcher,
    PictureRef,
    check_picture,
)
from bot.core.providers.body import Base64Of, StreamedJSON

MAX_BYTES = 200_000
MAX_PIXELS = 40_000_000


def encoded(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    width, height = size
    noise = Image.frombytes(mode, size, random.Random(fmt).randbytes(width * height * len(mode)))
    buffer = io.BytesIO()
    noise.save(buffer, fmt)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_declaring(width: int, height: int) -> bytes:
    """A valid-looking grey PNG of a few dozen bytes whose header claims `width` x `height` pixels."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + png_chunk(b"IEND", b"")
    )


def webp_declaring(width: int, height: int) -> bytes:
    """A WebP file header (VP8X) claiming a `width` x `height` canvas, and nothing else."""
    vp8x = (
        b"VP8X"
        + struct.pack("<I", 10)
        + b"\0" * 4
        + (width - 1).to_bytes(3, "little")
        + (height - 1).to_bytes(3, "little")
    )
    return b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x


def blank_png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, "PNG")  # one bit a pixel: big in pixels, tiny in bytes
    return buffer.getvalue()


def check(data: bytes, name: str = "picture.png", **limits: int) -> InputPicture:
    limits = {"max_bytes": MAX_BYTES, "max_pixels": MAX_PIXELS} | limits
    return check_picture(PictureRef(name, "https://cdn.discordapp.com/x"), data, **limits)


@pytest.mark.parametrize(
    ("fmt", "expected"), [("PNG", ImageFormat.PNG), ("JPEG", ImageFormat.JPEG), ("WEBP", ImageFormat.WEBP)]
)
def test_pictures_in_accepted_formats_pass_with_their_bytes_untouched(fmt: str, expected: ImageFormat) -> None:
    data = encoded(fmt)

    picture = check(data)

    assert picture.data is data
    assert (picture.format, picture.width, picture.height) == (expected, 64, 48)


def test_format_comes_from_the_bytes_not_the_name() -> None:
    assert check(encoded("JPEG"), name="looks.png").format is ImageFormat.JPEG


@pytest.mark.parametrize("data", [b"just some text\n", b"", encoded("GIF", mode="L")], ids=["text", "empty", "gif"])
def test_other_files_are_not_images(data: bytes) -> None:
    with pytest.raises(NotAnImage) as refused:
        check(data, name="notes.txt")
    assert refused.value.name == "notes.txt"


def test_too_many_bytes_are_refused_before_anything_else() -> None:
    with pytest.raises(PictureTooLarge) as refused:
        check(b"x" * 1001, max_bytes=1000)
    assert (refused.value.size, refused.value.limit) == (1001, 1000)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_truncated_pictures_are_corrupt(fmt: str) -> None:
    data = encoded(fmt)

    with pytest.raises(CorruptImage):
        check(data[: len(data) // 2])


def test_a_png_with_a_broken_checksum_is_corrupt() -> None:
    data = bytearray(encoded("PNG"))
    data[29] ^= 0xFF  # the IHDR chunk's CRC

    with pytest.raises(CorruptImage):
        check(bytes(data))


def test_a_png_with_a_garbage_body_is_corrupt() -> None:
    data = bytearray(encoded("PNG"))
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    data[start + 16 : start + length - 16] = random.Random(1).randbytes(length - 32)

    with pytest.raises(CorruptImage):
        check(bytes(data))


@pytest.mark.parametrize("bomb", [png_declaring(20000, 20000), webp_declaring(10000, 10000)], ids=["png", "webp"])
def test_a_decompression_bomb_is_refused_from_its_header_without_decoding(bomb: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(TooManyPixels) as refused:
        check(bomb)

    assert time.perf_counter() - started < 0.5  # decoding 400 megapixels would take seconds
    assert refused.value.width * refused.value.height > MAX_PIXELS
    assert refused.value.limit == MAX_PIXELS


def test_a_webp_over_pillows_hard_cap_is_too_many_pixels_even_when_ours_is_higher() -> None:
    assert Image.MAX_IMAGE_PIXELS is not None
    with pytest.raises(TooManyPixels) as refused:
        check(webp_declaring(16383, 16383), max_pixels=16383 * 16383)

    assert (refused.value.width, refused.value.height) == (16383, 16383)
    assert refused.value.limit == 2 * Image.MAX_IMAGE_PIXELS


def test_pixels_over_the_cap_are_refused() -> None:
    with pytest.raises(TooManyPixels) as refused:
        check(encoded("PNG", (100, 50)), max_pixels=4999)
    assert (refused.value.width, refused.value.height, refused.value.limit) == (100, 50, 4999)


def test_a_picture_over_pillows_own_pixel_limit_but_within_ours_passes_without_warnings() -> None:
    assert Image.MAX_IMAGE_PIXELS is not None
    width, height = 10_000, Image.MAX_IMAGE_PIXELS // 10_000 + 100  # Image.open would warn about a bomb
    data = blank_png(width, height)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        picture = check(data, max_pixels=width * height)

    assert (picture.width, picture.height) == (width, height)


def test_truncated_images_are_never_loaded_leniently() -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


class PictureServer:
    """Serves pictures on 127.0.0.1 and counts requests; query parameters ask for a CDN's misbehaviours."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: list[str] = []
        self._runner: web.AppRunner | None = None
        self.origin = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/{name}", self._serve)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.origin = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def ref(self, name: str, query: str = "", size: int | None = None) -> PictureRef:
        return PictureRef(name, f"{self.origin}/{name}{'?' + query if query else ''}", size)

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        self.hits.append(request.path_qs)
        await asyncio.sleep(float(request.query.get("delay", 0)))
        if target := request.query.get("redirect"):
            raise web.HTTPFound(f"/{target}")
        data = self.files.get(request.match_info["name"])
        if data is None:
            return web.Response(status=404)
        if "chunked" not in request.query:
            return web.Response(body=data, content_type="application/octet-stream")
        response = web.StreamResponse()
        response.enable_chunked_encoding()  # no Content-Length: only counting the bytes can stop the download
        await response.prepare(request)
        for start in range(0, len(data), 16 * 1024):
            await response.write(data[start : start + 16 * 1024])
        await response.write_eof()
        return response


PICTURES = {"a.png": encoded("PNG"), "b.jpg": encoded("JPEG"), "c.webp": encoded("WEBP"), "notes.txt": b"hello\n"}
HUGE = random.Random(3).randbytes(1024 * 1024)


@pytest.fixture(scope="module")
async def cdn() -> AsyncIterator[PictureServer]:
    server = PictureServer()
    server.files.update(PICTURES, **{"huge.png": HUGE})
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
async def elsewhere() -> AsyncIterator[PictureServer]:
    server = PictureServer()
    server.files.update(PICTURES)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def _forget_hits(cdn: PictureServer, elsewhere: PictureServer) -> None:
    cdn.hits.clear()
    elsewhere.hits.clear()


@pytest.fixture(scope="module")
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def fetcher_for(session: aiohttp.ClientSession, cdn: PictureServer, *, timeout: float = 5.0) -> PictureFetcher:
    origins = frozenset({cdn.origin})
    return PictureFetcher(session, allowed_origins=origins, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, timeout=timeout)


async def fetch(session: aiohttp.ClientSession, cdn: PictureServer, *refs: PictureRef, timeout: float = 5.0) -> list:
    return await fetcher_for(session, cdn, timeout=timeout).fetch_all(refs)


async def test_pictures_arrive_byte_for_byte_in_the_order_asked(session, cdn: PictureServer) -> None:
    refs = [cdn.ref("a.png", "delay=0.2"), cdn.ref("b.jpg"), cdn.ref("c.webp", "delay=0.1")]  # a finishes last

    pictures = await fetch(session, cdn, *refs)

    assert [picture.ref for picture in pictures] == refs
    assert [picture.data for picture in pictures] == [PICTURES["a.png"], PICTURES["b.jpg"], PICTURES["c.webp"]]
    assert [picture.format for picture in pictures] == [ImageFormat.PNG, ImageFormat.JPEG, ImageFormat.WEBP]
    assert len(cdn.hits) == 3


async def test_downloads_run_concurrently(session, cdn: PictureServer) -> None:
    started = time.perf_counter()
    await fetch(session, cdn, *(cdn.ref("a.png", f"delay=0.3&n={n}") for n in range(4)))

    assert time.perf_counter() - started < 0.9


async def test_a_link_off_the_allowed_origins_is_refused_before_any_request(
    session, cdn: PictureServer, elsewhere: PictureServer
) -> None:
    with pytest.raises(PictureUnavailable) as refused:
        await fetch(session, cdn, cdn.ref("a.png"), elsewhere.ref("b.jpg"))

    assert (refused.value.name, refused.value.reason) == ("b.jpg", "not a Discord attachment link")
    assert (cdn.hits, elsewhere.hits) == ([], [])


async def test_a_known_size_over_the_cap_is_refused_before_any_request(session, cdn: PictureServer) -> None:
    with pytest.raises(PictureTooLarge) as refused:
        await fetch(session, cdn, cdn.ref("a.png"), cdn.ref("huge.png", size=len(HUGE)))

    assert (refused.value.name, refused.value.size, refused.value.limit) == ("huge.png", len(HUGE), MAX_BYTES)
    assert cdn.hits == []


async def test_a_redirect_is_not_followed(session, cdn: PictureServer) -> None:
    with pytest.raises(PictureUnavailable) as refused:
        await fetch(session, cdn, cdn.ref("a.png", "redirect=b.jpg"))

    assert refused.value.reason == "HTTP 302"
    assert cdn.hits == ["/a.png?redirect=b.jpg"]


async def test_an_expired_link_is_unavailable(session, cdn: PictureServer) -> None:
    with pytest.raises(PictureUnavailable) as refused:
        await fetch(session, cdn, cdn.ref("gone.png"))

    assert (refused.value.name, refused.value.reason) == ("gone.png", "HTTP 404")


async def test_a_declared_length_over_the_cap_is_refused(session, cdn: PictureServer) -> None:
    with pytest.raises(PictureTooLarge) as refused:
        await fetch(session, cdn, cdn.ref("huge.png"))

    assert refused.value.size == len(HUGE)


async def test_a_body_without_length_stops_being_read_past_the_cap(session, cdn: PictureServer) -> None:
    with pytest.raises(PictureTooLarge) as refused:
        await fetch(session, cdn, cdn.ref("huge.png", "chunked=1"))

    assert MAX_BYTES < refused.value.size < len(HUGE)


async def test_a_slow_server_times_out(session, cdn: PictureServer) -> None:
    started = time.perf_counter()
    with pytest.raises(PictureUnavailable) as refused:
        await fetch(session, cdn, cdn.ref("a.png", "delay=5"), timeout=0.2)

    assert refused.value.reason == "timed out"
    assert time.perf_counter() - started < 1.0


async def test_a_server_that_is_gone_is_unavailable(session) -> None:
    closed = PictureServer()
    await closed.start()
    await closed.stop()

    with pytest.raises(PictureUnavailable) as refused:
        await fetch(session, closed, closed.ref("a.png"))

    assert refused.value.reason == "ClientConnectorError"


async def test_downloaded_bytes_are_checked(session, cdn: PictureServer) -> None:
    with pytest.raises(NotAnImage) as refused:
        await fetch(session, cdn, cdn.ref("a.png"), cdn.ref("notes.txt"))

    assert refused.value.name == "notes.txt"


async def test_the_first_failing_ref_wins_even_when_a_later_one_fails_sooner(session, cdn: PictureServer) -> None:
    refs = [cdn.ref("a.png"), cdn.ref("slow-gone.png", "delay=0.3"), cdn.ref("fast-gone.png")]

    with pytest.raises(PictureUnavailable) as refused:
        await fetch(session, cdn, *refs)

    assert refused.value.name == "slow-gone.png"


async def test_a_failure_cancels_the_other_downloads(session, cdn: PictureServer) -> None:
    started = time.perf_counter()
    with pytest.raises(PictureUnavailable):
        await fetch(session, cdn, cdn.ref("gone.png"), cdn.ref("a.png", "delay=5"))

    assert time.perf_counter() - started < 1.0
    running = [task for task in asyncio.all_tasks() if "PictureFetcher" in task.get_coro().__qualname__]
    assert running == []


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://cdn.discordapp.com/attachments/1/2/cat.png?ex=65&is=66&hm=ab", True),
        ("https://media.discordapp.net/attachments/1/2/cat.png?width=300", True),
        ("https://CDN.DiscordApp.com:443/attachments/cat.png", True),
        ("http://cdn.discordapp.com/attachments/cat.png", False),
        ("https://cdn.discordapp.com:8443/cat.png", False),
        ("https://cdn.discordapp.com.evil.example/cat.png", False),
        ("https://user:secret@cdn.discordapp.com/cat.png", False),
        ("https://cdn.discordapp.com@evil.example/cat.png", False),
        ("https://evil.example\\@cdn.discordapp.com/cat.png", False),
        ("ftp://cdn.discordapp.com/cat.png", False),
        ("/attachments/cat.png", False),
        ("data:image/png;base64,AAAA", False),
        ("not a url", False),
    ],
)
async def test_only_links_on_the_allowed_origins_are_allowed(session, url: str, allowed: bool) -> None:
    fetcher = PictureFetcher(
        session, allowed_origins=DISCORD_CDN_ORIGINS, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS, timeout=1.0
    )
    assert fetcher.is_allowed(url) is allowed


def noise_png(side: int) -> bytes:
    """A PNG of noise: it doesn't compress, so it is as big as its pixels."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_a_big_picture_waits_in_a_temporary_file_and_goes_out_byte_for_byte(session, cdn: PictureServer) -> None:
    big = noise_png(700)  # about 1.4 MB: past what a spool keeps in memory
    cdn.files["big.png"] = big
    fetcher = PictureFetcher(
        session, allowed_origins=frozenset({cdn.origin}), max_bytes=4 * 1024 * 1024, max_pixels=MAX_PIXELS, timeout=5
    )

    [picture] = await fetcher.fetch_all([cdn.ref("big.png")])

    assert isinstance(picture.data, Spool)
    assert (picture.size, picture.width, picture.height) == (len(big), 700, 700)
    sent = json.loads(StreamedJSON({"image": [Base64Of(picture)]}).decode())
    assert base64.b64decode(sent["image"][0]) == big
    assert picture.upload() == big
    assert picture.upload() == big  # a second attempt reads it again from its start
    picture.release()
    assert picture.data.closed


async def test_pictures_fetched_for_a_request_that_fails_are_released(session, cdn: PictureServer) -> None:
    cdn.files["big.png"] = noise_png(700)
    fetcher = PictureFetcher(
        session, allowed_origins=frozenset({cdn.origin}), max_bytes=4 * 1024 * 1024, max_pixels=MAX_PIXELS, timeout=5
    )
    kept: list[InputPicture] = []
    real_fetch = fetcher._fetch

    async def noting(ref: PictureRef) -> InputPicture:
        picture = await real_fetch(ref)
        kept.append(picture)
        return picture

    fetcher._fetch = noting  # type: ignore[method-assign]  # to see what the failed request had fetched

    with pytest.raises(NotAnImage):
        await fetcher.fetch_all([cdn.ref("big.png"), cdn.ref("notes.txt", "delay=0.2")])

    assert len(kept) == 1
    assert isinstance(kept[0].data, Spool) and kept[0].data.closed
