"""Fitting result images under an upload limit, on real pictures."""

import io
import random

import pytest
from PIL import Image

from bot.core.fitting import fit_image
from bot.core.imageapi.answers import ImageBytes
from bot.core.images import ImageFormat, sniff_format
from tests.loopback.image_api.render import BULKY_GRAIN, render_image

MIB = 1024 * 1024


def noise(size: tuple[int, int], mode: str = "RGB", seed: int = 0) -> Image.Image:
    width, height = size
    return Image.frombytes(mode, size, random.Random(seed).randbytes(width * height * len(mode)))


def png(picture: Image.Image) -> ImageBytes:
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=1)
    return ImageBytes(buffer.getvalue(), ImageFormat.PNG)


def opened(image: ImageBytes) -> Image.Image:
    picture = Image.open(io.BytesIO(image.data))
    picture.load()
    return picture


@pytest.fixture(scope="module")
def grainy_4k() -> ImageBytes:
    """What a model's 4K answer is like: a PNG over 10 MiB that a JPEG holds in far less."""
    rendered = render_image("fitting", 0, (4096, 4096), "png", BULKY_GRAIN)
    return ImageBytes(rendered.data, ImageFormat.PNG)


@pytest.fixture(scope="module")
def translucent() -> ImageBytes:
    picture = noise((256, 256), "RGB", seed=1).convert("RGBA")
    picture.putalpha(Image.linear_gradient("L").resize((256, 256)))
    return png(picture)


def test_an_image_within_the_limit_is_left_alone() -> None:
    image = png(noise((32, 32)))

    fitted = fit_image(image, len(image.data))

    assert fitted.image is image
    assert (fitted.original_bytes, fitted.reencoded, fitted.size) == (len(image.data), False, None)


def test_a_4k_png_over_10_mib_becomes_a_full_size_jpeg_under_it(grainy_4k: ImageBytes) -> None:
    assert len(grainy_4k.data) > 10 * MIB

    fitted = fit_image(grainy_4k, 10 * MIB)

    assert len(fitted.image.data) <= 10 * MIB
    assert fitted.image.format is ImageFormat.JPEG
    assert sniff_format(fitted.image.data) is ImageFormat.JPEG
    assert (fitted.original_bytes, fitted.reencoded, fitted.size) == (len(grainy_4k.data), True, (4096, 4096))
    assert opened(fitted.image).size == (4096, 4096)


def test_an_opaque_image_becomes_a_jpeg_even_with_an_alpha_channel() -> None:
    image = png(noise((256, 256), "RGB", seed=2).convert("RGBA"))  # every pixel fully opaque

    fitted = fit_image(image, len(image.data) // 2)

    assert sniff_format(fitted.image.data) is fitted.image.format is ImageFormat.JPEG
    assert len(fitted.image.data) <= len(image.data) // 2


def test_a_translucent_image_becomes_a_webp_that_keeps_its_alpha(translucent: ImageBytes) -> None:
    limit = len(translucent.data) // 2

    fitted = fit_image(translucent, limit)

    assert sniff_format(fitted.image.data) is fitted.image.format is ImageFormat.WEBP
    assert len(fitted.image.data) <= limit
    result, source = opened(fitted.image), opened(translucent)
    assert result.mode == "RGBA"
    alpha, expected = result.getchannel("A").tobytes(), source.getchannel("A").tobytes()
    assert max(abs(a - b) for a, b in zip(alpha, expected, strict=True)) <= 2


def test_palette_transparency_counts_as_transparency() -> None:
    picture = noise((128, 128), "L", seed=3).convert("P")
    picture.paste(picture.getpixel((0, 0)), (0, 0, 48, 48))  # a clear corner, whatever the scaling
    picture.info["transparency"] = picture.getpixel((0, 0))
    image = png(picture)

    fitted = fit_image(image, len(image.data) // 2)

    assert fitted.image.format is ImageFormat.WEBP
    assert opened(fitted.image).getchannel("A").getextrema()[0] == 0


def test_an_image_too_big_at_every_quality_is_scaled_down_keeping_its_shape() -> None:
    image = png(noise((1024, 768), seed=4))
    limit = 40_000

    fitted = fit_image(image, limit)

    assert len(fitted.image.data) <= limit
    assert fitted.size is not None
    width, height = fitted.size
    assert width < 1024
    assert abs(height - width * 768 / 1024) <= 1
    assert opened(fitted.image).size == fitted.size


def test_a_limit_nothing_can_meet_is_an_error() -> None:
    image = png(noise((64, 64), seed=5))

    with pytest.raises(ValueError, match="cannot fit"):
        fit_image(image, 10)
