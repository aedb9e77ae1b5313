"""Who may press a job's buttons: the member the stored job belongs to, never whoever a button id names."""

import discord

from bot.app.errors import user_message
from bot.app.i18n import catalogue
from bot.core.errors import JobGone
from bot.core.storage import JobRecord

# Ids made before the owner was left out of them end in `:<owner id>`; it is read from storage instead.
OLD_OWNER_SUFFIX = r"(?::[0-9]{1,20})?"


async def owned_job(interaction: discord.Interaction, job_id: str, *, moderators: bool = False) -> JobRecord | None:
    """The stored job when the presser owns it (or, with `moderators`, may manage messages here); else None,
    once the presser has been told privately why."""
    record = await interaction.client.jobs.load(job_id)  # type: ignore[attr-defined]
    if record is not None and (record.user_id == interaction.user.id or (moderators and _moderates(interaction))):
        return record
    if record is None:
        text = user_message(JobGone(job_id), interaction.locale)
    else:
        text = catalogue.text(interaction.locale, "error.not_yours", owner=record.user_id)
    await interaction.response.send_message(text, ephemeral=True)
    return None


def _moderates(interaction: discord.Interaction) -> bool:
    return interaction.guild_id is not None and interaction.permissions.manage_messages
