"""A job that outlives its interaction token is still delivered: in the channel, or else by direct message."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.app.i18n import catalogue
from tests.conftest import DISCORD_TOKEN, bot_env
from tests.e2e.bot_process import START_TIMEOUT, run_bot, stop_bot
from tests.e2e.helpers import bot_post
from tests.loopback import image_api as faults
from tests.loopback.discord import DiscordServer, permissions

TOKEN_LIFETIME = 2.0  # seconds, for the loopback Discord and the bot alike (Discord's is 15 minutes)


@pytest.fixture
async def short_lived() -> AsyncIterator[DiscordServer]:
    """A Discord of this test's own whose interaction tokens die after two seconds."""
    server = DiscordServer(token=DISCORD_TOKEN, token_lifetime=TOKEN_LIFETIME)
    await server.start()
    yield server
    await server.stop()


async def run_late_job(server: DiscordServer, image_api, tmp_path, *, can_post: bool, private: bool = False):
    guild = server.add_guild(name="Late")
    if not can_post:
        server.world.channel(guild.default_channel.id).bot_permissions = permissions.VIEW_CHANNEL
    member = server.add_user(name="patient", guild_id=guild.id)
    env = bot_env(server, image_api, guild) | {"INTERACTION_TOKEN_LIFETIME": str(TOKEN_LIFETIME)}
    process = await run_bot(env, tmp_path)
    try:
        await server.wait_ready(START_TIMEOUT)
        image_api.latency = TOKEN_LIFETIME + 1.0  # the model answers after the token died
        options = {"prompt": "slow sunrise"} | ({"private": True} if private else {})
        reply = await server.slash("imagine", user=member, guild=guild, options=options)
        assert await reply.acknowledged(within=3.0)
        posted = await wait_for_post(server, member, guild)
    finally:
        stderr = await stop_bot(process)
    assert process.returncode == 0, stderr[-2000:]
    return member, guild, posted, reply


async def wait_for_post(server: DiscordServer, member, guild):
    """The first message the bot posts outside the interaction, in the guild's channel or the member's DMs."""
    for _ in range(200):
        for channel_id in (guild.default_channel.id, server.world.dm_channel(member.id).id):
            for message in server.messages(channel_id):
                if message.author_id == server.bot_user_id and message.interaction_id is None and message.files:
                    return message
        await asyncio.sleep(0.05)
    raise AssertionError("the bot posted no result outside the interaction")


async def test_a_result_after_the_token_died_is_posted_in_the_channel(short_lived, image_api, tmp_path) -> None:
    member, guild, posted, reply = await run_late_job(short_lived, image_api, tmp_path, can_post=True)

    assert posted.channel_id == guild.default_channel.id
    assert posted.content == catalogue.text("en-US", "result.late", user=f"<@{member.id}>")
    assert member.id in posted.mention_ids
    assert len(posted.files) == 1
    assert reply.original is not None
    assert reply.original.loading  # the dead token's "thinking" message could not be touched


async def test_without_permission_to_post_there_the_member_gets_a_direct_message(
    short_lived, image_api, tmp_path
) -> None:
    member, guild, posted, _ = await run_late_job(short_lived, image_api, tmp_path, can_post=False)

    assert posted.channel_id == short_lived.world.dm_channel(member.id).id
    assert len(posted.files) == 1
    in_channel = short_lived.messages(guild.default_channel.id)
    assert not [message for message in in_channel if message.files]


async def test_a_failure_after_the_token_died_is_told_in_the_channel(short_lived, image_api, tmp_path) -> None:
    guild = short_lived.add_guild(name="Late failure")
    member = short_lived.add_user(name="unlucky", guild_id=guild.id)
    process = await run_bot(
        bot_env(short_lived, image_api, guild) | {"INTERACTION_TOKEN_LIFETIME": str(TOKEN_LIFETIME)}, tmp_path
    )
    try:
        await short_lived.wait_ready(START_TIMEOUT)
        image_api.latency = TOKEN_LIFETIME + 1.0
        image_api.fail_next(faults.safety())
        await short_lived.slash("imagine", user=member, guild=guild, options={"prompt": "too bold"})
        told = await bot_post(short_lived, guild.default_channel.id)
    finally:
        stderr = await stop_bot(process)
    assert process.returncode == 0, stderr[-2000:]
    assert told.content == catalogue.text(
        "en-US", "error.late", user=f"<@{member.id}>", message=catalogue.text("en-US", "error.safety")
    )


async def test_a_private_result_after_the_token_died_goes_by_direct_message_only(
    short_lived, image_api, tmp_path
) -> None:
    member, guild, posted, reply = await run_late_job(short_lived, image_api, tmp_path, can_post=True, private=True)

    assert reply.ephemeral
    assert posted.channel_id == short_lived.world.dm_channel(member.id).id
    assert not [message for message in short_lived.messages(guild.default_channel.id) if message.files]
