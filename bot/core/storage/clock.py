"""The clock quotas reset on: UTC midnight for daily limits, the 1st of the month (UTC) for budgets."""

from datetime import datetime, timedelta

from bot.core.storage.records import as_utc


def periods(moment: datetime) -> tuple[datetime, datetime, datetime, datetime]:
    """(day_start, next_day_start, month_start, next_month_start) around `moment`, in UTC."""
    day_start = as_utc(moment).replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    next_month_start = (month_start + timedelta(days=32)).replace(day=1)
    return day_start, day_start + timedelta(days=1), month_start, next_month_start
