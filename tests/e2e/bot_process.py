"""The bot as its own process (`python -m bot`), as an operator runs it."""

import asyncio
import os
import signal
import sys
from pathlib import Path

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
