"""The /imagine command as Discord registered it: option types, choices and limits."""

STRING, INTEGER = 3, 4
GUILD_CONTEXT = 0


def options_by_name(command: dict) -> dict[str, dict]:
    return {option["name"]: option for option in command["options"]}


def choices(option: dict) -> dict[str, str]:
    return {choice["name"]: choice["value"] for choice in option["choices"]}


async def test_imagine_is_registered_for_the_dev_guild(discord_api, bot, guild) -> None:
    names = [command["name"] for command in discord_api.commands(guild_id=guild.id)]
    assert names == ["imagine"]


async def test_imagine_options_have_types_choices_and_limits(discord_api, bot, guild) -> None:
    (imagine,) = discord_api.commands(guild_id=guild.id)
    options = options_by_name(imagine)

    assert list(options) == ["prompt", "model", "count", "size", "quality", "style"]
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
    assert choices(options["style"]) == {"Vivid": "vivid", "Natural": "natural"}
    assert not any(option.get("required") for name, option in options.items() if name != "prompt")


async def test_imagine_is_offered_in_servers_only(discord_api, bot, guild) -> None:
    (imagine,) = discord_api.commands(guild_id=guild.id)
    assert imagine["contexts"] == [GUILD_CONTEXT]
