"""/quota and /history as a member sees them: their own allowance and requests, privately."""

import asyncio
from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.app.i18n import catalogue
from bot.app.usage.member import HISTORY_LENGTH
from bot.core.storage import JobStatus, periods
from tests.e2e.helpers import outcome
from tests.loopback import image_api as faults

GLOBAL_KEYS = ("quota.global.daily", "quota.global.budget")


def text(key: str, **params: object) -> str:
    return catalogue.text("en-US", key, **params)


pytestmark = pytest.mark.usefixtures("limits_reset")


async def settled(bot, member, guild) -> None:
    """Wait until every job of the member's has ended: its result is posted a moment before it is booked."""
    async with asyncio.timeout(5):
        while True:
            entries = await bot.storage.history(member.id, guild.id)
            if all(entry.job.status is not JobStatus.RUNNING for entry in entries):
                return
            await asyncio.sleep(0.02)


async def imagine(discord_api, bot, guild, member, prompt: str, **options: object):
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": prompt} | options)
    message = await reply.final(timeout=15, until=outcome)
    await settled(bot, member, guild)
    return message


async def private_lines(discord_api, guild, member, command: str) -> list[str]:
    reply = await discord_api.slash(command, user=member, guild=guild)
    answer = await reply.final(timeout=5, until=outcome)
    assert reply.ephemeral
    return answer.embeds[0]["description"].split("\n")


def tomorrow() -> str:
    return discord.utils.format_dt(periods(datetime.now(UTC))[1], "R")


async def test_quota_counts_todays_images_against_the_limits(discord_api, bot, guild, member) -> None:
    await bot.policy.set_limit(guild.id, "user_daily_images", 5, changed_by=0)
    await bot.policy.set_limit(guild.id, "server_daily_images", 100_000, changed_by=0)
    day_start, next_day, _, _ = periods(datetime.now(UTC))
    server_before = (await bot.storage.usage_totals(guild.id, day_start, next_day)).images

    await imagine(discord_api, bot, guild, member, "two small boats", count=2)
    lines = await private_lines(discord_api, guild, member, "quota")

    assert lines == [
        text("quota.user", used=2, allowed=5, reserved=0, remaining=3, resets=tomorrow()),
        text("quota.server", remaining=100_000 - server_before - 2, allowed=100_000, resets=tomorrow()),
        text("quota.cooldown.none"),
    ]


async def test_quota_counts_running_requests_as_held(discord_api, image_api, bot, guild, member) -> None:
    await bot.policy.set_limit(guild.id, "user_daily_images", 5, changed_by=0)
    image_api.latency = 2.0
    running = await discord_api.slash(
        "imagine", user=member, guild=guild, options={"prompt": "a slow tide", "count": 3}
    )
    async with asyncio.timeout(5):
        await image_api.wait_in_flight()

    lines = await private_lines(discord_api, guild, member, "quota")

    assert lines[0] == text("quota.user", used=0, allowed=5, reserved=3, remaining=2, resets=tomorrow())
    await running.final(timeout=15, until=outcome)


async def test_quota_counts_other_members_running_requests_against_the_server(
    discord_api, image_api, bot, guild, member
) -> None:
    await bot.policy.set_limit(guild.id, "server_daily_images", 100_000, changed_by=0)
    day_start, next_day, _, _ = periods(datetime.now(UTC))
    server_before = (await bot.storage.usage_totals(guild.id, day_start, next_day)).images
    other = discord_api.add_user("neighbour", guild_id=guild.id)
    image_api.latency = 2.0
    running = await discord_api.slash("imagine", user=other, guild=guild, options={"prompt": "wide", "count": 4})
    async with asyncio.timeout(5):
        await image_api.wait_in_flight()

    lines = await private_lines(discord_api, guild, member, "quota")

    assert lines[1] == text("quota.server", remaining=100_000 - server_before - 4, allowed=100_000, resets=tomorrow())
    await running.final(timeout=15, until=outcome)


