"""The bot process restarted on the same database: result buttons, limits and the ledger carry on."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app.i18n import catalogue
from tests.conftest import bot_env
from tests.e2e.bot_process import START_TIMEOUT, run_bot, stop_bot
from tests.e2e.helpers import bot_post, buttons, form_fields, outcome
from tests.loopback.discord import permissions
from tests.storage_backends import postgres_schema, reachable_postgres


async def test_every_button_works_after_a_restart(own_discord, image_api, tmp_path) -> None:
    guild = own_discord.add_guild(name="Restart")
    member = own_discord.add_user(name="keeper", guild_id=guild.id)
    env = bot_env(own_discord, image_api, guild)  # the database is ./data/imagebot.db in tmp_path, for both runs

    first = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT, sessions=1)
        reply = await own_discord.slash(
            "imagine", user=member, guild=guild, options={"prompt": "a paper crane", "count": 2, "quality": "2k"}
        )
        result = await reply.final(timeout=15, until=outcome)
    finally:
        stderr = await stop_bot(first)
    assert first.returncode == 0, stderr[-2000:]
    original_request = image_api.last_request.json

    second = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT, sessions=2)
        ids = buttons(result)

        rerolled = await (await own_discord.click(result, ids["Reroll"], user=member)).final(timeout=15, until=outcome)
        assert len(rerolled.files) == 2
        assert len(image_api.requests) == 2  # the reroll's own request, not the first run's read back
        assert image_api.last_request.json == original_request

        opened = await own_discord.click(result, ids["Edit"], user=member)
        fields = await form_fields(opened)
        submitted = await own_discord.submit_modal(opened, {fields["Prompt"]: "fold it blue"})
        assert len((await submitted.final(timeout=15, until=outcome)).files) == 1
        assert image_api.last_request.input_images == [result.files[0].data]
        assert image_api.last_request.json["quality"] == "2k"

        opened = await own_discord.click(result, ids["Upscale"], user=member)
        fields = await form_fields(opened)
        submitted = await own_discord.submit_modal(opened, {fields["Which image"]: ["1"]})
        assert len((await submitted.final(timeout=30, until=outcome)).files) == 1
        assert image_api.last_request.input_images == [result.files[1].data]
        assert image_api.last_request.json["quality"] == "4k"

        stranger = own_discord.add_user(name="stranger", guild_id=guild.id)
        refused = await (await own_discord.click(result, ids["Delete"], user=stranger)).final(timeout=5, until=outcome)
        assert refused.content == catalogue.text("en-US", "error.not_yours", owner=member.id)

        pressed = await own_discord.click(result, ids["Delete"], user=member)
        await pressed.final(timeout=5, until=lambda state: state.deleted)
        assert own_discord.message(result.id).deleted
    finally:
        stderr = await stop_bot(second)
    assert second.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr


@pytest.fixture(params=["sqlite", "postgres"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The settings that give the bot process a fresh database of each backend."""
    if request.param == "sqlite":
        yield {"DATABASE_URL": f"sqlite:///{tmp_path / 'restart.db'}"}
        return
    async with postgres_schema(await reachable_postgres()) as url:
        yield {"DATABASE_URL": url}


async def test_limits_and_the_ledger_are_exact_and_survive_a_restart(own_discord, image_api, tmp_path, database):
    guild = own_discord.add_guild(name="Ledger")
    moderator = own_discord.add_user(
        name="mod", permissions=permissions.DEFAULT_EVERYONE | permissions.MANAGE_GUILD, guild_id=guild.id
    )
    crowd = [own_discord.add_user(name=f"fan{n}", guild_id=guild.id) for n in range(100)]
    env = bot_env(own_discord, image_api, guild) | database

    first = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT, sessions=1)
        limit = await own_discord.slash(
            "limits set", user=moderator, guild=guild, options={"name": "server_daily_images", "value": "10"}
        )
        await limit.final(timeout=30, until=outcome)
        image_api.latency = 0.3  # all 100 in flight together
        replies = await asyncio.gather(
            *(own_discord.slash("imagine", user=fan, guild=guild, options={"prompt": "confetti"}) for fan in crowd)
        )
        results = [await reply.final(timeout=30, until=outcome) for reply in replies]
    finally:
        stderr = await stop_bot(first)
    assert first.returncode == 0, stderr[-2000:]
    assert sum(1 for result in results if result.files) == 10
    assert len(image_api.requests) == 10

    second = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT, sessions=2)
        shown = await (await own_discord.slash("limits show", user=moderator, guild=guild)).final(
            timeout=30, until=outcome
        )
        again = await (
            await own_discord.slash("imagine", user=crowd[0], guild=guild, options={"prompt": "more"})
        ).final(timeout=30, until=outcome)
        usage = await (await own_discord.slash("usage", user=moderator, guild=guild)).final(timeout=30, until=outcome)
    finally:
        stderr = await stop_bot(second)
    assert second.returncode == 0, stderr[-2000:]
    fields = {field["name"]: field["value"] for field in shown.embeds[0]["fields"]}
    assert fields[f"{catalogue.text('en-US', 'limit.server_daily_images')} (`server_daily_images`)"] == (
        f"10 {catalogue.text('en-US', 'limits.changed')}"
    )
    assert again.content.startswith("This server has used 10 of its 10 images for today.")
    today = {field["name"]: field["value"] for field in usage.embeds[0]["fields"]}[
        catalogue.text("en-US", "usage.today")
    ]
    assert today.startswith("10 images in 10 requests")
    assert len(image_api.requests) == 10


async def test_a_killed_bot_leaves_no_quota_booked_at_the_next_start(own_discord, image_api, tmp_path) -> None:
    guild = own_discord.add_guild(name="Crash")
    moderator = own_discord.add_user(
        name="mod", permissions=permissions.DEFAULT_EVERYONE | permissions.MANAGE_GUILD, guild_id=guild.id
    )
    member = own_discord.add_user(name="unlucky", guild_id=guild.id)
    env = bot_env(own_discord, image_api, guild)

    first = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT, sessions=1)
        limit = await own_discord.slash(
            "limits set", user=moderator, guild=guild, options={"name": "user_daily_images", "value": "1"}
        )
        await limit.final(timeout=10, until=outcome)
        image_api.latency = 10.0
        await own_discord.slash("imagine", user=member, guild=guild, options={"prompt": "cut short"})
        for _ in range(200):  # until the image API has the request: the job is booked and running
            if image_api.requests:
                break
            await asyncio.sleep(0.05)
        assert image_api.requests
    finally:
        first.kill()  # no chance to settle anything
        await first.wait()

    image_api.latency = 0.0
    second = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT, sessions=2)
        notice = await bot_post(own_discord, guild.default_channel.id)
        retried = await (await own_discord.click(notice, buttons(notice)["Retry"], user=member)).final(
            timeout=15, until=outcome
        )
        history = await (await own_discord.slash("history", user=member, guild=guild)).final(timeout=10, until=outcome)
    finally:
        stderr = await stop_bot(second)
    assert second.returncode == 0, stderr[-2000:]
    assert "jobs were cut off by the last stop" in stderr
    assert notice.content.startswith(f"<@{member.id}> the bot restarted while it worked on your request “cut short”")
    assert len(retried.files) == 1  # the killed job's booking was released: the daily quota of 1 was free
    assert image_api.last_request.json["prompt"] == "cut short"
    newest, killed = history.embeds[0]["description"].splitlines()
    assert "/imagine cut short" in newest
    assert killed.endswith(f"/imagine cut short · {catalogue.text('en-US', 'history.failed')}")
