"""The operations endpoint of the running bot: /healthz and /metrics over real sockets."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app.client import ImageBot
from bot.app.health import METRICS_CONTENT_TYPE, HealthServer
from bot.core.metrics import Metrics
from bot.core.storage import Storage, open_storage
from tests.e2e.helpers import outcome
from tests.loopback import image_api as faults


@dataclass
class BotWithStorage:
    """The running bot's gateway state, with a database of the test's choosing."""

    bot: ImageBot
    storage: Storage

    def is_ready(self) -> bool:
        return self.bot.is_ready()

    def is_closed(self) -> bool:
        return self.bot.is_closed()

    def shard_states(self) -> dict[int, bool]:
        return self.bot.shard_states()

    def provider_states(self) -> dict[str, str]:
        return self.bot.provider_states()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


@pytest.fixture
async def endpoint(bot: ImageBot) -> AsyncIterator[str]:
    server = HealthServer(bot, bot.metrics, "127.0.0.1", 0)
    await server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()


async def test_healthz_reports_a_connected_bot_with_its_database_and_queue(bot, endpoint, http) -> None:
    async with http.get(f"{endpoint}/healthz") as response:
        assert response.status == 200
        body = await response.json()
    assert body == {
        "gateway": "connected",
        "shards": {"0": "connected"},
        "database": "ok",
        "queue": {"queued": 0, "running": 0, "slots": bot.settings.image_api_concurrency},
        "providers": {"gateway": "closed"},
    }


async def test_healthz_is_unavailable_when_the_database_is_unreachable(bot, http, tmp_path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'gone.db'}")
    await storage.close()
    server = HealthServer(BotWithStorage(bot, storage), bot.metrics, "127.0.0.1", 0)
    await server.start()
    try:
        async with http.get(f"http://127.0.0.1:{server.port}/healthz") as response:
            assert response.status == 503
            body = await response.json()
    finally:
        await server.stop()
    assert body["gateway"] == "connected"
    assert body["database"] == "unreachable"


async def test_healthz_is_unavailable_when_the_gateway_is_disconnected(bot, http, tmp_path) -> None:
    storage = await open_storage(f"sqlite:///{tmp_path / 'idle.db'}")
    idle = ImageBot(bot.settings)  # never started: not connected to the gateway
    server = HealthServer(BotWithStorage(idle, storage), Metrics(), "127.0.0.1", 0)
    await server.start()
    try:
        async with http.get(f"http://127.0.0.1:{server.port}/healthz") as response:
            assert response.status == 503
            body = await response.json()
    finally:
        await server.stop()
        await idle.http.close()  # a sharded client that never logged in can't close() itself
        await storage.close()
    assert body == {"gateway": "disconnected", "shards": {}, "database": "ok", "queue": None, "providers": {}}


async def test_metrics_show_a_running_job_in_the_queue_gauges(
    bot, endpoint, http, discord_api, image_api, guild, member
) -> None:
    assert await bot.jobs.wait_idle(5) == 0  # no other test's job is in the queue
    image_api.latency = 1.0
    started = asyncio.Event()
    unsubscribe = bot.jobs.subscribe(lambda: bot.jobs.places() and started.set())
    try:
        reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a slow lighthouse"})
        await asyncio.wait_for(started.wait(), 5)
    finally:
        unsubscribe()
    async with http.get(f"{endpoint}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == METRICS_CONTENT_TYPE
        text = await response.text()
    await reply.final(timeout=15, until=outcome)

    samples = {
        (sample.name, tuple(sample.labels.values())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples["imagebot_queue_jobs", ("running",)] == 1
    assert samples["imagebot_queue_jobs", ("queued",)] == 0
    assert samples["imagebot_queue_slots", ()] == bot.settings.image_api_concurrency


def sample(metrics: Metrics, name: str, **labels: str) -> float:
    """One sample's value from the bot's exposition text, 0 when absent."""
    for family in text_string_to_metric_families(metrics.render().decode()):
        for found in family.samples:
            if found.name == name and all(found.labels.get(key) == value for key, value in labels.items()):
                return found.value
    return 0.0


async def test_jobs_are_counted_by_outcome_with_their_images(discord_api, image_api, bot, member, guild) -> None:
    assert await bot.jobs.wait_idle(5) == 0  # earlier tests' jobs are counted before this one looks
    before = {
        "delivered": sample(bot.metrics, "imagebot_jobs_total", outcome="delivered"),
        "failed": sample(bot.metrics, "imagebot_jobs_total", outcome="failed"),
        "images": sample(bot.metrics, "imagebot_images_delivered_total"),
        "safety": sample(bot.metrics, "imagebot_gateway_errors_total", kind="SafetyRefused"),
    }

    delivered = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a", "count": 2})
    await delivered.final(timeout=15, until=outcome)
    image_api.fail_next(faults.safety())
    refused = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "b"})
    await refused.final(timeout=15, until=outcome)
    assert await bot.jobs.wait_idle(5) == 0

    assert sample(bot.metrics, "imagebot_jobs_total", outcome="delivered") == before["delivered"] + 1
    assert sample(bot.metrics, "imagebot_jobs_total", outcome="failed") == before["failed"] + 1
    assert sample(bot.metrics, "imagebot_images_delivered_total") == before["images"] + 2
    assert sample(bot.metrics, "imagebot_gateway_errors_total", kind="SafetyRefused") == before["safety"] + 1
