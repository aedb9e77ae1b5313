"""The bot as a process: `python -m bot` with bad settings or an unreachable Discord or database, and a real run
stopped by SIGTERM."""

import asyncio
import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest

from bot.__main__ import EXIT_START_FAILED, without_password
from tests.conftest import API_KEY, DISCORD_TOKEN, bot_env
from tests.e2e.bot_process import START_TIMEOUT, free_port, healthy, run_bot, stop_bot
from tests.e2e.helpers import outcome
from tests.loopback.discord import DiscordServer
from tests.storage_backends import reachable_postgres

DB_PASSWORD = "db-secret-3141"


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"IMAGE_API_KEY": "k"}, "configuration error: DISCORD_TOKEN is not set; see .env.example"),
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


async def test_every_bad_setting_is_listed_in_one_start(tmp_path) -> None:
    env = {"DISCORD_TOKEN": "t", "IMAGE_API_CONCURRENCY": "many", "LOG_LEVEL": "loud"}

    process = await run_bot(env, tmp_path)
    _, stderr = await asyncio.wait_for(process.communicate(), START_TIMEOUT)

    assert process.returncode == 2
    assert stderr.decode().splitlines() == [
        "configuration error: 3 settings are invalid:",
        "  IMAGE_API_KEY is not set; see .env.example",
        "  IMAGE_API_CONCURRENCY='many' is not a whole number",
        "  LOG_LEVEL='LOUD' must be DEBUG, INFO, WARNING, ERROR or CRITICAL",
    ]


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


async def failed_start(env: dict[str, str], cwd: Path) -> list[str]:
    """Run a bot process that cannot start, at LOG_LEVEL=WARNING; its stderr lines, once it has exited as it
    should after a start-up failure."""
    process = await run_bot(env | {"LOG_LEVEL": "WARNING"}, cwd)
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), START_TIMEOUT)
    finally:
        if process.returncode is None:  # it did not stop: leave no process behind
            process.kill()
            await process.wait()
    assert process.returncode == EXIT_START_FAILED, stderr.decode()[-2000:]
    assert stdout == b""
    return stderr.decode().splitlines()


async def test_an_unreachable_discord_is_one_clear_line(tmp_path) -> None:
    closed = f"127.0.0.1:{free_port()}"
    env = {
        "DISCORD_TOKEN": DISCORD_TOKEN,
        "IMAGE_API_KEY": API_KEY,
        "DISCORD_API_BASE_URL": f"http://{closed}/api/v10",
        "DISCORD_GATEWAY_URL": f"ws://{closed}/gateway",
    }

    lines = await failed_start(env, tmp_path)

    assert lines == [f"start-up error: cannot reach Discord at http://{closed}/api/v10 (connection refused)"]


async def test_an_unreachable_gateway_is_one_clear_line(own_discord, image_api, tmp_path) -> None:
    guild = own_discord.add_guild(name="No gateway")
    gateway = f"ws://127.0.0.1:{free_port()}/gateway"
    # with SHARD_COUNT set the bot connects to DISCORD_GATEWAY_URL rather than the one the API names
    env = bot_env(own_discord, image_api, guild) | {"DISCORD_GATEWAY_URL": gateway, "SHARD_COUNT": "1"}

    lines = await failed_start(env, tmp_path)

    assert lines == [f"start-up error: cannot reach Discord's gateway at {gateway} (connection refused)"]


async def test_a_database_that_refuses_connections_is_one_clear_line(own_discord, image_api, tmp_path) -> None:
    guild = own_discord.add_guild(name="No database")
    closed = f"127.0.0.1:{free_port()}"
    env = bot_env(own_discord, image_api, guild) | {
        "DATABASE_URL": f"postgresql://postgres:{DB_PASSWORD}@{closed}/test"
    }

    lines = await failed_start(env, tmp_path)

    assert lines == [
        f"start-up error: cannot open the database postgresql://postgres@{closed}/test: connection refused"
    ]
    assert DB_PASSWORD not in lines[0]


async def test_a_missing_postgres_database_is_one_clear_line(own_discord, image_api, tmp_path) -> None:
    server = urlsplit(await reachable_postgres())
    where = f"{server.hostname}:{server.port or 5432}/imagebot_no_such_database"
    user = server.username or "postgres"
    missing = urlunsplit(server._replace(netloc=f"{user}:{DB_PASSWORD}@{where}", path=""))
    guild = own_discord.add_guild(name="Missing database")

    lines = await failed_start(bot_env(own_discord, image_api, guild) | {"DATABASE_URL": missing}, tmp_path)

    assert lines == [
        f"start-up error: cannot open the database postgresql://{user}@{where}: "
        'database "imagebot_no_such_database" does not exist'
    ]
    assert DB_PASSWORD not in lines[0]


async def test_a_data_dir_that_cannot_be_created_is_one_clear_line(own_discord, image_api, tmp_path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    data_dir = tmp_path / "a-file" / "data"
    guild = own_discord.add_guild(name="No data dir")

    lines = await failed_start(bot_env(own_discord, image_api, guild) | {"DATA_DIR": str(data_dir)}, tmp_path)

    assert lines == [
        f"start-up error: cannot open the database sqlite:///{data_dir / 'imagebot.db'}: Not a directory: {data_dir}"
    ]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://bot:hunter2@db.example:5433/imagebot", "postgresql://bot@db.example:5433/imagebot"),
        ("postgres://bot@db/imagebot?password=hunter2&sslmode=require", "postgres://bot@db/imagebot"),
        ("postgresql://:hunter2@db/imagebot", "postgresql://db/imagebot"),
        ("sqlite:////srv/bot/imagebot.db", "sqlite:////srv/bot/imagebot.db"),
        ("sqlite:///data/imagebot.db", "sqlite:///data/imagebot.db"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url: str, shown: str) -> None:
    assert without_password(url) == shown


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
        assert names == [
            "Edit image",
            "admin",
            "edit",
            "help",
            "history",
            "imagine",
            "limits",
            "quota",
            "settings",
            "show",
            "styles",
            "usage",
        ]
        assert discord_api.commands(guild_id=guild.id) == []
        reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "from a process"})
        assert len((await reply.final(timeout=15, until=outcome)).files) == 1
    finally:
        stderr = await stop_bot(process)
        await discord_api.stop()
    assert process.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr


async def test_a_dev_server_the_bot_is_not_in_is_named_in_one_line_and_the_others_still_sync(
    image_api, tmp_path
) -> None:
    discord_api = DiscordServer(token=DISCORD_TOKEN)
    await discord_api.start()
    guild = discord_api.add_guild(name="Synced")
    absent = guild.id + 1_000_000  # a server id the bot was never added to
    process = await run_bot(
        bot_env(discord_api, image_api, guild) | {"DEV_GUILD_IDS": f"{absent},{guild.id}"}, tmp_path
    )
    try:
        await discord_api.wait_commands(timeout=START_TIMEOUT)
        await discord_api.wait_ready(timeout=START_TIMEOUT)
        assert "imagine" in {command["name"] for command in discord_api.commands(guild_id=guild.id)}
    finally:
        stderr = await stop_bot(process)
        await discord_api.stop()
    assert process.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    assert f"could not sync commands to DEV_GUILD_IDS server {absent}" in stderr


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
        "providers": {"gateway": "closed"},
    }
    assert "imagebot_queue_slots 4.0" in metrics
