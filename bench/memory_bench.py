"""Memory benchmark: N concurrent 4K jobs whose images come back as ~31 MiB grainy PNGs.

The bot runs as its own process (through bench/loop_probe.py, which records its event loop's lateness) against the
loopback Discord and image API; the image API answers each job with a 4096x4096 PNG of noise, as `b64_json` (a
~42 MB JSON answer) or as a `url` to download. Every image is over the upload limit, so each is decoded and
re-encoded to fit. For each slot count and answer shape, a fresh bot process runs the burst while this process
samples its resident set; printed: the peak RSS (sampled, and the kernel's high-water mark), the event loop's worst
lateness during the burst, and whether every job was delivered with files under the upload limit.

    .venv/bin/python bench/memory_bench.py --jobs 20 --slots 4 1 --shapes b64_json url
"""

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:
    import psutil

    from bench.imagine_bench import API_KEY, TOKEN, peak_rss_mib
    from tests.e2e.helpers import outcome
    from tests.loopback.discord import DiscordServer
    from tests.loopback.discord.state import DEFAULT_ATTACHMENT_SIZE_LIMIT, MessageRecord
    from tests.loopback.image_api import ImageAPIServer
    from tests.loopback.image_api.shapes import AnswerShape
except ModuleNotFoundError as missing:  # one line saying what to install, not a traceback
    raise SystemExit(f"{missing.name} is missing: run scripts/setup-venv.sh test, then use .venv/bin/python") from None

GRAIN = 48.0  # noise sigma that makes the loopback's 4096x4096 PNG about 31 MiB
SAMPLE_EVERY = 0.02  # seconds between RSS samples


@dataclass(frozen=True, slots=True)
class Figures:
    idle_rss: float  # MiB, before the burst
    after_rss: float  # MiB, a second after the last delivery
    peak_rss: float  # MiB, sampled during the burst
    high_water: float  # MiB, the kernel's VmHWM over the process's life
    worst_late: float  # seconds the event loop woke late, at most, during the burst
    delivered: int
    oversized: int  # files over the upload limit
    seconds: float


async def sample_rss(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    """Keep the largest resident set of `pid` seen (MiB) in `peak[0]` until `stop` is set."""
    process = psutil.Process(pid)
    while not stop.is_set():
        with contextlib.suppress(psutil.Error):
            peak[0] = max(peak[0], process.memory_info().rss / 2**20)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SAMPLE_EVERY)


def worst_lateness(path: Path, since: float, until: float) -> float:
    """The worst lateness the probe wrote for wake-ups between `since` and `until` (unix times)."""
    worst = 0.0
    with contextlib.suppress(FileNotFoundError):
        for line in path.read_text().splitlines():
            stamp, late = (float(part) for part in line.split())
            if since <= stamp <= until:
                worst = max(worst, late)
    return worst


async def start_bot(
    discord_api: DiscordServer,
    image_api: ImageAPIServer,
    guild_id: int,
    slots: int,
    probe: Path,
    data_dir: str,
    extra: Mapping[str, str],
) -> asyncio.subprocess.Process:
    env: Mapping[str, str] = (
        os.environ
        | extra
        | {
            "DISCORD_TOKEN": TOKEN,
            "IMAGE_API_KEY": API_KEY,
            "IMAGE_API_BASE_URL": image_api.base_url,
            "IMAGE_API_CONCURRENCY": str(slots),
            "DEV_GUILD_IDS": str(guild_id),
            "DISCORD_API_BASE_URL": discord_api.rest_base,
            "DISCORD_GATEWAY_URL": discord_api.gateway_url,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
            "DATA_DIR": data_dir,
            "GLOBAL_MONTHLY_BUDGET": "0",
            "LIMIT_MAX_QUALITY": "4k",
        }
    )
    probe_script = str(ROOT / "bench" / "loop_probe.py")
    return await asyncio.create_subprocess_exec(sys.executable, probe_script, str(probe), env=env, cwd=ROOT)


