"""The operations endpoint: `/healthz` for liveness checks and `/metrics` for Prometheus, on a port of its own."""

import asyncio
import dataclasses
import logging
from typing import Protocol

from aiohttp import web

from bot.core.metrics import Metrics
from bot.core.storage import Storage

log = logging.getLogger(__name__)

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PING_TIMEOUT = 2.0  # seconds; a database slower than this counts as unreachable
PING_JOB_ID = "0" * 16  # never issued, so the read is a cheap miss


class Watched(Protocol):
    """What the endpoint reads from the bot."""

    @property
    def storage(self) -> Storage | None: ...

    def is_ready(self) -> bool: ...

    def is_closed(self) -> bool: ...

    def shard_states(self) -> dict[int, bool]:
        """Whether each of this process's shards is connected."""

    def provider_states(self) -> dict[str, str]:
        """Each image provider's circuit breaker: closed, open or half-open."""


class HealthServer:
    """Serves `/healthz` and `/metrics` on `host:port` (port 0: any free port, see `port` once started)."""

    def __init__(self, bot: Watched, metrics: Metrics, host: str, port: int) -> None:
        self._bot = bot
        self._metrics = metrics
        self._host = host
        self.port = port
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_page)
        self._runner = web.AppRunner(app, access_log=None)  # scrapes every few seconds would flood the log

    async def start(self) -> None:
        """Listen; `port` then holds the bound port."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        log.info("health endpoint listening on %s:%d", self._host, self.port)

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        await self._runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        shards = self._bot.shard_states()
        connected = self._bot.is_ready() and not self._bot.is_closed() and all(shards.values())
        database = await ping(self._bot.storage)
        reading = self._metrics.queue()
        body = {
            "gateway": "connected" if connected else "disconnected",
            "shards": {str(shard): "connected" if up else "disconnected" for shard, up in sorted(shards.items())},
            "database": "ok" if database else "unreachable",
            "queue": dataclasses.asdict(reading) if reading is not None else None,
            "providers": self._bot.provider_states(),  # an open breaker is failed over, not a reason for 503
        }
        return web.json_response(body, status=200 if connected and database else 503)

    async def _metrics_page(self, request: web.Request) -> web.Response:
        # render() reads only in-memory counters and the queue's sizes: cheap enough for the event loop
        return web.Response(body=self._metrics.render(), headers={"Content-Type": METRICS_CONTENT_TYPE})


async def ping(storage: Storage | None) -> bool:
    """Whether the database answers a cheap read within PING_TIMEOUT; never raises."""
    if storage is None:
        return False
    try:
        async with asyncio.timeout(PING_TIMEOUT):
            await storage.load_job(PING_JOB_ID)
    except Exception:
        log.warning("health check: the database did not answer", exc_info=True)
        return False
    return True
