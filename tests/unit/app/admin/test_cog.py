"""/admin usage's lines with the deployment-wide caps beside the totals they cap."""

import pytest

from bot.app.admin.cog import with_global_cap
from bot.app.i18n import catalogue
from bot.core.storage import Caps

LINE = "Today: 3 jobs delivered, 5 images, $0.20"
CAPS = Caps(global_daily_images=500, global_monthly_budget=250_000_000)


def text(key: str, **params: object) -> str:
    return catalogue.text("en-US", key, **params)


def test_today_shows_the_daily_cap_and_the_month_the_budget() -> None:
    assert with_global_cap(LINE, "today", CAPS, "en-US") == text("admin.usage.daily_cap", line=LINE, allowed=500)
    assert with_global_cap(LINE, "month", CAPS, "en-US") == text("admin.usage.budget_cap", line=LINE, allowed="$250.00")


@pytest.mark.parametrize(("span", "caps"), [("week", CAPS), ("today", Caps()), ("month", Caps())])
def test_a_span_without_a_cap_keeps_its_line(span: str, caps: Caps) -> None:
    assert with_global_cap(LINE, span, caps, "en-US") == LINE
