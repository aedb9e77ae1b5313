"""The bot: owns the core services and wires them to Discord in `setup_hook`."""

import asyncio
import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.shard import Shard

from bot.app.admin.cog import Admin
from bot.app.defaults.cog import Defaults
from bot.app.edit.cog import Edit
from bot.app.errors import ImageTree
from bot.app.health import HealthServer
from bot.app.help.cog import Help
from bot.app.i18n.translator import CatalogueTranslator
from bot.app.imagine.cog import Imagine
from bot.app.limits.cog import Limits
from bot.app.limits.styles import Styles
from bot.app.liveness import Heartbeat
from bot.app.progress import ProgressBoard
from bot.app.recovery import tell_interrupted
from bot.app.results.buttons import JobButton
from bot.app.results.show import Show
from bot.app.usage.cog import Usage
from bot.app.usage.member import HISTORY_LENGTH, MemberUsage
from bot.core.accounting import Accountant
from bot.core.generation import GenerationService, RequestRules
from bot.core.inputs import DISCORD_CDN_ORIGINS, PictureFetcher
from bot.core.jobs import JobResult, JobService
from bot.core.metrics import Metrics
from bot.core.policy import Policy
from bot.core.providers.factory import build_upstreams
from bot.core.providers.router import Router
from bot.core.queue import FairQueue
from bot.core.retention import Retention
from bot.core.storage import Caps, SharedSlotGate, Storage, open_storage
from bot.settings import Settings

log = logging.getLogger(__name__)

FAREWELL_SECONDS = 3.0  # after the grace period: time to tell members how their jobs ended
DISCORD_CONNECTIONS = 500  # aiohttp's default of 100 would cap how many interactions are answered at once


class GatewayUnreachable(Exception):
    """A shard could not connect to Discord's gateway at start; the cause says why."""

    def __init__(self, url: str) -> None:
        super().__init__(f"cannot connect to Discord's gateway at {url}")
        self.url = url


