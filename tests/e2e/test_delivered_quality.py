"""A provider that delivers a lower resolution than asked (a gateway build that reads `2k` as 1K): the member is
told what came back, and the ledger books and prices the tier delivered."""

import pytest

from bot.app.i18n import catalogue
from tests.e2e.helpers import embed_fields, image_size, outcome
from tests.e2e.test_member_commands import settled
from tests.storage_backends import run_sql

LEDGER_ROW = "SELECT quality, images, provider FROM usage_ledger WHERE job_id = ?"


@pytest.fixture
def case_sensitive(image_api):
    image_api.case_sensitive_quality = True
    yield image_api
    image_api.case_sensitive_quality = False


async def test_a_gateway_that_reads_2k_as_1k_is_caught_told_and_booked_at_1k(
    discord_api, case_sensitive, bot, guild, member
) -> None:
    reply = await discord_api.slash(
        "imagine", user=member, guild=guild, options={"prompt": "a heron", "size": "1024x1024", "quality": "2k"}
    )
    result = await reply.final(timeout=15, until=outcome)

    assert case_sensitive.last_request.json["quality"] == "2k"  # the seed's lowercase value went out
    assert image_size(result.files[0]) == (1024, 1024)  # and came back at 1K
    quality = embed_fields(result.embeds[0])[catalogue.text("en-US", "result.quality")]
    assert quality == catalogue.text("en-US", "result.quality.short", delivered="1k", asked="2k")
    await settled(bot, member, guild)
    (entry,) = await bot.storage.history(member.id, guild.id)
    assert entry.job.quality == "2k"  # what was asked stays on the job; the ledger books what came back
    rows = await run_sql(bot.settings.database_url, LEDGER_ROW, entry.job.id)
    assert rows == [("1k", 1, "gateway")]


async def test_a_gateway_that_honours_2k_is_shown_as_2k(discord_api, image_api, bot, guild, member) -> None:
    reply = await discord_api.slash(
        "imagine", user=member, guild=guild, options={"prompt": "a heron", "size": "1024x1024", "quality": "2k"}
    )
    result = await reply.final(timeout=15, until=outcome)

    assert image_size(result.files[0]) == (2048, 2048)
    assert embed_fields(result.embeds[0])[catalogue.text("en-US", "result.quality")] == "2k"
