"""/quota and /history: a member's own allowance and recent requests in this server, shown only to them."""

from datetime import UTC, datetime, timedelta

import discord
from discord import app_commands

from bot.app.i18n import catalogue
from bot.app.i18n.command_text import names
from bot.app.render import EMBED_COLOUR, shorten
from bot.app.requester import requester_of
from bot.core.limits import caps_for
from bot.core.policy import Policy
from bot.core.pricing import micro_to_dollars
from bot.core.storage import Caps, DeploymentBooked, HistoryEntry, JobStatus, Storage, periods
from bot.core.storage.quota import has_global_caps

HISTORY_LENGTH = 10
PROMPT_PREVIEW = 60


def quota_command(policy: Policy, storage: Storage, global_caps: Caps) -> app_commands.Command:
    """The /quota command: what the member may still ask for today, by the caps the bot enforces.

    `global_caps` holds the deployment-wide caps (its other fields are unused); when set, they are shown too.
    """

    @app_commands.command(
        **names("quota"),
    )
    @app_commands.guild_only()
    async def quota(interaction: discord.Interaction) -> None:
        requester = requester_of(interaction)
        guild_id, user_id = interaction.guild_id or 0, requester.user_id  # guild_only: the server is known
        caps = caps_for(await policy.limits(guild_id), requester.role_ids)
        now = datetime.now(UTC)
        next_day = periods(now)[1]
        locale = interaction.locale
        booked = await storage.booked(guild_id, user_id, now)  # what the bot counts when it books a request
        reserved = await storage.user_reserved(guild_id, user_id)
        lines = [
            user_line(caps, booked.user_images - reserved, reserved, next_day, locale),
            server_line(caps, booked.server_images, next_day, locale),
        ]
        if has_global_caps(global_caps):  # otherwise nothing to show, and no need to count the whole deployment
            lines += global_lines(global_caps, await storage.deployment_booked(now), now, locale)
        lines.append(cooldown_line(caps, booked.last_start, now, locale))
        await answer(interaction, catalogue.text(locale, "quota.title"), lines)

    return quota


def history_command(storage: Storage) -> app_commands.Command:
    """The /history command: the member's latest requests in this server, with links to their results."""

    @app_commands.command(
        **names("history"),
    )
    @app_commands.guild_only()
    async def history(interaction: discord.Interaction) -> None:
        entries = await storage.history(interaction.user.id, interaction.guild_id, limit=HISTORY_LENGTH)
        locale = interaction.locale
        lines = [history_line(entry, locale) for entry in entries] or [catalogue.text(locale, "history.empty")]
        await answer(interaction, catalogue.text(locale, "history.title"), lines)

    return history


def user_line(caps: Caps, used: int, reserved: int, resets_at: datetime, locale: discord.Locale) -> str:
    """The member's images today: running requests hold theirs until they end, as the quota counts them."""
    if caps.user_daily_images is None:
        return catalogue.text(locale, "quota.user.unlimited", used=used)
    return catalogue.text(
        locale,
        "quota.user",
        used=used,
        allowed=caps.user_daily_images,
        reserved=reserved,
        remaining=max(0, caps.user_daily_images - used - reserved),
        resets=discord.utils.format_dt(resets_at, "R"),
    )


def server_line(caps: Caps, used: int, resets_at: datetime, locale: discord.Locale) -> str:
    """What the whole server has left today; `used` includes the images every running request holds."""
    if caps.server_daily_images is None:
        return catalogue.text(locale, "quota.server.unlimited")
    return catalogue.text(
        locale,
        "quota.server",
        remaining=max(0, caps.server_daily_images - used),
        allowed=caps.server_daily_images,
        resets=discord.utils.format_dt(resets_at, "R"),
    )


def global_lines(caps: Caps, deployment: DeploymentBooked, now: datetime, locale: discord.Locale) -> list[str]:
    """What the bot has left across all servers, one line per deployment-wide cap that is set (none when off)."""
    _, next_day, _, next_month = periods(now)
    lines = []
    if (daily := caps.global_daily_images) is not None:
        remaining = max(0, daily - deployment.images)
        resets = discord.utils.format_dt(next_day, "R")
        lines.append(catalogue.text(locale, "quota.global.daily", remaining=remaining, allowed=daily, resets=resets))
    if (budget := caps.global_monthly_budget) is not None:
        lines.append(
            catalogue.text(
                locale,
                "quota.global.budget",
                remaining=micro_to_dollars(max(0, budget - deployment.cost)),
                allowed=micro_to_dollars(budget),
                resets=discord.utils.format_dt(next_month, "R"),
            )
        )
    return lines


def cooldown_line(caps: Caps, last: datetime | None, now: datetime, locale: discord.Locale) -> str:
    """The cooldown, and when the member may ask again; it runs from their last running or delivered request."""
    if caps.cooldown_seconds <= 0:
        return catalogue.text(locale, "quota.cooldown.none")
    ready_at = None if last is None else last + timedelta(seconds=caps.cooldown_seconds)
    if ready_at is None or ready_at <= now:
        return catalogue.text(locale, "quota.cooldown.ready", seconds=caps.cooldown_seconds)
    ready = discord.utils.format_dt(ready_at, "R")
    return catalogue.text(locale, "quota.cooldown.wait", seconds=caps.cooldown_seconds, ready=ready)


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


async def answer(interaction: discord.Interaction, title: str, lines: list[str]) -> None:
    """A private embed: a member's own numbers are nobody else's business."""
    embed = discord.Embed(title=title, description="\n".join(lines), colour=EMBED_COLOUR)
    await interaction.response.send_message(
        embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )
