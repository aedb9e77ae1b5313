"""Load benchmark: N concurrent /imagine through the loopback Discord and image API.

The bot runs as its own process (`python -m bot`), exactly as deployed; this process plays
Discord and the image API. Prints ack latency (gateway event -> first callback), end-to-end
time minus the API latency L, and the bot's peak RSS.

    .venv/bin/python bench/imagine_bench.py --requests 200 --latency 2
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:
    import psutil

    from tests.e2e.helpers import outcome
    from tests.loopback.discord import DiscordServer, InteractionHandle
    from tests.loopback.image_api import ImageAPIServer
except ModuleNotFoundError as missing:  # one line saying what to install, not a traceback
    raise SystemExit(f"{missing.name} is missing: run scripts/setup-venv.sh test, then use .venv/bin/python") from None

TOKEN = "bench-discord-token"  # noqa: S105
API_KEY = "bench-api-key"
ACK_DEADLINE = 3.0
DATA_DIR = tempfile.TemporaryDirectory(prefix="imagebot-bench-")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def delivery(handle: InteractionHandle) -> float:
    """Seconds from the gateway event to the response holding the images."""
    message = await handle.final(timeout=120, until=outcome)
    if not message.files:
        raise RuntimeError(f"no images: {message.content!r}")
    return asyncio.get_running_loop().time() - handle.dispatched_at


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def peak_rss_mib(pid: int) -> float:
    """The process's high-water resident set (VmHWM on Linux, else the current RSS)."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return psutil.Process(pid).memory_info().rss / 2**20


async def start_bot(
    discord_api: DiscordServer,
    image_api: ImageAPIServer,
    guild_ids: str,
    slots: int,
    profile: str | None,
    settings: Mapping[str, str] | None = None,
) -> asyncio.subprocess.Process:
    """`python -m bot` against the loopback servers, with its commands in the comma-separated `guild_ids`,
    and any further `settings`."""
    env = (
        os.environ
        | {
            "DISCORD_TOKEN": TOKEN,
            "IMAGE_API_KEY": API_KEY,
            "IMAGE_API_BASE_URL": image_api.base_url,
            "IMAGE_API_CONCURRENCY": str(slots),
            "DEV_GUILD_IDS": guild_ids,
            "DISCORD_API_BASE_URL": discord_api.rest_base,
            "DISCORD_GATEWAY_URL": discord_api.gateway_url,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "DATA_DIR": DATA_DIR.name,  # a database of its own, removed at exit
            "GLOBAL_MONTHLY_BUDGET": "0",  # no deployment cap (50 dollars unless set) may stop a benchmark
        }
        | dict(settings or {})
    )
    profiler = ["-m", "cProfile", "-o", profile] if profile else []
    return await asyncio.create_subprocess_exec(sys.executable, *profiler, "-m", "bot", env=env, cwd=ROOT)


async def run(requests: int, latency: float, ramp: float, slots: int, warmup: int, profile: str | None) -> None:
    discord_api = DiscordServer(token=TOKEN)
    image_api = ImageAPIServer(api_key=API_KEY, unique_images=False)
    await discord_api.start()
    await image_api.start()
    guild = discord_api.add_guild(name="Bench")
    users = [discord_api.add_user(name=f"user{n}", guild_id=guild.id) for n in range(requests)]
    bot = await start_bot(discord_api, image_api, str(guild.id), slots, profile)
    try:
        await discord_api.wait_commands(timeout=60)
        await discord_api.wait_ready(timeout=60)
        # first calls pay for imports and connection set-up; members of their own, so that no measured member
        # meets the default cooldown
        for user in [discord_api.add_user(name=f"warmup{n}", guild_id=guild.id) for n in range(warmup)]:
            await (await discord_api.slash("imagine", user=user, guild=guild, options={"prompt": "warm up"})).final(
                timeout=30, until=outcome
            )

        image_api.reset()
        image_api.latency = latency
        bot_cpu, own_cpu = cpu_seconds(bot.pid), cpu_seconds(os.getpid())
        started = time.perf_counter()
        handles = []
        for index, user in enumerate(users):  # evenly over the ramp; a ramp of 0 sends them all at once
            await asyncio.sleep(max(0.0, started + ramp * index / requests - time.perf_counter()))
            handles.append(await discord_api.slash("imagine", user=user, guild=guild, options={"prompt": "a harbour"}))
        outcomes = await asyncio.gather(*(delivery(handle) for handle in handles), return_exceptions=True)
        wall = time.perf_counter() - started
        bot_cpu, own_cpu = cpu_seconds(bot.pid) - bot_cpu, cpu_seconds(os.getpid()) - own_cpu

        acks = [handle.ack_latency for handle in handles if handle.ack_latency is not None]
        delivered = [outcome for outcome in outcomes if isinstance(outcome, float)]
        overheads = [seconds - latency for seconds in delivered]
        print(f"requests {requests} over {ramp:.1f}s, API latency {latency:.1f}s, API slots {slots}, wall {wall:.2f}s")
        print(f"acknowledged {len(acks)}/{requests}, late (>{ACK_DEADLINE:.0f}s) {sum(a > ACK_DEADLINE for a in acks)}")
        if acks:
            print(
                f"ack latency ms: p50 {percentile(acks, 0.5) * 1000:.1f}  p99 {percentile(acks, 0.99) * 1000:.1f}"
                f"  max {max(acks) * 1000:.1f}"
            )
        print(f"delivered {len(delivered)}/{requests}")
        for failure in {repr(outcome) for outcome in outcomes if isinstance(outcome, BaseException)}:
            print(f"  failure: {failure[:200]}")
        if overheads:
            print(
                f"end-to-end minus latency ms: p50 {statistics.median(overheads) * 1000:.1f}"
                f"  p99 {percentile(overheads, 0.99) * 1000:.1f}"
            )
        print(f"bot peak RSS: {peak_rss_mib(bot.pid):.1f} MiB")
        print(
            f"CPU ms per request: bot {bot_cpu / requests * 1000:.2f}, "
            f"loopback Discord + image API {own_cpu / requests * 1000:.2f}"
        )
        print(f"Discord answers by status: {dict(sorted(discord_api.status_counts().items()))}")
    finally:
        bot.terminate()
        await bot.wait()
        await discord_api.stop()
        await image_api.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="concurrent /imagine commands (N)")
    parser.add_argument("--latency", type=float, default=2.0, help="image API latency in seconds (L)")
    parser.add_argument("--ramp", type=float, default=0.0, help="seconds over which the commands are sent (0: at once)")
    parser.add_argument("--slots", type=int, default=0, help="IMAGE_API_CONCURRENCY (default: N, so none wait)")
    parser.add_argument("--warmup", type=int, default=3, help="requests before measuring")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the bot process to FILE")
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.latency, args.ramp, args.slots or args.requests, args.warmup, args.profile))


if __name__ == "__main__":
    main()
