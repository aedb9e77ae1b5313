from datetime import UTC, datetime, timedelta, timezone

from bot.core.storage.spans import Span, day_of, first_boundary, month_of, span

MAY_15 = datetime(2024, 5, 15, tzinfo=UTC)


def test_a_window_of_whole_days_is_all_rollup():
    assert span(MAY_15, MAY_15 + timedelta(days=7), day_of) == Span(
        MAY_15, MAY_15, MAY_15 + timedelta(days=7), MAY_15 + timedelta(days=7)
    )


def test_the_parts_of_days_at_either_end_are_read_from_the_rows():
    since, until = MAY_15 - timedelta(hours=3), MAY_15 + timedelta(days=2, hours=5)
    assert span(since, until, day_of) == Span(since, MAY_15, MAY_15 + timedelta(days=2), until)


def test_a_window_inside_one_day_has_no_whole_day():
    since, until = MAY_15 + timedelta(hours=1), MAY_15 + timedelta(hours=20)
    assert span(since, until, day_of) == Span(since, until, until, until)


def test_a_window_across_one_midnight_without_a_whole_day_is_all_head():
    since, until = MAY_15 - timedelta(hours=1), MAY_15 + timedelta(hours=1)
    assert span(since, until, day_of) == Span(since, until, until, until)


def test_months_are_utc_months_whatever_the_zone_of_the_window():
    new_york = timezone(timedelta(hours=-4))
    since = datetime(2024, 4, 30, 21, tzinfo=new_york)  # 1 May 01:00 UTC
    assert first_boundary(since, month_of) == datetime(2024, 6, 1, tzinfo=UTC)
    assert first_boundary(datetime(2024, 4, 30, 20, tzinfo=new_york), month_of) == datetime(2024, 5, 1, tzinfo=UTC)
