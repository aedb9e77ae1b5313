"""Booking a job's images against the quotas before it runs, and settling them in the ledger after.

A reservation holds the images (and estimated cost) while the job runs, so that concurrent requests are
counted exactly; settling replaces it with a ledger row: images delivered (what quotas count) and the
estimated cost of what the API generated (what the budget counts, since it was billed either way).
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.core.pricing import image_cost
from bot.core.storage import Caps, DeploymentBooked, JobRecord, Reservation, Storage, UsageRecord
from bot.core.storage.quota import Booked, has_global_caps


@dataclass(frozen=True, slots=True)
class Allowance:
    """What a member may still ask for, counted as booking counts it; None where no cap applies."""

    caps: Caps  # the member's caps, the deployment-wide ones included
    user_used: int  # images delivered to the member today
    user_reserved: int  # images the member's running requests hold
    user_remaining: int | None
    server_remaining: int | None  # running requests of everyone's included
    global_images_remaining: int | None
    global_budget_remaining: int | None  # micro-dollars
    ready_at: datetime | None  # when the cooldown lets the member ask again; None when it doesn't hold them now


class Accountant:
    def __init__(self, storage: Storage, prices: Mapping[str, int], global_caps: Caps | None = None) -> None:
        """`global_caps`: the deployment-wide caps (only its `global_*` fields count), applied to every booking."""
        self._storage = storage
        self._prices = prices
        self._global_caps = global_caps or Caps()

    def cost(self, record: JobRecord, images: int) -> int:
        """The estimated cost of `images` images of a job, in micro-dollars."""
        return image_cost(self._prices, record.model, record.quality, images)

    def with_global_caps(self, caps: Caps) -> Caps:
        """A member's caps with the deployment-wide ones: merged after any exemption, since the global caps protect
        the operator's bill and nobody escapes them."""
        deployment = self._global_caps
        return replace(
            caps,
            global_daily_images=deployment.global_daily_images,
            global_monthly_budget=deployment.global_monthly_budget,
        )

    async def allowance(self, guild_id: int, user_id: int, caps: Caps, now: datetime) -> Allowance:
        """What the member may still ask for under `caps` (and the global caps), by the counts booking uses."""
        caps = self.with_global_caps(caps)
        booked = await self._storage.booked(guild_id, user_id, now)
        reserved = await self._storage.user_reserved(guild_id, user_id)
        deployment = await self._storage.deployment_booked(now) if has_global_caps(caps) else DeploymentBooked(0, 0)
        return allowance_of(caps, booked, reserved, deployment, now)

    async def reserve(self, record: JobRecord, caps: Caps) -> None:
        """Book the job's images against `caps` and the global caps, or raise QuotaExceeded saying which limit."""
        caps = self.with_global_caps(caps)
        reservation = Reservation(
            job_id=record.id,
            guild_id=record.guild_id,
            user_id=record.user_id,
            images=record.n,
            cost=self.cost(record, record.n),
            created_at=record.created_at,
        )
        await self._storage.reserve(reservation, caps)

    async def settle(
        self,
        record: JobRecord,
        outcome: str,
        delivered: int,
        generated: int,
        *,
        provider: str | None = None,
        quality: str | None = None,
    ) -> None:
        """Replace the job's reservation with its ledger row; `quality` is the tier delivered when it fell short of
        the one asked, and is what the row books and prices."""
        quality = quality or record.quality
        await self._storage.settle(
            UsageRecord(
                job_id=record.id,
                guild_id=record.guild_id,
                user_id=record.user_id,
                model=record.model,
                quality=quality or "1k",
                n=record.n,
                images=delivered,
                cost=image_cost(self._prices, record.model, quality, generated),
                outcome=outcome,
                created_at=record.created_at,
                finished_at=datetime.now(UTC),
                provider=provider,
            )
        )


def allowance_of(caps: Caps, booked: Booked, reserved: int, deployment: DeploymentBooked, now: datetime) -> Allowance:
    """What is left under `caps` of what is already booked: the member's and server's images today (running
    requests included), the deployment's, and the cooldown from the member's last start."""
    ready_at = None if booked.last_start is None else booked.last_start + timedelta(seconds=caps.cooldown_seconds)
    return Allowance(
        caps=caps,
        user_used=booked.user_images - reserved,
        user_reserved=reserved,
        user_remaining=_left(caps.user_daily_images, booked.user_images),
        server_remaining=_left(caps.server_daily_images, booked.server_images),
        global_images_remaining=_left(caps.global_daily_images, deployment.images),
        global_budget_remaining=_left(caps.global_monthly_budget, deployment.cost),
        ready_at=ready_at if caps.cooldown_seconds > 0 and ready_at is not None and ready_at > now else None,
    )


def _left(cap: int | None, used: int) -> int | None:
    return None if cap is None else max(0, cap - used)
