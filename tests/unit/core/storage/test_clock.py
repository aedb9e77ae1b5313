from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.storage import periods

TOKYO = timezone(timedelta(hours=9))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2024, 5, 15, 12, 0), (utc(2024, 5, 15), utc(2024, 5, 16), utc(2024, 5, 1), utc(2024, 6, 1))),
        (utc(2024, 5, 31, 23, 59, 59, 999999), (utc(2024, 5, 31), utc(2024, 6, 1), utc(2024, 5, 1), utc(2024, 6, 1))),
        (utc(2024, 12, 31, 0, 0), (utc(2024, 12, 31), utc(2025, 1, 1), utc(2024, 12, 1), utc(2025, 1, 1))),
        (utc(2024, 2, 29, 8, 0), (utc(2024, 2, 29), utc(2024, 3, 1), utc(2024, 2, 1), utc(2024, 3, 1))),
        (
            datetime(2024, 6, 1, 8, 0, tzinfo=TOKYO),
            (utc(2024, 5, 31), utc(2024, 6, 1), utc(2024, 5, 1), utc(2024, 6, 1)),
        ),
    ],
)
def test_periods_are_utc_days_and_months(moment, expected):
    assert periods(moment) == expected
    assert all(edge.tzinfo is UTC for edge in periods(moment))


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        periods(datetime(2024, 5, 15))  # noqa: DTZ001 - the naive time under test
