"""A member whose Discord speaks Simplified Chinese sees the commands, answers and buttons in Chinese."""

from bot.app.i18n import catalogue
from tests.e2e.helpers import buttons, embed_fields, outcome

ZH = "zh-CN"
DEFAULT_MODEL = "gemini-3-pro-image-preview"


def registered(discord_api, guild, name: str) -> dict:
    return next(command for command in discord_api.commands(guild_id=guild.id) if command["name"] == name)


async def test_imagine_is_registered_with_chinese_names_and_descriptions(discord_api, bot, guild) -> None:
    imagine = registered(discord_api, guild, "imagine")

    assert imagine["name_localizations"][ZH] == catalogue.text(ZH, "command.imagine.name")
    assert imagine["description_localizations"][ZH] == catalogue.text(ZH, "command.imagine.description")
    for option in imagine["options"]:
        key = f"command.imagine.option.{option['name']}"
        assert option["name_localizations"][ZH] == catalogue.text(ZH, f"{key}.name")
        described = catalogue.text(ZH, f"{key}.description", model=DEFAULT_MODEL)  # the model option names it
        assert option["description_localizations"][ZH] == described
    size = next(option for option in imagine["options"] if option["name"] == "size")
    landscape = next(choice for choice in size["choices"] if choice["value"] == "1792x1024")
    assert landscape["name_localizations"][ZH] == catalogue.text(ZH, "command.choice.size.1792x1024")


async def test_limit_choices_are_registered_with_chinese_labels(discord_api, bot, guild) -> None:
    limits = registered(discord_api, guild, "limits")

    set_command = next(option for option in limits["options"] if option["name"] == "set")
    name = next(option for option in set_command["options"] if option["name"] == "name")
    daily = next(choice for choice in name["choices"] if choice["value"] == "user_daily_images")
    assert daily["name_localizations"][ZH] == catalogue.text(ZH, "limit.user_daily_images")


async def test_the_message_menu_has_a_chinese_name(discord_api, bot, guild) -> None:
    menu = registered(discord_api, guild, "Edit image")

    assert menu["name_localizations"][ZH] == catalogue.text(ZH, "command.edit_image.name")


async def test_a_refusal_is_worded_in_chinese(discord_api, image_api, bot, member, guild) -> None:
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "   "}, locale=ZH)

    message = await reply.final(timeout=5, until=outcome)
    assert reply.ephemeral
    assert message.content == catalogue.text(ZH, "error.prompt_empty")
    assert image_api.requests == []


async def test_a_result_has_chinese_fields_and_buttons(discord_api, image_api, bot, member, guild) -> None:
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "一座灯塔"}, locale=ZH)

    message = await reply.final(timeout=15, until=outcome)
    assert set(buttons(message)) >= {catalogue.text(ZH, f"button.{action}") for action in ("reroll", "edit")}
    assert catalogue.text(ZH, "result.model") in embed_fields(message.embeds[0])
