"""/quota's lines for the deployment-wide caps, from the counts the storage gives."""

from datetime import UTC, datetime

import discord
import pytest

from bot.app.i18n import catalogue
from bot.app.usage import member
from bot.core.accounting import allowance_of
from bot.core.storage import Caps, DeploymentBooked
from bot.core.storage.quota import Booked

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
TOMORROW = discord.utils.format_dt(datetime(2024, 5, 16, tzinfo=UTC), "R")
NEXT_MONTH = discord.utils.format_dt(datetime(2024, 6, 1, tzinfo=UTC), "R")
LOCALES = (discord.Locale.american_english, discord.Locale.chinese)


def global_lines(caps: Caps, deployment: DeploymentBooked, now: datetime, locale: str) -> list[str]:
    """/quota's global lines for a deployment holding `deployment`, the member and server holding nothing."""
    nothing = Booked(user_jobs=0, last_start=None, user_images=0, server_images=0, server_cost=0)
    allowance = allowance_of(caps, nothing, 0, deployment, now)
    return member.global_lines(allowance, datetime(2024, 5, 16, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC), locale)


def text(key: str, **params: object) -> str:
    return catalogue.text("en-US", key, **params)


def test_no_line_when_the_global_caps_are_off() -> None:
    assert global_lines(Caps(user_daily_images=5), DeploymentBooked(images=7, cost=10), NOW, "en-US") == []


def test_the_daily_cap_shows_the_images_left_across_all_servers_and_when_it_resets() -> None:
    lines = global_lines(Caps(global_daily_images=10), DeploymentBooked(images=7, cost=0), NOW, "en-US")
    assert lines == [text("quota.global.daily", remaining=3, allowed=10, resets=TOMORROW)]


def test_nothing_is_left_once_the_deployment_holds_more_than_the_cap() -> None:
    lines = global_lines(Caps(global_daily_images=10), DeploymentBooked(images=12, cost=0), NOW, "en-US")
    assert lines == [text("quota.global.daily", remaining=0, allowed=10, resets=TOMORROW)]


def test_the_budget_shows_the_dollars_left_this_month() -> None:
    caps = Caps(global_monthly_budget=100_000_000)
    lines = global_lines(caps, DeploymentBooked(images=0, cost=99_500_000), NOW, "en-US")
    assert lines == [text("quota.global.budget", remaining="$0.50", allowed="$100.00", resets=NEXT_MONTH)]
    spent = global_lines(caps, DeploymentBooked(images=0, cost=100_000_001), NOW, "en-US")
    assert spent == [text("quota.global.budget", remaining="$0.00", allowed="$100.00", resets=NEXT_MONTH)]


@pytest.mark.parametrize("locale", LOCALES)
def test_both_caps_give_one_line_each_daily_first(locale: discord.Locale) -> None:
    caps = Caps(global_daily_images=500, global_monthly_budget=20_000_000)
    daily, budget = global_lines(caps, DeploymentBooked(images=20, cost=5_000_000), NOW, locale)
    assert "480" in daily
    assert TOMORROW in daily
    assert "$15.00" in budget
    assert NEXT_MONTH in budget
    assert "{" not in daily + budget
