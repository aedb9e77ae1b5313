"""The buttons of a job: Reroll, Edit, Upscale and Delete under a result, Cancel under a queued job.

Their state is in the `custom_id` (action and job id), so any bot process can answer a press after a restart: the
job itself, and so who may press, is looked up in storage. The id carries a version, so a later format never
misroutes old messages.
"""

import re
from typing import Any

import discord

from bot.app.errors import report_failure, user_message
from bot.app.i18n import catalogue
from bot.app.requester import bot_of
from bot.core.errors import JobGone
from bot.core.storage import JobRecord

STYLES: dict[str, tuple[str, discord.ButtonStyle]] = {
    "reroll": ("🔁", discord.ButtonStyle.secondary),
    "edit": ("✏️", discord.ButtonStyle.secondary),
    "upscale": ("⬆️", discord.ButtonStyle.secondary),
    "delete": ("🗑️", discord.ButtonStyle.danger),
    "cancel": ("✖️", discord.ButtonStyle.secondary),
}
RESULT_ACTIONS = ("reroll", "edit", "upscale", "delete")
# Ids made before the owner was left out of them end in `:<owner id>`; it is read from storage instead.
TEMPLATE = r"img:v1:(?P<action>reroll|edit|upscale|delete|cancel):(?P<job>[0-9a-f]{16})(?::[0-9]{1,20})?"


class JobButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=TEMPLATE):
    """One button of a job; only the member the stored job belongs to may press it, and moderators may delete."""

    def __init__(self, action: str, job_id: str, label: str | None = None) -> None:
        emoji, style = STYLES[action]
        custom_id = f"img:v1:{action}:{job_id}"
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id))
        self.action = action
        self.job_id = job_id
        self.record: JobRecord | None = None  # the stored job, once the press is checked

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> "JobButton":
        return cls(match["action"], match["job"], item.label if isinstance(item, discord.ui.Button) else None)

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        self.record = await owned_job(interaction, self.job_id, moderators=self.action == "delete")
        return self.record is not None

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.app.results import actions  # the actions run jobs, whose delivery renders these buttons

        if self.record is None:  # only a press interaction_check let through has its job
            return
        try:
            await actions.ACTIONS[self.action](interaction, self.record)
        except Exception as error:  # a DynamicItem's errors would otherwise only be logged by discord.py
            await report_failure(interaction, error)


async def owned_job(
    interaction: discord.Interaction[Any], job_id: str, *, moderators: bool = False
) -> JobRecord | None:
    """The stored job when the presser owns it (or, with `moderators`, may manage messages here); else None,
    once the presser has been told privately why."""
    record = await bot_of(interaction).jobs.load(job_id)
    if record is not None and (record.user_id == interaction.user.id or (moderators and _moderates(interaction))):
        return record
    if record is None:
        text = user_message(JobGone(job_id), interaction.locale)
    else:
        text = catalogue.text(interaction.locale, "error.not_yours", owner=record.user_id)
    await interaction.response.send_message(text, ephemeral=True)
    return None


def _moderates(interaction: discord.Interaction[Any]) -> bool:
    return interaction.guild_id is not None and interaction.permissions.manage_messages


def result_view(job_id: str, locale: discord.Locale) -> discord.ui.View:
    """The buttons under a result, labelled in the requester's language."""
    return _view(job_id, locale, RESULT_ACTIONS)


def cancel_view(job_id: str, locale: discord.Locale) -> discord.ui.View:
    """The Cancel button under a queued job."""
    return _view(job_id, locale, ("cancel",))


def _view(job_id: str, locale: discord.Locale, actions: tuple[str, ...]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in actions:
        view.add_item(JobButton(action, job_id, catalogue.text(locale, f"button.{action}")))
    return view