async def burst(
    image_api: ImageAPIServer, jobs: int, slots: int, shape: str, latency: float, extra: Mapping[str, str]
) -> Figures:
    """One bot process, one burst of `jobs` 4K jobs with `slots` API slots, answers in `shape`."""
    discord_api = DiscordServer(token=TOKEN, rate_limits=False)
    await discord_api.start()
    guild = discord_api.add_guild(name="Bench")
    users = [discord_api.add_user(name=f"user{n}", guild_id=guild.id) for n in range(jobs)]
    with tempfile.TemporaryDirectory(prefix="imagebot-memory-") as data_dir:
        probe = Path(data_dir) / "lateness.txt"
        bot = await start_bot(discord_api, image_api, guild.id, slots, probe, data_dir, extra)
        try:
            await discord_api.wait_commands(timeout=60)
            await discord_api.wait_ready(timeout=60)
            image_api.reset()
            image_api.latency, image_api.grain, image_api.answer_shape = latency, GRAIN, cast(AnswerShape, shape)
            idle = psutil.Process(bot.pid).memory_info().rss / 2**20
            peak, stop = [0.0], asyncio.Event()
            sampler = asyncio.create_task(sample_rss(bot.pid, peak, stop))
            since, started = time.time(), time.perf_counter()
            options = {"prompt": "a grainy harbour", "quality": "4k"}
            handles = [await discord_api.slash("imagine", user=user, guild=guild, options=options) for user in users]
            results = await asyncio.gather(*(handle.final(timeout=600, until=outcome) for handle in handles))
            seconds = time.perf_counter() - started
            for failure in {result.content for result in results if not result.files}:
                print(f"  not delivered: {failure}")
            stop.set()
            await sampler
            await asyncio.sleep(1.0)
            after = psutil.Process(bot.pid).memory_info().rss / 2**20
            return Figures(
                idle_rss=idle,
                after_rss=after,
                peak_rss=peak[0],
                high_water=peak_rss_mib(bot.pid),
                worst_late=worst_lateness(probe, since, time.time()),
                delivered=sum(1 for result in results if result.files),
                oversized=sum(oversized(result, guild.attachment_size_limit) for result in results),
                seconds=seconds,
            )
        finally:
            bot.terminate()
            await bot.wait()
            await discord_api.stop()


def oversized(result: MessageRecord, limit: int) -> int:
    return sum(1 for file in result.files if file.size > limit)


async def run(arguments: argparse.Namespace) -> None:
    extra = dict(setting.split("=", 1) for setting in arguments.env)
    image_api = ImageAPIServer(api_key=API_KEY, unique_images=False)  # the picture is rendered once, then served
    await image_api.start()
    try:
        print(
            f"N={arguments.jobs} jobs at 4K, PNG of noise (grain {GRAIN:.0f}), API latency {arguments.latency:.1f}s, "
            f"upload limit {DEFAULT_ATTACHMENT_SIZE_LIMIT / 2**20:.0f} MiB"
            + "".join(f", {name}={value}" for name, value in extra.items())
        )
        for slots in arguments.slots:
            for shape in arguments.shapes:
                figures = await burst(image_api, arguments.jobs, slots, shape, arguments.latency, extra)
                sizes = image_api.requests[-1].output_sizes if image_api.requests else []
                answer = f"{sizes[0] / 2**20:.1f} MiB PNG" if sizes else "no answer"
                print(
                    f"slots {slots} {shape:8} ({answer}): peak RSS {figures.peak_rss:.0f} MiB "
                    f"(idle {figures.idle_rss:.0f}, after {figures.after_rss:.0f}, "
                    f"high-water {figures.high_water:.0f}), loop late at most {figures.worst_late * 1000:.0f} ms, "
                    f"delivered {figures.delivered}/{arguments.jobs}, files over the limit {figures.oversized}, "
                    f"{figures.seconds:.1f}s"
                )
    finally:
        await image_api.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20, help="concurrent 4K jobs (N)")
    parser.add_argument("--slots", type=int, nargs="+", default=[4, 1], help="IMAGE_API_CONCURRENCY values to run")
    parser.add_argument("--shapes", nargs="+", choices=("b64_json", "url"), default=["b64_json", "url"])
    parser.add_argument("--latency", type=float, default=1.0, help="image API latency in seconds")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="more environment for the bot")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
