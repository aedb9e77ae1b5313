import io
import itertools
import random
from collections import defaultdict
from datetime import date, timedelta

import pytest
from PIL import Image

from bot.core.charts import OTHER_COLOUR, PALETTE, DayCount, nice_ticks, usage_chart

END = date(2025, 6, 14)


def chart(
    counts: list[DayCount],
    *,
    title: str = "Images in the last 30 days",
    empty_text: str = "No images yet",
    width: int = 1000,
    height: int = 500,
) -> Image.Image:
    png = usage_chart(counts, end=END, title=title, empty_text=empty_text, width=width, height=height)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def day(i: int) -> date:
    """The i-th day of the 30-day window ending at END."""
    return END - timedelta(days=29 - i)


def pixels_of(image: Image.Image, colour: tuple[int, int, int]) -> dict[int, list[int]]:
    """For each column x, the rows of the pixels in exactly this colour."""
    data = image.tobytes()
    found: dict[int, list[int]] = defaultdict(list)
    for i, pixel in enumerate(zip(data[0::3], data[1::3], data[2::3], strict=True)):
        if pixel == colour:
            found[i % image.width].append(i // image.width)
    return found


def bar_columns(image: Image.Image, colour: tuple[int, int, int]) -> dict[int, list[int]]:
    """The columns where this colour stands on the baseline (bars, not legend swatches)."""
    found = pixels_of(image, colour)
    baseline = max(y for rows in found.values() for y in rows)
    return {x: rows for x, rows in found.items() if baseline in rows}


def bar_heights(image: Image.Image, colour: tuple[int, int, int]) -> list[int]:
    """Heights of the bars in this colour, left to right, each measured in its middle column."""
    columns = sorted(bar_columns(image, colour))
    runs: list[list[int]] = []
    for x in columns:
        if runs and runs[-1][-1] == x - 1:
            runs[-1].append(x)
        else:
            runs.append([x])
    found = pixels_of(image, colour)
    return [len(found[run[len(run) // 2]]) for run in runs]


def middle(image: Image.Image) -> bytes:
    width, height = image.size
    return image.crop((width // 4, height // 3, width * 3 // 4, height * 2 // 3)).tobytes()


@pytest.mark.parametrize(("width", "height"), [(1000, 500), (640, 320)])
def test_chart_is_a_png_of_the_requested_size(width: int, height: int) -> None:
    image = chart([DayCount(END, "gpt-image-1", 3)], width=width, height=height)
    assert image.size == (width, height)


def test_empty_chart_shows_the_empty_text_in_the_middle() -> None:
    with_text = chart([], empty_text="No images yet")
    without_text = chart([], empty_text="")
    assert middle(with_text) != middle(without_text)
    assert len(set(middle(without_text))) <= 3  # a blank card there: only the background's channel values


def test_bars_grow_with_the_counts() -> None:
    image = chart([DayCount(day(i), "gpt-image-1", i + 1) for i in range(30)])
    heights = bar_heights(image, PALETTE[0])
    assert len(heights) == 30
    assert all(low < high for low, high in itertools.pairwise(heights))


def test_days_without_usage_have_no_bar() -> None:
    image = chart([DayCount(day(i), "gpt-image-1", 5) for i in range(0, 30, 2)])
    assert len(bar_heights(image, PALETTE[0])) == 15


def test_models_of_one_day_stack_in_one_column_in_name_order() -> None:
    image = chart([DayCount(END, "beta", 6), DayCount(END, "alpha", 4)])
    bottom = bar_columns(image, PALETTE[0])  # "alpha" sorts first: first colour, at the bottom
    above = pixels_of(image, PALETTE[1])
    assert bottom
    assert all(max(above[x]) + 1 == min(rows) for x, rows in bottom.items())
    assert all(len(rows) < len(above[x]) for x, rows in bottom.items())  # 4 images of alpha below 6 of beta


def test_models_beyond_the_eighth_are_grouped_as_other() -> None:
    image = chart([DayCount(END, f"model-{i:02}", 1) for i in range(10)])
    assert all(bar_columns(image, colour) for colour in PALETTE)
    assert bar_columns(image, OTHER_COLOUR)


def test_counts_outside_the_window_change_nothing() -> None:
    inside = [DayCount(day(i), "gpt-image-1", i % 7) for i in range(30)]
    outside = [DayCount(day(-1), "gpt-image-1", 500), DayCount(END + timedelta(days=1), "ghost", 9)]
    assert chart(inside + outside).tobytes() == chart(inside).tobytes()


def test_duplicate_entries_are_summed() -> None:
    split = [DayCount(END, "gpt-image-1", 3), DayCount(END, "gpt-image-1", 4)]
    assert chart(split).tobytes() == chart([DayCount(END, "gpt-image-1", 7)]).tobytes()


def test_order_of_the_counts_does_not_matter() -> None:
    counts = [DayCount(day(i), model, i + 1) for i in range(30) for model in ("flux", "dall-e-3", "gpt-image-1")]
    shuffled = random.Random(3).sample(counts, len(counts))
    assert chart(shuffled).tobytes() == chart(counts).tobytes()


@pytest.mark.parametrize(
    ("maximum", "ticks"),
    [
        (0, [0, 1, 2]),
        (1, [0, 1, 2]),
        (7, [0, 2, 4, 6, 8]),
        (10, [0, 2, 4, 6, 8, 10]),
        (99, [0, 20, 40, 60, 80, 100]),
        (1234, [0, 500, 1000, 1500]),
    ],
)
def test_nice_ticks(maximum: int, ticks: list[int]) -> None:
    assert nice_ticks(maximum) == ticks


def test_nice_ticks_are_few_round_and_cover_the_maximum() -> None:
    for maximum in range(3000):
        ticks = nice_ticks(maximum)
        step = ticks[1]
        assert 3 <= len(ticks) <= 6
        assert ticks == [step * i for i in range(len(ticks))]
        assert str(step).rstrip("0") in {"1", "2", "5"}
        assert ticks[-1] >= max(maximum, 1)


def test_chinese_text_is_drawn_without_crashing() -> None:
    counts = [DayCount(END, "通义万相", 2), DayCount(END, "gpt-image-1", 1)]
    titled = chart(counts, title="最近 30 天的图片")
    untitled = chart(counts, title="")
    assert titled.tobytes() != untitled.tobytes()
    assert chart([], title="最近 30 天的图片", empty_text="暂无图片").size == (1000, 500)
