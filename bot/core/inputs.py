"""Input pictures of an edit: downloaded from allowed origins only, checked by their bytes (providers/body.py
encodes them for the API).

Pictures are opened with Pillow's format plugins directly rather than `Image.open`, which warns or raises
against the process-wide `MAX_IMAGE_PIXELS`: our own `max_pixels` is the rule, and no global is changed.
"""

import asyncio
import io
import struct
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from PIL import Image, ImageFile, JpegImagePlugin, PngImagePlugin, WebPImagePlugin
from yarl import URL

from bot.core.errors import CorruptImage, NotAnImage, PictureTooLarge, PictureUnavailable, TooManyPixels
from bot.core.imageapi.spool import Spool, head_of, reader_of, release, size_of
from bot.core.images import ImageFormat, sniff_format

DISCORD_CDN_ORIGINS = frozenset({"https://cdn.discordapp.com", "https://media.discordapp.net"})
INPUT_FORMATS = frozenset({ImageFormat.PNG, ImageFormat.JPEG, ImageFormat.WEBP})
INPUT_MODES = ("data_url", "base64", "link")
MEDIA_TYPES = {ImageFormat.PNG: "image/png", ImageFormat.JPEG: "image/jpeg", ImageFormat.WEBP: "image/webp"}

_OPENERS: dict[ImageFormat, type[ImageFile.ImageFile]] = {
    ImageFormat.PNG: PngImagePlugin.PngImageFile,
    ImageFormat.JPEG: JpegImagePlugin.JpegImageFile,
    ImageFormat.WEBP: WebPImagePlugin.WebPImageFile,
}
# What Pillow raises on damaged data; LOAD_TRUNCATED_IMAGES stays False, so truncation is an OSError
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error, zlib.error)
_CHUNK = 64 * 1024
_HEAD = 64  # bytes that tell a format and a WebP canvas
_DECODING = threading.Lock()


@dataclass(frozen=True, slots=True)
class PictureRef:
    """Where an input picture comes from."""

    name: str  # the file name as the member knows it, used in error messages
    url: str
    size: int | None = None  # the byte size Discord reported, when known: refused early, without downloading


@dataclass(frozen=True, slots=True)
class InputPicture:
    ref: PictureRef
    data: bytes | Spool  # exactly the downloaded bytes, never re-encoded; spooled past a megabyte
    format: ImageFormat
    width: int
    height: int

    @property
    def size(self) -> int:
        """Bytes in the picture."""
        return size_of(self.data)

    def reader(self) -> io.BytesIO | io.BufferedRandom:
        """The bytes as a file at their start (a spool's own file: read one copy at a time)."""
        return reader_of(self.data)

    def upload(self) -> bytes:
        """The picture's bytes for a multipart upload, read from a spool while it is sent (a file handed to aiohttp
        would be closed once sent, and sent with no length)."""
        return self.data.reader().read() if isinstance(self.data, Spool) else self.data

    def release(self) -> None:
        """Free a spool once the picture has been sent."""
        release(self.data)


def check_picture(ref: PictureRef, data: bytes | Spool, *, max_bytes: int, max_pixels: int) -> InputPicture:
    """The picture `data` holds, checked against every input rule; CPU-bound, so callers run it in a thread."""
    size = size_of(data)
    if size > max_bytes:
        raise PictureTooLarge(ref.name, size, max_bytes)
    head = head_of(data, _HEAD)
    image_format = _sniff_input(head)
    if image_format is None:
        raise NotAnImage(ref.name)
    # libwebp allocates the whole canvas when a file is opened, so a WebP bomb is refused from its header first
    if image_format is ImageFormat.WEBP and (declared := _webp_canvas_size(head)) is not None:
        _check_pixels(ref, *declared, max_pixels)
    try:
        with _OPENERS[image_format](reader_of(data)) as picture:  # reads the header only
            width, height = picture.size
            _check_pixels(ref, width, height, max_pixels)  # before a single pixel is decoded
            with _DECODING:  # decoded pixels are the big part: one picture at a time across the process
                picture.load()
    except Image.DecompressionBombError:
        # Pillow's own hard cap in its WebP plugin, met only when max_pixels is set above it: that cap is the limit
        width, height = _webp_canvas_size(head) or (0, 0)
        raise TooManyPixels(ref.name, width, height, 2 * (Image.MAX_IMAGE_PIXELS or 0)) from None
    except _DECODE_ERRORS:
        raise CorruptImage(ref.name) from None
    return InputPicture(ref, data, image_format, width, height)


