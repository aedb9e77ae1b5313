"""When Discord itself fails while the bot posts a result."""

import logging

from bot.app.i18n import catalogue
from tests.e2e.helpers import outcome

ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original$"


async def test_a_discord_server_error_on_delivery_is_retried(discord_api, image_api, bot, member, guild) -> None:
    discord_api.fail_next("PATCH", ORIGINAL, 503)

    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a storm"})

    message = await reply.final(timeout=15, until=outcome)
    assert len(message.files) == 1
    assert [status for status, _, _ in reply.errors] == [503]


async def test_a_refused_delivery_is_explained_and_logged(discord_api, image_api, bot, member, guild, caplog) -> None:
    caplog.set_level(logging.ERROR)
    discord_api.fail_next("PATCH", ORIGINAL, 400, code=50035)

    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a storm"})

    message = await reply.final(timeout=15, until=outcome)
    assert message.content == catalogue.text("en-US", "error.unexpected")
    assert "command imagine crashed" in caplog.text
    again = await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "calm"})).final(
        until=outcome
    )
    assert len(again.files) == 1
