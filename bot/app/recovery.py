"""After a crash or a kill: telling the members whose jobs were cut off, with a button to try again."""

import logging

import discord

from bot.app.i18n import catalogue
from bot.app.posting import channel_or_dm
from bot.app.render import shorten
from bot.app.results.buttons import JobButton
from bot.core.metrics import Metrics
from bot.core.storage import JobRecord

log = logging.getLogger(__name__)

PROMPT_PREVIEW = 80


async def tell_interrupted(client: discord.Client, jobs: list[JobRecord]) -> None:
    """Tell each member, once the bot is connected: in the job's channel (mentioning them), else directly."""
    await client.wait_until_ready()
    for record in jobs:
        try:
            await _tell(client, record)
        except Exception:  # one member we can't reach must not stop the others being told
            log.exception("could not tell user %s about interrupted job %s", record.user_id, record.id)


async def _tell(client: discord.Client, record: JobRecord) -> None:
    guild = client.get_guild(record.guild_id) if record.guild_id is not None else None
    locale = guild.preferred_locale if guild is not None else discord.Locale.american_english
    prompt = discord.utils.escape_markdown(shorten(" ".join(record.prompt.split()), PROMPT_PREVIEW))
    text = catalogue.text(locale, "recovery.interrupted", user=f"<@{record.user_id}>", prompt=prompt)
    view = discord.ui.View(timeout=None)
    view.add_item(JobButton("reroll", record.id, catalogue.text(locale, "button.retry")))
    channel = _channel(client, record)

    async def direct() -> discord.abc.Messageable:
        return await client.fetch_user(record.user_id)

    metrics: Metrics | None = getattr(client, "metrics", None)
    postable = channel if isinstance(channel, discord.abc.Messageable) else None
    await channel_or_dm(postable, record.user_id, direct, text, metrics, view=view)


def _channel(client: discord.Client, record: JobRecord) -> object:
    """The job's channel; one of a server another process serves is reached by id alone."""
    if record.channel_id is None:
        return None
    if (channel := client.get_channel(record.channel_id)) is not None:
        return channel
    return client.get_partial_messageable(record.channel_id, guild_id=record.guild_id) if record.guild_id else None
