"""Turning the configured providers into the router's upstreams."""

from collections.abc import Callable, Sequence

import aiohttp

from bot.core.providers.base import HTTPProvider, ProviderSettings
from bot.core.providers.config import ProviderConfig
from bot.core.providers.gateway import GatewayProvider
from bot.core.providers.gemini import GeminiProvider
from bot.core.providers.litellm import LiteLLMProvider
from bot.core.providers.openai import OpenAIProvider
from bot.core.providers.openrouter import OpenRouterProvider
from bot.core.providers.router import Breaker, Upstream
from bot.core.slots import SlotGate

KINDS: dict[str, type[HTTPProvider]] = {
    "gateway": GatewayProvider,
    "openai": OpenAIProvider,
    "gemini": GeminiProvider,
    "openrouter": OpenRouterProvider,
    "litellm": LiteLLMProvider,
}


def build_upstreams(
    configs: Sequence[ProviderConfig],
    session: aiohttp.ClientSession,
    *,
    connect_timeout: float,
    download_max_bytes: int,
    download_timeout: float,
    gate_for: Callable[[str, int], SlotGate | None] | None = None,
) -> list[Upstream]:
    """One upstream per configured provider, all on `session`; `gate_for(name, concurrency)` gives a provider with a
    concurrency of its own the slots it shares with other processes (None, or no `gate_for`: its own semaphore)."""
    upstreams = []
    for config in configs:
        settings = ProviderSettings(
            name=config.name,
            base_url=config.base_url,
            api_key=config.api_key,
            timeout=config.timeout,
            connect_timeout=connect_timeout,
            max_retries=config.max_retries,
            download_max_bytes=download_max_bytes,
            download_timeout=download_timeout,
            key_name=config.api_key_env,
        )
        provider: HTTPProvider
        if config.kind == "gateway":
            provider = GatewayProvider(session, settings, options=config.gateway)
        elif config.kind == "litellm":
            provider = LiteLLMProvider(session, settings, routes=config.routes)
        else:
            provider = KINDS[config.kind](session, settings)
        breaker = Breaker(failures=config.breaker_failures, cooloff=config.breaker_cooloff)
        gate = None if gate_for is None or config.concurrency is None else gate_for(config.name, config.concurrency)
        upstreams.append(Upstream(provider, dict(config.models), config.priority, config.concurrency, breaker, gate))
    return upstreams
