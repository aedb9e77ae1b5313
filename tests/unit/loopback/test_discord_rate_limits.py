"""Rate limits of the loopback Discord: exact headers and 429s over raw HTTP, and the real discord.py client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.loopback.discord import DiscordServer, GuildRecord, InteractionHandle, Limit, RateLimits, UserRecord
from tests.unit.loopback.test_discord_server import running

pytestmark = pytest.mark.asyncio(loop_scope="session")

PING = {"name": "ping", "description": "Ping"}
RATE_LIMIT_HEADERS = {
    "X-RateLimit-Bucket",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Reset-After",
}


@contextlib.asynccontextmanager
async def started(rate_limits: bool | RateLimits = True) -> AsyncIterator[tuple[DiscordServer, aiohttp.ClientSession]]:
    """A started server and an HTTP session authenticated as its bot."""
    async with (
        DiscordServer(rate_limits=rate_limits) as server,
        aiohttp.ClientSession(headers={"Authorization": f"Bot {server.token}"}) as http,
    ):
        yield server, http


@contextlib.asynccontextmanager
async def gateway(server: DiscordServer, http: aiohttp.ClientSession) -> AsyncIterator[tuple[GuildRecord, UserRecord]]:
    """A guild with alice and a /ping command, and a raw gateway session that interactions are dispatched to."""
    guild = server.add_guild(name="Test")
    alice = server.add_user(name="alice", guild_id=guild.id)
    url = f"{server.rest_base}/applications/{server.application_id}/guilds/{guild.id}/commands"
    async with http.put(url, json=[PING]) as response:
        assert response.status == 200
    async with http.ws_connect(server.gateway_url) as ws:
        await ws.receive()
        await ws.send_str(json.dumps({"op": 2, "d": {"token": server.token, "properties": {}, "intents": 1}}))
        await server.wait_ready(timeout=1)
        yield guild, alice


async def deferred(
    server: DiscordServer, http: aiohttp.ClientSession, guild: GuildRecord, alice: UserRecord
) -> InteractionHandle:
    """A /ping interaction answered with a "thinking" defer (the callback route: never limited)."""
    handle = await server.slash("ping", user=alice, guild=guild)
    callback = f"{server.rest_base}/interactions/{handle.id}/{handle.token}/callback?with_response=1"
    async with http.post(callback, json={"type": 5}) as response:
        assert response.status == 200
        assert not RATE_LIMIT_HEADERS & set(response.headers)
    return handle


def original(server: DiscordServer, handle: InteractionHandle) -> str:
    """The URL of an interaction's original response."""
    return f"{server.rest_base}/webhooks/{server.application_id}/{handle.token}/messages/@original"


def rate_headers(response: aiohttp.ClientResponse) -> tuple[str, str, str]:
    """``X-RateLimit-Bucket``, ``-Limit`` and ``-Remaining``."""
    headers = response.headers
    return headers["X-RateLimit-Bucket"], headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]


# -- raw HTTP ------------------------------------------------------------------------------------


