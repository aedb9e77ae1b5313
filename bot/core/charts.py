"""Usage charts: images per day over a window, stacked by model, drawn with Pillow as a PNG."""

import fnmatch
import io
import itertools
import math
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

Colour = tuple[int, int, int]

# An opaque card in Discord's dark grey: it reads the same on the dark and the light theme.
BACKGROUND = (43, 45, 49)
TEXT = (219, 222, 225)
MUTED = (148, 155, 164)
GRID = (63, 65, 71)
AXIS = (110, 115, 124)
# Bright enough on the dark card and apart from each other; index = rank of the model's name.
PALETTE: tuple[Colour, ...] = (
    (88, 101, 242),
    (87, 242, 135),
    (254, 231, 92),
    (235, 69, 158),
    (78, 205, 196),
    (250, 166, 26),
    (237, 66, 69),
    (171, 130, 255),
)
OTHER_COLOUR = (128, 132, 142)

FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
)
# Fonts for text the built-in font can't draw, best first: CJK faces, then broad Latin ones.
FONT_FILES = (
    "notosanscjksc-regular.otf",
    "notosanscjk-regular.ttc",
    "notosanssc-regular.*",
    "sourcehansanssc-regular.*",
    "sourcehansans-regular.*",
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "droidsansfallbackfull.ttf",
    "droidsansfallback.ttf",
    "notosans-regular.ttf",
    "dejavusans.ttf",
)
_NO_GLYPH = "\U0010ffff"  # a non-character: every font draws its "missing glyph" box for it


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    model: str
    images: int


def nice_ticks(maximum: int) -> list[int]:
    """Round y-axis ticks from 0 (steps of 1, 2 or 5 x 10^k), three to six of them, covering `maximum`."""
    maximum = max(maximum, 1)
    magnitude = 1
    while True:
        for base in (1, 2, 5):
            step = base * magnitude
            intervals = math.ceil(maximum / step)
            if intervals <= 5:
                return [step * i for i in range(max(intervals, 2) + 1)]
        magnitude *= 10


