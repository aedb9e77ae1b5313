"""/admin as the bot's admins use it, and as everyone else is refused it."""

import asyncio
from datetime import UTC, datetime, timedelta

import discord
import pytest

from bot.app.i18n import catalogue
from bot.core import errors
from bot.core.limits import Requester
from bot.core.pricing import image_cost, micro_to_dollars
from bot.core.storage import UsageTotals, periods
from tests.e2e.helpers import outcome
from tests.loopback.discord import permissions

SUBCOMMANDS = [
    ("block-user", {"user_id": "123456789012345678"}),
    ("unblock-user", {"user_id": "123456789012345678"}),
    ("block-server", {"server_id": "123456789012345678"}),
    ("unblock-server", {"server_id": "123456789012345678"}),
    ("blocks", {}),
    ("usage", {}),
    ("providers", {}),
    ("sync", {}),
]


def text(key: str, **params: object) -> str:
    return catalogue.text("en-US", key, **params)


async def admin_says(discord_api, guild, user, subcommand: str, **options: object) -> str:
    """The private answer to an /admin subcommand."""
    reply = await discord_api.slash(f"admin {subcommand}", user=user, guild=guild, options=options)
    answer = await reply.final(timeout=10, until=outcome)
    assert reply.ephemeral
    return answer.content


async def imagine(discord_api, guild, user, prompt: str = "a quiet harbour", **options: object):
    reply = await discord_api.slash("imagine", user=user, guild=guild, options={"prompt": prompt} | options)
    return await reply.final(timeout=15, until=outcome)


async def test_a_blocked_member_is_refused_until_unblocked(discord_api, image_api, bot, guild, admin, member) -> None:
    try:
        said = await admin_says(discord_api, guild, admin, "block-user", user_id=str(member.id), reason="spam")
        assert said == text("admin.block.user.added", id=member.id)

        refused = await imagine(discord_api, guild, member)
        assert refused.content == text("error.user_blocked")
        assert image_api.requests == []

        said = await admin_says(discord_api, guild, admin, "unblock-user", user_id=str(member.id))
        assert said == text("admin.unblock.user.removed", id=member.id)
        assert len((await imagine(discord_api, guild, member)).files) == 1
    finally:
        await bot.policy.unblock("user", member.id)


async def test_blocks_lists_each_block_and_blocking_twice_says_so(discord_api, bot, guild, admin, member) -> None:
    try:
        await admin_says(discord_api, guild, admin, "block-user", user_id=f"<@{member.id}>", reason="spam *links*")
        again = await admin_says(discord_api, guild, admin, "block-user", user_id=str(member.id))

        listed = await admin_says(discord_api, guild, admin, "blocks")

        assert again == text("admin.block.user.exists", id=member.id)
        [block] = [block for block in await bot.storage.blocks() if block.target_id == member.id]
        assert (block.kind, block.reason, block.blocked_by) == ("user", "spam *links*", admin.id)
        when = discord.utils.format_dt(block.created_at, "R")
        line = text("admin.blocks.user", id=member.id, by=admin.id, when=when, reason="spam \\*links\\*")
        assert line in listed.splitlines()
    finally:
        await bot.policy.unblock("user", member.id)
    assert await admin_says(discord_api, guild, admin, "unblock-user", user_id=str(member.id)) == text(
        "admin.unblock.user.missing", id=member.id
    )


async def test_a_blocked_server_is_refused_until_unblocked(discord_api, image_api, bot, guild, admin, member) -> None:
    # Commands are synced to the test server only, so it is the server blocked here; the admin still answers in it.
    try:
        said = await admin_says(discord_api, guild, admin, "block-server", server_id=str(guild.id), reason="test")
        assert said == text("admin.block.guild.added", id=guild.id)

        refused = await imagine(discord_api, guild, member)
        assert refused.content == text("error.server_blocked")
        assert image_api.requests == []

        said = await admin_says(discord_api, guild, admin, "unblock-server", server_id=str(guild.id))
        assert said == text("admin.unblock.guild.removed", id=guild.id)
        assert len((await imagine(discord_api, guild, member)).files) == 1
    finally:
        await bot.policy.unblock("guild", guild.id)


async def test_blocking_another_server_leaves_this_one_served(discord_api, bot, guild, admin, member) -> None:
    other = discord_api.add_guild(name="Other Club")
    there, here = Requester(member.id, other.id, None), Requester(member.id, guild.id, None)
    try:
        await admin_says(discord_api, guild, admin, "block-server", server_id=str(other.id))

        with pytest.raises(errors.ServerBlocked):
            await bot.policy.check_not_blocked(there)
        await bot.policy.check_not_blocked(here)

        await admin_says(discord_api, guild, admin, "unblock-server", server_id=str(other.id))
        await bot.policy.check_not_blocked(there)
    finally:
        await bot.policy.unblock("guild", other.id)


