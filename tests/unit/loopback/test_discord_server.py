"""End-to-end tests of the loopback Discord, driven by a real, unmodified discord.py client over sockets."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import discord
import pytest
import yarl
from discord import app_commands
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from discord.http import Route
from PIL import Image

from tests.loopback.discord import EPHEMERAL, LOADING, DiscordServer, GuildRecord, InteractionHandle, UserRecord

pytestmark = pytest.mark.asyncio(loop_scope="session")

ServerFactory = Callable[..., Awaitable[DiscordServer]]


def png(width: int, height: int, color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A small PNG image."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


# -- the bot under test --------------------------------------------------------------------------


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"vote:(?P<choice>\d+)"):
    """A persistent button whose state lives in its custom id."""

    def __init__(self, choice: int) -> None:
        super().__init__(discord.ui.Button(label=f"Vote {choice}", custom_id=f"vote:{choice}"))
        self.choice = choice

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button[Any], match: Any, /
    ) -> VoteButton:
        return cls(int(match["choice"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"voted {self.choice}")


class PromptModal(discord.ui.Modal, title="Describe the edit"):
    """A modal with a plain text input, one wrapped in a label, and a select with a default option."""

    prompt: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Prompt", custom_id="prompt", max_length=200)
    style: discord.ui.Label[Any] = discord.ui.Label(
        text="Style", component=discord.ui.TextInput(custom_id="style", required=False)
    )
    size: discord.ui.Label[Any] = discord.ui.Label(
        text="Size",
        component=discord.ui.Select(
            custom_id="size",
            options=[
                discord.SelectOption(label="Square", value="square", default=True),
                discord.SelectOption(label="Wide", value="wide"),
            ],
        ),
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        style, size = self.style.component, self.size.component
        assert isinstance(style, discord.ui.TextInput)
        assert isinstance(size, discord.ui.Select)
        await interaction.response.send_message(
            f"modal got {self.prompt.value} / {style.value or '-'} / {','.join(size.values)}"
        )


class ChoiceView(discord.ui.View):
    """A dynamic vote button plus a regular button that opens a modal."""

    def __init__(self) -> None:
        super().__init__(timeout=60)
        self.add_item(VoteButton(7))

    @discord.ui.button(label="Edit", custom_id="open-modal")
    async def open_modal(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.send_modal(PromptModal())

    @discord.ui.button(label="Update", custom_id="update")
    async def update(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content="updated")

    @discord.ui.button(label="Finish", custom_id="finish")
    async def finish(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="finished", view=None)


class LoopbackBot(commands.Bot):
    """A minimal image bot; command callbacks report what happened through ``outcomes``."""

    def __init__(self, guild_id: int, *, intents: discord.Intents | None = None) -> None:
        if intents is None:
            intents = discord.Intents.none()
            intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents, guild_ready_timeout=0.05, help_command=None
        )
        self.guild_id = guild_id
        self.outcomes: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.slow_delay = 0.0
        self.late_delay = 0.0
        self.messages_seen: list[discord.Message] = []
        self.resumed = asyncio.Event()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5 s pause before re-identifying: keeps the tests fast."""

    async def setup_hook(self) -> None:
        guild = discord.Object(self.guild_id)
        for command in build_guild_commands(self):
            self.tree.add_command(command, guild=guild)
        self.tree.add_command(ping)
        self.add_dynamic_items(VoteButton)
        await self.tree.sync(guild=guild)
        await self.tree.sync()

    async def on_message(self, message: discord.Message) -> None:
        self.messages_seen.append(message)

    async def on_resumed(self) -> None:
        self.resumed.set()

    async def outcome(self, timeout: float = 5) -> tuple[str, Any]:
        """The next thing a command callback reported."""
        return await asyncio.wait_for(self.outcomes.get(), timeout)


@app_commands.command(description="Ping in DMs or guilds")
async def ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("pong")


