"""The buttons under a result: Reroll, Edit, Upscale and Delete, and who may press them."""

import pytest

from bot.app.i18n import catalogue
from tests.e2e.helpers import buttons, embed_fields, form_fields, image_size, outcome
from tests.loopback.discord import permissions


@pytest.fixture
async def result(discord_api, bot, member, guild):
    """A finished /imagine result of `member`'s with two images."""
    reply = await discord_api.slash(
        "imagine", user=member, guild=guild, options={"prompt": "a red kite", "count": 2, "size": "1792x1024"}
    )
    return await reply.final(timeout=15, until=outcome)


async def test_reroll_makes_the_same_request_again(discord_api, image_api, bot, member, guild, result) -> None:
    first = image_api.last_request.json
    requests_before = len(image_api.requests)

    pressed = await discord_api.click(result, buttons(result)["Reroll"], user=member)

    assert await pressed.acknowledged(within=3.0)
    again = await pressed.final(timeout=15, until=outcome)
    assert again.id != result.id
    assert len(again.files) == 2
    assert len(image_api.requests) == requests_before + 1  # a new request: `first` is not read back again
    assert image_api.last_request.json == first
    assert not discord_api.message(result.id).deleted


async def test_edit_asks_for_a_prompt_and_edits_the_chosen_image(
    discord_api, image_api, bot, member, guild, result
) -> None:
    opened = await discord_api.click(result, buttons(result)["Edit"], user=member)

    fields = await form_fields(opened)
    assert set(fields) == {"Prompt", "Which image"}
    submitted = await discord_api.submit_modal(opened, {fields["Prompt"]: "add a moon", fields["Which image"]: ["1"]})
    edited = await submitted.final(timeout=15, until=outcome)
    assert len(edited.files) == 1
    sent = image_api.last_request
    assert sent.input_images == [result.files[1].data]
    assert (sent.json["prompt"], sent.json["model"], sent.json["size"]) == (
        "add a moon",
        "gemini-3-pro-image-preview",
        "1792x1024",
    )


async def test_upscale_renders_the_chosen_image_at_4k(discord_api, image_api, bot, member, guild, result) -> None:
    opened = await discord_api.click(result, buttons(result)["Upscale"], user=member)

    fields = await form_fields(opened)
    assert set(fields) == {"Which image"}
    submitted = await discord_api.submit_modal(opened, {fields["Which image"]: ["0"]})
    upscaled = await submitted.final(timeout=20, until=outcome)
    sent = image_api.last_request
    assert sent.json["quality"] == "4k"
    assert sent.json["n"] == 1
    assert sent.input_images == [result.files[0].data]
    assert [image_size(file) for file in upscaled.files] == [(7168, 4096)]
    assert upscaled.embeds[0]["description"] == catalogue.text("en-US", "result.upscaled")
    assert embed_fields(upscaled.embeds[0])["Quality"] == "4k"


async def test_upscale_of_a_single_image_needs_no_form(discord_api, image_api, bot, member, guild) -> None:
    single = await (
        await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "one small boat"})
    ).final(timeout=15, until=outcome)

    pressed = await discord_api.click(single, buttons(single)["Upscale"], user=member)

    upscaled = await pressed.final(timeout=20, until=outcome)
    assert pressed.modal is None
    assert [image_size(file) for file in upscaled.files] == [(4096, 4096)]
    assert image_api.last_request.input_images == [single.files[0].data]


async def test_the_requester_deletes_the_result(discord_api, bot, member, guild, result) -> None:
    pressed = await discord_api.click(result, buttons(result)["Delete"], user=member)

    assert await pressed.acknowledged(within=3.0)
    await pressed.final(timeout=5, until=lambda state: state.deleted)
    assert discord_api.message(result.id).deleted


@pytest.mark.parametrize("label", ["Reroll", "Edit", "Upscale", "Delete"])
async def test_another_member_is_told_the_buttons_are_not_theirs(
    discord_api, image_api, bot, member, guild, result, label
) -> None:
    other = discord_api.add_user("bystander", guild_id=guild.id)
    requests_before = len(image_api.requests)

    pressed = await discord_api.click(result, buttons(result)[label], user=other)

    answer = await pressed.final(timeout=5, until=outcome)
    assert pressed.ephemeral
    assert answer.content == catalogue.text("en-US", "error.not_yours", owner=member.id)
    assert pressed.modal is None
    assert not discord_api.message(result.id).deleted
    assert len(image_api.requests) == requests_before


async def test_a_moderator_may_delete_someone_elses_result(discord_api, bot, member, guild, result) -> None:
    moderator = discord_api.add_user(
        "moderator", permissions=permissions.VIEW_CHANNEL | permissions.MANAGE_MESSAGES, guild_id=guild.id
    )

    pressed = await discord_api.click(result, buttons(result)["Delete"], user=moderator)

    await pressed.final(timeout=5, until=lambda state: state.deleted)
    assert discord_api.message(result.id).deleted


async def test_a_moderator_may_not_reroll_someone_elses_result(discord_api, image_api, bot, member, guild, result):
    moderator = discord_api.add_user(
        "moderator2", permissions=permissions.VIEW_CHANNEL | permissions.MANAGE_MESSAGES, guild_id=guild.id
    )

    pressed = await discord_api.click(result, buttons(result)["Reroll"], user=moderator)

    answer = await pressed.final(timeout=5, until=outcome)
    assert answer.content == catalogue.text("en-US", "error.not_yours", owner=member.id)
