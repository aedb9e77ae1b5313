"""Wire-level tests of the loopback Discord: raw REST requests and a raw gateway websocket."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.loopback.discord import DiscordServer, GuildRecord, UserRecord, permissions
from tests.loopback.discord.snowflakes import snowflake_time

pytestmark = pytest.mark.asyncio(loop_scope="session")

IMAGINE = {
    "name": "imagine",
    "description": "Create images",
    "type": 1,
    "options": [
        {"type": 3, "name": "prompt", "description": "What to draw", "required": True, "max_length": 4000},
        {"type": 4, "name": "count", "description": "How many", "min_value": 1, "max_value": 4},
        {"type": 11, "name": "image", "description": "Input image"},
    ],
}

ADMIN = {
    "name": "admin",
    "description": "Admin",
    "options": [
        {
            "type": 2,
            "name": "cache",
            "description": "Cache",
            "options": [
                {
                    "type": 1,
                    "name": "reset",
                    "description": "Reset",
                    "options": [{"type": 5, "name": "hard", "description": "Hard"}],
                }
            ],
        }
    ],
}


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[DiscordServer]:
    """A started server; a test may pass options by indirect parametrization."""
    async with DiscordServer(**getattr(request, "param", {})) as started:
        yield started


@pytest.fixture
async def http(server: DiscordServer) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP session authenticated as the bot."""
    async with aiohttp.ClientSession(headers={"Authorization": f"Bot {server.token}"}) as session:
        yield session


