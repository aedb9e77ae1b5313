"""What an attacker can send that Discord's own client never would: forged option values, a command from a direct
message, a button id naming someone else, a form choice that was never offered. Each is refused with its own
message, and nothing reaches the image API."""

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.app.i18n import catalogue
from tests.e2e.helpers import buttons, form_fields, outcome
from tests.e2e.test_limits import set_limit

pytestmark = pytest.mark.usefixtures("limits_reset")

SUBCOMMAND, SUBCOMMAND_GROUP, STRING = 1, 2, 3  # Discord's option types
GUILD_FIELDS = ("guild_id", "guild", "guild_locale", "member")


def text(key: str, **params: object) -> str:
    return catalogue.text("en-US", key, **params)


def with_option(name: str, value: object) -> Callable[[dict[str, Any]], None]:
    """Sets one option of a slash command's payload to `value`, whatever the command's choices say."""

    def tamper(payload: dict[str, Any]) -> None:
        holder = payload["data"]
        while (nested := holder.get("options")) and nested[0]["type"] in (SUBCOMMAND, SUBCOMMAND_GROUP):
            holder = nested[0]
        options = [option for option in holder.get("options", []) if option["name"] != name]
        holder["options"] = [*options, {"name": name, "type": STRING, "value": value}]

    return tamper


def from_direct_message(discord_api, user) -> Callable[[dict[str, Any]], None]:
    """Moves an interaction from the server into the user's direct messages with the bot."""

    def tamper(payload: dict[str, Any]) -> None:
        for field in GUILD_FIELDS:
            payload.pop(field, None)
        payload.update(discord_api.direct_message_envelope(user))

    return tamper


def with_button_id(old: str, new: str) -> Callable[[dict[str, Any]], None]:
    """Gives the pressed button another custom id, on the message as on the press (discord.py checks both)."""

    def tamper(payload: dict[str, Any]) -> None:
        payload.update(json.loads(json.dumps(payload).replace(json.dumps(old), json.dumps(new))))

    return tamper


def with_select_value(value: str) -> Callable[[dict[str, Any]], None]:
    """Sets the value of every select in a submitted form."""

    def tamper(payload: dict[str, Any]) -> None:
        for label in payload["data"]["components"]:
            if "values" in label.get("component", {}):
                label["component"]["values"] = [value]

    return tamper


async def forged_imagine(discord_api, guild, member, tamper, prompt: str = "a lantern"):
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": prompt}, tamper=tamper)
    return await reply.final(timeout=15, until=outcome)


@pytest.mark.parametrize("forged", ["4K", "2K", " 4k"])
async def test_a_quality_above_the_servers_in_another_case_is_refused(
    discord_api, image_api, bot, guild, moderator, member, forged
) -> None:
    await set_limit(discord_api, guild, moderator, "max_quality", "1k")

    refused = await forged_imagine(discord_api, guild, member, with_option("quality", forged))

    assert refused.content == text("error.quality_above_limit", quality=forged.strip().lower(), limit="1k")
    assert image_api.requests == []


async def test_a_quality_in_another_case_goes_upstream_and_is_booked_as_its_own(
    discord_api, image_api, bot, guild, member
) -> None:
    result = await forged_imagine(discord_api, guild, member, with_option("quality", "2K"))

    assert len(result.files) == 1
    assert image_api.last_request.json["quality"] == "2k"
    (entry,) = await bot.storage.history(member.id, guild.id)
    assert entry.job.quality == "2k"


@pytest.mark.parametrize(("option", "value"), [("quality", "8k"), ("size", "4096x4096"), ("style", "gritty")])
async def test_a_value_no_choice_offers_is_refused_naming_it(
    discord_api, image_api, bot, guild, member, option, value
) -> None:
    refused = await forged_imagine(discord_api, guild, member, with_option(option, value))

    assert refused.content.startswith(f"`{value}` isn't a valid {option} here. Choose one of: ")
    assert image_api.requests == []
    assert await bot.storage.history(member.id, guild.id) == []


