"""A member's own defaults (/settings): checked when they are set, and filled into what the member leaves out of a
request before the server's and the operator's defaults apply."""

import dataclasses
from collections.abc import Collection, Mapping

from bot.core.errors import InvalidChoice
from bot.core.generation import known_model, normal_choice, normal_size
from bot.core.imageapi import QUALITIES
from bot.core.request import ImageRequest
from bot.core.storage import MemberDefaults
from bot.core.styles import style_name

DEFAULTED = ("model", "size", "quality", "style", "private")  # the options a member may set a default for


def checked_defaults(defaults: MemberDefaults, models: tuple[str, ...], styles: Collection[str]) -> MemberDefaults:
    """The defaults with canonical values; InvalidChoice names an option set to a value that is none of its own."""
    model = defaults.model
    if model is not None and (model := known_model(model, models)) is None:
        raise InvalidChoice("model", defaults.model or "", models)
    style = defaults.style
    if style is not None and (style := style_name(style)) not in styles:
        raise InvalidChoice("style", defaults.style or "", tuple(styles))
    return dataclasses.replace(
        defaults,
        model=model,
        size=normal_size(defaults.size),
        quality=normal_choice("quality", defaults.quality, QUALITIES),
        style=style,
    )


def with_defaults(
    ask: ImageRequest, defaults: MemberDefaults, models: Collection[str], styles: Mapping[str, object]
) -> tuple[ImageRequest, frozenset[str]]:
    """`ask` with each option the member left out taken from their defaults, and the names of those taken.

    A default this server doesn't offer (a model it doesn't allow, a style it hasn't got) is passed over: the
    member didn't ask for it here, so it mustn't refuse their request.
    """
    usable = {
        "model": defaults.model in models,
        "size": True,
        "quality": True,
        "style": defaults.style in styles,
        "private": True,
    }
    taken = {
        name: value
        for name in DEFAULTED
        if getattr(ask, name) is None and (value := getattr(defaults, name)) is not None and usable[name]
    }
    return dataclasses.replace(ask, **taken), frozenset(taken)
