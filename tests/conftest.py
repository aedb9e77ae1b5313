"""Fixtures: the loopback Discord and image API, and the real bot started against both.

The servers and the bot live for the whole session (starting discord.py takes a moment);
each test gets a clean image API (faults, latency and records reset) and a member of its own.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator

import discord
import pytest

from bot.__main__ import point_discord_at
from bot.app.client import ImageBot
from bot.settings import Settings, load_settings
from tests.loopback.discord import DiscordServer, GuildRecord, UserRecord, permissions
from tests.loopback.image_api import ImageAPIServer

API_KEY = "sk-loopback-secret-key-0123456789"
DISCORD_TOKEN = "loopback-discord-token"
MODELS = ("gemini-3-pro-image-preview", "gemini-2.5-flash-image")
_user_names = (f"member{n}" for n in itertools.count(1))


@pytest.fixture(scope="session")
async def discord_api() -> AsyncIterator[DiscordServer]:
    server = DiscordServer(token=DISCORD_TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def own_discord() -> AsyncIterator[DiscordServer]:
    """A Discord of the test's own, for a bot process of its own: the in-process bot never answers there."""
    server = DiscordServer(token=DISCORD_TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
async def image_api() -> AsyncIterator[ImageAPIServer]:
    server = ImageAPIServer(api_key=API_KEY, models=MODELS)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(autouse=True)
def _clean_image_api(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "image_api" in request.fixturenames:
        request.getfixturevalue("image_api").reset()


@pytest.fixture(scope="session")
def guild(discord_api: DiscordServer) -> GuildRecord:
    """The server the tests act in, with its default text channel."""
    return discord_api.add_guild(name="Art Club")


def bot_env(discord_api: DiscordServer, image_api: ImageAPIServer, guild: GuildRecord) -> dict[str, str]:
    """The environment the bot under test runs with (also used to start it as a process)."""
    return {
        "DISCORD_TOKEN": DISCORD_TOKEN,
        "IMAGE_API_KEY": API_KEY,
        "IMAGE_API_BASE_URL": image_api.base_url,
        "IMAGE_MODELS": ",".join(MODELS),
        "IMAGE_API_TIMEOUT": "4",
        "IMAGE_API_MAX_RETRIES": "1",
        "DEV_GUILD_IDS": str(guild.id),
        "DISCORD_API_BASE_URL": discord_api.rest_base,
        "DISCORD_GATEWAY_URL": discord_api.gateway_url,
        "LOG_LEVEL": "INFO",
        # no limits by default, so that tests don't meet each other's usage; limit tests set their own
        "LIMIT_USER_DAILY_IMAGES": "0",
        "LIMIT_SERVER_DAILY_IMAGES": "0",
        "LIMIT_COOLDOWN_SECONDS": "0",
        "LIMIT_CONCURRENT_JOBS": "0",
        "LIMIT_MAX_COUNT": "10",
        "LIMIT_MAX_QUALITY": "4k",
        "GLOBAL_MONTHLY_BUDGET": "0",  # nor the deployment's monthly cap (50 dollars unless set)
        "EDIT_PICTURE_MAX_BYTES": str(2 * 1024 * 1024),
        "EDIT_PICTURE_MAX_PIXELS": "20000000",
    }


@pytest.fixture(scope="session")
def admin(discord_api: DiscordServer, guild: GuildRecord) -> UserRecord:
    """The bot's admin (OWNER_IDS); Discord shows /admin only to server administrators."""
    return discord_api.add_user(
        name="admin", guild_id=guild.id, permissions=permissions.DEFAULT_EVERYONE | permissions.ADMINISTRATOR
    )


@pytest.fixture(scope="session")
def settings(
    discord_api: DiscordServer,
    image_api: ImageAPIServer,
    guild: GuildRecord,
    admin: UserRecord,
    tmp_path_factory: pytest.TempPathFactory,
) -> Settings:
    data_dir = tmp_path_factory.mktemp("data")
    extra = {"DATA_DIR": str(data_dir), "OWNER_IDS": str(admin.id)}
    return load_settings(bot_env(discord_api, image_api, guild) | extra)


@pytest.fixture(scope="session")
async def bot(discord_api: DiscordServer, image_api: ImageAPIServer, settings: Settings) -> AsyncIterator[ImageBot]:
    """The real bot, connected to the loopback Discord through real sockets."""
    saved = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_at(settings)
    instance = ImageBot(settings)
    running = asyncio.create_task(instance.start(settings.discord_token))
    try:
        await discord_api.wait_ready(timeout=15)
        await discord_api.wait_commands(timeout=15)
        await asyncio.wait_for(instance.wait_until_ready(), timeout=15)
        yield instance
    finally:
        await instance.close()
        await asyncio.wait_for(running, timeout=15)
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved


@pytest.fixture
def member(discord_api: DiscordServer, guild: GuildRecord) -> UserRecord:
    """A fresh member of the test server, so that no test sees another's state."""
    return discord_api.add_user(name=next(_user_names), guild_id=guild.id)