def _sniff_input(data: bytes) -> ImageFormat | None:
    image_format = sniff_format(data)
    return image_format if image_format in INPUT_FORMATS else None


def _check_pixels(ref: PictureRef, width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise TooManyPixels(ref.name, width, height, max_pixels)


def _webp_canvas_size(data: bytes) -> tuple[int, int] | None:
    """The canvas size a WebP file's first chunk declares (VP8X, VP8L or VP8), or None when it can't be read."""
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        return int.from_bytes(data[26:28], "little") & 0x3FFF, int.from_bytes(data[28:30], "little") & 0x3FFF
    return None


class PictureFetcher:
    """Downloads input pictures from allowed origins only (no server-side request forgery)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        allowed_origins: frozenset[str],
        max_bytes: int,
        max_pixels: int,
        timeout: float,
        concurrency: int = 4,
    ) -> None:
        self._session = session
        self._allowed_origins = allowed_origins
        self._max_bytes = max_bytes
        self._max_pixels = max_pixels
        self._timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)  # shared by every call: a bound for the whole bot

    def is_allowed(self, url: str) -> bool:
        """Whether `url` is an http(s) link without userinfo on one of the allowed origins."""
        try:
            parsed = URL(url)
            origin = str(parsed.origin())
        except (ValueError, TypeError):
            return False
        no_userinfo = parsed.user is None and parsed.password is None
        return parsed.scheme in ("http", "https") and no_userinfo and origin in self._allowed_origins

    def precheck(self, refs: Sequence[PictureRef]) -> None:
        """The refusals that need no download: a size Discord reported over the cap, a link on another host."""
        for ref in refs:
            if ref.size is not None and ref.size > self._max_bytes:
                raise PictureTooLarge(ref.name, ref.size, self._max_bytes)
            if not self.is_allowed(ref.url):
                raise PictureUnavailable(ref.name, "not a Discord attachment link")

    async def fetch_all(self, refs: Sequence[PictureRef]) -> list[InputPicture]:
        """Download and check every picture concurrently, in the order of `refs`; the first failing ref's error wins."""
        self.precheck(refs)  # nothing is fetched for a request that is refused anyway
        tasks = [asyncio.create_task(self._fetch(ref)) for ref in refs]
        try:
            # awaited in order: an earlier ref's failure wins even when a later one failed sooner
            return [await task for task in tasks]
        except BaseException:
            for task in tasks:
                task.cancel()
            for fetched in await asyncio.gather(*tasks, return_exceptions=True):  # no download outlives the call
                if isinstance(fetched, InputPicture):
                    fetched.release()
            raise

    async def _fetch(self, ref: PictureRef) -> InputPicture:
        data = await self._download(ref)
        try:
            checks = {"max_bytes": self._max_bytes, "max_pixels": self._max_pixels}
            return await asyncio.to_thread(check_picture, ref, data, **checks)
        except BaseException:
            release(data)
            raise

    async def _download(self, ref: PictureRef) -> bytes | Spool:
        async with self._slots:
            try:
                async with (
                    asyncio.timeout(self._timeout),
                    # the checked URL object itself is fetched, so the request goes where is_allowed looked
                    self._session.get(URL(ref.url), allow_redirects=False) as response,
                ):
                    if response.status != 200:  # a redirect too: its target was never checked
                        raise PictureUnavailable(ref.name, f"HTTP {response.status}")
                    if response.content_length is not None and response.content_length > self._max_bytes:
                        raise PictureTooLarge(ref.name, response.content_length, self._max_bytes)
                    return await self._read_capped(ref, response)
            except TimeoutError:
                raise PictureUnavailable(ref.name, "timed out") from None
            except aiohttp.ClientError as error:
                raise PictureUnavailable(ref.name, type(error).__name__) from None

    async def _read_capped(self, ref: PictureRef, response: aiohttp.ClientResponse) -> bytes | Spool:
        """The body, read until it ends or passes the cap (a missing or lying Content-Length changes nothing), into
        a spool: a big picture waits for its turn in a temporary file, not in memory."""
        spool = Spool()
        try:
            async for chunk in response.content.iter_chunked(_CHUNK):
                spool.write(chunk)
                if spool.size > self._max_bytes:
                    raise PictureTooLarge(ref.name, spool.size, self._max_bytes)
        except BaseException:
            spool.close()
            raise
        return spool.settled()
