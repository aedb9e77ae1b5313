"""The options /imagine and /edit share, and the part of them each deployment sets: the models offered, the
longest prompt, how many picture options /edit has."""

import dataclasses
from typing import Any

from discord import AppCommandOptionType, Interaction, Locale, app_commands
from discord.app_commands import Choice, locale_str

from bot.app.i18n import catalogue
from bot.app.i18n.command_text import label
from bot.app.render import shorten
from bot.core.generation import RequestRules
from bot.core.imageapi import QUALITIES
from bot.core.request import ASPECT_SIZES, STYLES
from bot.core.styles import Style

DESCRIPTION_LIMIT = 100  # Discord's limit for command and option descriptions
SIZE_CHOICES = [Choice(name=label(f"command.choice.size.{size}"), value=size) for size in ASPECT_SIZES.values()]
QUALITY_CHOICES = [Choice(name=quality.upper(), value=quality) for quality in QUALITIES]  # the same in every language
PROMPT_LIMIT = 6000  # Discord's own longest string option; each deployment sets its own below it
MAX_AUTOCOMPLETE = 25  # choices Discord shows


class PromptText(app_commands.Transformer):
    """A string option whose length limit Discord shows and enforces in its UI.

    discord.py's `Range` would refuse an over-long value with a generic error; this passes it on so
    that the core's own check answers with the specific message.
    """

    @property
    def type(self) -> AppCommandOptionType:
        return AppCommandOptionType.string

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return PROMPT_LIMIT

    async def transform(self, interaction: Interaction, value: str) -> str:
        return value


def fit_to_rules(command: app_commands.Command[Any, ..., Any], path: str, rules: RequestRules) -> None:
    """Offer the deployment's models (its default named in the description) and its prompt limit."""
    offer_models(command, path, rules)
    _change(command, prompt={"max_value": rules.prompt_max_length})


def offer_models(command: app_commands.Command[Any, ..., Any], path: str, rules: RequestRules) -> None:
    """Offer the deployment's models in the command's `model` option, its default named in the description."""
    described = label(f"command.{path}.option.model.description", model=rules.default_model)
    _change(
        command,
        model={
            "choices": [Choice(name=model, value=model) for model in rules.models],
            "description": locale_str(shorten(described.message, DESCRIPTION_LIMIT), **described.extras),
        },
    )


def drop_options(command: app_commands.Command[Any, ..., Any], *names: str) -> None:
    """Remove options a deployment doesn't offer (their parameters keep their defaults)."""
    for name in names:
        del command._params[name]  # discord.py has no public way to change a built command's options


def _change(command: app_commands.Command[Any, ..., Any], **changes: dict[str, Any]) -> None:
    # a cog's commands are per-instance copies, but their parameters are shared: replace, never mutate
    for name, fields in changes.items():
        command._params[name] = dataclasses.replace(command._params[name], **fields)


def style_choices(styles: dict[str, Style | None], typed: str, locale: Locale) -> list[Choice[str]]:
    """The styles whose name holds what the member has typed so far, the spec's own named in their language."""
    wanted = typed.strip().casefold()
    names = [name for name in styles if wanted in name]
    return [
        Choice(name=catalogue.text(locale, f"command.choice.style.{name}") if name in STYLES else name, value=name)
        for name in names[:MAX_AUTOCOMPLETE]
    ]
