"""LiteLLM's proxy (the `litellm` package's `litellm` command) run as an operator runs it, in front of loopback
stand-ins: a config file of its model list, a master key, no database, and nothing fetched from the internet.

When the proxy can't run here (the package or what its proxy imports is not installed), its tests skip with the
reason, unless REQUIRE_LITELLM=1 (as in CI) makes them fail (tests/required.py).
"""

import asyncio
import json
import os
import secrets
import signal
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import aiohttp

from tests.e2e.bot_process import free_port
from tests.required import unavailable

REQUIRED_BY = "REQUIRE_LITELLM"
START_TIMEOUT = 90.0  # seconds: the proxy imports a great deal before it answers
STOP_TIMEOUT = 15.0
# LiteLLM reads these tables from the internet at start unless told to use the copies it ships
OFFLINE = {
    name: "True"
    for name in (
        "LITELLM_LOCAL_MODEL_COST_MAP",
        "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS",
        "LITELLM_LOCAL_AUTOROUTER_PRESETS",
        "LITELLM_LOCAL_BLOG_POSTS",
        "LITELLM_LOCAL_POLICY_TEMPLATES",
    )
}
_MISSING = ("ModuleNotFoundError", "Missing dependency", "ImportError", 'requires "python-multipart"')


@dataclass(frozen=True)
class ProxiedModel:
    """One entry of LiteLLM's `model_list`: the name clients ask for and where LiteLLM sends it."""

    model_name: str  # what the bot sends as `model`
    model: str  # LiteLLM's `provider/model`, e.g. `openai/gpt-image-1` or `gemini/gemini-3-pro-image-preview`
    api_base: str
    api_key: str


def proxy_config(models: Sequence[ProxiedModel], litellm_settings: Mapping[str, Any]) -> dict[str, Any]:
    """LiteLLM's config file: the model list and `litellm_settings`; the router neither retries nor cools a model
    down (the bot retries and has its own circuit breaker: README, "LiteLLM")."""
    return {
        "model_list": [
            {
                "model_name": model.model_name,
                "litellm_params": {"model": model.model, "api_base": model.api_base, "api_key": model.api_key},
            }
            for model in models
        ],
        "litellm_settings": dict(litellm_settings),
        "router_settings": {"num_retries": 0, "disable_cooldowns": True},
    }


class LiteLLMProxy:
    """`litellm --config FILE` on a free port of 127.0.0.1; `base_url` and `master_key` are what the bot is given."""

    def __init__(
        self, models: Sequence[ProxiedModel], folder: Path, *, litellm_settings: Mapping[str, Any] | None = None
    ) -> None:
        self.models = tuple(models)
        self.folder = folder
        self.litellm_settings = dict(litellm_settings or {"drop_params": True, "num_retries": 0})
        self.master_key = f"sk-{secrets.token_hex(24)}"
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None

    @property
    def log(self) -> Path:
        """Where the proxy's own log goes."""
        return self.folder / "litellm.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Start the proxy and wait until it is ready; skips (or fails under REQUIRE_LITELLM=1) when it can't run."""
        command = Path(sys.executable).with_name("litellm")
        if not command.exists():
            unavailable(f"LiteLLM's proxy is not installed ({command} is missing)", required_by=REQUIRED_BY)
        config = self.folder / "litellm.yaml"
        config.write_text(json.dumps(proxy_config(self.models, self.litellm_settings), indent=2))  # YAML ⊃ JSON
        inherited = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
        self.process = await asyncio.create_subprocess_exec(
            str(command),
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            env=inherited | OFFLINE | {"LITELLM_MASTER_KEY": self.master_key},
            cwd=self.folder,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=self.log.open("wb"),  # a file, not a pipe: a pipe nobody reads would stall the proxy once full
        )
        await self._ready()

    async def _ready(self) -> None:
        assert self.process is not None
        loop = asyncio.get_running_loop()
        give_up = loop.time() + START_TIMEOUT
        async with aiohttp.ClientSession() as http:
            while loop.time() < give_up:
                if self.process.returncode is not None:
                    await self._failed_to_start()
                try:
                    async with http.get(f"{self.base_url}/health/readiness") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.25)
        await self.stop()
        raise AssertionError(f"LiteLLM's proxy was not ready within {START_TIMEOUT:.0f}s")

    async def _failed_to_start(self) -> None:
        assert self.process is not None
        stderr = self.log.read_text(errors="replace")
        last = next((line for line in reversed(stderr.splitlines()) if line.strip()), "no output")
        if any(sign in stderr for sign in _MISSING):
            unavailable(f"LiteLLM's proxy can't run here: {last.strip()}", required_by=REQUIRED_BY)
        raise AssertionError(f"LiteLLM's proxy stopped with status {self.process.returncode}:\n{stderr[-3000:]}")

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
