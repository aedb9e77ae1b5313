import discord
import pytest

from bot.app.render import MAX_REQUEST_BYTES, ResultSummary, result_embed, shorten, size_shown, upload_batches
from bot.core.imageapi import ImageBytes
from bot.core.images import ImageFormat
from bot.core.request import ImageRequest


def images(*sizes: int) -> list[ImageBytes]:
    return [ImageBytes(b"\x89PNG\r\n\x1a\n" + b"\0" * size, ImageFormat.PNG) for size in sizes]


def test_ten_small_images_go_in_one_message() -> None:
    assert list(upload_batches(images(*[1000] * 10))) == [list(range(10))]


def test_batches_hold_ten_files_at_most() -> None:
    assert list(upload_batches(images(*[1000] * 12))) == [list(range(10)), [10, 11]]


def test_batches_stay_under_the_request_size_limit() -> None:
    third = MAX_REQUEST_BYTES // 3
    assert list(upload_batches(images(third, third, third, third))) == [[0, 1], [2, 3]]


def test_an_image_alone_larger_than_the_limit_still_gets_its_own_message() -> None:
    assert list(upload_batches(images(100, MAX_REQUEST_BYTES + 1, 100))) == [[0], [1], [2]]


def test_shorten_cuts_with_an_ellipsis() -> None:
    assert shorten("abcdef", 10) == "abcdef"
    assert shorten("abcdefghijkl", 5) == "abcd…"


def test_the_embed_fits_discords_limits_and_escapes_markdown() -> None:
    request = ImageRequest(prompt="**bold** " * 500, model="m" * 100, count=1, size="777x333", quality="4k")

    embed = result_embed(ResultSummary(request, 12.345, 42), 1, discord.Locale.american_english)

    assert len(embed) <= 6000
    assert len(embed.description) <= 4096
    assert embed.description.startswith("\\*\\*bold\\*\\*")
    assert embed.title == "1 image"
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Size"] == "777x333"
    assert fields["Time"] == "12.3 s"


@pytest.mark.parametrize(
    ("asked", "delivered", "shown"),
    [
        (None, None, "1024x1024 (1:1)"),
        ("1792x1024", (3584, 2048), "3584x2048 (16:9)"),
        ("1792x1024", (2752, 1536), "2752x1536 (16:9)"),  # a model's own rounding of 16:9 is 16:9
        ("1792x1024", (1536, 1024), "1536x1024 (3:2; 16:9 was asked: the model makes no such shape)"),
        ("1024x1024", (1000, 300), "1000x300 (10:3; 1:1 was asked: the model makes no such shape)"),
    ],
)
def test_the_size_shown_is_the_one_delivered(asked, delivered, shown) -> None:
    assert size_shown(asked, delivered, discord.Locale.american_english) == shown
