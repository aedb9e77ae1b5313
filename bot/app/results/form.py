"""The form that asks for what a button or menu can't: the prompt, which picture, how many, what quality."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from bot.app.errors import report_failure
from bot.app.i18n import catalogue
from bot.core.errors import InvalidChoice
from bot.core.generation import MAX_COUNT
from bot.core.imageapi import QUALITIES

if TYPE_CHECKING:
    from bot.app.client import ImageBot

FORM_TIMEOUT = 15 * 60  # a form left open this long is forgotten; Discord's interaction token dies then too
MAX_SELECT_OPTIONS = 25


@dataclass(frozen=True, slots=True)
class FormAnswers:
    prompt: str = ""
    picture: int = 0  # index of the chosen picture among those offered
    count: int | None = None  # None: left unchosen, so a prompt parameter or the default applies
    quality: str | None = None


Submit = Callable[["discord.Interaction[ImageBot]", FormAnswers], Awaitable[None]]


class JobForm(discord.ui.Modal):
    """A modal with the fields a job still needs; `submit` runs the job with the answers."""

    def __init__(
        self,
        locale: discord.Locale,
        title_key: str,
        submit: Submit,
        *,
        prompt_max_length: int | None = None,
        pictures: int = 1,
        ask_count_and_quality: bool = False,
    ) -> None:
        super().__init__(title=catalogue.text(locale, title_key), timeout=FORM_TIMEOUT)
        self._submit = submit
        self._prompt: discord.ui.TextInput[JobForm] | None = None
        self._picture: discord.ui.Select[JobForm] | None = None
        self._count: discord.ui.Select[JobForm] | None = None
        self._quality: discord.ui.Select[JobForm] | None = None
        if prompt_max_length is not None:
            self._prompt = discord.ui.TextInput(
                style=discord.TextStyle.paragraph,
                placeholder=catalogue.text(locale, "modal.prompt.placeholder"),
                max_length=min(prompt_max_length, 4000),
            )
            self.add_item(discord.ui.Label(text=catalogue.text(locale, "modal.prompt.label"), component=self._prompt))
        if pictures > 1:
            self._picture = _select(
                [catalogue.text(locale, "modal.picture.option", number=n) for n in range(1, pictures + 1)]
            )
            self.add_item(discord.ui.Label(text=catalogue.text(locale, "modal.picture.label"), component=self._picture))
        if ask_count_and_quality:
            self._count = _select([str(n) for n in range(1, MAX_COUNT + 1)], optional=True)
            self._quality = _select([quality.upper() for quality in QUALITIES], optional=True)
            self.add_item(discord.ui.Label(text=catalogue.text(locale, "modal.count.label"), component=self._count))
            self.add_item(discord.ui.Label(text=catalogue.text(locale, "modal.quality.label"), component=self._quality))

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        try:
            answers = FormAnswers(
                prompt=self._prompt.value if self._prompt is not None else "",
                picture=_chosen(self._picture, "picture"),
                count=None if (count := _optional(self._count, "count")) is None else count + 1,
                quality=None if (quality := _optional(self._quality, "quality")) is None else QUALITIES[quality],
            )
            await self._submit(interaction, answers)
        except Exception as error:  # a modal's errors would otherwise only be logged by discord.py
            await report_failure(interaction, error)


def _select(labels: list[str], *, optional: bool = False) -> "discord.ui.Select[JobForm]":
    """A single choice among `labels`, values the indexes: the first chosen by default, or none when optional (the
    member may leave it, and type the value into the prompt instead)."""
    options = [
        discord.SelectOption(label=label, value=str(index), default=index == 0 and not optional)
        for index, label in enumerate(labels[:MAX_SELECT_OPTIONS])
    ]
    return discord.ui.Select(options=options, min_values=0 if optional else 1, max_values=1, required=not optional)


def _chosen(select: "discord.ui.Select[JobForm] | None", option: str) -> int:
    """The index chosen in `select` (0 when it wasn't asked); a value it never offered (a forged submission) is
    refused, since discord.py passes submitted values on unchecked."""
    if select is None or not select.values:
        return 0
    if (value := select.values[0]) not in {item.value for item in select.options}:
        raise InvalidChoice(option, value, tuple(item.label for item in select.options))
    return int(value)


def _optional(select: "discord.ui.Select[JobForm] | None", option: str) -> int | None:
    """The index chosen in an optional `select`, or None when the member left it (or it wasn't asked)."""
    if select is None or not select.values:
        return None
    return _chosen(select, option)
