"""Result buttons: Reroll, Edit, Upscale and Delete, alive across restarts.

Their state is in the `custom_id` (action and job id), so any bot process can answer a press after a
restart: the job itself, and so who may press, is looked up in storage. The id carries a version, so a
later format never misroutes old messages.
"""

import re
from typing import Any

import discord

from bot.app.errors import report_failure
from bot.app.i18n import catalogue
from bot.app.views.ownership import OLD_OWNER_SUFFIX, owned_job
from bot.core.storage import JobRecord

ACTIONS: dict[str, tuple[str, discord.ButtonStyle]] = {
    "reroll": ("🔁", discord.ButtonStyle.secondary),
    "edit": ("✏️", discord.ButtonStyle.secondary),
    "upscale": ("⬆️", discord.ButtonStyle.secondary),
    "delete": ("🗑️", discord.ButtonStyle.danger),
}
TEMPLATE = r"img:v1:(?P<action>reroll|edit|upscale|delete):(?P<job>[0-9a-f]{16})" + OLD_OWNER_SUFFIX


class ResultButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """One result button; only the job's requester may press it, and moderators may also delete."""

    def __init__(self, action: str, job_id: str, label: str | None = None) -> None:
        emoji, style = ACTIONS[action]
        custom_id = f"img:v1:{action}:{job_id}"
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id))
        self.action = action
        self.job_id = job_id
        self.record: JobRecord | None = None  # the stored job, once the press is checked

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "ResultButton":
        return cls(match["action"], match["job"], item.label)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        self.record = await owned_job(interaction, self.job_id, moderators=self.action == "delete")
        return self.record is not None

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.app import result_actions  # the actions run jobs, whose delivery renders these buttons

        if self.record is None:  # only a press interaction_check let through has its job
            return
        try:
            await result_actions.ACTIONS[self.action](interaction, self.record)
        except Exception as error:  # a DynamicItem's errors would otherwise only be logged by discord.py
            await report_failure(interaction, error)


def result_view(job_id: str, locale: discord.Locale) -> discord.ui.View:
    """The buttons under a result, labelled in the requester's language."""
    view = discord.ui.View(timeout=None)
    for action in ACTIONS:
        view.add_item(ResultButton(action, job_id, catalogue.text(locale, f"button.{action}")))
    return view
