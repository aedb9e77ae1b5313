"""Cheap, real images: a two-colour gradient with the image's number drawn on it."""

import asyncio
import hashlib
import io
from dataclasses import dataclass
from typing import Literal, get_args

from PIL import Image, ImageDraw, ImageFont

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


def render_image(seed: str, index: int, size: tuple[int, int], image_format: ImageFormat) -> EncodedImage:
    """Draw and encode image number `index` of a request; the same seed and index give the same picture."""
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

    buffer = io.BytesIO()
    picture.save(buffer, format=image_format.upper(), **_SAVE_OPTIONS[image_format])
    return EncodedImage(buffer.getvalue(), image_format, size)


async def render_images(seed: str, count: int, size: tuple[int, int], image_format: ImageFormat) -> list[EncodedImage]:
    """Render `count` images in worker threads, so big encodes never block the event loop."""
    return list(
        await asyncio.gather(
            *(asyncio.to_thread(render_image, seed, index, size, image_format) for index in range(count))
        )
    )
