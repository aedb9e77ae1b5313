"""Start the bot: load .env, validate settings, set up logging, run until stopped."""

import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

import discord
import yarl
from dotenv import load_dotenv

from bot.app.client import ImageBot
from bot.logs import setup_logging
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("bot")

EXIT_BAD_SETTINGS = 2


def main() -> None:
    """Entry point of `python -m bot` and the `imagebot` script."""
    load_dotenv(Path(".env"))  # the .env of the working directory; real environment variables win
    try:
        settings = load_settings(os.environ)
    except SettingsError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS) from None
    setup_logging(settings.log_level, settings.log_format, secrets=(settings.discord_token, settings.image_api_key))
    try:
        asyncio.run(run(settings))
    except discord.LoginFailure:
        print("configuration error: DISCORD_TOKEN was refused by Discord", file=sys.stderr)
        raise SystemExit(EXIT_BAD_SETTINGS) from None


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
