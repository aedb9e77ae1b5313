"""What the usage and quota figures must be, worked out in Python from the ledger rows settled, as the statements
before the rollups counted them: a reference for storage tests."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.core.storage import Booked, DailyUsage, Storage, UsageRecord, UsageTotals, UserUsage, periods


@dataclass
class Ledger:
    """The rows settled so far: the first settlement of each job."""

    rows: dict[str, UsageRecord] = field(default_factory=dict)

    def settle(self, record: UsageRecord) -> None:
        self.rows.setdefault(record.job_id, record)

    def totals(self, guild_id: int | None, since: datetime, until: datetime, user_id: int | None = None) -> UsageTotals:
        picked = [
            row
            for row in self.rows.values()
            if (guild_id is None or row.guild_id == guild_id)
            and (user_id is None or row.user_id == user_id)
            and since <= row.created_at < until
        ]
        delivered = sum(row.outcome == "delivered" for row in picked)
        return UsageTotals(delivered, sum(row.images for row in picked), sum(row.cost for row in picked))

    def by_day(self, guild_id: int | None, since: datetime) -> list[DailyUsage]:
        days: dict[tuple[date, str], int] = {}
        for row in self._delivered(guild_id, since):
            key = (periods(row.created_at)[0].date(), row.model)
            days[key] = days.get(key, 0) + row.images
        return [DailyUsage(day, model, images) for (day, model), images in sorted(days.items())]

    def top(self, guild_id: int, since: datetime) -> list[UserUsage]:
        users: dict[int, tuple[int, int]] = {}
        for row in self._delivered(guild_id, since):
            images, cost = users.get(row.user_id, (0, 0))
            users[row.user_id] = (images + row.images, cost + row.cost)
        ranked = sorted(users.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))
        return [UserUsage(user, images, cost) for user, (images, cost) in ranked[:10]]

    def booked(self, guild_id: int | None, user_id: int, at: datetime) -> Booked:
        day, next_day, month, next_month = periods(at)
        mine = [
            row
            for row in self.rows.values()
            if row.guild_id == guild_id and row.user_id == user_id and row.outcome == "delivered"
        ]
        server = [row for row in self.rows.values() if guild_id is not None and row.guild_id == guild_id]
        return Booked(
            user_jobs=0,
            last_start=max((row.created_at for row in mine), default=None),
            user_images=sum(row.images for row in mine if day <= row.created_at < next_day),
            server_images=sum(
                row.images for row in server if row.outcome == "delivered" and day <= row.created_at < next_day
            ),
            server_cost=sum(row.cost for row in server if month <= row.created_at < next_month),
        )

    async def assert_answers(self, storage: Storage, now: datetime) -> None:
        """Every figure /usage, /admin usage and the quotas read at `now` is what the rows say."""
        day, next_day, month, next_month = periods(now)
        windows = [
            (day, next_day),
            (next_day - timedelta(days=7), next_day),
            (month, next_month),
            (now - timedelta(days=7), next_day),  # a window that does not start at midnight
            (now - timedelta(days=40), now),
        ]
        guilds = {row.guild_id for row in self.rows.values()}
        users = {row.user_id for row in self.rows.values()}
        for since, until in windows:
            for guild in guilds:
                assert await storage.usage_totals(guild, since, until) == self.totals(guild, since, until)
                if guild is not None:
                    for user in users:
                        expected = self.totals(guild, since, until, user)
                        assert await storage.user_usage(guild, user, since, until) == expected
        for since in (day - timedelta(days=29), now - timedelta(days=3), month):
            for guild in guilds:
                assert await storage.usage_by_day(guild, since) == self.by_day(guild, since)
                if guild is not None:
                    assert await storage.top_users(guild, since) == self.top(guild, since)
        for guild in guilds:
            for user in users:
                assert await storage.booked(guild, user, now) == self.booked(guild, user, now)

    def _delivered(self, guild_id: int | None, since: datetime) -> list[UsageRecord]:
        return [
            row
            for row in self.rows.values()
            if (guild_id is None or row.guild_id == guild_id) and row.outcome == "delivered" and row.created_at >= since
        ]
