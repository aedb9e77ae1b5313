"""The job queue as members see it: fair turns, live positions, Cancel, caps; against a one-slot bot process."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app.i18n import catalogue
from tests.conftest import DISCORD_TOKEN, bot_env
from tests.e2e.bot_process import START_TIMEOUT, run_bot, stop_bot
from tests.e2e.helpers import api_requests, buttons, outcome, progress_note
from tests.loopback.discord import DiscordServer, GuildRecord, InteractionHandle, UserRecord


def text(key: str, **params: object) -> str:
    return catalogue.text("en-US", key, **params)


@dataclass
class OneSlotBot:
    discord: DiscordServer
    first: GuildRecord
    second: GuildRecord
    data_dir: Path

    def member(self, name: str, guild: GuildRecord | None = None) -> UserRecord:
        return self.discord.add_user(name=name, guild_id=(guild or self.first).id)

    async def imagine(self, user: UserRecord, prompt: str, guild: GuildRecord | None = None) -> InteractionHandle:
        guild = guild or self.first
        return await self.discord.slash("imagine", user=user, guild=guild, options={"prompt": prompt})


@pytest.fixture(scope="module")
async def one_slot(image_api, tmp_path_factory) -> AsyncIterator[OneSlotBot]:
    """A bot process with a single image API slot, so that jobs queue, in a Discord of its own with two servers."""
    discord_api = DiscordServer(token=DISCORD_TOKEN)
    await discord_api.start()
    first, second = discord_api.add_guild(name="Busy"), discord_api.add_guild(name="Quiet")
    env = bot_env(discord_api, image_api, first) | {
        "DEV_GUILD_IDS": f"{first.id},{second.id}",
        "IMAGE_API_CONCURRENCY": "1",
        "QUEUE_MAX_PER_USER": "3",
        "PROGRESS_INTERVAL_SECONDS": "0.5",  # quick enough to see every position within short jobs
    }
    data_dir = tmp_path_factory.mktemp("one-slot")
    process = await run_bot(env, data_dir)
    try:
        await discord_api.wait_ready(START_TIMEOUT)
        await discord_api.wait_commands(START_TIMEOUT)
        yield OneSlotBot(discord_api, first, second, data_dir)
    finally:
        stderr = await stop_bot(process)
        await discord_api.stop()
        assert process.returncode == 0, stderr[-2000:]


async def test_a_busy_server_delays_another_servers_job_by_one_turn_at_most(one_slot, image_api) -> None:
    image_api.latency = 0.4
    busy = [one_slot.member(f"busy{n}") for n in range(3)]
    quiet = one_slot.member("quiet", one_slot.second)
    flood = [await one_slot.imagine(user, f"busy {n}-{k}") for k in range(2) for n, user in enumerate(busy)]
    await api_requests(image_api, 1)

    single = await one_slot.imagine(quiet, "quiet one", one_slot.second)

    results = await asyncio.gather(*(reply.final(timeout=30, until=outcome) for reply in [*flood, single]))
    assert all(result.files for result in results)
    order = [request.json["prompt"] for request in image_api.requests]
    assert order.index("quiet one") <= order.index("busy 0-0") + 2  # one running, at most one more before it


async def test_a_queued_member_sees_their_position_then_progress_then_the_result(one_slot, image_api) -> None:
    image_api.latency = 1.2
    members = [one_slot.member(f"line{n}") for n in range(3)]
    replies = [await one_slot.imagine(user, f"line {n}") for n, user in enumerate(members)]

    last = replies[2]
    result = await last.final(timeout=30, until=outcome)

    shown = [state.content for state in last.edits if progress_note(state)]
    assert shown[0] == text("progress.queued", position=2)
    assert text("progress.queued", position=1) in shown
    assert any(content.startswith(text("progress.generating", seconds=0).split("0")[0]) for content in shown)
    assert result.files
    assert result.content in ("", None)  # the progress note gives way to the result


async def test_the_requester_cancels_a_queued_job_and_gets_the_quota_back(one_slot, image_api) -> None:
    image_api.latency = 1.0
    runner, waiter = one_slot.member("runner"), one_slot.member("waiter")
    running = await one_slot.imagine(runner, "keeps the slot")
    queued = await one_slot.imagine(waiter, "never made")
    queued_note = await queued.final(timeout=10, until=progress_note)

    stranger = one_slot.member("stranger")
    refused = await one_slot.discord.click(queued_note, buttons(queued_note)["Cancel"], user=stranger)
    pressed = await one_slot.discord.click(queued_note, buttons(queued_note)["Cancel"], user=waiter)

    assert (await refused.final(timeout=5)).content == text("error.not_yours", owner=waiter.id)
    assert await pressed.acknowledged(within=3.0)
    cancelled = await queued.final(timeout=10, until=outcome)
    assert cancelled.content == text("error.cancelled.requester")
    assert cancelled.components == []
    assert (await running.final(timeout=15, until=outcome)).files
    assert "never made" not in [request.json["prompt"] for request in image_api.requests]
    history = await (await one_slot.discord.slash("history", user=waiter, guild=one_slot.first)).final(timeout=10)
    assert history.embeds[0]["description"].endswith(text("history.failed"))


async def test_a_member_may_queue_only_so_many_jobs(one_slot, image_api) -> None:
    image_api.latency = 1.0
    eager = one_slot.member("eager")
    replies = [await one_slot.imagine(eager, f"eager {n}") for n in range(5)]  # 1 runs, 3 wait, the 5th is refused

    results = await asyncio.gather(*(reply.final(timeout=30, until=outcome) for reply in replies))

    assert [bool(result.files) for result in results] == [True, True, True, True, False]
    assert results[4].content == text("error.queue_full.user", queued=3, limit=3)
