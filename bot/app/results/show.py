"""/show: a member's earlier result posted again where they are, with working buttons.

The images come from the result's own message (its attachment links expire, the message doesn't), so nothing is
generated or counted again.
"""

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.i18n.command_text import names, option_descriptions, option_names
from bot.app.results.buttons import owned_job, result_view
from bot.core.errors import ResultGone
from bot.core.storage import JobRecord

if TYPE_CHECKING:
    from bot.app.client import ImageBot

log = logging.getLogger(__name__)

JOB_ID_LENGTH = 16  # hex digits of a job id, as /history lists them


class Show(commands.Cog):
    def __init__(self, bot: "ImageBot") -> None:
        self.bot = bot

    @app_commands.command(**names("show"))
    @app_commands.guild_only()
    @app_commands.rename(**option_names("show", "job"))
    @app_commands.describe(**option_descriptions("show", "job"))
    async def show(
        self,
        interaction: "discord.Interaction[ImageBot]",
        job: app_commands.Range[str, 1, JOB_ID_LENGTH * 2],
    ) -> None:
        if (record := await owned_job(interaction, job.strip().lower())) is None:
            return  # the member was told: no such job, or not theirs
        await interaction.response.defer(thinking=True)
        original = await self._result_message(record)
        files = [await attachment.to_file() for attachment in original.attachments]
        if not files:
            raise ResultGone
        await interaction.followup.send(
            embeds=original.embeds, files=files, view=result_view(record.id, interaction.locale)
        )

    async def _result_message(self, record: JobRecord) -> discord.Message:
        """The message the job's results were posted in; ResultGone when there is none (any more)."""
        if record.message_id is None or record.channel_id is None:
            raise ResultGone
        try:
            channel = self.bot.get_channel(record.channel_id) or await self.bot.fetch_channel(record.channel_id)
            if not isinstance(channel, discord.abc.Messageable):
                raise ResultGone
            return await channel.fetch_message(record.message_id)
        except (discord.NotFound, discord.Forbidden) as error:
            log.info("job %s: its result message can't be read (HTTP %s)", record.id, error.status)
            raise ResultGone from None
