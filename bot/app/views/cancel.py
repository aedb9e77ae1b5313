"""The Cancel button under a queued job: its requester takes it out of the queue, and gets the quota back."""

import re
from typing import Any

import discord

from bot.app.errors import report_failure
from bot.app.i18n import catalogue

TEMPLATE = r"img:v1:cancel:(?P<job>[0-9a-f]{16}):(?P<owner>[0-9]{1,20})"


class CancelButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """Cancels a queued job; only its requester may press it."""

    def __init__(self, job_id: str, owner_id: int, label: str | None = None) -> None:
        button = discord.ui.Button(
            label=label, emoji="✖️", style=discord.ButtonStyle.secondary, custom_id=f"img:v1:cancel:{job_id}:{owner_id}"
        )
        super().__init__(button)
        self.job_id = job_id
        self.owner_id = owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "CancelButton":
        return cls(match["job"], int(match["owner"]), item.label)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        if interaction.user.id == self.owner_id:
            return True
        text = catalogue.text(interaction.locale, "error.not_yours", owner=self.owner_id)
        await interaction.response.send_message(text, ephemeral=True)
        return False

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            if interaction.client.jobs.cancel(self.job_id):
                await interaction.response.defer()  # the job's own response says it was cancelled
            else:
                text = catalogue.text(interaction.locale, "progress.too_late_to_cancel")
                await interaction.response.send_message(text, ephemeral=True)
        except Exception as error:  # a DynamicItem's errors would otherwise only be logged by discord.py
            await report_failure(interaction, error)


def cancel_view(job_id: str, owner_id: int, locale: discord.Locale) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id, owner_id, catalogue.text(locale, "button.cancel")))
    return view
