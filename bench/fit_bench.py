"""Fitting results under Discord's upload limit: time, size, and what the event loop feels meanwhile.

Renders 4K pictures that PNG can't compress (the loopback image API's grain), fits each under the
limit in a worker thread as the bot does, and meanwhile measures how late a 1 ms ticker on the event
loop wakes: the longest lateness is how long the loop was blocked.

    .venv/bin/python bench/fit_bench.py --images 4 --grain 8 --limit-mib 10
"""

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:
    from bot.core.fitting import FittedImage, fit_image
    from bot.core.imageapi import ImageBytes
    from bot.core.images import sniff_format
    from tests.loopback.image_api.render import render_image
except ModuleNotFoundError as missing:  # one line saying what to install, not a traceback
    raise SystemExit(f"{missing.name} is missing: run scripts/setup-venv.sh test, then use .venv/bin/python") from None

TICK = 0.001


async def loop_lateness(stop: asyncio.Event) -> list[float]:
    """How late each 1 ms sleep woke, until `stop` is set."""
    lateness = []
    while not stop.is_set():
        started = time.perf_counter()
        await asyncio.sleep(TICK)
        lateness.append(time.perf_counter() - started - TICK)
    return lateness


async def fit_all(images: list[ImageBytes], limit: int) -> list[FittedImage]:
    """As the bot does it: one image at a time, in a worker thread."""
    return [await asyncio.to_thread(fit_image, image, limit) for image in images]


async def main(arguments: argparse.Namespace) -> None:
    size = (arguments.side, arguments.side)
    encoded = [render_image("fit-bench", index, size, "png", arguments.grain) for index in range(arguments.images)]
    images = [ImageBytes(item.data, sniff_format(item.data)) for item in encoded]  # type: ignore[arg-type]
    limit = arguments.limit_mib * 1024 * 1024

    stop = asyncio.Event()
    ticker = asyncio.create_task(loop_lateness(stop))
    started = time.perf_counter()
    fitted = await fit_all(images, limit)
    elapsed = time.perf_counter() - started
    stop.set()
    lateness = await ticker

    for index, (image, result) in enumerate(zip(images, fitted, strict=True), start=1):
        print(
            f"image {index}: {len(image.data) / 2**20:.1f} MiB PNG -> {len(result.image.data) / 2**20:.1f} MiB "
            f"{result.image.format.name} {result.size} (limit {arguments.limit_mib} MiB)"
        )
    print(f"fitting {len(images)} images: {elapsed:.2f} s, {elapsed / len(images) * 1000:.0f} ms each")
    print(
        f"event loop lateness while fitting: median {statistics.median(lateness) * 1000:.2f} ms, "
        f"max {max(lateness) * 1000:.2f} ms over {len(lateness)} ticks"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--side", type=int, default=4096, help="pixels per side")
    parser.add_argument("--grain", type=float, default=8.0, help="noise sigma; 8 makes a 4K PNG about 20 MiB")
    parser.add_argument("--limit-mib", type=int, default=10, help="the upload limit (10 MiB on unboosted servers)")
    asyncio.run(main(parser.parse_args()))
