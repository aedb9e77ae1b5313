"""Result buttons: Reroll, Edit, Upscale and Delete, alive across restarts.

Their state is in the `custom_id` (action, job id, requester), so any bot process can answer a press
after a restart: the job itself is looked up in storage. The id carries a version, so a later format
never misroutes old messages.
"""

import re
from typing import Any

import discord

from bot.app.errors import report_failure
from bot.app.i18n import catalogue

ACTIONS: dict[str, tuple[str, discord.ButtonStyle]] = {
    "reroll": ("🔁", discord.ButtonStyle.secondary),
    "edit": ("✏️", discord.ButtonStyle.secondary),
    "upscale": ("⬆️", discord.ButtonStyle.secondary),
    "delete": ("🗑️", discord.ButtonStyle.danger),
}
TEMPLATE = r"img:v1:(?P<action>reroll|edit|upscale|delete):(?P<job>[0-9a-f]{16}):(?P<owner>[0-9]{1,20})"


class ResultButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """One result button; only the requester may press it, and moderators may also delete."""

    def __init__(self, action: str, job_id: str, owner_id: int, label: str | None = None) -> None:
        emoji, style = ACTIONS[action]
        custom_id = f"img:v1:{action}:{job_id}:{owner_id}"
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id))
        self.action = action
        self.job_id = job_id
        self.owner_id = owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "ResultButton":
        return cls(match["action"], match["job"], int(match["owner"]), item.label)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        if self.action == "delete" and interaction.permissions.manage_messages:
            return True
        text = catalogue.text(interaction.locale, "error.not_yours", owner=self.owner_id)
        await interaction.response.send_message(text, ephemeral=True)
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        from bot.app import result_actions  # the actions run jobs, whose delivery renders these buttons

        try:
            await result_actions.ACTIONS[self.action](interaction, self.job_id)
        except Exception as error:  # a DynamicItem's errors would otherwise only be logged by discord.py
            await report_failure(interaction, error)


def result_view(job_id: str, owner_id: int, locale: discord.Locale) -> discord.ui.View:
    """The buttons under a result, labelled in the requester's language."""
    view = discord.ui.View(timeout=None)
    for action in ACTIONS:
        view.add_item(ResultButton(action, job_id, owner_id, catalogue.text(locale, f"button.{action}")))
    return view