@pytest.mark.parametrize(
    "disguise",
    ["c\u200bat", "c\u00adat", "\uff43\uff41\uff54", "\u0441\u0430t", "CA\u200dT"],
    ids=["zero-width space", "soft hyphen", "fullwidth", "cyrillic", "zero-width joiner"],
)
async def test_a_blocked_word_in_disguise_is_refused(
    discord_api, image_api, bot, guild, moderator, member, disguise
) -> None:
    blocked = await discord_api.slash("limits block-word", user=moderator, guild=guild, options={"pattern": "cat"})
    await blocked.final(timeout=5, until=outcome)

    refused = await forged_imagine(discord_api, guild, member, None, prompt=f"a {disguise} on a mat")

    assert refused.content == text("error.prompt_blocked", word="cat")
    assert image_api.requests == []


@pytest.mark.parametrize("command", ["imagine", "quota", "history"])
async def test_a_command_from_a_direct_message_is_refused(discord_api, image_api, bot, guild, member, command) -> None:
    options = {"prompt": "a lantern"} if command == "imagine" else {}
    tamper = from_direct_message(discord_api, member)

    reply = await discord_api.slash(command, user=member, guild=guild, options=options, tamper=tamper)
    refused = await reply.final(timeout=5, until=outcome)

    assert refused.content == text("error.guild_only")
    assert refused.flags & 64  # only the member sees it
    assert image_api.requests == []
    assert await bot.storage.history(member.id, None) == []


@pytest.fixture
async def result(discord_api, bot, member, guild):
    """A finished /imagine result of `member`'s with two images."""
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a kite", "count": 2})
    return await reply.final(timeout=15, until=outcome)


@pytest.mark.parametrize("label", ["Reroll", "Edit", "Upscale", "Delete"])
async def test_a_button_id_naming_another_owner_is_refused_by_the_stored_job(
    discord_api, image_api, bot, guild, member, result, label
) -> None:
    intruder = discord_api.add_user("intruder", guild_id=guild.id)
    custom_id = buttons(result)[label]
    requests = len(image_api.requests)

    claim = with_button_id(custom_id, f"{custom_id}:{intruder.id}")  # the id format that carried the owner

    pressed = await discord_api.click(result, custom_id, user=intruder, tamper=claim)

    refused = await pressed.final(timeout=5)
    assert refused.content == text("error.not_yours", owner=member.id)
    assert pressed.modal is None
    assert len(image_api.requests) == requests
    assert not discord_api.message(result.id).deleted


async def test_a_button_for_a_job_not_on_record_is_refused(discord_api, bot, guild, member, result) -> None:
    custom_id = buttons(result)["Reroll"]
    elsewhere = with_button_id(custom_id, custom_id[:-16] + "0" * 16)

    pressed = await discord_api.click(result, custom_id, user=member, tamper=elsewhere)

    assert (await pressed.final(timeout=5)).content == text("error.job_gone", job_id="0" * 16)


@pytest.mark.parametrize("button", ["Edit", "Upscale"])
@pytest.mark.parametrize("forged", ["7", "-1", "x"])
async def test_a_picture_never_offered_in_the_form_is_refused_cleanly(
    discord_api, image_api, bot, guild, member, result, button, forged, caplog
) -> None:
    opened = await discord_api.click(result, buttons(result)[button], user=member)
    fields = await form_fields(opened)
    answers = {fields["Prompt"]: "add a moon"} if "Prompt" in fields else {}
    requests = len(image_api.requests)

    submitted = await discord_api.submit_modal(opened, answers, tamper=with_select_value(forged))

    refused = await submitted.final(timeout=5, until=outcome)
    assert refused.content == text("error.invalid_choice", value=forged, option="picture", allowed="Image 1, Image 2")
    assert len(image_api.requests) == requests
    assert "crashed" not in caplog.text


@pytest.mark.parametrize("command", ["limits reset", "limits set"])
async def test_a_limit_name_no_choice_offers_is_refused(discord_api, bot, guild, moderator, command) -> None:
    options = {"name": "user_daily_images"} | ({"value": "3"} if command == "limits set" else {})

    reply = await discord_api.slash(
        command, user=moderator, guild=guild, options=options, tamper=with_option("name", "__class__")
    )
    refused = await reply.final(timeout=5, until=outcome)

    assert refused.content.startswith("`__class__` isn't a valid limit here. Choose one of: user_daily_images, ")
    assert await bot.policy.overrides(guild.id) == set()
