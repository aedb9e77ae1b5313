"""Booking a job's images against the quotas before it runs, and settling them in the ledger after.

A reservation holds the images (and estimated cost) while the job runs, so that concurrent requests are
counted exactly; settling replaces it with a ledger row: images delivered (what quotas count) and the
estimated cost of what the API generated (what the budget counts, since it was billed either way).
"""

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from bot.core.pricing import image_cost
from bot.core.storage import Caps, JobRecord, Reservation, Storage, UsageRecord


class Accountant:
    def __init__(self, storage: Storage, prices: Mapping[str, int], global_caps: Caps | None = None) -> None:
        """`global_caps`: the deployment-wide caps (only its `global_*` fields count), applied to every booking."""
        self._storage = storage
        self._prices = prices
        self._global_caps = global_caps or Caps()

    def cost(self, record: JobRecord, images: int) -> int:
        """The estimated cost of `images` images of a job, in micro-dollars."""
        return image_cost(self._prices, record.model, record.quality, images)

    async def reserve(self, record: JobRecord, caps: Caps) -> None:
        """Book the job's images against `caps` and the global caps, or raise QuotaExceeded saying which limit."""
        # Merged here, after any exemption: the global caps protect the operator's bill, so nobody escapes them.
        deployment = self._global_caps
        caps = replace(
            caps,
            global_daily_images=deployment.global_daily_images,
            global_monthly_budget=deployment.global_monthly_budget,
        )
        reservation = Reservation(
            job_id=record.id,
            guild_id=record.guild_id,
            user_id=record.user_id,
            images=record.n,
            cost=self.cost(record, record.n),
            created_at=record.created_at,
        )
        await self._storage.reserve(reservation, caps)

    async def settle(self, record: JobRecord, outcome: str, delivered: int, generated: int) -> None:
        """Replace the job's reservation with its ledger row."""
        await self._storage.settle(
            UsageRecord(
                job_id=record.id,
                guild_id=record.guild_id,
                user_id=record.user_id,
                model=record.model,
                quality=record.quality or "1k",
                n=record.n,
                images=delivered,
                cost=self.cost(record, generated),
                outcome=outcome,
                created_at=record.created_at,
                finished_at=datetime.now(UTC),
            )
        )