async def test_message_buckets_count_down_per_channel_with_discords_headers() -> None:
    async with started() as (server, http):
        guild = server.add_guild(name="Test")
        other = server.add_channel(guild.id, "other")
        url = f"{server.rest_base}/channels/{guild.default_channel.id}/messages"
        remaining: list[str] = []
        for n in range(5):
            async with http.post(url, json={"content": f"m{n}"}) as response:
                assert response.status == 200
                bucket, limit, left = rate_headers(response)
                remaining.append(left)
                reset_after = float(response.headers["X-RateLimit-Reset-After"])
                assert 4 < reset_after <= 5.0
                assert abs(float(response.headers["X-RateLimit-Reset"]) - (time.time() + reset_after)) < 0.5
                created = await response.json()
        assert (limit, remaining) == ("5", ["4", "3", "2", "1", "0"])

        async with http.post(url, json={"content": "sixth"}) as response:
            assert response.status == 429
            body = await response.json()
            assert (response.headers["X-RateLimit-Scope"], response.headers["Retry-After"]) == ("user", "5")
            assert response.headers["Via"]
            assert "X-RateLimit-Global" not in response.headers
            assert rate_headers(response) == (bucket, "5", "0")
        assert body["message"] == "You are being rate limited."
        assert body["global"] is False
        assert 4 < body["retry_after"] <= 5.0
        assert [message.content for message in server.messages(guild.default_channel.id)][-1] == "m4"

        async with http.post(f"{server.rest_base}/channels/{other.id}/messages", json={"content": "x"}) as response:
            assert response.status == 200
            assert rate_headers(response) == (bucket, "5", "4")  # a bucket per channel, one hash per route kind
        async with http.patch(f"{url}/{created['id']}", json={"content": "edited"}) as response:
            assert response.status == 200
            edit_bucket, _, left = rate_headers(response)
            assert (edit_bucket != bucket, left) == (True, "4")  # editing has its own bucket...
        async with http.delete(f"{url}/{created['id']}") as response:
            assert response.status == 204
            assert rate_headers(response) == (edit_bucket, "5", "3")  # ...shared with deleting
        async with http.get(f"{server.rest_base}/users/@me") as response:
            assert not RATE_LIMIT_HEADERS & set(response.headers)  # unlimited routes carry no bucket

    assert server.rate_limited == 1
    assert server.rate_limit_trips() == {"message_create": 1}
    refused = [(record.method, record.bucket, record.injected) for record in server.requests if record.status == 429]
    assert refused == [("POST", "message_create", False)]


async def test_sixth_webhook_request_of_a_token_in_a_window_is_refused() -> None:
    window = 0.4
    async with started(RateLimits(interaction_webhook=Limit(5, window))) as (server, http):
        async with gateway(server, http) as (guild, alice):
            first = await deferred(server, http, guild, alice)
            second = await deferred(server, http, guild, alice)
        remaining = []
        for n in range(4):
            async with http.patch(original(server, first), json={"content": f"edit {n}"}) as response:
                assert response.status == 200
                remaining.append(rate_headers(response)[2])
        followup = f"{server.rest_base}/webhooks/{server.application_id}/{first.token}?wait=true"
        async with http.post(followup, json={"content": "follow-up"}) as response:
            assert response.status == 200
            remaining.append(rate_headers(response)[2])
        assert remaining == ["4", "3", "2", "1", "0"]  # edits and follow-ups share the token's bucket

        async with http.patch(original(server, first), json={"content": "refused"}) as response:
            assert response.status == 429
            body = await response.json()
            assert response.headers["Retry-After"] == "1"
            assert response.headers["X-RateLimit-Scope"] == "user"
            assert response.headers["Via"]
        assert body["global"] is False
        assert 0 < body["retry_after"] <= window
        assert first.original is not None
        assert first.original.content == "edit 3"  # not executed
        assert first.errors == [(429, 0, "rate limited (interaction_webhook)")]

        async with http.patch(original(server, second), json={"content": "other token"}) as response:
            assert (response.status, rate_headers(response)[2]) == (200, "4")

        await asyncio.sleep(body["retry_after"])
        async with http.patch(original(server, first), json={"content": "next window"}) as response:
            assert (response.status, rate_headers(response)[2]) == (200, "4")
            assert float(response.headers["X-RateLimit-Reset-After"]) > window - 0.1
    assert server.rate_limited == 1


async def test_global_limit_refuses_other_routes_but_not_interaction_routes() -> None:
    window = 0.4
    async with started(RateLimits(global_limit=Limit(10, window))) as (server, http):
        guild = server.add_guild(name="Test")
        for _ in range(10):
            async with http.get(f"{server.rest_base}/users/@me") as response:
                assert response.status == 200
        async with http.get(f"{server.rest_base}/guilds/{guild.id}") as response:
            assert response.status == 429
            body = await response.json()
            assert response.headers["X-RateLimit-Global"] == "true"
            assert response.headers["X-RateLimit-Scope"] == "global"
            assert response.headers["Via"]
            assert "X-RateLimit-Bucket" not in response.headers
        assert body["global"] is True
        assert 0 < body["retry_after"] <= window
        url = f"{server.rest_base}/channels/{guild.default_channel.id}/messages"
        async with http.post(url, json={"content": "refused"}) as response:
            assert response.status == 429
        interaction = f"{server.rest_base}/interactions/1/nope/callback"
        async with http.post(interaction, json={"type": 5}) as response:
            assert response.status == 404  # refused for the unknown interaction, not for the global limit
        async with http.patch(f"{server.rest_base}/webhooks/{server.application_id}/nope/messages/@original") as late:
            assert late.status == 401
        assert server.rate_limit_trips() == {"global": 2}

        await asyncio.sleep(window)
        remaining = []
        for n in range(5):
            async with http.post(url, json={"content": f"m{n}"}) as response:
                remaining.append(rate_headers(response)[2])
        assert remaining == ["4", "3", "2", "1", "0"]  # the create refused globally took nothing from the channel