@pytest.mark.parametrize("value", ["bob", "12ab", "-5", "0", "\uff11\uff12\uff13"])
async def test_an_id_that_is_not_a_number_is_explained(discord_api, bot, guild, admin, value) -> None:
    blocks_before = await bot.storage.blocks()

    said = await admin_says(discord_api, guild, admin, "block-user", user_id=value)

    assert said == text("admin.invalid_id", value=discord.utils.escape_markdown(value))
    assert await bot.storage.blocks() == blocks_before


async def test_a_bot_admin_cannot_be_blocked(discord_api, bot, guild, admin) -> None:
    said = await admin_says(discord_api, guild, admin, "block-user", user_id=str(admin.id))

    assert said == text("admin.block.admin")
    assert all(block.target_id != admin.id for block in await bot.storage.blocks())


@pytest.mark.parametrize(("subcommand", "options"), SUBCOMMANDS)
async def test_a_server_administrator_who_is_not_a_bot_admin_is_refused(
    discord_api, bot, guild, subcommand, options
) -> None:
    administrator = discord_api.add_user(
        "server-admin", permissions=permissions.DEFAULT_EVERYONE | permissions.ADMINISTRATOR, guild_id=guild.id
    )
    blocks_before = await bot.storage.blocks()
    syncs_before = len([request for request in discord_api.requests if request.method == "PUT"])

    said = await admin_says(discord_api, guild, administrator, subcommand, **options)

    assert said == text("error.not_permitted.admin")
    assert await bot.storage.blocks() == blocks_before
    assert len([request for request in discord_api.requests if request.method == "PUT"]) == syncs_before


async def test_usage_counts_the_requests_made_across_servers(discord_api, bot, settings, guild, admin, member) -> None:
    spans = usage_spans()
    before = [await bot.storage.usage_totals(None, since, until) for since, until in spans]

    await imagine(discord_api, guild, member, "a red kite")
    await imagine(discord_api, guild, member, "two red kites", count=2)
    cost = image_cost(settings.image_prices, settings.image_default_model, None, 3)
    expected = [UsageTotals(total.jobs + 2, total.images + 3, total.cost + cost) for total in before]
    await wait_for_totals(bot, spans[0], expected[0])  # a result is posted a moment before it is booked

    said = await admin_says(discord_api, guild, admin, "usage")

    periods_named = [text(f"admin.usage.{name}") for name in ("today", "week", "month")]
    assert said.splitlines() == [
        text("admin.usage.title"),
        *(
            text(
                "admin.usage.line",
                period=period,
                jobs=total.jobs,
                images=total.images,
                cost=micro_to_dollars(total.cost),
            )
            for period, total in zip(periods_named, expected, strict=True)
        ),
    ]


async def test_sync_sends_the_commands_again(discord_api, bot, guild, admin) -> None:
    syncs_before = len([request for request in discord_api.requests if request.method == "PUT"])

    said = await admin_says(discord_api, guild, admin, "sync")

    assert said == text("admin.synced")
    assert len([request for request in discord_api.requests if request.method == "PUT"]) > syncs_before
    assert {"admin", "imagine"} <= {command["name"] for command in discord_api.commands(guild_id=guild.id)}


async def test_admin_is_shown_to_server_administrators_in_servers_only(discord_api, bot, guild) -> None:
    [command] = [command for command in discord_api.commands(guild_id=guild.id) if command["name"] == "admin"]

    assert command["default_member_permissions"] == str(permissions.ADMINISTRATOR)
    assert command["contexts"] == [0]
    assert [option["name"] for option in command["options"]] == [name for name, _ in SUBCOMMANDS]


def usage_spans() -> list[tuple[datetime, datetime]]:
    now = datetime.now(UTC)
    day_start, next_day, month_start, next_month = periods(now)
    return [(day_start, next_day), (next_day - timedelta(days=7), next_day), (month_start, next_month)]


async def wait_for_totals(bot, span: tuple[datetime, datetime], expected: UsageTotals) -> None:
    async with asyncio.timeout(5):
        while True:
            if await bot.storage.usage_totals(None, *span) == expected:
                return
            await asyncio.sleep(0.02)


async def test_providers_shows_each_provider_with_its_breaker_and_counts(
    discord_api, image_api, bot, guild, admin
) -> None:
    reply = await discord_api.slash("admin providers", user=admin, guild=guild)
    shown = (await reply.final(timeout=5)).content

    requests, failures, seconds = bot.metrics.provider_reading("gateway")
    models = "gemini-3-pro-image-preview, gemini-2.5-flash-image"
    state = text("admin.providers.state.closed")
    line = text(
        "admin.providers.line",
        name="gateway",
        models=models,
        state=state,
        requests=requests,
        failures=failures,
        seconds=f"{seconds:.1f}",
    )
    assert shown.splitlines() == [text("admin.providers.title"), line]
