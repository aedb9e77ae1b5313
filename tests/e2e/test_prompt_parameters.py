"""Options typed into the prompt (`--ar 16:9 --q 2k --n 2 --no text`), as members of other image bots type them."""

from bot.app.i18n import catalogue
from tests.e2e.helpers import embed_fields, form_fields, image_size, outcome, png_bytes


async def test_typed_parameters_reach_the_api_as_options_and_leave_the_prompt(
    discord_api, image_api, bot, member, guild
) -> None:
    prompt = "a harbour at dawn --ar 16:9 --q 2k --n 2 --no text, boats"
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": prompt})

    message = await reply.final(timeout=15, until=outcome)
    sent = image_api.last_request.json
    assert (sent["size"], sent["quality"], sent["n"]) == ("1792x1024", "2k", 2)
    assert sent["prompt"] == "a harbour at dawn\n\nDo not include: text, boats."
    assert [image_size(file) for file in message.files] == [(3584, 2048)] * 2
    assert embed_fields(message.embeds[0])["Size"] == "3584x2048 (16:9)"
    assert "--ar" not in message.embeds[0]["description"]


async def test_an_option_chosen_in_the_command_wins_over_a_typed_one(
    discord_api, image_api, bot, member, guild
) -> None:
    options = {"prompt": "a quiet lake --n 3 --q 2k", "count": 1, "quality": "1k"}
    reply = await discord_api.slash("imagine", user=member, guild=guild, options=options)

    await reply.final(timeout=15, until=outcome)
    sent = image_api.last_request.json
    assert (sent["n"], sent["quality"], sent["prompt"]) == (1, "1k", "a quiet lake")


async def test_an_invalid_parameter_is_refused_by_name_without_calling_the_api(
    discord_api, image_api, bot, member, guild
) -> None:
    for locale in ("en-US", "zh-CN"):
        reply = await discord_api.slash(
            "imagine", user=member, guild=guild, options={"prompt": "a lake --ar 5:4"}, locale=locale
        )
        message = await reply.final(timeout=5, until=outcome)
        assert reply.ephemeral
        allowed = "1:1, 16:9, 9:16, 3:2, 2:3, 4:3, 3:4"
        expected = catalogue.text(
            locale, "error.prompt_parameter.value", parameter="--ar", value="5:4", allowed=allowed
        )
        assert message.content == expected
    unknown = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a lake --chaos 9"})
    said = (await unknown.final(timeout=5, until=outcome)).content
    assert said == catalogue.text("en-US", "error.prompt_parameter.unknown", parameter="--chaos")
    assert image_api.requests == []


async def test_parameters_work_in_the_edit_image_form_when_its_choices_are_left(
    discord_api, image_api, bot, member, guild
) -> None:
    posted = discord_api.post_message(guild.default_channel.id, member, "look", attachments=[("one.png", png_bytes())])
    opened = await discord_api.context_menu("Edit image", user=member, message=posted, guild=guild)
    fields = await form_fields(opened)

    submitted = await discord_api.submit_modal(opened, {fields["Prompt"]: "as ink --n 2 --q 2k"})

    message = await submitted.final(timeout=15, until=outcome)
    assert len(message.files) == 2
    sent = image_api.last_request.json
    assert (sent["prompt"], sent["n"], sent["quality"]) == ("as ink", 2, "2k")
