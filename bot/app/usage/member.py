"""/quota and /history: a member's own allowance and recent requests in this server, shown only to them."""

from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.i18n import catalogue
from bot.app.i18n.command_text import names
from bot.app.render import EMBED_COLOUR, shorten
from bot.app.requester import requester_of
from bot.core.accounting import Allowance
from bot.core.pricing import micro_to_dollars
from bot.core.storage import HistoryEntry, JobStatus, periods

if TYPE_CHECKING:
    from bot.app.client import ImageBot

HISTORY_LENGTH = 10
PROMPT_PREVIEW = 60


class MemberUsage(commands.Cog):
    """/quota and /history."""

    def __init__(self, bot: "ImageBot") -> None:
        self.bot = bot

    @app_commands.command(**names("quota"))
    @app_commands.guild_only()
    async def quota(self, interaction: "discord.Interaction[ImageBot]") -> None:
        """What the member may still ask for today, by the caps the bot enforces when it books."""
        allowance = await self.bot.jobs.allowance(requester_of(interaction))
        now = discord.utils.utcnow()
        _, next_day, _, next_month = periods(now)
        locale = interaction.locale
        lines = [user_line(allowance, next_day, locale), server_line(allowance, next_day, locale)]
        lines += global_lines(allowance, next_day, next_month, locale)
        lines.append(cooldown_line(allowance, locale))
        await answer(interaction, catalogue.text(locale, "quota.title"), lines)

    @app_commands.command(**names("history"))
    @app_commands.guild_only()
    async def history(self, interaction: "discord.Interaction[ImageBot]") -> None:
        """The member's latest requests in this server, with links to their results."""
        entries = await self.bot.storage.history(interaction.user.id, interaction.guild_id, limit=HISTORY_LENGTH)
        locale = interaction.locale
        lines = [history_line(entry, locale) for entry in entries] or [catalogue.text(locale, "history.empty")]
        days = self.bot.settings.ledger_retention_days  # how far back it goes
        kept = catalogue.text(locale, "history.kept", days=days, count=HISTORY_LENGTH) if days else None
        await answer(interaction, catalogue.text(locale, "history.title"), lines, footer=kept)


def user_line(allowance: Allowance, resets_at: datetime, locale: discord.Locale) -> str:
    """The member's images today: running requests hold theirs until they end, as the quota counts them."""
    if allowance.user_remaining is None:
        return catalogue.text(locale, "quota.user.unlimited", used=allowance.user_used)
    return catalogue.text(
        locale,
        "quota.user",
        used=allowance.user_used,
        allowed=allowance.caps.user_daily_images,
        reserved=allowance.user_reserved,
        remaining=allowance.user_remaining,
        resets=discord.utils.format_dt(resets_at, "R"),
    )


def server_line(allowance: Allowance, resets_at: datetime, locale: discord.Locale) -> str:
    """What the whole server has left today, the images every running request holds counted."""
    if allowance.server_remaining is None:
        return catalogue.text(locale, "quota.server.unlimited")
    return catalogue.text(
        locale,
        "quota.server",
        remaining=allowance.server_remaining,
        allowed=allowance.caps.server_daily_images,
        resets=discord.utils.format_dt(resets_at, "R"),
    )


def global_lines(allowance: Allowance, next_day: datetime, next_month: datetime, locale: discord.Locale) -> list[str]:
    """What the bot has left across all servers, one line per deployment-wide cap that is set (none when off)."""
    caps, lines = allowance.caps, []
    if allowance.global_images_remaining is not None:
        resets = discord.utils.format_dt(next_day, "R")
        remaining, allowed = allowance.global_images_remaining, caps.global_daily_images
        lines.append(catalogue.text(locale, "quota.global.daily", remaining=remaining, allowed=allowed, resets=resets))
    if allowance.global_budget_remaining is not None and caps.global_monthly_budget is not None:
        lines.append(
            catalogue.text(
                locale,
                "quota.global.budget",
                remaining=micro_to_dollars(allowance.global_budget_remaining),
                allowed=micro_to_dollars(caps.global_monthly_budget),
                resets=discord.utils.format_dt(next_month, "R"),
            )
        )
    return lines


def cooldown_line(allowance: Allowance, locale: discord.Locale) -> str:
    """The cooldown, and when the member may ask again; it runs from their last running or delivered request."""
    seconds = allowance.caps.cooldown_seconds
    if seconds <= 0:
        return catalogue.text(locale, "quota.cooldown.none")
    if allowance.ready_at is None:
        return catalogue.text(locale, "quota.cooldown.ready", seconds=seconds)
    ready = discord.utils.format_dt(allowance.ready_at, "R")
    return catalogue.text(locale, "quota.cooldown.wait", seconds=seconds, ready=ready)


def history_line(entry: HistoryEntry, locale: discord.Locale) -> str:
    """When, what, how it ended, and a link to the result when it was posted."""
    job = entry.job
    prompt = discord.utils.escape_markdown(shorten(" ".join(job.prompt.split()), PROMPT_PREVIEW))
    outcome = outcome_of(entry)
    if outcome == "delivered":
        images = job.n if entry.images is None else entry.images
        key = "history.delivered.one" if images == 1 else "history.delivered.other"
        ended = catalogue.text(locale, key, count=images)
    else:
        ended = catalogue.text(locale, f"history.{outcome}")
    params = {
        "job": job.id,
        "when": discord.utils.format_dt(job.created_at, "R"),
        "what": catalogue.text(locale, f"history.kind.{job.kind}", prompt=prompt),
        "outcome": ended,
    }
    if job.message_id is None or job.channel_id is None or job.guild_id is None:
        return catalogue.text(locale, "history.line", **params)
    url = f"https://discord.com/channels/{job.guild_id}/{job.channel_id}/{job.message_id}"
    return catalogue.text(locale, "history.line.linked", url=url, **params)


def outcome_of(entry: HistoryEntry) -> str:
    """How a job ended, or that it runs: the ledger's word once settled, else the job's status."""
    if entry.outcome is not None:
        return "delivered" if entry.outcome == "delivered" else "failed"  # an interrupted job failed too
    return {JobStatus.RUNNING: "running", JobStatus.DONE: "delivered"}.get(entry.job.status, "failed")


async def answer(interaction: discord.Interaction, title: str, lines: list[str], footer: str | None = None) -> None:
    """A private embed: a member's own numbers are nobody else's business."""
    embed = discord.Embed(title=title, description="\n".join(lines), colour=EMBED_COLOUR)
    if footer is not None:
        embed.set_footer(text=footer)
    await interaction.response.send_message(
        embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )
