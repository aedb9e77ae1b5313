"""Command texts Discord shows (names, descriptions, options), taken from the catalogue by key.

The English text comes from en-US, so a command is defined by its key path alone and the translator finds the
same key in other languages (see `translator.py` for the key scheme).
"""

from typing import TypedDict

from discord.app_commands import locale_str

from bot.app.i18n import catalogue


def label(key: str, **params: object) -> locale_str:
    """One command text: en-US from the catalogue, keyed (with its placeholders) for the translator."""
    return locale_str(catalogue.text(catalogue.FALLBACK, key, **params), key=key, **params)


class CommandNames(TypedDict):
    name: locale_str
    description: locale_str


def names(path: str) -> CommandNames:
    """`name=` and `description=` for the command or subcommand at `path` (e.g. "limits.set")."""
    return {"name": label(f"command.{path}.name"), "description": label(f"command.{path}.description")}


def option_names(path: str, *options: str) -> dict[str, locale_str]:
    """Keyword arguments for `app_commands.rename`: each option's display name."""
    return {option: label(f"command.{path}.option.{option}.name") for option in options}


def option_descriptions(path: str, *options: str) -> dict[str, locale_str]:
    """Keyword arguments for `app_commands.describe`: each option's description."""
    return {option: label(f"command.{path}.option.{option}.description") for option in options}
