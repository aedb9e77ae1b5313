import io

import pytest
from PIL import Image

from bot.core.images import ImageFormat, sniff_format


def encoded(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("PNG", ImageFormat.PNG), ("JPEG", ImageFormat.JPEG), ("WEBP", ImageFormat.WEBP), ("GIF", ImageFormat.GIF)],
)
def test_real_images_are_told_by_their_bytes(fmt: str, expected: ImageFormat) -> None:
    assert sniff_format(encoded(fmt)) is expected


@pytest.mark.parametrize("data", [b"", b"hello", b"<html>", b"RIFF\0\0\0\0WAVE", b"\x89PNG"])
def test_other_bytes_are_no_image(data: bytes) -> None:
    assert sniff_format(data) is None


def test_jpeg_files_get_the_usual_extension() -> None:
    assert ImageFormat.JPEG.extension == "jpg"
    assert ImageFormat.WEBP.extension == "webp"