class ImageBot(commands.AutoShardedBot):
    """An image bot: slash commands over the core generation service, on the shards its settings name."""

    def __init__(self, settings: Settings) -> None:
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # the bot never uses voice
        intents = discord.Intents.none()
        intents.guilds = True
        shards: dict[str, Any] = {} if settings.shard_ids is None else {"shard_ids": list(settings.shard_ids)}
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=ImageTree,
            help_command=None,
            owner_ids=set(settings.owner_ids),
            max_messages=None,
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.none(),
            connector=aiohttp.TCPConnector(limit=DISCORD_CONNECTIONS),
            shard_count=settings.shard_count,
            **shards,
        )
        self.settings = settings
        self.metrics = Metrics()
        self.global_caps = global_caps(settings)
        # The services, built once in setup_hook (they need the running loop and the database), before the commands.
        self.storage: Storage
        self.generation: GenerationService
        self.fetcher: PictureFetcher
        self.policy: Policy
        self.jobs: JobService
        self.progress: ProgressBoard
        self.router: Router
        self.api_session: aiohttp.ClientSession | None = None
        self.picture_session: aiohttp.ClientSession | None = None
        self.slots: SharedSlotGate | None = None
        self.provider_slots: list[SharedSlotGate] = []  # the providers' own, made by build_upstreams
        self.heartbeat: Heartbeat | None = None
        self.retention: Retention | None = None
        self.health: HealthServer | None = None
        self._recovery: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        """Open storage and the HTTP sessions, register commands and buttons, and sync the commands."""
        settings = self.settings
        self.storage = await open_storage(settings.database_url, settings.instance_name)
        if interrupted := await self.storage.recover_interrupted(datetime.now(UTC)):
            log.warning("%d jobs were cut off by the last stop; their quota bookings are released", len(interrupted))
            # told once connected: setup_hook runs before the gateway, so it must not wait for it itself
            self._recovery = asyncio.create_task(tell_interrupted(self, interrupted))
        self.heartbeat = Heartbeat(self, self.storage, settings.instance_timeout)
        self.heartbeat.start()
        self.retention = Retention(self.storage, settings.ledger_retention_days, keep=HISTORY_LENGTH)
        self.retention.start()
        # with processes sharing PostgreSQL, a job also needs one of the image API's slots leased there
        if (slots := self.storage.shared_slots(settings.image_api_concurrency)) is not None:
            await slots.start()
            self.slots = slots
        # each slot uses one connection at a time, per host: the pool must not cap requests below the slots
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=settings.image_api_concurrency)
        self.api_session = aiohttp.ClientSession(connector=connector)
        self.picture_session = aiohttp.ClientSession()
        upstreams = build_upstreams(
            settings.providers,
            self.api_session,
            connect_timeout=settings.image_api_connect_timeout,
            download_max_bytes=settings.image_download_max_bytes,
            download_timeout=settings.image_download_timeout,
            gate_for=self._provider_gate,
        )
        for gate in self.provider_slots:  # a provider's own concurrency holds across processes too
            await gate.start()
        if settings.image_providers_file is not None and settings.image_api_key:
            log.warning("IMAGE_API_KEY and IMAGE_API_BASE_URL are not used: IMAGE_PROVIDERS_FILE names the providers")
        self.router = Router(upstreams, self.metrics)
        rules = RequestRules(
            settings.image_models, settings.image_default_model, settings.prompt_max_length, settings.model_max_pictures
        )
        self.generation = GenerationService(self.router, rules, user_salt(settings), self.metrics)
        self.fetcher = PictureFetcher(
            self.picture_session,
            allowed_origins=picture_origins(settings),
            max_bytes=settings.edit_picture_max_bytes,
            max_pixels=settings.edit_picture_max_pixels,
            timeout=settings.image_download_timeout,
        )
        self.policy = Policy(self.storage, settings.limit_defaults)
        accountant = Accountant(self.storage, settings.image_prices, self.global_caps)
        queue: FairQueue[JobResult] = FairQueue(
            settings.image_api_concurrency,
            max_per_user=settings.queue_max_per_user,
            max_per_server=settings.queue_max_per_server,
            gate=self.slots,
        )
        self.jobs = JobService(
            self.generation,
            self.fetcher,
            self.storage,
            self.policy,
            accountant,
            queue,
            self.metrics,
            log_prompts=settings.log_prompts,
            styles=settings.styles,
        )
        self.progress = ProgressBoard(self.jobs, interval=settings.progress_interval)
        self.progress.start()
        self.metrics.watch_queue(lambda: queue.queued, lambda: queue.running, queue.slots)
        if settings.health_port is not None:
            self.health = HealthServer(self, self.metrics, settings.health_host, settings.health_port)
            await self.health.start()
        cogs = (Imagine, Edit, Show, Defaults, Limits, Styles, Usage, MemberUsage, Admin, Help)
        for cog in (feature(self) for feature in cogs):
            await self.add_cog(cog)
        self.add_dynamic_items(JobButton)
        await self.tree.set_translator(CatalogueTranslator())  # name and description localizations, sent at sync
        # one process syncs for all of them: the one with shard 0 (every process sends the same commands)
        if settings.sync_commands and (settings.shard_ids is None or 0 in settings.shard_ids):
            await self.sync_commands()

    async def sync_commands(self) -> None:
        """Sync to the development guilds when set (instant), otherwise globally."""
        if not self.settings.dev_guild_ids:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))
            return
        for guild_id in self.settings.dev_guild_ids:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                synced = await self.tree.sync(guild=guild)
            except (discord.Forbidden, discord.NotFound) as error:  # the others may still sync: go on with them
                log.error(
                    "could not sync commands to DEV_GUILD_IDS server %s (HTTP %s): the bot is not in it, or was "
                    "invited without the applications.commands scope",
                    guild_id,
                    error.status,
                )
                continue
            log.info("synced %d commands to guild %s", len(synced), guild_id)

    async def launch_shard(self, gateway: yarl.URL, shard_id: int, *, initial: bool = False) -> None:
        """Connect one shard at start. discord.py retries a failed connection every 5 s for ever, a traceback each
        time and even once closed; here a gateway that cannot be reached ends the start. Later drops are the
        shard's own to retry."""
        connecting = DiscordWebSocket.from_client(self, initial=initial, gateway=gateway, shard_id=shard_id)
        try:
            ws = await asyncio.wait_for(connecting, timeout=self.shard_connect_timeout)
        except (OSError, aiohttp.ClientError, TimeoutError) as error:
            raise GatewayUnreachable(str(gateway)) from error
        # the rest as in discord.py's own launch_shard, which has no hook for its retry policy
        # discord.py keeps both under name-mangled attributes of AutoShardedClient
        shard = Shard(ws, self, getattr(self, "_AutoShardedClient__queue").put_nowait)  # noqa: B009
        getattr(self, "_AutoShardedClient__shards")[shard_id] = shard  # noqa: B009
        shard.launch()

    def _provider_gate(self, name: str, cap: int) -> SharedSlotGate | None:
        """A provider's own `cap` slots, shared with the other processes on PostgreSQL; None on SQLite."""
        if (gate := self.storage.shared_slots(cap, pool=f"provider:{name}")) is not None:
            self.provider_slots.append(gate)  # started in setup_hook, closed in close
        return gate

    def shard_states(self) -> dict[int, bool]:
        """Whether each of this process's shards is connected."""
        return {shard_id: not shard.is_closed() for shard_id, shard in self.shards.items()}

    def provider_states(self) -> dict[str, str]:
        """Each image provider's circuit breaker: closed, open or half-open (none before the start)."""
        upstreams = self.router.upstreams if hasattr(self, "router") else ()
        return {upstream.name: upstream.breaker.state.value for upstream in upstreams}

    async def on_ready(self) -> None:
        shards = ",".join(map(str, sorted(self.shards)))
        log.info("ready as %s in %d guilds, on shards %s of %s", self.user, len(self.guilds), shards, self.shard_count)

    async def close(self) -> None:
        """Stop taking jobs: cancel the queued ones, give running ones the grace period, let every member be
        told how their job ended; then disconnect and close storage."""
        if hasattr(self, "jobs"):
            await self.jobs.close(self.settings.shutdown_grace)
            if left := await self.jobs.wait_idle(FAREWELL_SECONDS):
                log.warning("stopping with %d jobs unsettled; they are released at the next start", left)
        if hasattr(self, "progress"):
            await self.progress.stop()
        if self.heartbeat is not None:
            await self.heartbeat.stop()
        if self.retention is not None:
            await self.retention.stop()
        if self.slots is not None:
            await self.slots.close()
        for gate in self.provider_slots:
            await gate.close()
        await super().close()
        for session in (self.api_session, self.picture_session):
            if session is not None:
                await session.close()
        if self.health is not None:
            await self.health.stop()  # late: it says "unhealthy" while the bot stops
        if hasattr(self, "storage"):
            try:
                await self.storage.leave()
            except Exception:  # the others then take over what is left once this instance's heartbeat is stale
                log.warning("could not record this instance's stop in the database", exc_info=True)
            await self.storage.close()


def global_caps(settings: Settings) -> Caps:
    """The deployment-wide caps the Accountant enforces and /quota and /admin usage show; a setting of 0 is none."""
    return Caps(
        global_daily_images=settings.global_daily_images or None,
        global_monthly_budget=settings.global_monthly_budget or None,
    )


def picture_origins(settings: Settings) -> frozenset[str]:
    """Where input pictures may be fetched from: Discord's CDN, and the configured Discord API's own host."""
    return DISCORD_CDN_ORIGINS | {str(yarl.URL(settings.discord_api_base_url).origin())}


def user_salt(settings: Settings) -> str:
    """The salt for upstream user ids: the configured one, else one derived from the bot token."""
    return settings.user_hash_salt or hashlib.sha256(b"user-id-salt:" + settings.discord_token.encode()).hexdigest()
