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


async def test_rate_limited_uploads_are_retried_and_the_result_is_not_lost(
    discord_api, image_api, bot, member, guild
) -> None:
    discord_api.fail_next("PATCH", ORIGINAL, 429, retry_after=0.2, count=2)

    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a queue"})

    message = await reply.final(timeout=15, until=outcome)
    assert len(message.files) == 1
    assert [status for status, _, _ in reply.errors] == [429, 429]


async def test_a_job_survives_the_gateway_dropping_and_resuming_mid_job(
    discord_api, image_api, bot, member, guild
) -> None:
    image_api.latency = 1.0
    resumes = discord_api.resume_count
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "through the storm"})
    assert await reply.acknowledged(within=3.0)

    await discord_api.disconnect_sessions(resumable=True)

    message = await reply.final(timeout=20, until=outcome)
    assert len(message.files) == 1
    await bot.wait_until_ready()
    assert discord_api.resume_count == resumes + 1
