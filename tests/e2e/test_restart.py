"""Result buttons keep working after the bot process restarts with the same database."""

from collections.abc import AsyncIterator

import pytest

from bot.app.i18n import catalogue
from tests.conftest import DISCORD_TOKEN, bot_env
from tests.e2e.bot_process import START_TIMEOUT, run_bot, stop_bot
from tests.e2e.helpers import buttons, form_fields
from tests.loopback.discord import DiscordServer


@pytest.fixture
async def own_discord() -> AsyncIterator[DiscordServer]:
    """A Discord of this test's own: the in-process bot must not answer here."""
    server = DiscordServer(token=DISCORD_TOKEN)
    await server.start()
    yield server
    await server.stop()


async def test_every_button_works_after_a_restart(own_discord, image_api, tmp_path) -> None:
    guild = own_discord.add_guild(name="Restart")
    member = own_discord.add_user(name="keeper", guild_id=guild.id)
    env = bot_env(own_discord, image_api, guild)  # the database is ./data/imagebot.db in tmp_path, for both runs

    first = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT, sessions=1)
        reply = await own_discord.slash(
            "imagine", user=member, guild=guild, options={"prompt": "a paper crane", "count": 2, "quality": "2k"}
        )
        result = await reply.final(timeout=15)
    finally:
        stderr = await stop_bot(first)
    assert first.returncode == 0, stderr[-2000:]
    original_request = image_api.last_request.json

    second = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT, sessions=2)
        ids = buttons(result)

        rerolled = await (await own_discord.click(result, ids["Reroll"], user=member)).final(timeout=15)
        assert len(rerolled.files) == 2
        assert image_api.last_request.json == original_request

        opened = await own_discord.click(result, ids["Edit"], user=member)
        fields = await form_fields(opened)
        submitted = await own_discord.submit_modal(opened, {fields["Prompt"]: "fold it blue"})
        assert len((await submitted.final(timeout=15)).files) == 1
        assert image_api.last_request.input_images == [result.files[0].data]
        assert image_api.last_request.json["quality"] == "2k"

        opened = await own_discord.click(result, ids["Upscale"], user=member)
        fields = await form_fields(opened)
        submitted = await own_discord.submit_modal(opened, {fields["Which image"]: ["1"]})
        assert len((await submitted.final(timeout=30)).files) == 1
        assert image_api.last_request.input_images == [result.files[1].data]
        assert image_api.last_request.json["quality"] == "4k"

        stranger = own_discord.add_user(name="stranger", guild_id=guild.id)
        refused = await (await own_discord.click(result, ids["Delete"], user=stranger)).final(timeout=5)
        assert refused.content == catalogue.text("en-US", "error.not_yours", owner=member.id)

        pressed = await own_discord.click(result, ids["Delete"], user=member)
        await pressed.final(timeout=5, until=lambda state: state.deleted)
        assert own_discord.message(result.id).deleted
    finally:
        stderr = await stop_bot(second)
    assert second.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
