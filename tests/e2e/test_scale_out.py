"""Two bot processes, each running one of two shards, on one PostgreSQL: limits, slots and jobs hold across both."""

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import discord

from bot.app.i18n import catalogue
from bot.core.storage import periods
from tests.conftest import DISCORD_TOKEN, bot_env
from tests.e2e.bot_process import START_TIMEOUT, free_port, healthy, run_bot, stop_bot
from tests.e2e.helpers import api_requests, bot_post, outcome
from tests.loopback.discord import DiscordServer, GuildRecord, InteractionHandle
from tests.loopback.image_api import ImageAPIServer
from tests.storage_backends import postgres_schema, reachable_postgres, run_sql

SHARDS = 2
MEMBERS_PER_SERVER = 12


@dataclass
class Deployment:
    discord: DiscordServer
    servers: list[GuildRecord]  # servers[n] is on shard n, run by processes[n]
    processes: list[asyncio.subprocess.Process]
    database_url: str
    logs: list[str] = field(default_factory=list)  # each process's stderr, once stopped

    async def imagine_everywhere(self, members_per_server: int) -> list[InteractionHandle]:
        """New members, `members_per_server` in each server, each ask for one image, all at once."""
        members = [
            (server, self.discord.add_user(name=f"member{n}", guild_id=server.id))
            for server in self.servers
            for n in range(members_per_server)
        ]
        asks = [
            self.discord.slash("imagine", user=member, guild=server, options={"prompt": f"a lantern for {member.name}"})
            for server, member in members
        ]
        return list(await asyncio.gather(*asks))


def servers_on_each_shard(discord: DiscordServer) -> list[GuildRecord]:
    """One new server on each shard (Discord puts a server on shard (id >> 22) % count)."""
    by_shard: dict[int, GuildRecord] = {}
    while len(by_shard) < SHARDS:
        server = discord.add_guild(name=f"Server {len(by_shard)}")
        by_shard.setdefault((server.id >> 22) % SHARDS, server)
    return [by_shard[shard] for shard in range(SHARDS)]


@asynccontextmanager
async def deployment(image_api: ImageAPIServer, tmp_path: Path, **settings: str) -> AsyncIterator[Deployment]:
    """Two bot processes (SHARD_IDS 0 and 1 of SHARD_COUNT 2) on one fresh PostgreSQL schema."""
    discord = DiscordServer(token=DISCORD_TOKEN)
    await discord.start()
    servers = servers_on_each_shard(discord)
    async with postgres_schema(await reachable_postgres()) as database_url:
        env = (
            bot_env(discord, image_api, servers[0])
            | settings
            | {
                "DATABASE_URL": database_url,
                "DEV_GUILD_IDS": ",".join(str(server.id) for server in servers),
                "SHARD_COUNT": str(SHARDS),
            }
        )
        processes = []
        try:
            for shard in range(SHARDS):
                workdir = tmp_path / f"shard-{shard}"
                workdir.mkdir()
                processes.append(await run_bot(env | {"SHARD_IDS": str(shard)}, workdir))
            await discord.wait_ready(START_TIMEOUT, sessions=SHARDS)
            await discord.wait_commands(START_TIMEOUT)
            deployed = Deployment(discord, servers, processes, database_url)
            yield deployed
        finally:
            stderrs = [await stop_bot(process) for process in processes]
            await discord.stop()
        deployed.logs = stderrs
        for process, stderr in zip(processes, stderrs, strict=True):
            killed = process.returncode == -signal.SIGKILL  # by the test
            assert process.returncode == 0 or killed, stderr[-2000:]
            assert "Traceback" not in stderr, stderr[-4000:]


async def test_one_process_runs_as_many_shards_as_discord_recommends(image_api, tmp_path) -> None:
    discord_api = DiscordServer(token=DISCORD_TOKEN, recommended_shards=SHARDS)
    await discord_api.start()
    servers = servers_on_each_shard(discord_api)
    port = free_port()
    env = bot_env(discord_api, image_api, servers[0]) | {
        "DEV_GUILD_IDS": ",".join(str(server.id) for server in servers),
        "HEALTH_PORT": str(port),
    }
    process = await run_bot(env, tmp_path)
    try:
        await discord_api.wait_ready(START_TIMEOUT, sessions=SHARDS)
        await discord_api.wait_commands(START_TIMEOUT)
        shards = sorted(session.shard for session in discord_api.sessions)
        bots = Deployment(discord_api, servers, [process], "")
        results = [await reply.final(timeout=15, until=outcome) for reply in await bots.imagine_everywhere(1)]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            health = await healthy(http, port)
    finally:
        stderr = await stop_bot(process)
        await discord_api.stop()
    assert process.returncode == 0, stderr[-2000:]
    assert shards == [(0, 2), (1, 2)]
    assert [len(result.files) for result in results] == [1, 1]
    assert health["shards"] == {"0": "connected", "1": "connected"}
    assert "on shards 0,1 of 2" in stderr


