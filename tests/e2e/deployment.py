"""A bot process of a test's own, given a providers file, and a member of its server to ask it things."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from tests.conftest import bot_env
from tests.e2e.bot_process import START_TIMEOUT, run_bot, stop_bot
from tests.e2e.helpers import outcome
from tests.loopback.discord import AttachmentInput, DiscordServer, MessageRecord, UserRecord


class StandIn(Protocol):
    """Any loopback image API: what the test environment's IMAGE_API_BASE_URL names (a providers file overrides it)."""

    @property
    def base_url(self) -> str: ...


class Deployment:
    """The bot as its own process with a providers file, in a Discord of its own with one member."""

    def __init__(self, discord: DiscordServer, tmp_path: Path) -> None:
        self.discord = discord
        self.guild = discord.add_guild(name="Failover")
        self.member = discord.add_user(name="member", guild_id=self.guild.id)
        self.tmp_path = tmp_path

    async def start(self, text: str, image_api: StandIn, settings: Mapping[str, str]) -> None:
        """Start the bot with `text` as its providers file; `settings` (the keys among them) add to the test env."""
        (self.tmp_path / "providers.toml").write_text(text)
        env = bot_env(self.discord, image_api, self.guild) | dict(settings)
        env |= {"IMAGE_PROVIDERS_FILE": str(self.tmp_path / "providers.toml"), "IMAGE_API_KEY": ""}
        self.process = await run_bot(env, self.tmp_path)
        await self.discord.wait_ready(START_TIMEOUT)
        await self.discord.wait_commands(START_TIMEOUT)

    async def ask(
        self,
        command: str,
        options: Mapping[str, Any],
        *,
        user: UserRecord | None = None,
        attachments: Mapping[str, AttachmentInput] | None = None,
    ) -> MessageRecord:
        """A member's slash command (the deployment's member unless `user`) and the state that ends its job."""
        reply = await self.discord.slash(
            command, user=user or self.member, guild=self.guild, options=options, attachments=attachments
        )
        return await reply.final(timeout=20, until=outcome)

    async def imagine(self, prompt: str = "a harbour at night", **options: Any) -> MessageRecord:
        return await self.ask("imagine", {"prompt": prompt, **options})

    async def stop(self) -> str:
        stderr = await stop_bot(self.process)
        assert self.process.returncode == 0, stderr[-2000:]
        return stderr