async def test_quota_shows_when_the_cooldown_ends(discord_api, bot, guild, member) -> None:
    await bot.policy.set_limit(guild.id, "cooldown_seconds", 600, changed_by=0)

    await imagine(discord_api, bot, guild, member, "a paper crane")
    lines = await private_lines(discord_api, guild, member, "quota")

    [entry] = await bot.storage.history(member.id, guild.id)
    ready = discord.utils.format_dt(entry.job.created_at + timedelta(seconds=600), "R")
    assert lines[2] == text("quota.cooldown.wait", seconds=600, ready=ready)


async def test_quota_is_unlimited_for_an_exempt_role(discord_api, bot, guild, member) -> None:
    await bot.policy.set_limit(guild.id, "user_daily_images", 1, changed_by=0)
    await bot.policy.set_limit(guild.id, "server_daily_images", 1, changed_by=0)
    await bot.policy.set_limit(guild.id, "exempt_roles", (guild.id,), changed_by=0)  # @everyone's id is the guild's

    lines = await private_lines(discord_api, guild, member, "quota")

    assert lines == [
        text("quota.user.unlimited", used=0),
        text("quota.server.unlimited"),
        text("quota.cooldown.none"),
    ]


async def test_quota_has_no_global_lines_when_the_global_caps_are_off(discord_api, settings, guild, member) -> None:
    assert settings.global_daily_images == settings.global_monthly_budget == 0
    heads = [text(key, remaining=0, allowed=0, resets="").partition(":**")[0] for key in GLOBAL_KEYS]

    lines = await private_lines(discord_api, guild, member, "quota")

    assert [line for line in lines if line.startswith(tuple(heads))] == []
    assert len(lines) == 3


async def test_history_lists_requests_newest_first_with_links_to_results(
    discord_api, image_api, bot, guild, member
) -> None:
    result = await imagine(discord_api, bot, guild, member, "a lighthouse at dusk", count=2)
    image_api.fail_next(faults.safety())
    await imagine(discord_api, bot, guild, member, "a storm at sea")

    lines = await private_lines(discord_api, guild, member, "history")

    failed, delivered = await bot.storage.history(member.id, guild.id)
    link = f"https://discord.com/channels/{guild.id}/{result.channel_id}/{result.id}"
    assert lines == [
        text(
            "history.line",
            job=failed.job.id,
            when=discord.utils.format_dt(failed.job.created_at, "R"),
            what=text("history.kind.imagine", prompt="a storm at sea"),
            outcome=text("history.failed"),
        ),
        text(
            "history.line.linked",
            job=delivered.job.id,
            when=discord.utils.format_dt(delivered.job.created_at, "R"),
            what=text("history.kind.imagine", prompt="a lighthouse at dusk"),
            outcome=text("history.delivered.other", count=2),
            url=link,
        ),
    ]


async def test_history_shows_a_running_request(discord_api, image_api, bot, guild, member) -> None:
    image_api.latency = 2.0
    running = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "slow clouds"})
    async with asyncio.timeout(5):
        await image_api.wait_in_flight()

    [line] = await private_lines(discord_api, guild, member, "history")

    assert line.endswith(text("history.running"))
    await running.final(timeout=15, until=outcome)


async def test_history_shortens_long_prompts_and_escapes_markdown(discord_api, bot, guild, member) -> None:
    await imagine(discord_api, bot, guild, member, "**bold** " + "very " * 30 + "long")

    [line] = await private_lines(discord_api, guild, member, "history")

    assert "/imagine \\*\\*bold\\*\\* very very" in line
    assert "… · " + text("history.delivered.one") in line
    assert "long ·" not in line


async def test_history_of_a_new_member_is_empty(discord_api, bot, guild, member) -> None:
    assert await private_lines(discord_api, guild, member, "history") == [text("history.empty")]


async def test_history_says_how_far_back_it_goes(discord_api, bot, guild, member) -> None:
    reply = await discord_api.slash("history", user=member, guild=guild)
    answer = await reply.final(timeout=5, until=outcome)

    kept = text("history.kept", days=bot.settings.ledger_retention_days, count=HISTORY_LENGTH)
    assert answer.embeds[0]["footer"]["text"] == kept
