"""The Cancel button under a queued job: its requester takes it out of the queue, and gets the quota back."""

import re
from typing import Any

import discord

from bot.app.errors import report_failure
from bot.app.i18n import catalogue
from bot.app.views.ownership import OLD_OWNER_SUFFIX, owned_job

TEMPLATE = r"img:v1:cancel:(?P<job>[0-9a-f]{16})" + OLD_OWNER_SUFFIX


class CancelButton(discord.ui.DynamicItem[discord.ui.Button], template=TEMPLATE):
    """Cancels a queued job; only the job's requester may press it."""

    def __init__(self, job_id: str, label: str | None = None) -> None:
        button = discord.ui.Button(
            label=label, emoji="✖️", style=discord.ButtonStyle.secondary, custom_id=f"img:v1:cancel:{job_id}"
        )
        super().__init__(button)
        self.job_id = job_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> "CancelButton":
        return cls(match["job"], item.label)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await owned_job(interaction, self.job_id) is not None

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            if interaction.client.jobs.cancel(self.job_id):
                await interaction.response.defer()  # the job's own response says it was cancelled
            else:
                text = catalogue.text(interaction.locale, "progress.too_late_to_cancel")
                await interaction.response.send_message(text, ephemeral=True)
        except Exception as error:  # a DynamicItem's errors would otherwise only be logged by discord.py
            await report_failure(interaction, error)


def cancel_view(job_id: str, locale: discord.Locale) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(CancelButton(job_id, catalogue.text(locale, "button.cancel")))
    return view
