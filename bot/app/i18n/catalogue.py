"""Every text the bot shows, by key and locale, with en-US as the fallback."""

import json
import string
from functools import cache
from pathlib import Path

FALLBACK = "en-US"
LOCALES_DIR = Path(__file__).with_name("locales")


@cache
def _strings(locale: str) -> dict[str, str]:
    path = LOCALES_DIR / f"{locale}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def text(locale: object, key: str, **params: object) -> str:
    """The text for `key` in `locale` (a discord.Locale or its value), filled with `params`."""
    template = _strings(str(locale)).get(key) or _strings(FALLBACK)[key]
    return template.format(**params) if params else template


def keys(locale: str) -> set[str]:
    """Every key a locale's catalogue defines."""
    return set(_strings(locale))


def placeholders(locale: str, key: str) -> set[str]:
    """The `{names}` a text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(_strings(locale)[key]) if name}


def lookup(locale: str, key: str, **params: object) -> str | None:
    """The text for `key` in `locale` itself, without the en-US fallback; None when that locale lacks it."""
    template = _strings(locale).get(key)
    if template is None:
        return None
    return template.format(**params) if params else template
