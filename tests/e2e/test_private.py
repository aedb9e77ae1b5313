"""Private results: shown to the member only, buttons included, unless the server's moderators turned them off."""

import pytest

from bot.app.i18n import catalogue
from tests.e2e.helpers import buttons, form_fields, outcome

pytestmark = pytest.mark.usefixtures("limits_reset")


async def test_a_private_result_and_what_its_buttons_make_are_shown_to_the_member_only(
    discord_api, image_api, bot, member, guild
) -> None:
    reply = await discord_api.slash(
        "imagine", user=member, guild=guild, options={"prompt": "a secret garden", "private": True}
    )

    result = await reply.final(timeout=15, until=outcome)
    assert reply.ephemeral
    assert len(result.files) == 1
    assert set(buttons(result)) == {"Reroll", "Edit", "Upscale", "Delete"}

    rerolled = await discord_api.click(result, buttons(result)["Reroll"], user=member)
    again = await rerolled.final(timeout=15, until=outcome)
    assert rerolled.ephemeral
    assert len(again.files) == 1
    assert image_api.last_request.json["prompt"] == "a secret garden"

    opened = await discord_api.click(result, buttons(result)["Edit"], user=member)
    fields = await form_fields(opened)
    submitted = await discord_api.submit_modal(opened, {fields["Prompt"]: "add a gate"})
    edited = await submitted.final(timeout=15, until=outcome)
    assert submitted.ephemeral
    assert len(edited.files) == 1


async def test_private_in_the_prompt_works_as_the_option_does(discord_api, image_api, bot, member, guild) -> None:
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a diary --private"})

    await reply.final(timeout=15, until=outcome)
    assert reply.ephemeral
    assert image_api.last_request.json["prompt"] == "a diary"


async def test_when_moderators_turn_private_results_off_a_private_request_is_refused_saying_why(
    discord_api, image_api, bot, member, moderator, guild
) -> None:
    turned_off = await discord_api.slash(
        "limits set", user=moderator, guild=guild, options={"name": "private_allowed", "value": "no"}
    )
    await turned_off.final(timeout=5, until=outcome)

    for locale in ("en-US", "zh-CN"):
        reply = await discord_api.slash(
            "imagine", user=member, guild=guild, options={"prompt": "a secret", "private": True}, locale=locale
        )
        refused = await reply.final(timeout=5, until=outcome)
        assert reply.ephemeral
        assert refused.content == catalogue.text(locale, "error.private_not_allowed")
    assert image_api.requests == []

    public = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a secret"})
    await public.final(timeout=15, until=outcome)
    assert not public.ephemeral
