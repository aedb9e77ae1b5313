"""The bot as a process: `python -m bot` with bad settings, and a real run stopped by SIGTERM."""

import asyncio

import pytest

from tests.conftest import DISCORD_TOKEN, bot_env
from tests.e2e.bot_process import START_TIMEOUT, run_bot, stop_bot
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
