"""Start the bot: load .env, validate settings, set up logging, run until stopped.

Whatever stops the start is one line on stderr: `configuration error: …` with exit code 2 for a bad setting or a
refused DISCORD_TOKEN, `start-up error: …` with exit code 3 when Discord or the database cannot be reached or
opened.
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import discord
import yarl
from dotenv import load_dotenv

from bot.app.client import GatewayUnreachable, ImageBot
from bot.core.storage import StorageError
from bot.logs import setup_logging
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bot")

EXIT_BAD_SETTINGS = 2
EXIT_START_FAILED = 3  # Discord or the database could not be reached or opened
DISCORD_UNREACHABLE = (aiohttp.ClientError, discord.DiscordServerError, discord.GatewayNotFound)


def main() -> None:
    """Entry point of `python -m bot` and the `imagebot` script."""
    load_dotenv(Path(".env"))  # the .env of the working directory; real environment variables win
    try:
        settings = load_settings(os.environ)
    except SettingsError as error:
        fail(f"configuration error: {error}", EXIT_BAD_SETTINGS)
    setup_logging(settings.log_level, settings.log_format, secrets=(settings.discord_token, settings.image_api_key))
    try:
        asyncio.run(run(settings))
    except discord.LoginFailure:
        fail("configuration error: DISCORD_TOKEN was refused by Discord", EXIT_BAD_SETTINGS)
    except StorageError as error:
        where = without_password(settings.database_url)
        fail(f"start-up error: cannot open the database {where}: {describe(error.__cause__ or error)}")
    except GatewayUnreachable as error:
        fail(f"start-up error: cannot reach Discord's gateway at {error.url} ({describe(error.__cause__ or error)})")
    except DISCORD_UNREACHABLE as error:
        fail(f"start-up error: cannot reach Discord at {settings.discord_api_base_url} ({describe(error)})")
    except OSError as error:  # e.g. the health port is taken
        fail(f"start-up error: {describe(error)}")


def fail(line: str, code: int = EXIT_START_FAILED) -> NoReturn:
    """Print one line to stderr and exit with `code`."""
    print(line, file=sys.stderr)
    raise SystemExit(code) from None


def describe(error: BaseException) -> str:
    """Why a connection or a file failed, in a few words: "connection refused", "Not a directory: /srv/data"."""
    if isinstance(error, aiohttp.ClientConnectorError) and not isinstance(error, aiohttp.ClientConnectorDNSError):
        error = error.os_error
    if isinstance(error, aiohttp.ClientConnectorDNSError | socket.gaierror):
        return "host name not found"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "timed out"
    if isinstance(error, discord.HTTPException):
        return f"it answered HTTP {error.status}"
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return str(error) or type(error).__name__


def without_password(url: str) -> str:
    """The database URL without its password (and without its query, which may hold one)."""
    parts = urlsplit(url)
    if not parts.netloc:  # sqlite:///path: a file, no credentials
        return url
    user = f"{parts.username}@" if parts.username else ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=user + host, query=""))


def point_discord_at(settings: Settings) -> None:
    """Use the configured Discord endpoints (a proxy, or a loopback Discord in tests)."""
    discord.http.Route.BASE = settings.discord_api_base_url
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


async def run(settings: Settings) -> None:
    """Run the bot until it is closed or the process gets SIGTERM/SIGINT."""
    point_discord_at(settings)
    bot = ImageBot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):  # platforms without signal handlers
            loop.add_signal_handler(signum, stop.set)
    async with bot:  # closing happens here, awaited, so that storage and sessions are closed before exit
        running = asyncio.create_task(bot.start(settings.discord_token))
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({running, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if running.done():
            running.result()  # a login failure or crash surfaces here
        else:
            await bot.close()
            await running
    log.info("stopped")


if __name__ == "__main__":
    main()
