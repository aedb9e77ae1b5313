"""Queue benchmark: a burst of N jobs over S servers through C image API slots of latency L.

The bot runs as its own process against the loopback Discord (which enforces Discord's rate limits)
and image API. Prints ack latency, the time to the last result against the ideal ceil(N/C)·L, how busy
the slots were, the 429s the loopback returned, and the bot's peak RSS (run with --quality 4k and
--grain to see memory with 4K images that must be re-encoded to fit Discord's upload limit).

    .venv/bin/python bench/queue_bench.py --requests 200 --servers 20 --slots 20 --latency 1
    .venv/bin/python bench/queue_bench.py --requests 40 --servers 4 --slots 4 --latency 1 --quality 4k --grain 8

With --processes P, P bot processes each run one of P shards on one fresh PostgreSQL schema (--database),
sharing the C slots; "most API requests in flight" then counts all of them together.

    .venv/bin/python bench/queue_bench.py --requests 200 --servers 20 --slots 20 --latency 1 --processes 2
"""

import argparse
import asyncio
import contextlib
import math
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

try:
    from imagine_bench import API_KEY, TOKEN, cpu_seconds, peak_rss_mib, percentile, start_bot

    from tests.e2e.helpers import outcome
    from tests.loopback.discord import DiscordServer
    from tests.loopback.image_api import ImageAPIServer
    from tests.storage_backends import DEFAULT_POSTGRES_URL, postgres_schema
except ModuleNotFoundError as missing:  # one line saying what to install, not a traceback
    raise SystemExit(f"{missing.name} is missing: run scripts/setup-venv.sh test, then use .venv/bin/python") from None


def slot_utilisation(image_api: ImageAPIServer, slots: int, latency: float, span: float) -> float:
    """Busy slot-seconds over available slot-seconds, from when each request reached the API."""
    return len(image_api.requests) * latency / (slots * span) if span > 0 else 0.0


async def run(arguments: argparse.Namespace) -> None:
    requests, slots, latency = arguments.requests, arguments.slots, arguments.latency
    discord_api = DiscordServer(token=TOKEN)
    image_api = ImageAPIServer(api_key=API_KEY, unique_images=False)
    await discord_api.start()
    await image_api.start()
    guilds = [discord_api.add_guild(name=f"Server {n}") for n in range(arguments.servers)]
    users = [discord_api.add_user(name=f"user{n}", guild_id=guilds[n % len(guilds)].id) for n in range(requests)]
    guild_ids = ",".join(str(guild.id) for guild in guilds)
    database = contextlib.AsyncExitStack()
    bots = []
    if arguments.processes == 1 and not arguments.postgres:
        bots.append(await start_bot(discord_api, image_api, guild_ids, slots, None))
    else:
        url = await database.enter_async_context(postgres_schema(arguments.database))
        for shard in range(arguments.processes):
            shards = {"SHARD_COUNT": str(arguments.processes), "SHARD_IDS": str(shard), "DATABASE_URL": url}
            bots.append(await start_bot(discord_api, image_api, guild_ids, slots, None, shards))
    if arguments.pin and len(os.sched_getaffinity(0)) >= 2:  # the bot on one core, this load generator on another
        cores = sorted(os.sched_getaffinity(0))
        for bot in bots:
            os.sched_setaffinity(bot.pid, {cores[1]})
        os.sched_setaffinity(0, {cores[0]})
    try:
        await discord_api.wait_commands(timeout=60)
        await discord_api.wait_ready(timeout=60, sessions=arguments.processes)
        warmup = discord_api.add_user(name="warmup", guild_id=guilds[0].id)
        await (await discord_api.slash("imagine", user=warmup, guild=guilds[0], options={"prompt": "warm"})).final(
            timeout=60, until=outcome
        )

        image_api.reset()
        image_api.latency = latency
        image_api.grain = arguments.grain
        options = {"prompt": "a harbour"} | ({"quality": arguments.quality} if arguments.quality else {})
        limited_before = discord_api.rate_limited
        bot_cpu = sum(cpu_seconds(bot.pid) for bot in bots)
        started = time.perf_counter()
        handles = []
        for n, user in enumerate(users):  # evenly over the ramp; a ramp of 0 sends them all at once
            await asyncio.sleep(max(0.0, started + arguments.ramp * n / requests - time.perf_counter()))
            guild = guilds[n % len(guilds)]
            handles.append(await discord_api.slash("imagine", user=user, guild=guild, options=options))
        results = await asyncio.gather(*(handle.final(timeout=600, until=outcome) for handle in handles))
        makespan = time.perf_counter() - started
        bot_cpu = sum(cpu_seconds(bot.pid) for bot in bots) - bot_cpu

        acks = [handle.ack_latency for handle in handles if handle.ack_latency is not None]
        delivered = sum(1 for result in results if result.files)
        ideal = math.ceil(requests / slots) * latency
        arrivals = [request.received_at for request in image_api.requests]
        span = max(arrivals) + latency - min(arrivals) if arrivals else 0.0
        print(
            f"N={requests} over {arguments.servers} servers, C={slots} slots, L={latency:.1f}s, "
            f"quality {arguments.quality or '1k'}, grain {arguments.grain}, {arguments.processes} bot process(es)"
        )
        print(f"acknowledged {len(acks)}/{requests}, delivered {delivered}/{requests}")
        print(
            f"ack latency ms: p50 {percentile(acks, 0.5) * 1000:.1f}  p99 {percentile(acks, 0.99) * 1000:.1f}"
            f"  max {max(acks) * 1000:.1f}"
        )
        print(f"time to last result {makespan:.2f}s, ideal ceil(N/C)*L {ideal:.2f}s ({makespan / ideal - 1:+.1%})")
        print(f"slot utilisation {slot_utilisation(image_api, slots, latency, span):.1%}")
        print(f"most API requests in flight {image_api.max_in_flight} (cap {slots})")
        print(f"429s from the loopback Discord's rate limits: {discord_api.rate_limited - limited_before}")
        print(f"Discord answers by status: {dict(sorted(discord_api.status_counts().items()))}")
        rss = ", ".join(f"{peak_rss_mib(bot.pid):.1f}" for bot in bots)
        print(f"bot peak RSS {rss} MiB, CPU per job {bot_cpu / requests * 1000:.1f} ms (all processes)")
    finally:
        for bot in bots:
            bot.terminate()
            await bot.wait()
        await database.aclose()
        await discord_api.stop()
        await image_api.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="jobs in the burst (N)")
    parser.add_argument("--servers", type=int, default=20, help="servers they come from, round robin (S)")
    parser.add_argument("--slots", type=int, default=20, help="IMAGE_API_CONCURRENCY (C)")
    parser.add_argument("--latency", type=float, default=1.0, help="image API latency in seconds (L)")
    parser.add_argument("--quality", choices=("1k", "2k", "4k"), help="quality asked for (default: the API's 1k)")
    parser.add_argument("--ramp", type=float, default=0.0, help="seconds over which the jobs are sent (0: at once)")
    parser.add_argument("--pin", action="store_true", help="run the bot and the load generator on separate cores")
    parser.add_argument("--processes", type=int, default=1, help="bot processes, one shard each (PostgreSQL)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL even for one process (default: SQLite)")
    parser.add_argument("--database", default=DEFAULT_POSTGRES_URL, help="the PostgreSQL server to use")
    parser.add_argument("--grain", type=float, default=0.0, help="noise in the images; 8 makes a 4K PNG ~19 MiB")
    args = parser.parse_args()
    os.environ.setdefault("LIMIT_MAX_QUALITY", "4k")  # the default limits allow 2k at most
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
