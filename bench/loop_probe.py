"""Runs the bot (`python -m bot`) with a probe of its event loop's lateness, for the benchmarks.

    python bench/loop_probe.py FILE

A task on the bot's own loop sleeps 10 ms at a time; each wake-up later than asked by 5 ms or more is appended to
FILE as `<unix time> <seconds late>`, so a benchmark reads the worst lateness of the window it measured. The bot
itself is unchanged: the probe rides on the event loop policy `asyncio.run` asks for a new loop.
"""

import asyncio
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICK = 0.010  # seconds between wake-ups
NOTED = 0.005  # lateness worth a line


async def probe(path: Path) -> None:
    """Append every wake-up late by NOTED or more to `path`, until the loop ends."""
    loop = asyncio.get_running_loop()
    with path.open("a", buffering=1) as out:
        while True:
            asked = loop.time() + TICK
            await asyncio.sleep(TICK)
            if (late := loop.time() - asked) >= NOTED:
                out.write(f"{time.time():.3f} {late:.4f}\n")


class ProbedPolicy(asyncio.DefaultEventLoopPolicy):
    """The default policy, with the probe started on every loop it makes."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self._path = path
        self._probes: set[asyncio.Task[None]] = set()

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = super().new_event_loop()
        loop.call_soon(lambda: self._probes.add(loop.create_task(probe(self._path))))
        return loop


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python bench/loop_probe.py FILE")
    asyncio.set_event_loop_policy(ProbedPolicy(Path(sys.argv[1])))
    from bot.__main__ import main as bot_main  # imported once the policy is set

    bot_main()


if __name__ == "__main__":
    main()