def guild_with_alice(server: DiscordServer) -> tuple[GuildRecord, UserRecord]:
    """One guild and one member."""
    guild = server.add_guild(name="Test")
    return guild, server.add_user(name="alice", guild_id=guild.id)


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next gateway frame (text frames only)."""
    message = await asyncio.wait_for(ws.receive(), 5)
    assert message.type is aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


async def identify(ws: aiohttp.ClientWebSocketResponse, token: str, **extra: Any) -> None:
    """Send IDENTIFY like discord.py does."""
    data = {"token": token, "properties": {"os": "linux"}, "intents": 1, **extra}
    await ws.send_str(json.dumps({"op": 2, "d": data}))


# -- REST ----------------------------------------------------------------------------------------


async def test_auth_content_type_and_unknown_routes(server: DiscordServer, http: aiohttp.ClientSession) -> None:
    async with aiohttp.ClientSession() as anonymous, anonymous.get(f"{server.rest_base}/users/@me") as response:
        assert response.status == 401
        assert response.headers["Content-Type"] == "application/json"
        assert await response.json() == {"message": "401: Unauthorized", "code": 0}
    async with http.get(f"{server.rest_base}/users/@me") as response:
        assert response.headers["Content-Type"] == "application/json"
        me = await response.json()
        assert (me["id"], me["bot"]) == (str(server.bot_user_id), True)
    async with http.get(f"{server.rest_base}/oauth2/applications/@me") as response:
        application = await response.json()
        assert application["id"] == str(server.application_id)
        assert application["owner"]["id"] == str(server.owner.id)
        assert application["team"] is None
    async with http.get(f"{server.rest_base}/nowhere") as response:
        assert response.status == 404
        assert await response.json() == {"message": "404: Not Found", "code": 0}
    async with http.delete(f"{server.rest_base}/users/@me") as response:
        assert response.status == 405
    assert [record.status for record in server.requests] == [401, 200, 200, 404, 405]
    assert server.status_counts() == {200: 2, 401: 1, 404: 1, 405: 1}


async def test_command_registration_keeps_ids(server: DiscordServer, http: aiohttp.ClientSession) -> None:
    guild, _ = guild_with_alice(server)
    url = f"{server.rest_base}/applications/{server.application_id}/guilds/{guild.id}/commands"
    async with http.put(url, json=[IMAGINE]) as response:
        assert response.status == 200
        first = await response.json()
    await server.wait_commands(timeout=1)
    async with http.put(url, json=[IMAGINE, {"name": "Edit image", "type": 3}]) as response:
        second = await response.json()
    assert second[0]["id"] == first[0]["id"]
    assert second[0]["version"] != first[0]["version"]
    assert second[1]["description"] == ""
    assert second[0]["guild_id"] == str(guild.id)
    assert [command["name"] for command in server.commands(guild.id)] == ["imagine", "Edit image"]
    assert server.commands() == []

    global_url = f"{server.rest_base}/applications/{server.application_id}/commands"
    async with http.post(global_url, json={"name": "ping", "description": "Ping"}) as response:
        assert response.status == 201
        ping = await response.json()
        assert ping["dm_permission"] is True
    async with http.delete(f"{global_url}/{ping['id']}") as response:
        assert response.status == 204
    async with http.get(f"{global_url}/{ping['id']}") as response:
        assert (response.status, (await response.json())["code"]) == (404, 10063)


async def test_invalid_commands_are_refused_like_discord(server: DiscordServer, http: aiohttp.ClientSession) -> None:
    url = f"{server.rest_base}/applications/{server.application_id}/commands"
    too_many = {
        "name": "many",
        "description": "x",
        "options": [{"type": 3, "name": f"o{index}", "description": "d"} for index in range(26)],
    }
    mixed = {**ADMIN, "name": "mixed", "options": [*ADMIN["options"], IMAGINE["options"][0]]}
    async with http.put(url, json=[IMAGINE, too_many, mixed]) as response:
        assert response.status == 400
        body = await response.json()
    assert body["code"] == 50035
    assert body["message"] == "Invalid Form Body"
    assert body["errors"]["1"]["options"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    assert body["errors"]["2"]["options"]["_errors"][0]["code"] == "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID"
    assert server.commands() == []


# ten message creations in a burst: Discord would refuse the sixth (5 per 5 s per channel), so no rate limits here
@pytest.mark.parametrize("server", [{"rate_limits": False}], indirect=True)
async def test_message_limits(server: DiscordServer, http: aiohttp.ClientSession) -> None:
    guild, _ = guild_with_alice(server)
    url = f"{server.rest_base}/channels/{guild.default_channel.id}/messages"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"content": "x" * 2001}, "content"),
        ({"embeds": [{"title": "t" * 257}]}, "embeds.0.title"),
        ({"embeds": [{"description": "d"}] * 11}, "embeds"),
        ({"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]}, "embeds"),
        ({"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]}, "embeds.0.fields.0.value"),
        ({"embeds": [{"footer": {"text": "f" * 2049}}]}, "embeds.0.footer.text"),
        ({"embeds": [{"author": {"name": "a" * 257}}]}, "embeds.0.author.name"),
        (
            {
                "content": "x",
                "components": [
                    {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": "c" * 101}]}
                ],
            },
            "components.0.components.0.custom_id",
        ),
        (
            {
                "content": "x",
                "components": [
                    {"type": 1, "components": [{"type": 2, "style": 1, "label": "b", "custom_id": f"{i}"}]}
                    for i in range(6)
                ],
            },
            "components",
        ),
    ]
    for payload, path in cases:
        async with http.post(url, json=payload) as response:
            body = await response.json()
        assert (response.status, body["code"]) == (400, 50035), payload
        node = body["errors"]
        for key in path.split("."):
            node = node[key]
        assert node["_errors"], path
    async with http.post(url, json={"content": ""}) as response:
        assert (response.status, (await response.json())["code"]) == (400, 50006)
    assert server.messages(guild.default_channel.id) == []


async def test_attachments_are_kept_by_id_on_edit(server: DiscordServer, http: aiohttp.ClientSession) -> None:
    guild, _ = guild_with_alice(server)
    url = f"{server.rest_base}/channels/{guild.default_channel.id}/messages"
    form = aiohttp.FormData(quote_fields=False)
    payload = {"content": "two", "attachments": [{"id": 0, "filename": "a.txt"}, {"id": 1, "filename": "b.txt"}]}
    form.add_field("payload_json", json.dumps(payload))
    form.add_field("files[0]", b"first", filename="a.txt", content_type="application/octet-stream")
    form.add_field("files[1]", b"second", filename="b.txt", content_type="application/octet-stream")
    async with http.post(url, data=form) as response:
        created = await response.json()
    assert [attachment["filename"] for attachment in created["attachments"]] == ["a.txt", "b.txt"]
    assert created["attachments"][0]["content_type"] == "text/plain"

    keep_first = {"attachments": [{"id": created["attachments"][0]["id"]}]}
    async with http.patch(f"{url}/{created['id']}", json=keep_first) as response:
        edited = await response.json()
    assert [attachment["id"] for attachment in edited["attachments"]] == [created["attachments"][0]["id"]]
    assert edited["edited_timestamp"] is not None
    record = server.message(int(created["id"]))
    assert [(file.filename, file.data) for file in record.files] == [("a.txt", b"first")]
    async with http.get(created["attachments"][1]["url"]) as response:
        assert await response.read() == b"second"


async def test_bot_permissions_are_enforced(server: DiscordServer, http: aiohttp.ClientSession) -> None:
    guild, _ = guild_with_alice(server)
    quiet = server.add_channel(guild.id, "read-only", bot_permissions=permissions.VIEW_CHANNEL)
    no_files = server.add_channel(
        guild.id, "no-files", bot_permissions=permissions.VIEW_CHANNEL | permissions.SEND_MESSAGES
    )
    async with http.post(f"{server.rest_base}/channels/{quiet.id}/messages", json={"content": "hi"}) as response:
        assert (response.status, (await response.json())["code"]) == (403, 50013)
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("payload_json", json.dumps({"content": "file"}))
    form.add_field("files[0]", b"data", filename="a.bin", content_type="application/octet-stream")
    async with http.post(f"{server.rest_base}/channels/{no_files.id}/messages", data=form) as response:
        assert (response.status, (await response.json())["code"]) == (403, 50013)
    async with http.post(f"{server.rest_base}/channels/{no_files.id}/messages", json={"content": "ok"}) as response:
        assert response.status == 200


async def test_interaction_routes_refuse_unknown_tokens(server: DiscordServer, http: aiohttp.ClientSession) -> None:
    callback = f"{server.rest_base}/interactions/123/nope/callback?with_response=1"
    async with http.post(callback, json={"type": 4, "data": {"content": "x"}}) as response:
        assert (response.status, await response.json()) == (404, {"message": "Unknown interaction", "code": 10062})
    webhook = f"{server.rest_base}/webhooks/{server.application_id}/nope/messages/@original"
    async with http.patch(webhook, json={"content": "x"}) as response:
        assert (response.status, (await response.json())["code"]) == (401, 50027)
    async with http.post(f"{server.rest_base}/webhooks/1/nope", json={"content": "x"}) as response:
        assert (response.status, (await response.json())["code"]) == (404, 10015)


# -- gateway -------------------------------------------------------------------------------------


async def test_gateway_identify_ready_guilds_and_chunks(server: DiscordServer) -> None:
    guild, alice = guild_with_alice(server)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.gateway_url + "?v=10&encoding=json&compress=zstd-stream") as ws,
    ):
        hello = await receive(ws)
        assert (hello["op"], hello["d"]["heartbeat_interval"]) == (10, 41250)
        await ws.send_str(json.dumps({"op": 1, "d": None}))
        assert (await receive(ws))["op"] == 11
        await identify(ws, server.token, shard=[0, 1])
        ready = await receive(ws)
        assert (ready["t"], ready["s"], ready["d"]["v"]) == ("READY", 1, 10)
        assert ready["d"]["shard"] == [0, 1]
        assert ready["d"]["guilds"] == [{"id": str(guild.id), "unavailable": True}]
        assert ready["d"]["resume_gateway_url"] == server.gateway_url
        assert ready["d"]["application"]["id"] == str(server.application_id)
        created = await receive(ws)
        assert (created["t"], created["s"]) == ("GUILD_CREATE", 2)
        assert created["d"]["roles"][0]["id"] == str(guild.id)
        assert created["d"]["channels"][0]["name"] == "general"
        assert created["d"]["members"][0]["user"]["id"] == str(server.bot_user_id)
        assert created["d"]["member_count"] == 3
        await server.wait_ready(timeout=1)
        assert [session.shard for session in server.sessions] == [(0, 1)]

        await ws.send_str(json.dumps({"op": 8, "d": {"guild_id": guild.id, "query": "ali", "limit": 0, "nonce": "n"}}))
        chunk = await receive(ws)
        assert chunk["t"] == "GUILD_MEMBERS_CHUNK"
        assert [member["user"]["id"] for member in chunk["d"]["members"]] == [str(alice.id)]
        assert chunk["d"]["nonce"] == "n"

        later = server.add_guild(name="Later")
        joined = await receive(ws)
        assert (joined["t"], joined["d"]["id"], joined["s"]) == ("GUILD_CREATE", str(later.id), 4)
        assert "unavailable" not in joined["d"]


async def test_gateway_refusals(server: DiscordServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(server.gateway_url) as ws:
            await receive(ws)
            await identify(ws, "wrong")
            closing = await asyncio.wait_for(ws.receive(), 5)
            assert closing.type is aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4004
        async with session.ws_connect(server.gateway_url) as ws:
            await receive(ws)
            await ws.send_str(json.dumps({"op": 6, "d": {"token": server.token, "session_id": "x", "seq": 3}}))
            assert await receive(ws) == {"op": 9, "d": False, "s": None, "t": None}
        async with session.ws_connect(server.gateway_url) as ws:
            await receive(ws)
            await ws.send_str(json.dumps({"op": 8, "d": {"guild_id": 1}}))
            await asyncio.wait_for(ws.receive(), 5)
            assert ws.close_code == 4003
    assert server.identify_count == 0


async def test_gateway_disallowed_intents() -> None:
    async with (
        DiscordServer(privileged_intents=0) as server,
        aiohttp.ClientSession() as session,
        session.ws_connect(server.gateway_url) as ws,
    ):
        await receive(ws)
        await identify(ws, server.token, intents=1 | 1 << 15)
        await asyncio.wait_for(ws.receive(), 5)
        assert ws.close_code == 4014


async def test_interaction_create_payload(server: DiscordServer, http: aiohttp.ClientSession) -> None:
    guild, alice = guild_with_alice(server)
    url = f"{server.rest_base}/applications/{server.application_id}/guilds/{guild.id}/commands"
    async with http.put(url, json=[IMAGINE, ADMIN]) as response:
        assert response.status == 200
    image = server.add_attachment(b"\x89PNG\r\n\x1a\nnot really", "in.png")
    async with http.ws_connect(server.gateway_url) as ws:
        await receive(ws)
        await identify(ws, server.token)
        await server.wait_ready(timeout=1)
        await receive(ws)
        await receive(ws)
        with pytest.raises(ValueError, match="is required"):
            await server.slash("imagine", user=alice, guild=guild, options={"count": 1})
        with pytest.raises(ValueError, match="above 4"):
            await server.slash("imagine", user=alice, guild=guild, options={"prompt": "p", "count": 5})
        handle = await server.slash(
            "imagine", user=alice, guild=guild, locale="zh-CN", options={"prompt": "p"}, attachments={"image": image}
        )
        event = await receive(ws)
        with pytest.raises(ValueError, match="needs a subcommand"):
            await server.slash("admin cache", user=alice, guild=guild)
        nested = await server.slash("admin cache reset", user=alice, guild=guild, options={"hard": True})
        nested_event = await receive(ws)
    assert handle.dispatched_at is not None
    payload = event["d"]
    assert event["t"] == "INTERACTION_CREATE"
    assert abs(snowflake_time(int(payload["id"])).timestamp() - time.time()) < 5
    assert payload["application_id"] == str(server.application_id)
    assert (payload["type"], payload["version"], payload["locale"]) == (2, 1, "zh-CN")
    assert payload["attachment_size_limit"] == guild.attachment_size_limit
    assert payload["guild_id"] == payload["data"]["guild_id"] == str(guild.id)
    assert payload["channel"]["id"] == str(guild.default_channel.id)
    assert payload["member"]["user"]["id"] == str(alice.id)
    assert int(payload["app_permissions"]) & permissions.ATTACH_FILES
    assert payload["data"]["options"] == [
        {"name": "prompt", "type": 3, "value": "p"},
        {"name": "image", "type": 11, "value": image["id"]},
    ]
    assert payload["data"]["resolved"]["attachments"][image["id"]]["url"] == image["url"]
    assert nested_event["d"]["data"]["options"] == [
        {
            "type": 2,
            "name": "cache",
            "options": [{"type": 1, "name": "reset", "options": [{"name": "hard", "type": 5, "value": True}]}],
        }
    ]
    assert nested.token != handle.token

    answer = f"{server.rest_base}/interactions/{handle.id}/{handle.token}/callback?with_response=1"
    async with http.post(answer, json={"type": 4, "data": {"content": "hi", "flags": 64}}) as response:
        body = await response.json()
    assert body["interaction"]["response_message_ephemeral"] is True
    assert body["resource"]["type"] == 4
    assert body["resource"]["message"]["content"] == "hi"
    assert handle.ephemeral
    assert handle.original is not None
    assert handle.original.content == "hi"