def usage_chart(
    counts: Sequence[DayCount],
    *,
    end: date,
    days: int = 30,
    title: str,
    empty_text: str,
    other_label: str = "other",
    width: int = 1000,
    height: int = 500,
) -> bytes:
    """A PNG: one stacked bar per day over the `days` days ending at `end`, a legend, y ticks and day labels."""
    first = end - timedelta(days=days - 1)
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for count in counts:
        if first <= count.day <= end and count.images > 0:
            per_day[count.day][count.model] += count.images
            totals[count.model] += count.images
    shown = sorted(sorted(totals, key=lambda model: (-totals[model], model))[: len(PALETTE)])
    series = [(model, PALETTE[i], totals[model]) for i, model in enumerate(shown)]
    if rest := sum(images for model, images in totals.items() if model not in shown):
        series.append((other_label, OTHER_COLOUR, rest))
    stacks = [_stack(per_day.get(first + timedelta(days=i), {}), shown) for i in range(days)]

    scale = min(width / 1000, height / 500)
    pad, gap = round(20 * scale), round(8 * scale)
    small, large = max(11, round(13 * scale)), max(14, round(22 * scale))  # legible when drawn small
    image = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    _text(draw, (pad, pad), _fit(draw, title, large, width - 2 * pad), large, TEXT, "la")

    ticks = nice_ticks(max((sum(stack) for stack in stacks), default=0))
    top = pad + round(large * 1.3) + 2 * gap
    legend = _legend(draw, series, right=width - pad, top=top, size=max(11, round(14 * scale)), limit=width // 4)
    left = pad + max(_width(draw, str(tick), small) for tick in ticks) + gap
    right = width - pad - (legend + 3 * gap if legend else 0)
    bottom = height - pad - round(small * 1.2) - gap

    def y_of(value: int) -> int:
        return bottom - round(value / ticks[-1] * (bottom - top))

    for tick in ticks if series else [0]:  # an empty chart keeps only its baseline, so the message stands alone
        draw.line([(left, y_of(tick)), (right, y_of(tick))], fill=AXIS if tick == 0 else GRID)
        _text(draw, (left - gap, y_of(tick)), str(tick), small, MUTED, "rm")

    slot = (right - left) / days
    bar = max(1, round(slot * 0.72))
    colours = [*PALETTE[: len(shown)], OTHER_COLOUR]
    for i, stack in enumerate(stacks):
        x0 = round(left + i * slot + (slot - bar) / 2)
        level, y_low = 0, bottom
        for colour, images in zip(colours, stack, strict=True):
            if images:
                level += images
                y_high = min(y_of(level), y_low - 1)  # a tiny share still shows as one line
                draw.rectangle([x0, y_high, x0 + bar - 1, y_low - 1], fill=colour)
                y_low = y_high

    every = max(math.ceil(days / 6), math.ceil((_width(draw, "00-00", small) + 2 * gap) / slot))
    for i in range(days - 1, -1, -every):  # counted back from `end` so the last day is always labelled
        centre = round(left + (i + 0.5) * slot)
        draw.line([(centre, bottom), (centre, bottom + gap // 2)], fill=AXIS)
        label = (first + timedelta(days=i)).strftime("%m-%d")
        _text(draw, (centre, bottom + gap), label, small, MUTED, "ma")

    if not series:
        middle, size = ((left + right) // 2, (top + bottom) // 2), max(12, round(18 * scale))
        _text(draw, middle, _fit(draw, empty_text, size, right - left), size, MUTED, "mm")

    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _stack(models: dict[str, int], shown: list[str]) -> list[int]:
    """One day's images per shown model, then all the others' as one share."""
    return [*(models.get(model, 0) for model in shown), sum(n for model, n in models.items() if model not in shown)]


def _legend(
    draw: ImageDraw.ImageDraw, series: list[tuple[str, Colour, int]], *, right: int, top: int, size: int, limit: int
) -> int:
    """Draw a swatch, name and total per series in a right-aligned column; return the column's width."""
    if not series:
        return 0
    names = [_fit(draw, name, size, limit) for name, _, _ in series]  # long names must not squeeze the bars
    totals = [str(total) for _, _, total in series]
    name_width = max(_width(draw, name, size) for name in names)
    column = size + size // 2 + name_width + size + max(_width(draw, total, size) for total in totals)
    x = right - column
    for row, ((_, colour, _), name, total) in enumerate(zip(series, names, totals, strict=True)):
        y = top + row * round(size * 1.7)
        draw.rectangle([x, y, x + size - 1, y + size - 1], fill=colour)
        _text(draw, (x + size + size // 2, y + size // 2), name, size, TEXT, "lm")
        _text(draw, (right, y + size // 2), total, size, MUTED, "rm")
    return column


def _fit(draw: ImageDraw.ImageDraw, text: str, size: int, limit: int) -> str:
    """The text, shortened with an ellipsis until it is at most `limit` pixels wide."""
    if _width(draw, text, size) <= limit:
        return text
    while len(text) > 1 and _width(draw, text + "...", size) > limit:
        text = text[:-1]
    return text + "..."


def _text(draw: ImageDraw.ImageDraw, xy: tuple[int, int], text: str, size: int, fill: Colour, anchor: str) -> None:
    """Draw text at `xy`, placed by a Pillow text anchor such as "la" (left, ascender) or "mm" (centred)."""
    font, drawable = _font_for(text, size)
    draw.text(xy, drawable, font=font, fill=fill, anchor=anchor)


def _width(draw: ImageDraw.ImageDraw, text: str, size: int) -> int:
    """Width in pixels of text as `_text` draws it."""
    font, drawable = _font_for(text, size)
    return round(draw.textlength(drawable, font=font))


def _font_for(text: str, size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, str]:
    """A font that draws the text, and the text it can draw: unknown characters are dropped, never boxed."""
    builtin = ImageFont.load_default(size=size)
    if text.isascii():
        return builtin, text
    best, best_text = builtin, ""
    for font in itertools.chain(_truetype_fonts(size), [builtin]):
        drawable = "".join(char for char in text if _has_glyph(font, char))
        if drawable == text:
            return font, text
        if len(drawable) > len(best_text):
            best, best_text = font, drawable
    return best, " ".join(best_text.split())


def _has_glyph(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str) -> bool:
    """Whether the font has its own glyph for the character rather than the missing-glyph box."""
    if not isinstance(font, ImageFont.FreeTypeFont):
        return char.isascii()  # the bitmap font used when Pillow lacks FreeType is Latin-1 at best
    if char.isspace():
        return True
    glyph, missing = font.getmask(char), font.getmask(_NO_GLYPH)
    return glyph.size != missing.size or bytes(glyph) != bytes(missing)


def _truetype_fonts(size: int) -> Iterator[ImageFont.FreeTypeFont]:
    """The installed fallback fonts at this size, loaded one by one, skipping any that fail to load."""
    for path in _fallback_fonts():
        try:
            yield ImageFont.truetype(path, size)
        except (OSError, ImportError):  # a broken file, or a Pillow built without FreeType
            continue


@cache
def _fallback_fonts() -> tuple[str, ...]:
    """Paths of installed fonts from FONT_FILES, best first; looked up once per process."""
    found: dict[str, str] = {}
    for root in FONT_DIRS:
        for folder, _, files in os.walk(root):
            for name in files:
                found.setdefault(name.lower(), os.path.join(folder, name))
    return tuple(found[name] for pattern in FONT_FILES for name in sorted(fnmatch.filter(found, pattern)))
