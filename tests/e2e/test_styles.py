"""Styles: the API's own and a server's prompt templates, kept by moderators with /styles, picked by members."""

import pytest

from bot.app.i18n import catalogue
from tests.e2e.helpers import embed_fields, outcome

pytestmark = pytest.mark.usefixtures("limits_reset")


async def said(handle) -> str:
    return (await handle.final(timeout=10, until=outcome)).content


async def test_a_server_style_reaches_the_api_with_the_prompt_in_place(
    discord_api, image_api, bot, guild, member, moderator
) -> None:
    template = "an ink drawing of {prompt}, fine lines"
    added = await discord_api.slash(
        "styles add", user=moderator, guild=guild, options={"name": "Ink", "template": template}
    )
    assert await said(added) == catalogue.text("en-US", "styles.added", name="ink")

    typing = await discord_api.autocomplete(
        "imagine", user=member, guild=guild, focused="style", options={"prompt": "a fox", "style": "in"}
    )
    await typing.acknowledged(within=3.0)
    assert [choice["value"] for choice in typing.autocomplete_choices] == ["ink"]
    every = await discord_api.autocomplete(
        "imagine", user=member, guild=guild, focused="style", options={"style": ""}, locale="zh-CN"
    )
    await every.acknowledged(within=3.0)
    assert [(choice["name"], choice["value"]) for choice in every.autocomplete_choices] == [
        ("鲜艳", "vivid"),
        ("自然", "natural"),
        ("ink", "ink"),
    ]

    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a fox", "style": "ink"})
    message = await reply.final(timeout=15, until=outcome)
    sent = image_api.last_request.json
    assert sent["prompt"] == "an ink drawing of a fox, fine lines"
    assert "style" not in sent
    assert message.embeds[0]["description"] == "a fox"
    assert embed_fields(message.embeds[0])["Style"] == "ink"

    typed = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a hare --style ink"})
    await typed.final(timeout=15, until=outcome)
    assert image_api.last_request.json["prompt"] == "an ink drawing of a hare, fine lines"


async def test_a_style_cannot_smuggle_a_blocked_word_and_an_unknown_one_is_refused(
    discord_api, image_api, bot, guild, member, moderator
) -> None:
    await said(await discord_api.slash("limits block-word", user=moderator, guild=guild, options={"pattern": "gore"}))
    await said(
        await discord_api.slash(
            "styles add", user=moderator, guild=guild, options={"name": "grim", "template": "{prompt}, dripping gore"}
        )
    )

    blocked = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a fox", "style": "grim"})
    assert await said(blocked) == catalogue.text("en-US", "error.prompt_blocked", word="gore")
    unknown = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a fox", "style": "noir"})
    assert await said(unknown) == catalogue.text(
        "en-US", "error.invalid_choice", value="noir", option="style", allowed="vivid, natural, grim"
    )
    assert image_api.requests == []


async def test_moderators_list_and_remove_styles_and_bad_ones_are_refused_saying_why(
    discord_api, bot, guild, member, moderator
) -> None:
    await said(
        await discord_api.slash(
            "styles add", user=moderator, guild=guild, options={"name": "noir", "template": "{prompt}, film noir"}
        )
    )
    listed = await discord_api.slash("styles list", user=moderator, guild=guild)
    embed = (await listed.final(timeout=10, until=outcome)).embeds[0]
    assert embed["description"] == catalogue.text("en-US", "styles.line", name="noir", template="{prompt}, film noir")

    no_prompt = await discord_api.slash(
        "styles add", user=moderator, guild=guild, options={"name": "flat", "template": "a flat poster"}
    )
    assert await said(no_prompt) == catalogue.text("en-US", "error.style.template", name="flat")
    reserved = await discord_api.slash(
        "styles add", user=moderator, guild=guild, options={"name": "Vivid", "template": "{prompt}"}
    )
    assert await said(reserved) == catalogue.text("en-US", "error.style.reserved", name="vivid")
    discord_api.open_command_to_everyone(guild.id, "styles")  # a server admin's override: the bot checks anyway
    not_mod = await discord_api.slash(
        "styles add", user=member, guild=guild, options={"name": "mine", "template": "{prompt}"}
    )
    assert await said(not_mod) == catalogue.text("en-US", "error.not_permitted.moderator")

    removed = await discord_api.slash("styles remove", user=moderator, guild=guild, options={"name": "NOIR"})
    assert await said(removed) == catalogue.text("en-US", "styles.removed", name="noir")
    again = await discord_api.slash("styles remove", user=moderator, guild=guild, options={"name": "noir"})
    assert await said(again) == catalogue.text("en-US", "error.style.unknown", name="noir")
    assert (await bot.policy.limits(guild.id)).styles == ()
