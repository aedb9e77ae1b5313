"""How a limit's value reads for moderators: every word from the catalogue, ids as mentions, money in dollars."""

from collections.abc import Callable, Iterable
from typing import Any

import discord

from bot.app.i18n import catalogue
from bot.core.limits import SPECS, Kind, LimitValue
from bot.core.pricing import micro_to_dollars

Locale = discord.Locale | str


def display(name: str, value: LimitValue, locale: Locale) -> str:
    """Limit `name`'s value as moderators read it in `locale`."""
    return _WORDING[SPECS[name].kind](value, locale)


def channel_mentions(channel_ids: Iterable[int]) -> str:
    """Channels as mentions, which Discord shows by name in each member's language."""
    return ", ".join(f"<#{channel}>" for channel in channel_ids)


def _word(locale: Locale, word: str) -> str:
    return catalogue.text(locale, f"limits.value.{word}")


def _listed(items: Iterable[str], locale: Locale, empty: str) -> str:
    """Items one after the other, or the word for none of them (`all` or `none`)."""
    return ", ".join(items) or _word(locale, empty)


# Each kind's value as it reads; 0 and empty read as what they mean for that kind (unlimited, none, every one).
_WORDING: dict[Kind, Callable[[Any, Locale], str]] = {
    Kind.COUNT: lambda value, locale: str(value) if value else _word(locale, "unlimited"),
    Kind.MONEY: lambda value, locale: micro_to_dollars(value) if value else _word(locale, "unlimited"),
    Kind.SECONDS: lambda value, locale: (
        catalogue.text(locale, "limits.value.seconds", seconds=value) if value else _word(locale, "none")
    ),
    Kind.QUALITY: lambda value, _: str(value),
    Kind.MODELS: lambda value, locale: _listed((f"`{model}`" for model in value), locale, "all"),
    Kind.FLAG: lambda value, locale: _word(locale, "yes" if value else "no"),
    Kind.CHANNELS: lambda value, locale: channel_mentions(value) or _word(locale, "all"),
    Kind.ROLES: lambda value, locale: _listed((f"<@&{role}>" for role in value), locale, "none"),
    Kind.ROLE_QUOTAS: lambda value, locale: _listed(
        (f"<@&{role}>: {images}" for role, images in value), locale, "none"
    ),
    Kind.WORDS: lambda value, locale: _listed((f"`{word}`" for word in value), locale, "none"),
    Kind.STYLES: lambda value, locale: _listed((f"`{name}`" for name, _ in value), locale, "none"),
}
