"""The deployment-wide rules on their own: where each cap's boundary lies and what a refusal says."""

from datetime import UTC, datetime

import pytest

from bot.core.errors import QuotaExceeded
from bot.core.storage import Caps
from bot.core.storage.quota import DeploymentBooked, check_global_quota, has_global_caps
from tests.unit.core.storage.builders import PRICE, reservation

TOMORROW = datetime(2024, 5, 16, tzinfo=UTC)
NEXT_MONTH = datetime(2024, 6, 1, tzinfo=UTC)


def refusal(caps: Caps, images_today: int, cost_this_month: int, images: int = 2) -> tuple[object, ...] | None:
    try:
        check_global_quota(reservation(images=images), caps, DeploymentBooked(images_today, cost_this_month))
    except QuotaExceeded as error:
        return error.limit, error.used, error.allowed, error.resets_at
    return None


@pytest.mark.parametrize(
    ("images_today", "expected"),
    [(0, None), (8, None), (9, ("global_daily", 9, 10, TOMORROW)), (10, ("global_daily", 10, 10, TOMORROW))],
)
def test_global_daily_allows_up_to_the_cap_exactly(images_today: int, expected: tuple[object, ...] | None):
    assert refusal(Caps(global_daily_images=10), images_today, 10**9) == expected


@pytest.mark.parametrize(
    ("cost", "expected"),
    [(0, None), (8 * PRICE, None), (8 * PRICE + 1, ("global_budget", 8 * PRICE + 1, 10 * PRICE, NEXT_MONTH))],
)
def test_global_budget_allows_up_to_the_cap_exactly(cost: int, expected: tuple[object, ...] | None):
    assert refusal(Caps(global_monthly_budget=10 * PRICE), 10**6, cost) == expected


def test_a_zero_cap_refuses_everything_and_daily_is_checked_before_budget():
    assert refusal(Caps(global_daily_images=0), 0, 0, images=1) == ("global_daily", 0, 0, TOMORROW)
    both = Caps(global_daily_images=1, global_monthly_budget=1)
    assert refusal(both, 1, 1) == ("global_daily", 1, 1, TOMORROW)


def test_server_and_member_caps_are_not_global_ones():
    assert refusal(Caps(user_daily_images=1, server_daily_images=1, server_monthly_budget=1), 10**6, 10**9) is None
    assert not has_global_caps(Caps(user_daily_images=1, server_daily_images=1, server_monthly_budget=1))
    assert has_global_caps(Caps(global_daily_images=0))
    assert has_global_caps(Caps(global_monthly_budget=5))
