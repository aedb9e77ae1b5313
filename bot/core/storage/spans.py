"""Cutting a time window into the whole UTC days (or months) a rollup answers for and the raw edges around them."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.core.storage.clock import periods

Period = Callable[[datetime], tuple[datetime, datetime]]  # the period a moment falls in: (its start, the next start)


@dataclass(frozen=True, slots=True)
class Span:
    """[since, until) as whole periods [first, end), read from a rollup, between a head [since, first) and a tail
    [end, until) read from the ledger's rows; first == end when no whole period fits."""

    since: datetime
    first: datetime
    end: datetime
    until: datetime


def day_of(moment: datetime) -> tuple[datetime, datetime]:
    """The UTC day `moment` falls in."""
    start, next_start, _, _ = periods(moment)
    return start, next_start


def month_of(moment: datetime) -> tuple[datetime, datetime]:
    """The UTC month `moment` falls in."""
    _, _, start, next_start = periods(moment)
    return start, next_start


def first_boundary(since: datetime, period: Period) -> datetime:
    """The first start of a period at or after `since`."""
    start, next_start = period(since)
    return start if start == since else next_start


def span(since: datetime, until: datetime, period: Period) -> Span:
    """[since, until) cut at the boundaries of `period`."""
    first, end = first_boundary(since, period), period(until)[0]
    if end <= first:  # too short to hold a whole period: all of it is head
        return Span(since, until, until, until)
    return Span(since, first, end, until)
