"""The image API's slots shared through PostgreSQL by several bot processes: overhead, hand-off and the cap.

Starts `--processes` worker processes on one fresh PostgreSQL schema. Each runs the bot's FairQueue with
the PostgreSQL slot gate and `--slots` local slots, and queues its share of `--jobs` jobs at once; a job
holds its slot for `--hold` seconds (standing in for the image API call). Every job's start and end (wall
clock, shared by the processes) come back to this process, which prints:

- the most jobs running at once across all processes (must not exceed --slots),
- the time to the last result against the ideal jobs * hold / slots,
- slot utilisation, and the gap between a job's end and the next job's start on a freed slot.

    .venv/bin/python bench/slots_bench.py --processes 2 --slots 4 --jobs 200 --hold 0.05
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:
    from bot.core.queue import FairQueue
    from bot.core.storage import open_storage
    from tests.storage_backends import DEFAULT_POSTGRES_URL, postgres_schema
except ModuleNotFoundError as missing:  # one line saying what to install, not a traceback
    raise SystemExit(f"{missing.name} is missing: run scripts/setup-venv.sh test, then use .venv/bin/python") from None


async def worker(url: str, name: str, slots: int, jobs: int, hold: float, start_at: float) -> None:
    """One bot process's queue: queue `jobs` jobs at `start_at`, print each one's (start, end) as JSON."""
    storage = await open_storage(url, name)
    if (gate := storage.shared_slots(slots)) is None:
        raise SystemExit("the slots are shared only through PostgreSQL")
    await gate.start()
    queue: FairQueue[tuple[float, float]] = FairQueue(slots, gate=gate)

    async def job() -> tuple[float, float]:
        started = time.time()
        await asyncio.sleep(hold)
        return started, time.time()

    await asyncio.sleep(max(0.0, start_at - time.time()))
    for n in range(jobs):
        queue.submit(f"{name}-{n}", server_id=n % 10, user_id=n, work=job)
    spans = [await queue.result(f"{name}-{n}") for n in range(jobs)]
    await queue.close(0)
    await gate.close()
    await storage.close()
    print(json.dumps(spans))


def most_at_once(spans: list[tuple[float, float]]) -> int:
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, change in events:  # an end sorts before a start at the same instant
        running += change
        most = max(most, running)
    return most


def hand_off_gaps(spans: list[tuple[float, float]], slots: int) -> list[float]:
    """For each job after the first `slots`: how long after some earlier job's end it started."""
    ends = sorted(end for _, end in spans)
    starts = sorted(start for start, _ in spans)[slots:]
    return [start - ends[n] for n, start in enumerate(starts)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--hold", type=float, default=0.05)
    parser.add_argument("--database", default=DEFAULT_POSTGRES_URL)
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        url, name, jobs, hold, start_at = args.worker
        await worker(url, name, args.slots, int(jobs), float(hold), float(start_at))
        return

    async with postgres_schema(args.database) as url:
        start_at = time.time() + 3.0  # every worker connected and its gate started by then
        share = [args.jobs // args.processes + (n < args.jobs % args.processes) for n in range(args.processes)]
        workers = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--slots",
                str(args.slots),
                "--worker",
                url,
                f"bench-{n}",
                str(share[n]),
                str(args.hold),
                str(start_at),
                stdout=asyncio.subprocess.PIPE,
            )
            for n in range(args.processes)
        ]
        outputs = [await process.communicate() for process in workers]
    spans = [tuple(span) for stdout, _ in outputs for span in json.loads(stdout)]
    makespan = max(end for _, end in spans) - start_at
    ideal = args.jobs * args.hold / args.slots
    busy = sum(end - start for start, end in spans)
    gaps = hand_off_gaps(spans, args.slots)
    ms = [gap * 1000 for gap in gaps]
    print(f"{args.processes} processes, {args.slots} shared slots, {args.jobs} jobs of {args.hold * 1000:.0f} ms")
    print(f"most jobs running at once: {most_at_once(spans)} (cap {args.slots})")
    print(f"time to the last result: {makespan:.3f} s, ideal {ideal:.3f} s ({(makespan / ideal - 1) * 100:+.1f} %)")
    print(f"slot utilisation: {busy / (makespan * args.slots) * 100:.1f} %")
    quantiles = statistics.quantiles(ms, n=100, method="inclusive")
    print(f"hand-off gap: p50 {quantiles[49]:.2f} ms, p99 {quantiles[98]:.2f} ms, max {max(ms):.2f} ms")


if __name__ == "__main__":
    asyncio.run(main())
