"""SIGTERM, as a container stop sends it: no new jobs, queued ones cancelled, running ones finished within the
grace period (or cancelled after it), every member told, every booking released, exit 0."""

import asyncio
import time

from bot.app.i18n import catalogue
from bot.core.storage import open_storage
from tests.conftest import bot_env
from tests.e2e.bot_process import START_TIMEOUT, run_bot, stop_bot
from tests.e2e.helpers import api_requests, outcome


async def stop_with_jobs(own_discord, image_api, tmp_path, *, latency: float, grace: float):
    """Start a one-slot bot, give it one running and two queued jobs, SIGTERM it; return what members saw."""
    guild = own_discord.add_guild(name="Stopping")
    members = [own_discord.add_user(name=f"m{n}", guild_id=guild.id) for n in range(3)]
    env = bot_env(own_discord, image_api, guild) | {
        "IMAGE_API_CONCURRENCY": "1",
        "SHUTDOWN_GRACE_SECONDS": str(grace),
    }
    process = await run_bot(env, tmp_path)
    await own_discord.wait_ready(START_TIMEOUT)
    image_api.latency = latency
    replies = []
    for n, member in enumerate(members):
        replies.append(await own_discord.slash("imagine", user=member, guild=guild, options={"prompt": f"job {n}"}))
    await api_requests(image_api, 1)
    stopping = time.monotonic()
    stderr = await stop_bot(process)
    stopped_after = time.monotonic() - stopping
    results = [await reply.final(timeout=5, until=outcome) for reply in replies]
    storage = await open_storage(f"sqlite:///{tmp_path / 'data' / 'imagebot.db'}")
    try:
        histories = [await storage.history(member.id, guild.id) for member in members]
        reserved = [await storage.user_reserved(guild.id, member.id) for member in members]
    finally:
        await storage.close()
    return process.returncode, stderr, stopped_after, results, histories, reserved


async def test_the_running_job_finishes_and_the_queued_ones_are_cancelled(own_discord, image_api, tmp_path) -> None:
    code, stderr, _, results, histories, reserved = await stop_with_jobs(
        own_discord, image_api, tmp_path, latency=1.0, grace=5.0
    )

    assert code == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    assert len(results[0].files) == 1
    assert [result.content for result in results[1:]] == [catalogue.text("en-US", "error.cancelled.shutdown")] * 2
    assert [request.json["prompt"] for request in image_api.requests] == ["job 0"]
    assert [[entry.outcome for entry in history] for history in histories] == [["delivered"], ["failed"], ["failed"]]
    assert reserved == [0, 0, 0]


async def test_a_job_running_past_the_grace_period_is_cancelled_and_its_member_told(
    own_discord, image_api, tmp_path
) -> None:
    code, stderr, stopped_after, results, histories, reserved = await stop_with_jobs(
        own_discord, image_api, tmp_path, latency=30.0, grace=0.5
    )

    assert code == 0, stderr[-2000:]
    assert stopped_after < 10  # within the default `docker stop` timeout
    assert [result.content for result in results] == [catalogue.text("en-US", "error.cancelled.shutdown")] * 3
    assert [[entry.outcome for entry in history] for history in histories] == [["failed"]] * 3
    assert reserved == [0, 0, 0]


async def test_no_new_job_is_taken_while_stopping(own_discord, image_api, tmp_path) -> None:
    guild = own_discord.add_guild(name="Closing")
    member, late = own_discord.add_user(name="first", guild_id=guild.id), own_discord.add_user(name="late")
    env = bot_env(own_discord, image_api, guild) | {"SHUTDOWN_GRACE_SECONDS": "3"}
    process = await run_bot(env, tmp_path)
    await own_discord.wait_ready(START_TIMEOUT)
    image_api.latency = 1.5
    running = await own_discord.slash("imagine", user=member, guild=guild, options={"prompt": "in time"})
    await api_requests(image_api, 1)

    stopping = asyncio.create_task(stop_bot(process))
    await asyncio.sleep(0.3)  # SIGTERM has arrived; the running job still has its grace period
    refused = await own_discord.slash("imagine", user=late, guild=guild, options={"prompt": "too late"})
    refused_result = await refused.final(timeout=5, until=outcome)
    stderr = await stopping

    assert process.returncode == 0, stderr[-2000:]
    assert refused_result.content == catalogue.text("en-US", "error.queue_closed")
    assert refused.ephemeral
    assert len((await running.final(timeout=5, until=outcome)).files) == 1