async def test_injected_429s_are_not_counted_as_rate_limited() -> None:
    async with started() as (server, http):
        guild = server.add_guild(name="Test")
        url = f"{server.rest_base}/channels/{guild.default_channel.id}/messages"
        server.fail_next("POST", r"/channels/\d+/messages$", 429, retry_after=0.05)
        async with http.post(url, json={"content": "injected"}) as response:
            assert response.status == 429
            assert response.headers["Via"]
            assert (await response.json())["retry_after"] == 0.05
        async with http.post(url, json={"content": "real"}) as response:
            assert rate_headers(response)[2] == "4"  # the injected refusal took nothing from the bucket
    assert server.status_counts()[429] == 1
    assert server.rate_limited == 0
    assert [(record.injected, record.bucket) for record in server.requests] == [(True, None), (False, None)]


# -- the real discord.py client ------------------------------------------------------------------


class BurstBot(commands.Bot):
    """Answers /burst by editing its deferred reply eight times at once; reports what the edits returned."""

    def __init__(self, guild_id: int) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned, intents=intents, guild_ready_timeout=0.05, help_command=None
        )
        self.guild_id = guild_id
        self.results: asyncio.Queue[list[Any]] = asyncio.Queue()

    async def setup_hook(self) -> None:
        @app_commands.command(description="Edit the reply eight times at once")
        async def burst(interaction: discord.Interaction) -> None:
            await interaction.response.defer(thinking=True)
            edits = (interaction.edit_original_response(content=f"edit {n}") for n in range(8))
            self.results.put_nowait(await asyncio.gather(*edits, return_exceptions=True))

        guild = discord.Object(self.guild_id)
        self.tree.add_command(burst, guild=guild)
        await self.tree.sync(guild=guild)


async def test_discord_py_waits_out_the_buckets_by_itself() -> None:
    window = 0.4
    limits = RateLimits(interaction_webhook=Limit(5, window), message_create=Limit(5, window))
    async with DiscordServer(rate_limits=limits) as server:
        guild = server.add_guild(name="Test")
        alice = server.add_user(name="alice", guild_id=guild.id)
        bot = BurstBot(guild.id)
        async with running(server, bot):
            handle = await server.slash("burst", user=alice, guild=guild)
            results = await asyncio.wait_for(bot.results.get(), 5)
            assert all(isinstance(result, discord.InteractionMessage) for result in results), results
            assert handle.original is not None
            assert handle.original.content == "edit 7"

            channel = bot.get_channel(guild.default_channel.id)
            assert isinstance(channel, discord.TextChannel)
            sent = await asyncio.gather(*(channel.send(f"send {n}") for n in range(8)))
            assert [message.content for message in sent] == [f"send {n}" for n in range(8)]

        # Neither path met a 429. Interaction edits go through the webhook adapter, which sends one request per
        # token at a time and, when an answer says X-RateLimit-Remaining 0, holds the token's lock for
        # X-RateLimit-Reset-After seconds; channel.send goes through HTTPClient's bucket, which learns the limit from
        # the first answer and sleeps Reset-After once Remaining reaches 0.
        assert server.rate_limited == 0
        requests = server.requests
        edits = [record for record in requests if record.method == "PATCH" and handle.token in record.path]
        creates = [record for record in requests if record.method == "POST" and record.path.endswith("/messages")]
        for records in (edits, creates):
            assert [record.status for record in records] == [200] * 8
            assert records[5].time - records[0].time > window * 0.75  # the sixth came a window later
