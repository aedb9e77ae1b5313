"""/settings: a member's own defaults reach the image API's request and the result says which they were."""

from collections.abc import AsyncIterator

import pytest

from bot.app.i18n import catalogue
from tests.e2e.helpers import embed_fields, outcome


@pytest.fixture
async def defaults_cleared(discord_api, bot, member, guild) -> AsyncIterator[None]:
    yield
    reset = await discord_api.slash("settings reset", user=member, guild=guild)
    await reset.final(timeout=5, until=outcome)


pytestmark = pytest.mark.usefixtures("defaults_cleared")


def mine(value: str) -> str:
    return catalogue.text("en-US", "result.your_default", value=value)


async def test_defaults_fill_what_the_member_leaves_out_and_the_summary_says_so(
    discord_api, image_api, bot, member, guild
) -> None:
    options = {"size": "1792x1024", "quality": "2k", "style": "natural", "model": "gemini-2.5-flash-image"}
    saved = await discord_api.slash("settings set", user=member, guild=guild, options=options)
    shown = await saved.final(timeout=5, until=outcome)
    assert saved.ephemeral
    assert shown.embeds[0]["title"] == catalogue.text("en-US", "settings.saved")

    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a lantern"})
    result = await reply.final(timeout=15, until=outcome)

    sent = image_api.last_request.json
    assert (sent["size"], sent["quality"], sent["style"], sent["model"]) == (
        "1792x1024",
        "2k",
        "natural",
        "gemini-2.5-flash-image",
    )
    fields = embed_fields(result.embeds[0])
    assert fields["Size"] == mine("3584x2048 (16:9)")
    assert fields["Quality"] == mine("2k")
    assert fields["Model"] == mine("gemini-2.5-flash-image")
    assert fields["Style"] == mine("natural")


async def test_an_option_chosen_wins_over_the_default_and_is_not_marked(
    discord_api, image_api, bot, member, guild
) -> None:
    await (await discord_api.slash("settings set", user=member, guild=guild, options={"quality": "2k"})).final(
        timeout=5, until=outcome
    )

    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a kite", "quality": "1k"})
    result = await reply.final(timeout=15, until=outcome)

    assert image_api.last_request.json["quality"] == "1k"
    assert embed_fields(result.embeds[0])["Quality"] == "1k"


async def test_a_private_default_keeps_results_private_and_reset_clears_it(
    discord_api, image_api, bot, member, guild
) -> None:
    await (await discord_api.slash("settings set", user=member, guild=guild, options={"private": True})).final(
        timeout=5, until=outcome
    )
    private = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a note"})
    await private.final(timeout=15, until=outcome)
    assert private.ephemeral

    cleared = await discord_api.slash("settings reset", user=member, guild=guild)
    await cleared.final(timeout=5, until=outcome)
    public = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a note"})
    await public.final(timeout=15, until=outcome)
    assert not public.ephemeral
    assert await bot.storage.load_defaults(member.id) == type(await bot.storage.load_defaults(member.id))(member.id)


async def test_a_default_that_is_no_value_of_its_option_is_refused_in_either_language(
    discord_api, bot, member, guild
) -> None:
    for locale in ("en-US", "zh-CN"):
        refused = await discord_api.slash(
            "settings set", user=member, guild=guild, options={"style": "sketchy"}, locale=locale
        )
        said = (await refused.final(timeout=5, until=outcome)).content
        assert said == catalogue.text(
            locale, "error.invalid_choice", value="sketchy", option="style", allowed="vivid, natural"
        )
