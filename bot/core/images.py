"""Image bytes: tell the format by the bytes themselves, never by a name or a content type."""

import io
from enum import StrEnum
from typing import IO

from PIL import Image


class ImageFormat(StrEnum):
    PNG = "png"
    JPEG = "jpeg"
    WEBP = "webp"
    GIF = "gif"

    @property
    def extension(self) -> str:
        return "jpg" if self is ImageFormat.JPEG else self.value


SNIFF_BYTES = 16  # the leading bytes sniff_format reads


def sniff_format(data: bytes) -> ImageFormat | None:
    """The image format the leading bytes announce, or None when they are no image we know."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return ImageFormat.PNG
    if data.startswith(b"\xff\xd8\xff"):
        return ImageFormat.JPEG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ImageFormat.WEBP
    if data.startswith((b"GIF87a", b"GIF89a")):
        return ImageFormat.GIF
    return None


def pixel_size(data: bytes | IO[bytes]) -> tuple[int, int]:
    """Width and height, read from the image's header alone (nothing is decoded)."""
    with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as image:
        return image.size
