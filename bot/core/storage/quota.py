"""The quota rules a reservation must pass, in the order they are checked, on counts the database supplies.

Storage counts and checks inside one transaction that is serialised per server, so the counts are exact; when a
global cap is set, it is serialised across the whole deployment too, and the global counts are checked last.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core.errors import QuotaExceeded
from bot.core.storage.clock import periods
from bot.core.storage.records import Caps, Reservation


@dataclass(frozen=True, slots=True)
class Booked:
    """What a member and their server already hold when a new reservation is checked."""

    user_jobs: int  # the member's reservations, one per running job
    last_start: datetime | None  # the member's latest reservation or delivered request
    user_images: int  # the member's images delivered today plus those reserved
    server_images: int  # the same for the whole server
    server_cost: int  # the server's cost this month plus that reserved, in micro-dollars


@dataclass(frozen=True, slots=True)
class DeploymentBooked:
    """What the whole deployment (every server and direct message) already holds, as the global caps count it."""

    images: int  # images delivered today plus those reserved
    cost: int  # cost this month plus that reserved, in micro-dollars


def check_quota(reservation: Reservation, caps: Caps, booked: Booked) -> None:
    """Raise QuotaExceeded for the first limit the reservation breaks.

    The order: concurrent, cooldown, user_daily, server_daily, server_budget.
    """
    _, next_day, _, next_month = periods(reservation.created_at)
    if caps.user_concurrent_jobs is not None and booked.user_jobs >= caps.user_concurrent_jobs:
        raise QuotaExceeded("concurrent", booked.user_jobs, caps.user_concurrent_jobs, None)
    if caps.cooldown_seconds > 0 and booked.last_start is not None:
        ready_at = booked.last_start + timedelta(seconds=caps.cooldown_seconds)
        if ready_at > reservation.created_at:
            waited = max(0, int((reservation.created_at - booked.last_start).total_seconds()))
            raise QuotaExceeded("cooldown", waited, caps.cooldown_seconds, ready_at)
    if caps.user_daily_images is not None and booked.user_images + reservation.images > caps.user_daily_images:
        raise QuotaExceeded("user_daily", booked.user_images, caps.user_daily_images, next_day)
    if reservation.guild_id is None:
        return
    if caps.server_daily_images is not None and booked.server_images + reservation.images > caps.server_daily_images:
        raise QuotaExceeded("server_daily", booked.server_images, caps.server_daily_images, next_day)
    if caps.server_monthly_budget is not None and booked.server_cost + reservation.cost > caps.server_monthly_budget:
        raise QuotaExceeded("server_budget", booked.server_cost, caps.server_monthly_budget, next_month)


def has_global_caps(caps: Caps) -> bool:
    """Whether a deployment-wide cap applies: only then does storage count (and lock) the whole deployment."""
    return caps.global_daily_images is not None or caps.global_monthly_budget is not None


def check_global_quota(reservation: Reservation, caps: Caps, deployment: DeploymentBooked) -> None:
    """Raise QuotaExceeded if the reservation breaks a deployment-wide cap: global_daily, then global_budget.

    The counts are the whole deployment's, as the server ones are a server's: images delivered today and the cost
    of this month's ledger rows, each plus what every running reservation holds.
    """
    _, next_day, _, next_month = periods(reservation.created_at)
    daily = caps.global_daily_images
    if daily is not None and deployment.images + reservation.images > daily:
        raise QuotaExceeded("global_daily", deployment.images, daily, next_day)
    budget = caps.global_monthly_budget
    if budget is not None and deployment.cost + reservation.cost > budget:
        raise QuotaExceeded("global_budget", deployment.cost, budget, next_month)