def shard_of(discord: DiscordServer, server: GuildRecord) -> list[int]:
    """The shards of the gateway sessions that receive the server's events."""
    return [session.shard[0] for session in discord.sessions if session.handles_guild(server.id)]


async def test_each_process_serves_the_servers_of_its_own_shard(image_api, tmp_path) -> None:
    async with deployment(image_api, tmp_path) as bots:
        assert sorted(session.shard for session in bots.discord.sessions) == [(0, 2), (1, 2)]
        for shard, server in enumerate(bots.servers):
            assert shard_of(bots.discord, server) == [shard]
            assert bots.discord.command_syncs(server) == 1  # by the process with shard 0 alone
        replies = await bots.imagine_everywhere(1)
        results = [await reply.final(timeout=15, until=outcome) for reply in replies]
    assert [len(result.files) for result in results] == [1, 1]


async def test_a_daily_limit_of_ten_across_both_processes_delivers_exactly_ten_images(image_api, tmp_path) -> None:
    async with deployment(image_api, tmp_path, GLOBAL_DAILY_IMAGES="10", IMAGE_API_CONCURRENCY="4") as bots:
        image_api.latency = 0.2  # so that both processes' jobs overlap
        replies = await bots.imagine_everywhere(MEMBERS_PER_SERVER)
        results = [await reply.final(timeout=60, until=outcome) for reply in replies]
        ledger = await settled_images(bots.database_url, jobs=len([result for result in results if result.files]))

    delivered = [result for result in results if result.files]
    refused = [result for result in results if not result.files]
    assert sum(len(result.files) for result in delivered) == 10
    assert len(image_api.requests) == 10  # no request beyond the limit reached the image API
    assert ledger == [(10,)]
    resets = discord.utils.format_dt(periods(discord.utils.utcnow())[1], "R")
    assert [result.content for result in refused] == [
        catalogue.text("en-US", "error.quota.global_daily", used=10, allowed=10, resets=resets)
    ] * (2 * MEMBERS_PER_SERVER - 10)


async def settled(database_url: str, jobs: int) -> None:
    """Wait until the ledger holds `jobs` jobs: a result is posted a moment before it is settled."""
    for _ in range(200):
        if (await run_sql(database_url, "SELECT count(*) FROM usage_ledger"))[0][0] >= jobs:
            return
        await asyncio.sleep(0.05)


async def settled_images(database_url: str, jobs: int) -> list[tuple[object, ...]]:
    """The images the ledger holds once `jobs` jobs are settled."""
    await settled(database_url, jobs)
    return await run_sql(database_url, "SELECT sum(images) FROM usage_ledger WHERE outcome = 'delivered'")


async def test_both_processes_together_never_exceed_the_image_api_concurrency(image_api, tmp_path) -> None:
    async with deployment(image_api, tmp_path, IMAGE_API_CONCURRENCY="2") as bots:
        image_api.latency = 0.5
        replies = await bots.imagine_everywhere(4)
        results = [await reply.final(timeout=60, until=outcome) for reply in replies]
        held = await run_sql(bots.database_url, "SELECT count(*) FROM api_slots WHERE lease IS NOT NULL")

    assert [len(result.files) for result in results] == [1] * 8
    assert image_api.max_in_flight == 2  # each process alone would have run two at once
    assert held == [(0,)]


async def test_a_process_that_dies_has_its_jobs_and_slots_taken_over_by_the_other(image_api, tmp_path) -> None:
    async with deployment(image_api, tmp_path, IMAGE_API_CONCURRENCY="1", INSTANCE_TIMEOUT_SECONDS="2") as bots:
        survivor, dying = bots.processes
        doomed_server = bots.servers[1]
        member = bots.discord.add_user(name="unlucky", guild_id=doomed_server.id)
        image_api.latency = 30.0
        await bots.discord.slash("imagine", user=member, guild=doomed_server, options={"prompt": "cut short"})
        await api_requests(image_api, 1)
        dying.kill()  # holding the deployment's only image API slot
        await dying.wait()

        notice = await bot_post(bots.discord, doomed_server.default_channel.id)
        image_api.latency = 0.0
        helped = bots.discord.add_user(name="next", guild_id=bots.servers[0].id)
        reply = await bots.discord.slash("imagine", user=helped, guild=bots.servers[0], options={"prompt": "go on"})
        result = await reply.final(timeout=15, until=outcome)
        await settled(bots.database_url, 2)
        ledger = await run_sql(bots.database_url, "SELECT outcome FROM usage_ledger ORDER BY created_at")
        assert survivor.returncode is None

    assert notice.content.startswith(f"<@{member.id}> the bot restarted while it worked on your request “cut short”")
    assert len(result.files) == 1  # the dead process's slot came free
    assert "took over 1 jobs of stopped processes" in bots.logs[0]
    assert ledger == [("interrupted",), ("delivered",)]
