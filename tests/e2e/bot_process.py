"""The bot as its own process (`python -m bot`), as an operator runs it."""

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp

START_TIMEOUT = 30


async def run_bot(env: dict[str, str], cwd: Path) -> asyncio.subprocess.Process:
    """Start `python -m bot` in `cwd` with only `env` (and PATH, HOME, LANG) for its environment."""
    inherited = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        env=inherited | env | {"PYTHONPATH": str(Path(__file__).parents[2])},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def stop_bot(process: asyncio.subprocess.Process) -> str:
    """Stop the bot as a container stop does (SIGTERM) and return what it wrote to stderr."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), START_TIMEOUT)
    return stderr.decode()


def free_port() -> int:
    """A port nothing listens on now, for a bot process's health endpoint."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def healthy(http: aiohttp.ClientSession, port: int) -> dict[str, Any]:
    """The bot's /healthz once it answers 200 (READY sent is not READY read): its last answer after 5 s."""
    for _ in range(100):
        async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
            health = await response.json()
            if response.status == 200:
                break
        await asyncio.sleep(0.05)
    return health
