"""Styles: the spec's own (`vivid`, `natural`, sent as its `style` field) and named prompt templates, the
operator's (`STYLES_FILE`) and each server's (its moderators', stored as the `styles` limit).

A template style is applied in the core before the prompt is checked, so a template can't carry a blocked word
past the check. A server's style of the same name as the operator's wins, in that server.
"""

import dataclasses
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass

from bot.core.errors import InvalidChoice, InvalidStyle
from bot.core.request import STYLES, ImageRequest

PLACEHOLDER = "{prompt}"
MAX_NAME = 32  # what an autocomplete choice shows comfortably
MAX_TEMPLATE = 1000
MAX_SERVER_STYLES = 25  # as many as one autocomplete list shows
NAME_PUNCTUATION = frozenset(" -_")


@dataclass(frozen=True, slots=True)
class Style:
    name: str  # lower case, as members type it
    template: str  # holds PLACEHOLDER at least once


def style_name(text: str) -> str:
    """A style's name as it is kept and matched: spaces collapsed, case folded."""
    return " ".join(text.split()).casefold()


def check_style(name: str, template: str) -> Style:
    """A style as a moderator or the operator wrote it, checked; raises InvalidStyle saying what is wrong."""
    name = style_name(name)
    if not name or len(name) > MAX_NAME or not all(char.isalnum() or char in NAME_PUNCTUATION for char in name):
        raise InvalidStyle("name", name)
    if name in STYLES:
        raise InvalidStyle("reserved", name)
    template = template.strip()
    if PLACEHOLDER not in template or len(template) > MAX_TEMPLATE:
        raise InvalidStyle("template", name)
    return Style(name, template)


def load_styles(text: str) -> tuple[Style, ...]:
    """The styles of a STYLES_FILE (TOML: `[[styles]]` tables of `name` and `template`); raises ValueError naming
    the table and field of the first problem."""
    try:
        tables = tomllib.loads(text).get("styles", [])
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"not valid TOML: {error}") from None
    if not isinstance(tables, list):
        raise ValueError("`styles` must be an array of tables: [[styles]]")
    styles: dict[str, Style] = {}
    for number, table in enumerate(tables, start=1):
        fields = {key: table.get(key) if isinstance(table, dict) else None for key in ("name", "template")}
        for key, value in fields.items():
            if not isinstance(value, str):
                raise ValueError(f"style {number}: `{key}` must be a string")
        try:
            style = check_style(str(fields["name"]), str(fields["template"]))
        except InvalidStyle as error:
            raise ValueError(f"style {number} ({fields['name']!r}): {error}") from None
        if style.name in styles:
            raise ValueError(f"style {number}: {style.name!r} is named twice")
        styles[style.name] = style
    return tuple(styles.values())


def available(server: Iterable[tuple[str, str]], operator: Iterable[Style]) -> dict[str, Style | None]:
    """Every style a member may choose here, by name: the spec's (None: sent as its `style` field), then the
    operator's and the server's templates."""
    styles: dict[str, Style | None] = dict.fromkeys(STYLES)
    styles.update({style.name: style for style in operator})
    styles.update({name: Style(name, template) for name, template in server})
    return styles


def apply_style(request: ImageRequest, styles: dict[str, Style | None]) -> tuple[ImageRequest, str | None]:
    """The request as the API gets it, and the name of the style it was made in (None: no style).

    A template style puts the prompt into its template and leaves the API's `style` unset; the spec's own styles
    are sent as they are. An unknown name is refused, listing the ones there are.
    """
    if request.style is None:
        return request, None
    name = style_name(request.style)
    if name not in styles:
        raise InvalidChoice("style", request.style, tuple(styles))
    if (style := styles[name]) is None:
        return dataclasses.replace(request, style=name), name
    return dataclasses.replace(request, prompt=style.template.replace(PLACEHOLDER, request.prompt), style=None), name
