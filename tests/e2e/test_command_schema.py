"""The commands as Discord registered them: option types, choices and limits."""

STRING, INTEGER, BOOLEAN, ATTACHMENT = 3, 4, 5, 11
MANAGE_GUILD, ADMINISTRATOR = 1 << 5, 1 << 3
CHAT_INPUT, MESSAGE = 1, 3
GUILD_CONTEXT = 0


def options_by_name(command: dict) -> dict[str, dict]:
    return {option["name"]: option for option in command["options"]}


def choices(option: dict) -> dict[str, str]:
    return {choice["name"]: choice["value"] for choice in option["choices"]}


def command(discord_api, guild, name: str) -> dict:
    return next(command for command in discord_api.commands(guild_id=guild.id) if command["name"] == name)


async def test_the_commands_are_registered_for_the_dev_guild(discord_api, bot, guild) -> None:
    registered = {command["name"]: command["type"] for command in discord_api.commands(guild_id=guild.id)}
    assert registered == {
        "imagine": CHAT_INPUT,
        "edit": CHAT_INPUT,
        "Edit image": MESSAGE,
        "limits": CHAT_INPUT,
        "usage": CHAT_INPUT,
        "admin": CHAT_INPUT,
        "quota": CHAT_INPUT,
        "history": CHAT_INPUT,
        "show": CHAT_INPUT,
        "settings": CHAT_INPUT,
        "styles": CHAT_INPUT,
        "help": CHAT_INPUT,
    }


async def test_moderator_and_admin_commands_are_hidden_by_default(discord_api, bot, guild) -> None:
    hidden = {
        command["name"]: command["default_member_permissions"]
        for command in discord_api.commands(guild_id=guild.id)
        if command.get("default_member_permissions") is not None
    }
    assert hidden == {
        "limits": str(MANAGE_GUILD),
        "styles": str(MANAGE_GUILD),
        "usage": str(MANAGE_GUILD),
        "admin": str(ADMINISTRATOR),
    }


async def test_imagine_options_have_types_choices_and_limits(discord_api, bot, guild) -> None:
    options = options_by_name(command(discord_api, guild, "imagine"))

    assert list(options) == ["prompt", "model", "count", "size", "quality", "style", "private"]
    assert options["private"]["type"] == BOOLEAN
    assert options["prompt"]["type"] == STRING
    assert options["prompt"]["required"] is True
    assert (options["prompt"]["min_length"], options["prompt"]["max_length"]) == (1, 1000)
    assert choices(options["model"]) == {
        "gemini-3-pro-image-preview": "gemini-3-pro-image-preview",
        "gemini-2.5-flash-image": "gemini-2.5-flash-image",
    }
    assert options["count"]["type"] == INTEGER
    assert (options["count"]["min_value"], options["count"]["max_value"]) == (1, 10)
    assert choices(options["size"]) == {
        "Square 1:1 (1024x1024)": "1024x1024",
        "Landscape 16:9 (1792x1024)": "1792x1024",
        "Portrait 9:16 (1024x1792)": "1024x1792",
        "Landscape 3:2 (1536x1024)": "1536x1024",
        "Portrait 2:3 (1024x1536)": "1024x1536",
        "Landscape 4:3 (1280x960)": "1280x960",
        "Portrait 3:4 (960x1280)": "960x1280",
    }
    assert choices(options["quality"]) == {"1K": "1k", "2K": "2k", "4K": "4k"}
    assert options["style"]["autocomplete"] is True  # the API's styles, the operator's and the server's own
    assert not any(option.get("required") for name, option in options.items() if name != "prompt")


async def test_edit_options_put_the_pictures_after_the_prompt(discord_api, bot, guild) -> None:
    options = options_by_name(command(discord_api, guild, "edit"))

    assert list(options) == [
        "prompt",
        "image",
        "image2",
        "image3",
        "image4",
        "model",
        "count",
        "size",
        "quality",
        "private",
    ]
    assert [options[name]["type"] for name in ("image", "image2", "image3", "image4")] == [ATTACHMENT] * 4
    assert [name for name, option in options.items() if option.get("required")] == ["prompt", "image"]
    assert options["prompt"]["max_length"] == 1000
    assert choices(options["quality"]) == {"1K": "1k", "2K": "2k", "4K": "4k"}


async def test_limit_choices_show_labels_and_send_the_limits_id(discord_api, bot, guild) -> None:
    subcommands = options_by_name(command(discord_api, guild, "limits"))
    offered = {sub: choices(options_by_name(subcommands[sub])["name"]) for sub in ("set", "reset")}

    assert offered["set"]["Images per member per day"] == "user_daily_images"
    assert offered["reset"]["Moderator roles"] == "moderator_roles"
    assert "moderator_roles" not in offered["set"].values()  # list limits change through their own commands
    assert not any(label == value for labels in offered.values() for label, value in labels.items())


async def test_every_command_is_offered_in_servers_only(discord_api, bot, guild) -> None:
    commands = discord_api.commands(guild_id=guild.id)
    assert commands, "no command is registered"  # else `all` below holds of nothing
    assert all(command["contexts"] == [GUILD_CONTEXT] for command in commands)