def build_guild_commands(bot: LoopbackBot) -> list[app_commands.Command[Any, Any, Any] | app_commands.Group | Any]:
    """The guild commands of the test bot."""

    @app_commands.command(description="Create images")
    async def imagine(
        interaction: discord.Interaction,
        prompt: str,
        count: app_commands.Range[int, 1, 4] = 1,
        image: discord.Attachment | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        received = await image.read() if image is not None else None
        bot.outcomes.put_nowait(("imagine", (interaction, prompt, count, received)))
        files = [discord.File(io.BytesIO(png(4 + index, 3)), filename=f"image_{index}.png") for index in range(2)]
        embed = discord.Embed(title="imagine", description=prompt).set_image(url="attachment://image_0.png")
        await interaction.edit_original_response(content=f"{count} for {prompt}", attachments=files, embed=embed)
        await interaction.followup.send("variation", file=discord.File(io.BytesIO(png(2, 2)), filename="extra.png"))

    @app_commands.command(description="Answer after a delay")
    async def slow(interaction: discord.Interaction) -> None:
        await asyncio.sleep(bot.slow_delay)
        try:
            await interaction.response.defer()
        except discord.HTTPException as error:
            bot.outcomes.put_nowait(("slow", error))
        else:
            bot.outcomes.put_nowait(("slow", None))

    @app_commands.command(description="Upload several files")
    async def upload(interaction: discord.Interaction, count: int, size: int = 16) -> None:
        await interaction.response.defer(thinking=True)
        files = [discord.File(io.BytesIO(b"x" * size), filename=f"f{index}.bin") for index in range(count)]
        try:
            await interaction.edit_original_response(attachments=files)
        except discord.HTTPException as error:
            bot.outcomes.put_nowait(("upload", error))
        else:
            bot.outcomes.put_nowait(("upload", None))

    @app_commands.command(description="Say something")
    async def say(interaction: discord.Interaction, text: str) -> None:
        try:
            await interaction.response.send_message(text)
        except discord.HTTPException as error:
            bot.outcomes.put_nowait(("say", error))

    @app_commands.command(description="Deliver late")
    async def late(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(bot.late_delay)
        try:
            await interaction.edit_original_response(content="too late")
        except discord.HTTPException as error:
            bot.outcomes.put_nowait(("late", error))

    @app_commands.command(description="Name a member")
    async def whois(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"{member.display_name} ({member.id}) in {member.guild.id}")

    @app_commands.command(description="Show buttons")
    async def buttons(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pick one", view=ChoiceView())

    limits = app_commands.Group(name="limits", description="Limits")

    @limits.command(name="set", description="Set a limit")
    async def limits_set(interaction: discord.Interaction, value: int) -> None:
        report = discord.File(io.BytesIO(f"limit={value}".encode()), filename="limit.txt")
        await interaction.response.send_message(f"limit {value}", ephemeral=True, file=report)

    @app_commands.context_menu(name="Edit image")
    async def edit_image(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.defer(thinking=True, ephemeral=True)
        await interaction.followup.send(f"editing {message.content}")

    return [imagine, slow, upload, say, late, whois, buttons, limits, edit_image]


# -- harness -------------------------------------------------------------------------------------


@pytest.fixture
async def make_server() -> AsyncIterator[ServerFactory]:
    """Starts loopback servers with the given options; stops them after the test."""
    servers: list[DiscordServer] = []

    async def make(**options: Any) -> DiscordServer:
        server = DiscordServer(**options)
        await server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        await server.stop()


@contextlib.asynccontextmanager
async def running(server: DiscordServer, bot: commands.Bot) -> AsyncIterator[commands.Bot]:
    """Point discord.py at the server, log in, connect, wait for on_ready; close and restore afterwards."""
    old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = server.rest_base
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)
    task: asyncio.Task[None] | None = None
    try:
        await bot.login(server.token)
        task = asyncio.create_task(bot.connect())
        await server.wait_ready(timeout=5)
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        await server.wait_commands(timeout=5)
        yield bot
    finally:
        await bot.close()
        if task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 5)
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway


async def world(make_server: ServerFactory, **options: Any) -> tuple[DiscordServer, GuildRecord, UserRecord]:
    """A started server with one guild and one member, alice."""
    server = await make_server(**options)
    guild = server.add_guild(name="Test", attachment_size_limit=options.pop("limit", 10 * 1024 * 1024))
    alice = server.add_user(name="alice", guild_id=guild.id)
    return server, guild, alice


# -- tests ---------------------------------------------------------------------------------------


async def test_slash_defer_edit_with_files_and_followup(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        stored = server.commands(guild.id)
        assert {command["name"] for command in stored} >= {"imagine", "limits", "Edit image"}
        assert all(command["id"] and command["application_id"] == str(server.application_id) for command in stored)
        assert [command["name"] for command in server.commands()] == ["ping"]

        source = png(5, 6)
        image = server.add_attachment(source, "input.png")
        handle = await server.slash(
            "imagine", user=alice, guild=guild, options={"prompt": "a cat", "count": 2}, attachments={"image": image}
        )
        assert await handle.acknowledged(within=3.0)
        assert handle.callback_type == 5
        assert handle.ack_latency is not None
        assert 0 <= handle.ack_latency < 3.0
        assert handle.edits[0].loading

        final = await handle.final(until=lambda message: len(message.files) == 2)
        assert final.content == "2 for a cat"
        assert not final.loading
        assert [file.filename for file in final.files] == ["image_0.png", "image_1.png"]
        assert final.files[0].data == png(4, 3)
        assert final.files[1].data == png(5, 3)
        assert final.files[0].content_type == "image/png"
        assert final.embeds[0]["title"] == "imagine"
        assert final.embeds[0]["image"]["url"] == final.attachments[0]["url"]
        assert final.attachments[1]["width"] == 5
        assert final.interaction_id == handle.id

        async with aiohttp.ClientSession() as http, http.get(final.attachments[1]["url"]) as response:
            assert response.status == 200
            assert await response.read() == png(5, 3)

        variation = await handle.final(until=lambda message: message.content == "variation")
        assert handle.followups == [variation]
        assert handle.followups[0].files[0].data == png(2, 2)

        _, (interaction, prompt, count, received) = await bot.outcome()
        assert (prompt, count, received) == ("a cat", 2, source)
        assert interaction.filesize_limit == guild.attachment_size_limit
        assert not interaction.is_expired()
        assert interaction.app_permissions.attach_files
        assert interaction.guild_locale == discord.Locale.american_english

        channel_messages = server.messages(guild.default_channel.id)
        assert [message.id for message in channel_messages] == [final.id, handle.followups[0].id]
        assert server.status_counts()[200] >= 4
        assert not handle.errors


async def test_ack_after_deadline_is_refused(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server, ack_deadline=0.3)
    bot = LoopbackBot(guild.id)
    bot.slow_delay = 0.5
    async with running(server, bot):
        handle = await server.slash("slow", user=alice, guild=guild)
        assert not await handle.acknowledged(within=0.2)
        _, error = await bot.outcome()
        assert isinstance(error, discord.NotFound)
        assert error.code == 10062
        assert handle.errors == [(404, 10062, "Unknown interaction")]
        assert handle.callback_type is None
        assert handle.ack_latency is not None
        assert handle.ack_latency >= 0.3


async def test_second_callback_is_refused(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        handle = await server.slash("say", user=alice, guild=guild, options={"text": "hello"})
        first = await handle.final()
        assert first.content == "hello"
        assert first.type == 20
        url = f"{server.rest_base}/interactions/{handle.id}/{handle.token}/callback?with_response=1"
        async with aiohttp.ClientSession() as http, http.post(url, json={"type": 5}) as response:
            assert response.status == 400
            assert response.headers["Content-Type"] == "application/json"
            assert (await response.json())["code"] == 40060
        assert handle.errors == [(400, 40060, "Interaction has already been acknowledged.")]


async def test_eleven_files_are_refused(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        handle = await server.slash("upload", user=alice, guild=guild, options={"count": 11})
        _, error = await bot.outcome()
        assert isinstance(error, discord.HTTPException)
        assert (error.status, error.code) == (400, 50035)
        assert "attachments" in str(error)
        assert handle.errors == [(400, 50035, "Invalid Form Body")]
        assert handle.original is not None
        assert handle.original.loading

        ok = await server.slash("upload", user=alice, guild=guild, options={"count": 10})
        assert (await bot.outcome())[1] is None
        assert len((await ok.final()).files) == 10


async def test_oversize_file_is_refused(make_server: ServerFactory) -> None:
    server = await make_server()
    guild = server.add_guild(name="Small", attachment_size_limit=1024)
    alice = server.add_user(name="alice", guild_id=guild.id)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        handle = await server.slash("upload", user=alice, guild=guild, options={"count": 1, "size": 2048})
        _, error = await bot.outcome()
        assert isinstance(error, discord.HTTPException)
        assert (error.status, error.code) == (413, 40005)
        assert handle.errors == [(413, 40005, "Request entity too large")]

        fits = await server.slash("upload", user=alice, guild=guild, options={"count": 1, "size": 1024})
        assert (await bot.outcome())[1] is None
        assert (await fits.final()).files[0].data == b"x" * 1024


async def test_whole_request_over_25_mib_is_refused(make_server: ServerFactory) -> None:
    server = await make_server()
    guild = server.add_guild(name="Boosted", attachment_size_limit=100 * 1024 * 1024)
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", '{"content": "big"}', content_type="application/json")
    big = io.BytesIO(b"\0" * (26 * 1024 * 1024))
    form.add_field("files[0]", big, filename="big.bin", content_type="application/octet-stream")
    url = f"{server.rest_base}/channels/{guild.default_channel.id}/messages"
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bot {server.token}"}) as http,
        http.post(url, data=form) as response,
    ):
        assert response.status == 413
        assert await response.json() == {"message": "Request entity too large", "code": 40005}
    assert server.messages(guild.default_channel.id) == []


async def test_content_over_2000_is_refused(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        handle = await server.slash("say", user=alice, guild=guild, options={"text": "y" * 2001})
        _, error = await bot.outcome()
        assert isinstance(error, discord.HTTPException)
        assert (error.status, error.code) == (400, 50035)
        assert "In data.content" in str(error) or "In content" in str(error)
        assert not handle.acked
        assert handle.errors == [(400, 50035, "Invalid Form Body")]


async def test_command_schema_validation(make_server: ServerFactory) -> None:
    server, guild, _ = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        bad = [{"name": "Bad Name", "description": "x", "type": 1}]
        with pytest.raises(discord.HTTPException) as caught:
            await bot.http.bulk_upsert_guild_commands(server.application_id, guild.id, payload=bad)
        assert (caught.value.status, caught.value.code) == (400, 50035)
        assert "0.name" in str(caught.value)
        optional_first = {
            "name": "edit",
            "description": "Edit",
            "options": [
                {"type": 3, "name": "style", "description": "s", "required": False},
                {"type": 3, "name": "prompt", "description": "p", "required": True},
            ],
        }
        with pytest.raises(discord.HTTPException) as caught:
            await bot.http.bulk_upsert_guild_commands(server.application_id, guild.id, payload=[optional_first])
        assert "0.options.1.required" in str(caught.value)
        assert {command["name"] for command in server.commands(guild.id)} >= {"imagine"}


async def test_rate_limit_429_is_retried(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        channel = bot.get_channel(guild.default_channel.id)
        assert isinstance(channel, discord.TextChannel)
        server.fail_next("POST", r"/channels/\d+/messages$", 429, retry_after=0.05)
        sent = await channel.send("hello after a 429")
        assert sent.content == "hello after a 429"
        statuses = [record.status for record in server.requests if record.path.endswith("/messages")]
        assert statuses == [429, 200]
        assert server.requests[-2].injected

        server.fail_next("PATCH", r"/messages/@original$", 429, retry_after=0.05)
        handle = await server.slash("imagine", user=alice, guild=guild, options={"prompt": "a dog"})
        final = await handle.final(until=lambda message: bool(message.files))
        assert final.content == "1 for a dog"
        assert handle.errors == [(429, 0, "injected 429")]
        await handle.final(until=lambda message: message.content == "variation")


async def test_server_error_is_retried(make_server: ServerFactory) -> None:
    server, guild, _ = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        channel = bot.get_channel(guild.default_channel.id)
        assert isinstance(channel, discord.TextChannel)
        server.fail_next("POST", r"/channels/\d+/messages$", 502)
        await channel.send("eventually")
        assert server.status_counts()[502] == 1
        assert server.messages(guild.default_channel.id)[-1].content == "eventually"


async def test_interaction_token_expires(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server, token_lifetime=0.3)
    bot = LoopbackBot(guild.id)
    bot.late_delay = 0.4
    async with running(server, bot):
        handle = await server.slash("late", user=alice, guild=guild)
        _, error = await bot.outcome()
        assert isinstance(error, discord.HTTPException)
        assert (error.status, error.code) == (401, 50027)
        assert handle.errors == [(401, 50027, "Invalid Webhook Token")]
        assert handle.original is not None
        assert handle.original.loading


async def test_button_click_reaches_dynamic_item_and_modal_round_trip(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        handle = await server.slash("buttons", user=alice, guild=guild)
        message = await handle.final()
        assert message.content == "pick one"
        custom_ids = [c["custom_id"] for row in message.components for c in row["components"]]
        assert sorted(custom_ids) == ["finish", "open-modal", "update", "vote:7"]

        vote = await server.click(message, "vote:7", user=alice)
        assert (await vote.final()).content == "voted 7"
        assert vote.callback_type == 4

        opened = await server.click(message, "open-modal", user=alice)
        assert await opened.acknowledged()
        assert opened.callback_type == 9
        assert opened.modal is not None
        assert opened.modal["title"] == "Describe the edit"
        with pytest.raises(ValueError, match="no field"):
            await server.submit_modal(opened, {"nope": "x"})

        submitted = await server.submit_modal(opened, {"prompt": "a dog", "style": "watercolor"})
        assert (await submitted.final()).content == "modal got a dog / watercolor / square"  # untouched: its default
        reopened = await server.click(message, "open-modal", user=alice)
        assert await reopened.acknowledged()
        chosen = await server.submit_modal(reopened, {"prompt": "a cat", "size": ["wide"]})
        assert (await chosen.final()).content == "modal got a cat / - / wide"
        with pytest.raises(LookupError):
            await server.click(message, "missing", user=alice)

        updated = await server.click(message, "update", user=alice)
        assert (await updated.final()).content == "updated"
        assert updated.callback_type == 7
        assert updated.original is not None
        assert updated.original.id == message.id
        assert server.message(message.id).edited_at is not None

        finished = await server.click(message, "finish", user=alice)
        state = await finished.final()
        assert (finished.callback_type, state.id, state.content, state.components) == (6, message.id, "finished", [])
        with pytest.raises(LookupError, match="no component"):
            await server.click(message, "finish", user=alice)


async def test_context_menu_and_subcommand(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        posted = server.post_message(guild.default_channel.id, alice, "a red bus")
        handle = await server.context_menu("Edit image", message=posted, user=alice, guild=guild)
        final = await handle.final()
        assert final.content == "editing a red bus"
        assert handle.ephemeral
        assert final.flags & EPHEMERAL
        assert not final.flags & LOADING
        assert handle.followups[0].id == final.id

        limit = await server.slash("limits set", user=alice, guild=guild, options={"value": 3})
        result = await limit.final()
        assert result.content == "limit 3"
        assert result.ephemeral
        assert [(file.filename, file.data) for file in result.files] == [("limit.txt", b"limit=3")]
        assert "/ephemeral-attachments/" in result.attachments[0]["url"]
        with pytest.raises(ValueError, match="no option"):
            await server.slash("limits set", user=alice, guild=guild, options={"valu": 3})
        with pytest.raises(LookupError):
            await server.slash("missing", user=alice, guild=guild)


async def test_global_command_in_dm(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        handle = await server.slash("ping", user=alice)
        final = await handle.final()
        assert final.content == "pong"
        assert final.guild_id is None
        assert handle.payload["context"] == 1


async def test_resume_replays_missed_events(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = True
    bot = LoopbackBot(guild.id, intents=intents)
    async with running(server, bot):
        await server.disconnect_sessions(code=4000, resumable=True)
        server.post_message(guild.default_channel.id, alice, "sent while disconnected")
        await asyncio.wait_for(bot.resumed.wait(), 5)
        for _ in range(100):
            if bot.messages_seen:
                break
            await asyncio.sleep(0.01)
        assert [message.content for message in bot.messages_seen] == ["sent while disconnected"]
        assert (server.identify_count, server.resume_count) == (1, 1)
        assert len(server.sessions) == 1

        handle = await server.slash("say", user=alice, guild=guild, options={"text": "still here"})
        assert (await handle.final()).content == "still here"


async def test_non_resumable_disconnect_reidentifies(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        await server.disconnect_sessions(code=4000, resumable=False)
        await server.wait_ready(timeout=5, sessions=2)  # the new session's READY, not the first one's
        assert (server.identify_count, server.resume_count) == (2, 0)
        handle = await server.slash("say", user=alice, guild=guild, options={"text": "back"})
        assert (await handle.final()).content == "back"


async def test_guild_added_after_connection(make_server: ServerFactory) -> None:
    server, guild, _ = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        joined = asyncio.ensure_future(bot.wait_for("guild_join", timeout=5))
        later = server.add_guild(name="Later")
        new_guild = await joined
        assert new_guild.id == later.id
        assert new_guild.get_channel(later.default_channel.id) is not None
        assert new_guild.me is not None


async def test_content_without_intent_and_wrong_token(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    bot = LoopbackBot(guild.id, intents=intents)
    async with running(server, bot):
        server.post_message(guild.default_channel.id, alice, "secret")
        for _ in range(100):
            if bot.messages_seen:
                break
            await asyncio.sleep(0.01)
        assert bot.messages_seen[0].content == ""
        assert bot.messages_seen[0].author.id == alice.id

    intruder = LoopbackBot(guild.id)
    old_base = Route.BASE
    Route.BASE = server.rest_base
    try:
        with pytest.raises(discord.LoginFailure):
            await intruder.login("wrong-token")
    finally:
        await intruder.close()
        Route.BASE = old_base


async def test_expired_attachment_and_interaction_handle_helpers(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    attachment = server.add_attachment(png(3, 3), "in.png", content_type=None)
    assert "content_type" not in attachment
    assert attachment["width"] == 3
    async with aiohttp.ClientSession() as http:
        async with http.get(attachment["url"]) as response:
            assert response.status == 200
        server.expire_attachment(attachment["id"])
        async with http.get(attachment["url"]) as response:
            assert response.status == 404
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        handle: InteractionHandle = await server.slash("imagine", user=alice, guild=guild, options={"prompt": "x"})
        first = await handle.next_edit()
        assert first.loading
        second = await handle.next_edit()
        assert second.content == "1 for x"
        await handle.final(until=lambda message: message.content == "variation")
        with pytest.raises(TimeoutError, match="no new state"):
            await handle.next_edit(timeout=0.1)


class ShardedBot(commands.AutoShardedBot):
    """Two shards in one process."""

    def __init__(self) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            shard_count=2,
            guild_ready_timeout=0.05,
            help_command=None,
        )

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No 5 s pause between shards."""

    async def setup_hook(self) -> None:
        self.tree.add_command(ping)
        await self.tree.sync()


async def test_auto_sharded_bot_gets_guilds_by_shard(make_server: ServerFactory) -> None:
    server = await make_server()
    guilds: list[GuildRecord] = []
    while len({(guild.id >> 22) % 2 for guild in guilds}) < 2:
        guilds.append(server.add_guild(name=f"G{len(guilds)}"))
        await asyncio.sleep(0.002)
    alice = server.add_user(name="alice")
    bot = ShardedBot()
    async with running(server, bot):
        await asyncio.wait_for(bot.wait_until_ready(), 5)
        assert sorted(session.shard for session in server.sessions) == [(0, 2), (1, 2)]
        assert {guild.id for guild in bot.guilds} == {guild.id for guild in guilds}
        for session in server.sessions:
            assert session.shard is not None
            created = [event for event in session.events if event.name == "GUILD_CREATE"]
            assert len(created) == sum(1 for guild in guilds if (guild.id >> 22) % 2 == session.shard[0])

        target = guilds[-1]
        handle = await server.slash("ping", user=alice, guild=target)
        assert (await handle.final()).content == "pong"
        receivers = [s for s in server.sessions if any(e.name == "INTERACTION_CREATE" for e in s.events)]
        assert [session.shard for session in receivers] == [((target.id >> 22) % 2, 2)]


async def test_members_intent_chunks_at_startup(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = True
    bot = LoopbackBot(guild.id, intents=intents)
    async with running(server, bot):
        cached = bot.get_guild(guild.id)
        assert cached is not None
        assert cached.chunked
        member = cached.get_member(alice.id)
        assert member is not None
        assert member.name == "alice"
        joined = asyncio.ensure_future(bot.wait_for("member_join", timeout=5))
        bob = server.add_user(name="bob", guild_id=guild.id)
        assert (await joined).id == bob.id


async def test_a_user_option_arrives_resolved_as_a_member(make_server: ServerFactory) -> None:
    server, guild, alice = await world(make_server)
    bob = server.add_user(name="bob", guild_id=guild.id)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        handle = await server.slash("whois", user=alice, guild=guild, options={"member": bob.id})

        assert (await handle.final()).content == f"bob ({bob.id}) in {guild.id}"
        resolved = handle.payload["data"]["resolved"]
        assert set(resolved["users"]) == set(resolved["members"]) == {str(bob.id)}


async def test_a_role_added_while_connected_reaches_the_client(make_server: ServerFactory) -> None:
    server, guild, _ = await world(make_server)
    bot = LoopbackBot(guild.id)
    async with running(server, bot):
        role = server.add_role(guild.id, "artists")
        member = server.add_user(name="carol", roles=[role], guild_id=guild.id)
        handle = await server.slash("whois", user=member, guild=guild, options={"member": member.id})
        await handle.final()

        cached = bot.get_guild(guild.id)
        assert cached is not None
        assert cached.get_role(role.id) is not None
