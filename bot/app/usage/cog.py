"""/usage: for moderators, how much the server (or one member) used today, this week and this month."""

import asyncio
import io
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

import discord
from discord import app_commands
from discord.ext import commands

from bot.app.i18n import catalogue
from bot.app.i18n.command_text import names, option_descriptions, option_names
from bot.app.moderation import require_moderator
from bot.core.charts import DayCount, usage_chart
from bot.core.pricing import micro_to_dollars
from bot.core.storage import UsageTotals, periods

if TYPE_CHECKING:
    from bot.app.client import ImageBot

Interaction: TypeAlias = "discord.Interaction[ImageBot]"
CHART_DAYS = 30
TOP_USERS = 10


class Usage(commands.Cog):
    def __init__(self, bot: "ImageBot") -> None:
        self.bot = bot

    @app_commands.command(**names("usage"))
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.rename(**option_names("usage", "member"))
    @app_commands.describe(**option_descriptions("usage", "member"))
    async def usage(self, interaction: Interaction, member: discord.User | None = None) -> None:
        await require_moderator(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = interaction.guild_id or 0
        if member is not None:
            embed = await _member_usage(interaction, guild_id, member)
            await interaction.followup.send(embed=embed, allowed_mentions=discord.AllowedMentions.none())
            return
        embed, chart = await _server_usage(interaction, guild_id)
        embed.set_image(url="attachment://usage.png")
        await interaction.followup.send(
            embed=embed,
            file=discord.File(io.BytesIO(chart), "usage.png"),
            allowed_mentions=discord.AllowedMentions.none(),
        )


def windows(now: datetime) -> dict[str, tuple[datetime, datetime]]:
    """Today (UTC), the last 7 days, and this calendar month (UTC), each as [since, until)."""
    day_start, next_day, month_start, next_month = periods(now)
    return {
        "usage.today": (day_start, next_day),
        "usage.week": (next_day - timedelta(days=7), next_day),
        "usage.month": (month_start, next_month),
    }


def totals_text(totals: UsageTotals, locale: discord.Locale) -> str:
    return catalogue.text(
        locale, "usage.totals", images=totals.images, jobs=totals.jobs, cost=micro_to_dollars(totals.cost)
    )


async def _server_usage(interaction: Interaction, guild_id: int) -> tuple[discord.Embed, bytes]:
    storage = interaction.client.storage
    locale = interaction.locale
    now = discord.utils.utcnow()
    embed = discord.Embed(title=catalogue.text(locale, "usage.title"), colour=discord.Colour.blurple())
    for key, (since, until) in windows(now).items():
        embed.add_field(
            name=catalogue.text(locale, key),
            value=totals_text(await storage.usage_totals(guild_id, since, until), locale),
        )
    month_start = periods(now)[2]
    top = await storage.top_users(guild_id, month_start, TOP_USERS)
    lines = [
        catalogue.text(
            locale, "usage.top_line", user=f"<@{row.user_id}>", images=row.images, cost=micro_to_dollars(row.cost)
        )
        for row in top
    ]
    embed.add_field(name=catalogue.text(locale, "usage.top"), value="\n".join(lines) or "—", inline=False)
    embed.set_footer(text=catalogue.text(locale, "usage.footer"))
    since = periods(now)[0] - timedelta(days=CHART_DAYS - 1)
    counts = [DayCount(row.day, row.model, row.images) for row in await storage.usage_by_day(guild_id, since)]
    chart = await asyncio.to_thread(  # drawing is CPU work: off the event loop
        usage_chart,
        counts,
        end=now.date(),
        days=CHART_DAYS,
        title=catalogue.text(locale, "usage.chart_title", days=CHART_DAYS),
        empty_text=catalogue.text(locale, "usage.chart_empty"),
    )
    return embed, chart


async def _member_usage(interaction: Interaction, guild_id: int, member: discord.User) -> discord.Embed:
    storage = interaction.client.storage
    locale = interaction.locale
    embed = discord.Embed(
        title=catalogue.text(locale, "usage.member_title", member=member.display_name),
        colour=discord.Colour.blurple(),
    )
    for key, (since, until) in windows(discord.utils.utcnow()).items():
        totals = await storage.user_usage(guild_id, member.id, since, until)
        embed.add_field(name=catalogue.text(locale, key), value=totals_text(totals, locale))
    embed.set_footer(text=catalogue.text(locale, "usage.footer"))
    return embed
