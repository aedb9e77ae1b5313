"""Unit tests of the loopback Discord's rule modules: snowflakes, command schemas, message limits, error trees."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.loopback.discord import limits
from tests.loopback.discord.cdn import sniff_content_type
from tests.loopback.discord.commands import validate_command, validate_commands
from tests.loopback.discord.errors import FormErrors
from tests.loopback.discord.snowflakes import DISCORD_EPOCH_MS, SnowflakeGenerator, snowflake_time


def codes(errors: FormErrors) -> dict[str, str]:
    """Error codes by dotted path."""
    return {".".join(str(part) for part in path): code for path, code, _ in errors}


def option(**fields: Any) -> dict[str, Any]:
    """A string option with a name and description, overridden by ``fields``."""
    return {"type": 3, "name": "prompt", "description": "What to draw", **fields}


def test_snowflakes_are_increasing_and_carry_time() -> None:
    ids = SnowflakeGenerator()
    values = [ids.next() for _ in range(5000)]
    assert values == sorted(set(values))
    now = datetime.datetime.now(datetime.UTC)
    assert abs((snowflake_time(values[-1]) - now).total_seconds()) < 5
    assert snowflake_time(0) == datetime.datetime.fromtimestamp(DISCORD_EPOCH_MS / 1000, tz=datetime.UTC)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ({"name": "Imagine", "description": "d"}, {"name": "APPLICATION_COMMAND_INVALID_NAME"}),
        ({"name": "two words", "description": "d"}, {"name": "APPLICATION_COMMAND_INVALID_NAME"}),
        ({"name": "x" * 33, "description": "d"}, {"name": "APPLICATION_COMMAND_INVALID_NAME"}),
        ({"name": "imagine", "description": ""}, {"description": "BASE_TYPE_BAD_LENGTH"}),
        ({"name": "imagine", "description": "d" * 101}, {"description": "BASE_TYPE_BAD_LENGTH"}),
        (
            {"name": "imagine", "description": "d", "options": [option(max_length=6001)]},
            {"options.0.max_length": "NUMBER_TYPE_MAX"},
        ),
        (
            {
                "name": "imagine",
                "description": "d",
                "options": [option(required=False), option(name="b", required=True)],
            },
            {"options.1.required": "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID"},
        ),
        (
            {
                "name": "imagine",
                "description": "d",
                "options": [option(choices=[{"name": str(i), "value": str(i)} for i in range(26)])],
            },
            {"options.0.choices": "BASE_TYPE_MAX_LENGTH"},
        ),
        (
            {
                "name": "imagine",
                "description": "d",
                "options": [option(autocomplete=True, choices=[{"name": "a", "value": "a"}])],
            },
            {"options.0.autocomplete": "APPLICATION_COMMAND_AUTOCOMPLETE_CHOICES_EXCLUSIVE"},
        ),
        (
            {"name": "imagine", "description": "d", "options": [option(type=4, choices=[{"name": "a", "value": "a"}])]},
            {"options.0.choices.0.value": "NUMBER_TYPE_COERCE"},
        ),
        (
            {"name": "imagine", "description": "d", "options": [option(), option()]},
            {"options.1.name": "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS"},
        ),
        (
            {"name": "Edit image", "type": 3, "description": "no"},
            {"description": "APPLICATION_COMMAND_INVALID_DESCRIPTION"},
        ),
        (
            {"name": "imagine", "description": "d", "name_localizations": {"xx": "bild"}},
            {"name_localizations.xx": "LOCALE_INVALID"},
        ),
        (
            {"name": "imagine", "description": "d", "name_localizations": {"de": "Bild"}},
            {"name_localizations.de": "APPLICATION_COMMAND_INVALID_NAME"},
        ),
        (
            {
                "name": "admin",
                "description": "d",
                "options": [{"type": 2, "name": "g", "description": "g", "options": [option()]}],
            },
            {"options.0.options.0.type": "BASE_TYPE_CHOICES"},
        ),
    ],
)
def test_command_validation(command: dict[str, Any], expected: dict[str, str]) -> None:
    assert codes(validate_command(command)) == expected


def test_valid_commands_pass() -> None:
    commands = [
        {
            "name": "imagine",
            "description": "Create images",
            "name_localizations": {"zh-CN": "画图", "de": "bild"},
            "description_localizations": {"zh-CN": "生成图片"},
            "default_member_permissions": 32,
            "options": [
                option(required=True, max_length=6000, min_length=1),
                {"type": 4, "name": "count", "description": "n", "min_value": 1, "max_value": 4},
                {"type": 11, "name": "image", "description": "input"},
                option(name="size", choices=[{"name": "square", "value": "1024x1024"}]),
            ],
        },
        {"name": "Edit image", "type": 3},
        {"name": "Avatar", "type": 2, "description": ""},
    ]
    assert not validate_commands(commands)


def test_duplicate_names_and_counts() -> None:
    errors = validate_commands([{"name": "a", "description": "d"}, {"name": "a", "description": "d"}])
    assert codes(errors) == {"1.name": "APPLICATION_COMMANDS_DUPLICATE_NAME"}
    menus = [{"name": f"Menu {index}", "type": 3} for index in range(16)]
    assert codes(validate_commands(menus)) == {"": "BASE_TYPE_MAX_LENGTH"}
    assert codes(validate_commands({"name": "a"})) == {"": "BASE_TYPE_ARRAY"}


def test_message_limits_at_the_edges() -> None:
    fits = {
        "content": "c" * 2000,
        "embeds": [
            {
                "title": "t" * 256,
                "description": "d" * 3000,
                "fields": [{"name": "n", "value": "v" * 100}] * 25,
                "footer": {"text": "f" * 100},
                "author": {"name": "a" * 100},
            }
        ],
    }
    assert limits.embed_size(fits["embeds"][0]) == 256 + 3000 + 25 * 101 + 200
    assert not limits.check_message(fits)
    over = {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}
    assert codes(limits.check_message(over)) == {"embeds.0.fields": "BASE_TYPE_MAX_LENGTH"}
    empty_field = {"embeds": [{"fields": [{"name": "", "value": "v"}]}]}
    assert codes(limits.check_message(empty_field)) == {"embeds.0.fields.0.name": "BASE_TYPE_REQUIRED"}


def test_component_limits() -> None:
    def button(custom_id: str) -> dict[str, Any]:
        return {"type": 2, "style": 1, "label": "b", "custom_id": custom_id}

    row = {"type": 1, "components": [button(str(index)) for index in range(6)]}
    assert codes(limits.check_message({"components": [row]})) == {
        "components.0.components": "COMPONENT_LAYOUT_WIDTH_EXCEEDED"
    }
    duplicated = {"type": 1, "components": [button("same"), button("same")]}
    assert codes(limits.check_message({"components": [duplicated]})) == {
        "components.0.components.1.custom_id": "COMPONENT_CUSTOM_ID_DUPLICATED"
    }
    link = {"type": 1, "components": [{"type": 2, "style": 5, "label": "docs"}]}
    assert codes(limits.check_message({"components": [link]})) == {
        "components.0.components.0.url": "BUTTON_COMPONENT_URL_REQUIRED"
    }
    container = {"type": 17, "components": [{"type": 10, "content": "x"}] * 41}
    assert codes(limits.check_message({"flags": 1 << 15, "components": [container]})) == {
        "components": "BASE_TYPE_MAX_LENGTH"
    }


def test_modal_limits() -> None:
    text_input = {"type": 4, "custom_id": "prompt", "label": "l" * 46, "style": 1}
    modal = {"custom_id": "m", "title": "t" * 46, "components": [{"type": 1, "components": [text_input]}]}
    assert codes(limits.check_modal(modal)) == {
        "data.title": "BASE_TYPE_MAX_LENGTH",
        "data.components.0.components.0.label": "BASE_TYPE_MAX_LENGTH",
    }


def test_error_tree_shape() -> None:
    errors = FormErrors()
    errors.add(("embeds", 0, "title"), "BASE_TYPE_MAX_LENGTH", "Must be 256 or fewer in length.")
    errors.add(("content",), "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    assert errors.to_dict() == {
        "embeds": {
            "0": {
                "title": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 256 or fewer in length."}]}
            }
        },
        "content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]},
    }


def test_content_type_sniffing() -> None:
    assert sniff_content_type(b"\x89PNG\r\n\x1a\n....", "x.bin") == "image/png"
    assert sniff_content_type(b"\xff\xd8\xff\xe0", "x.png") == "image/jpeg"
    assert sniff_content_type(b"RIFF\0\0\0\0WEBPVP8 ", "x") == "image/webp"
    assert sniff_content_type(b"hello", "notes.txt") == "text/plain"
    assert sniff_content_type(b"\0\1", "blob") == "application/octet-stream"
