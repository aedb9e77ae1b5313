"""The bot: owns the core services and wires them to Discord in `setup_hook`."""

import hashlib
import logging

import aiohttp
import discord
from discord.ext import commands

from bot.app.commands.imagine import imagine_command
from bot.app.errors import ImageTree
from bot.core.generation import GenerationService, RequestRules
from bot.core.imageapi import ImageAPIClient, ImageAPIConfig
from bot.settings import Settings

log = logging.getLogger(__name__)

DISCORD_CONNECTIONS = 500  # aiohttp's default of 100 would cap how many interactions are answered at once


class ImageBot(commands.Bot):
    """An image bot: slash commands over the core generation service."""

    def __init__(self, settings: Settings) -> None:
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # the bot never uses voice
        intents = discord.Intents.none()
        intents.guilds = True
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
        )
        self.settings = settings
        self.api_session: aiohttp.ClientSession | None = None
        self.generation: GenerationService

    async def setup_hook(self) -> None:
        """Open the image API session, register commands, and sync them."""
        settings = self.settings
        # each slot uses one connection at a time; the pool must not cap requests below the slots
        self.api_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=settings.image_api_concurrency))
        client = ImageAPIClient(self.api_session, image_api_config(settings))
        rules = RequestRules(settings.image_models, settings.image_default_model, settings.prompt_max_length)
        self.generation = GenerationService(client, rules, user_salt(settings))
        self.tree.add_command(imagine_command(self.generation))
        if settings.sync_commands:
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
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), guild_id)

    async def on_ready(self) -> None:
        log.info("ready as %s in %d guilds", self.user, len(self.guilds))

    async def close(self) -> None:
        await super().close()
        if self.api_session is not None:
            await self.api_session.close()


def image_api_config(settings: Settings) -> ImageAPIConfig:
    return ImageAPIConfig(
        base_url=settings.image_api_base_url,
        api_key=settings.image_api_key,
        timeout=settings.image_api_timeout,
        connect_timeout=settings.image_api_connect_timeout,
        concurrency=settings.image_api_concurrency,
        max_retries=settings.image_api_max_retries,
        response_format=settings.image_response_format,
        download_max_bytes=settings.image_download_max_bytes,
        download_timeout=settings.image_download_timeout,
    )


def user_salt(settings: Settings) -> str:
    """The salt for upstream user ids: the configured one, else one derived from the bot token."""
    return settings.user_hash_salt or hashlib.sha256(b"user-id-salt:" + settings.discord_token.encode()).hexdigest()
