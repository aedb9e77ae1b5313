"""The bot as a process: `python -m bot` with bad settings, and a real run stopped by SIGTERM."""

import asyncio
import json

import aiohttp
import pytest

from tests.conftest import API_KEY, DISCORD_TOKEN, bot_env
from tests.e2e.bot_process import START_TIMEOUT, free_port, healthy, run_bot, stop_bot
from tests.e2e.helpers import outcome
from tests.loopback.discord import DiscordServer


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({}, "configuration error: DISCORD_TOKEN is not set; see .env.example"),
        ({"DISCORD_TOKEN": "t"}, "configuration error: IMAGE_API_KEY is not set; see .env.example"),
        (
            {"DISCORD_TOKEN": "t", "IMAGE_API_KEY": "k", "IMAGE_API_CONCURRENCY": "many"},
            "configuration error: IMAGE_API_CONCURRENCY='many' is not a whole number",
        ),
    ],
    ids=["no_token", "no_api_key", "bad_number"],
)
async def test_a_bad_setting_stops_the_bot_with_one_line(tmp_path, env, line) -> None:
    process = await run_bot(env, tmp_path)
    stdout, stderr = await asyncio.wait_for(process.communicate(), START_TIMEOUT)

    assert process.returncode == 2
    assert stderr.decode().splitlines() == [line]
    assert stdout == b""


async def test_settings_are_read_from_dot_env(tmp_path) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=t\nIMAGE_API_KEY=k\nLOG_LEVEL=chatty\n")

    process = await run_bot({}, tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), START_TIMEOUT)

    assert process.returncode == 2
    assert "LOG_LEVEL='CHATTY'" in stderr.decode()


async def test_a_refused_discord_token_is_one_clear_line(discord_api, image_api, guild, tmp_path) -> None:
    env = bot_env(discord_api, image_api, guild) | {"DISCORD_TOKEN": "not-the-token"}

    process = await run_bot(env, tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), START_TIMEOUT)

    assert process.returncode == 2
    assert stderr.decode().splitlines()[-1] == "configuration error: DISCORD_TOKEN was refused by Discord"


async def test_the_bot_process_serves_imagine_and_stops_cleanly_on_sigterm(image_api, tmp_path) -> None:
    discord_api = DiscordServer(token=DISCORD_TOKEN)  # its own Discord: the in-process bot must not answer here
    await discord_api.start()
    guild = discord_api.add_guild(name="Process")
    member = discord_api.add_user(name="proc", guild_id=guild.id)
    env = bot_env(discord_api, image_api, guild) | {"DEV_GUILD_IDS": ""}  # commands synced globally
    process = await run_bot(env, tmp_path)
    try:
        await discord_api.wait_commands(timeout=START_TIMEOUT)
        await discord_api.wait_ready(timeout=START_TIMEOUT)
        names = sorted(command["name"] for command in discord_api.commands())
        assert names == ["Edit image", "admin", "edit", "help", "history", "imagine", "limits", "quota", "usage"]
        assert discord_api.commands(guild_id=guild.id) == []
        reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "from a process"})
        assert len((await reply.final(timeout=15, until=outcome)).files) == 1
    finally:
        stderr = await stop_bot(process)
        await discord_api.stop()
    assert process.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr


async def test_json_logs_name_each_job_and_hold_no_secret(image_api, tmp_path) -> None:
    discord_api = DiscordServer(token=DISCORD_TOKEN)
    await discord_api.start()
    guild = discord_api.add_guild(name="Logs")
    member = discord_api.add_user(name="logged", guild_id=guild.id)
    process = await run_bot(bot_env(discord_api, image_api, guild) | {"LOG_FORMAT": "json"}, tmp_path)
    try:
        await discord_api.wait_ready(timeout=START_TIMEOUT)
        reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a private idea"})
        assert (await reply.final(timeout=15, until=outcome)).files
    finally:
        stderr = await stop_bot(process)
        await discord_api.stop()
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    job_lines = [line for line in lines if "job" in line]
    assert job_lines, "no log line names a job"
    assert {(line["guild"], line["user"]) for line in job_lines} == {(guild.id, member.id)}
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert DISCORD_TOKEN not in stderr
    assert API_KEY not in stderr
    assert "a private idea" not in stderr  # prompts stay out of the log at INFO


async def test_the_bot_process_serves_healthz_and_metrics_when_asked(image_api, tmp_path) -> None:
    port = free_port()
    discord_api = DiscordServer(token=DISCORD_TOKEN)
    await discord_api.start()
    guild = discord_api.add_guild(name="Ops")
    process = await run_bot(bot_env(discord_api, image_api, guild) | {"HEALTH_PORT": str(port)}, tmp_path)
    try:
        await discord_api.wait_ready(timeout=START_TIMEOUT)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            health = await healthy(http, port)
            async with http.get(f"http://127.0.0.1:{port}/metrics") as response:
                metrics = await response.text()
    finally:
        stderr = await stop_bot(process)
        await discord_api.stop()
    assert process.returncode == 0, stderr[-2000:]
    assert health == {
        "gateway": "connected",
        "shards": {"0": "connected"},
        "database": "ok",
        "queue": {"queued": 0, "running": 0, "slots": 4},
    }
    assert "imagebot_queue_slots 4.0" in metrics
