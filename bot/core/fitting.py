"""Fitting a result image under an upload limit.

Bytes already under the limit go out untouched. Otherwise the picture is decoded once and re-encoded, as WebP
when it uses transparency (JPEG has no alpha) and JPEG otherwise, at falling qualities; when even the lowest is
too big it is scaled down step by step, aspect ratio kept, at a middling quality until it fits.
"""

import math
import tempfile
from dataclasses import dataclass
from typing import cast

from PIL import Image

from bot.core.imageapi.answers import ImageBytes
from bot.core.images import ImageFormat

JPEG_QUALITIES = (90, 80, 70, 60)  # tried in turn, best first
SCALED_QUALITY = 75  # once scaling, fewer pixels at a decent quality look better than more at a poor one
SCALE_STEP = 0.75
MIN_SIDE = 16  # the floor: an image this small fits any upload limit worth having, so giving up is theoretical
WEBP_MAX_SIDE = 16383  # WebP cannot hold a longer side

_ALPHA_MODES = frozenset({"RGBA", "LA", "PA", "RGBa", "La"})


@dataclass(frozen=True, slots=True)
class FittedImage:
    image: ImageBytes  # what to upload
    original_bytes: int
    reencoded: bool
    size: tuple[int, int] | None = None  # the pixel size after fitting when re-encoded; None when unchanged


def fit_image(image: ImageBytes, limit: int) -> FittedImage:
    """The image within `limit` bytes, re-encoded only when needed; CPU-bound, so callers run it in a thread."""
    original = image.size
    if original <= limit:
        return FittedImage(image, original, reencoded=False)
    source = Image.open(image.reader())
    source.load()  # decoded once; an RGB picture is then used as it is, not copied
    picture = _flattened(source)
    image_format = ImageFormat.WEBP if picture.mode == "RGBA" else ImageFormat.JPEG
    if image_format is ImageFormat.WEBP and max(picture.size) > WEBP_MAX_SIDE:
        picture = _scaled(picture, WEBP_MAX_SIDE / max(picture.size))

    encoded = 0
    for quality in JPEG_QUALITIES:
        encoded, data = _encode(picture, image_format, quality, limit)
        if data is not None:
            return FittedImage(ImageBytes(data, image_format), original, reencoded=True, size=picture.size)

    # bytes shrink about with the pixel count: the first step jumps near the goal, later ones shrink steadily
    scale = min(SCALE_STEP, math.sqrt(limit / encoded)) if encoded else SCALE_STEP
    while max(size := _scaled_size(picture.size, scale)) >= MIN_SIDE:
        _, data = _encode(_scaled(picture, scale), image_format, SCALED_QUALITY, limit)
        if data is not None:
            return FittedImage(ImageBytes(data, image_format), original, reencoded=True, size=size)
        scale *= SCALE_STEP
    raise ValueError(f"an image cannot fit in {limit} bytes even at {MIN_SIDE} pixels across")


def _flattened(source: Image.Image) -> Image.Image:
    """RGBA when transparency is actually used (an alpha channel or palette transparency), else RGB."""
    if source.mode in _ALPHA_MODES or "transparency" in source.info:
        rgba = source.convert("RGBA")
        minimum_alpha, _ = cast("tuple[int, int]", rgba.getchannel("A").getextrema())  # one band: (lowest, highest)
        if minimum_alpha < 255:
            return rgba
        return rgba.convert("RGB")
    return source if source.mode == "RGB" else source.convert("RGB")


def _scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    width, height = size
    return max(1, round(width * scale)), max(1, round(height * scale))


def _scaled(picture: Image.Image, scale: float) -> Image.Image:
    # always from the decoded original, so blur does not build up over the steps
    return picture.resize(_scaled_size(picture.size, scale), Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(picture: Image.Image, image_format: ImageFormat, quality: int, limit: int) -> tuple[int, bytes | None]:
    """The encoded size and, when it is within `limit`, the bytes; (0, None) when the encoder gives up (libwebp on
    big noisy pictures, JPEG past 65535 px). Encoded into a temporary file, so that tries too big never take memory
    (a BytesIO would hold each, and grow by copies)."""
    with tempfile.TemporaryFile() as file:
        try:
            if image_format is ImageFormat.WEBP:
                # method 2: no bigger than the default 4 on grainy 4K pictures, in about half the time
                picture.save(file, "WEBP", quality=quality, method=2)
            else:
                # no `optimize`: it makes libjpeg encode in one call holding the GIL (~150 ms for 4K), stalling the
                # event loop despite the worker thread, for a file only a few per cent smaller
                picture.save(file, "JPEG", quality=quality)
        except (OSError, ValueError):
            return 0, None  # a smaller quality or size may still encode
        if (size := file.tell()) > limit:
            return size, None
        file.seek(0)
        return size, file.read()
