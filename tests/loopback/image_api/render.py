"""Cheap, real images: a two-colour gradient with the image's number drawn on it, grainy on request."""

import asyncio
import functools
import hashlib
import io
import random
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal, get_args

from PIL import Image, ImageChops, ImageDraw, ImageFont

ImageFormat = Literal["png", "jpeg", "webp"]
IMAGE_FORMATS: frozenset[str] = frozenset(get_args(ImageFormat))
MEDIA_TYPES: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
EXTENSIONS: dict[str, str] = {"png": "png", "jpeg": "jpg", "webp": "webp"}

_SAVE_OPTIONS: dict[str, dict[str, int]] = {
    "png": {"compress_level": 1},
    "jpeg": {"quality": 85},
    "webp": {"quality": 80, "method": 0},
}
_TILE = 64  # the gradient is drawn this small, then scaled up: rendering cost is mostly the resize
# Grain that makes a 4096x4096 PNG about 19.6 MiB while its JPEG at quality 90 is about 5.1 MiB (grain 32: 27.3 / 9.2)
BULKY_GRAIN = 8.0


@dataclass(frozen=True, slots=True)
class EncodedImage:
    """One generated image, encoded."""

    data: bytes
    format: ImageFormat
    size: tuple[int, int]

    @property
    def media_type(self) -> str:
        """The Content-Type of the encoded bytes."""
        return MEDIA_TYPES[self.format]

    @property
    def extension(self) -> str:
        """The file extension for the encoded bytes, without a dot."""
        return EXTENSIONS[self.format]


def render_image(
    seed: str, index: int, size: tuple[int, int], image_format: ImageFormat, grain: float = 0.0
) -> EncodedImage:
    """Draw and encode image number `index` of a request; the same seed, index and grain give the same picture.

    `grain` is the sigma of grey noise added to every pixel, so the picture compresses like a photo, not a drawing.
    """
    if grain < 0:
        raise ValueError(f"grain must not be negative, got {grain}")
    digest = hashlib.sha256(f"{seed}\0{index}".encode()).digest()
    top, bottom = (digest[0], digest[1], digest[2]), (digest[3], digest[4], digest[5])
    mask = Image.linear_gradient("L").resize((_TILE, _TILE))
    tile = Image.composite(Image.new("RGB", mask.size, bottom), Image.new("RGB", mask.size, top), mask)
    picture = tile.resize(size, Image.Resampling.BILINEAR)

    width, height = size
    short = min(width, height)
    draw = ImageDraw.Draw(picture)
    inverse = tuple(255 - channel for channel in top)
    draw.rectangle((short // 16, short // 16, short // 16 + short // 4, short // 16 + short // 4), fill=inverse)
    font = ImageFont.load_default(size=max(short // 4, 8))
    draw.text((width // 2, height // 2), str(index + 1), fill=(255, 255, 255), font=font, anchor="mm")
    if grain > 0:
        noise = _noise(digest, size, grain)
        picture = ImageChops.add(picture, Image.merge("RGB", (noise, noise, noise)), offset=-128)

    buffer = io.BytesIO()
    picture.save(buffer, format=image_format.upper(), **_SAVE_OPTIONS[image_format])
    return EncodedImage(buffer.getvalue(), image_format, size)


def _noise(digest: bytes, size: tuple[int, int], grain: float) -> Image.Image:
    """Gaussian noise around 128, seeded by the picture (`Image.effect_noise` differs per call and is 20x slower)."""
    width, height = size
    uniform = random.Random(digest).randbytes(width * height)
    return Image.frombytes("L", size, uniform).point(_gaussian_table(grain))


@functools.cache
def _gaussian_table(grain: float) -> tuple[int, ...]:
    """Maps a uniform byte to 128 plus normal noise of sigma `grain` (by the inverse CDF), clipped to a byte."""
    normal = NormalDist(128, grain)
    return tuple(min(255, max(0, round(normal.inv_cdf((byte + 0.5) / 256)))) for byte in range(256))


async def render_images(
    seed: str, count: int, size: tuple[int, int], image_format: ImageFormat, grain: float = 0.0
) -> list[EncodedImage]:
    """Render `count` images in worker threads, so big encodes never block the event loop."""
    return list(
        await asyncio.gather(
            *(asyncio.to_thread(render_image, seed, index, size, image_format, grain) for index in range(count))
        )
    )
