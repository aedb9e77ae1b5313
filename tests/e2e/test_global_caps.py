"""The deployment-wide caps as members and admins see them, in a bot process started with them set."""

import asyncio
from datetime import UTC, datetime

import discord

from bot.app.i18n import catalogue
from bot.core.pricing import image_cost, micro_to_dollars
from bot.core.storage import open_storage, periods
from bot.settings import load_settings
from tests.conftest import bot_env
from tests.e2e.bot_process import START_TIMEOUT, run_bot, stop_bot
from tests.e2e.helpers import outcome
from tests.loopback.discord import permissions

BUDGET = 10_000_000  # GLOBAL_MONTHLY_BUDGET=10, in micro-dollars


def text(key: str, **params: object) -> str:
    return catalogue.text("en-US", key, **params)


async def settled(database_url: str, guild_id: int, user_id: int) -> None:
    """Wait until the member's job is booked in the ledger: its result is posted a moment before."""
    storage = await open_storage(database_url)
    try:
        async with asyncio.timeout(5):
            while True:
                if await storage.user_reserved(guild_id, user_id) == 0:
                    return
                await asyncio.sleep(0.02)
    finally:
        await storage.close()


async def test_quota_and_admin_usage_show_the_global_caps(own_discord, image_api, tmp_path) -> None:
    guild = own_discord.add_guild(name="Capped")
    member = own_discord.add_user(name="painter", guild_id=guild.id)
    admin = own_discord.add_user(
        name="operator", guild_id=guild.id, permissions=permissions.DEFAULT_EVERYONE | permissions.ADMINISTRATOR
    )
    database_url = f"sqlite:///{tmp_path / 'caps.db'}"
    env = bot_env(own_discord, image_api, guild) | {
        "DATABASE_URL": database_url,
        "OWNER_IDS": str(admin.id),
        "GLOBAL_DAILY_IMAGES": "5",
        "GLOBAL_MONTHLY_BUDGET": "10",
    }
    settings = load_settings(env)
    cost = image_cost(settings.image_prices, settings.image_default_model, None, 2)

    process = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT)
        options = {"prompt": "two kites", "count": 2}
        imagined = await own_discord.slash("imagine", user=member, guild=guild, options=options)
        assert len((await imagined.final(timeout=15, until=outcome)).files) == 2
        await settled(database_url, guild.id, member.id)
        quota = await (await own_discord.slash("quota", user=member, guild=guild)).final(timeout=5, until=outcome)
        usage = await (await own_discord.slash("admin usage", user=admin, guild=guild)).final(timeout=5, until=outcome)
    finally:
        stderr = await stop_bot(process)
    assert process.returncode == 0, stderr[-2000:]

    _, next_day, _, next_month = periods(datetime.now(UTC))
    assert quota.embeds[0]["description"].split("\n") == [
        text("quota.user.unlimited", used=2),
        text("quota.server.unlimited"),
        text("quota.global.daily", remaining=3, allowed=5, resets=discord.utils.format_dt(next_day, "R")),
        text(
            "quota.global.budget",
            remaining=micro_to_dollars(BUDGET - cost),
            allowed="$10.00",
            resets=discord.utils.format_dt(next_month, "R"),
        ),
        text("quota.cooldown.none"),
    ]
    spent = micro_to_dollars(cost)
    line = {
        name: text("admin.usage.line", period=text(f"admin.usage.{name}"), jobs=1, images=2, cost=spent)
        for name in ("today", "week", "month")
    }
    assert usage.content.splitlines() == [
        text("admin.usage.title"),
        text("admin.usage.daily_cap", line=line["today"], allowed=5),
        line["week"],
        text("admin.usage.budget_cap", line=line["month"], allowed="$10.00"),
    ]
