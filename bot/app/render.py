"""Result messages from core results, within Discord's length and upload limits."""

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import discord

from bot.app.errors import megabytes
from bot.app.i18n import catalogue
from bot.core.fitting import FittedImage
from bot.core.imageapi import ImageBytes
from bot.core.images import pixel_size
from bot.core.jobs import JobKind
from bot.core.request import ASPECT_SIZES, RATIOS, ImageRequest

MAX_FILES = 10  # files per message
MAX_REQUEST_BYTES = 25 * 1024 * 1024 - 512 * 1024  # a whole upload request, with room for the JSON part
PROMPT_PREVIEW = 300
DEFAULT_FIELDS = {"model": "result.model", "size": "result.size", "quality": "result.quality", "style": "result.style"}
DEFAULT_SIZE = "1024x1024"  # what the API makes when no size is asked
RATIO_TOLERANCE = 0.02
EMBED_COLOUR = discord.Colour.blurple()


@dataclass(frozen=True, slots=True)
class ResultSummary:
    request: ImageRequest
    seconds: float
    requester_id: int
    kind: JobKind = JobKind.IMAGINE
    picture_count: int = 0
    fitted: tuple[FittedImage, ...] = ()
    upload_limit: int = 0
    asked_quality: str | None = None  # set when the images came back at a lower tier than this one
    from_defaults: frozenset[str] = frozenset()  # options taken from the member's own defaults


def result_embed(summary: ResultSummary, image_count: int, locale: discord.Locale) -> discord.Embed:
    """A compact embed: the prompt (shortened), model, size, quality, time, requester, and any re-encoding."""
    request = summary.request
    prompt = catalogue.text(locale, "result.upscaled") if summary.kind is JobKind.UPSCALE else request.prompt
    embed = discord.Embed(
        title=catalogue.text(
            locale, "result.images.one" if image_count == 1 else "result.images.other", count=image_count
        ),
        description=shorten(discord.utils.escape_markdown(prompt), PROMPT_PREVIEW),
        colour=EMBED_COLOUR,
    )
    fields = {
        "result.model": request.model,
        "result.size": size_shown(request.size, delivered_size(summary.fitted), locale),
        "result.quality": quality_shown(request.quality, summary.asked_quality, locale),
        "result.time": catalogue.text(locale, "result.seconds", seconds=summary.seconds),
        "result.requester": f"<@{summary.requester_id}>",
    }
    if request.style:
        fields["result.style"] = request.style
    if summary.picture_count:
        fields["result.pictures"] = str(summary.picture_count)
    for option in summary.from_defaults & DEFAULT_FIELDS.keys():  # say which values the member didn't type
        if (key := DEFAULT_FIELDS[option]) in fields:
            fields[key] = catalogue.text(locale, "result.your_default", value=fields[key])
    for key, value in fields.items():
        embed.add_field(name=catalogue.text(locale, key), value=value)
    if note := reencoded_note(summary.fitted, summary.upload_limit, locale):
        embed.set_footer(text=note)
    return embed


def delivered_size(fitted: Sequence[FittedImage]) -> tuple[int, int] | None:
    """The pixel size of the first image as it is uploaded; None without images."""
    if not fitted:
        return None
    return fitted[0].size or pixel_size(fitted[0].image.reader())


def size_shown(asked: str | None, delivered: tuple[int, int] | None, locale: discord.Locale) -> str:
    """The size delivered with its aspect ratio, saying which was asked when the provider made another shape (the
    size asked when nothing says what was delivered)."""
    asked_size = asked or DEFAULT_SIZE
    asked_ratio = RATIOS.get(asked_size)
    if delivered is None:
        return f"{asked_size} ({asked_ratio})" if asked_ratio else asked_size
    width, height = delivered
    ratio = ratio_name(width, height)
    if asked_ratio is None or ratio == asked_ratio:
        return f"{width}x{height} ({ratio})"
    return catalogue.text(locale, "result.size.other", size=f"{width}x{height}", ratio=ratio, asked=asked_ratio)


def ratio_name(width: int, height: int) -> str:
    """The offered aspect ratio `width`x`height` is (within RATIO_TOLERANCE: models round sides to their own
    steps), else the ratio itself in lowest terms."""
    for ratio in ASPECT_SIZES:
        w, h = (int(side) for side in ratio.split(":"))
        if abs(width * h / (height * w) - 1) <= RATIO_TOLERANCE:
            return ratio
    common = math.gcd(width, height) or 1
    return f"{width // common}:{height // common}"


def quality_shown(delivered: str | None, asked: str | None, locale: discord.Locale) -> str:
    """The tier delivered, saying which was asked when the provider fell short of it."""
    if asked is None or asked == delivered:
        return delivered or "1k"
    return catalogue.text(locale, "result.quality.short", delivered=delivered or "1k", asked=asked)


def reencoded_note(fitted: Sequence[FittedImage], limit: int, locale: discord.Locale) -> str:
    """Which images were re-encoded to fit the upload limit, or "" when none was."""
    images = [
        catalogue.text(
            locale,
            "result.reencoded.image",
            number=number,
            format=item.image.format.name,
            size=megabytes(item.image.size),
        )
        for number, item in enumerate(fitted, start=1)
        if item.reencoded
    ]
    if not images:
        return ""
    return shorten(catalogue.text(locale, "result.reencoded", limit=megabytes(limit), images=", ".join(images)), 2048)


def image_files(images: Sequence[ImageBytes], indexes: Sequence[int], stem: str) -> list[discord.File]:
    """Uploads for the images at `indexes`, named by position and by the format their bytes show."""
    return [
        discord.File(images[index].reader(), filename=f"{stem}-{index + 1}.{images[index].format.extension}")
        for index in indexes
    ]


def upload_batches(images: Sequence[ImageBytes]) -> Iterator[list[int]]:
    """Indexes of images per message: at most 10 files and one request's byte limit each."""
    batch: list[int] = []
    size = 0
    for index, image in enumerate(images):
        if batch and (len(batch) == MAX_FILES or size + image.size > MAX_REQUEST_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(index)
        size += image.size
    if batch:
        yield batch


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, ending with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
