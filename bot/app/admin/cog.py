"""/admin: the bot's admins block users and servers everywhere, see usage across servers, and re-sync commands."""

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

import discord
from discord import app_commands
from discord.app_commands import Range
from discord.ext import commands

from bot.app.i18n import catalogue
from bot.app.i18n.command_text import label, names, option_descriptions, option_names
from bot.core.errors import NotPermitted
from bot.core.pricing import micro_to_dollars
from bot.core.storage import Block, Caps, UsageTotals, periods

if TYPE_CHECKING:
    from bot.app.client import ImageBot

log = logging.getLogger(__name__)

Interaction: TypeAlias = "discord.Interaction[ImageBot]"
MAX_REASON = 200
MESSAGE_LIMIT = 2000  # Discord's limit for a message's content
SNOWFLAKE_MAX = 2**64 - 1


@app_commands.guild_only()
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)  # guild_only leaves a group's open
@app_commands.default_permissions(administrator=True)
class Admin(
    commands.GroupCog, group_name=label("command.admin.name"), group_description=label("command.admin.description")
):
    """/admin: hidden from all but server administrators, and refused to anyone not a bot admin."""

    def __init__(self, bot: "ImageBot") -> None:
        self.bot = bot
        self.owner_ids = bot.settings.owner_ids
        super().__init__()

    def require_admin(self, interaction: Interaction) -> None:
        # Server administrators see the group too, and Discord lets them change who sees it: check every use.
        if interaction.user.id not in self.owner_ids:
            raise NotPermitted("admin")

    async def block(self, interaction: Interaction, kind: str, target: str, reason: str | None) -> None:
        self.require_admin(interaction)
        if (target_id := parse_id(target)) is None:
            await answer(interaction, catalogue.text(interaction.locale, "admin.invalid_id", value=shown(target)))
            return
        if kind == "user" and target_id in self.owner_ids:
            await answer(interaction, catalogue.text(interaction.locale, "admin.block.admin"))
            return
        added = await self.bot.policy.block(kind, target_id, reason, interaction.user.id)
        log.info("admin %s blocked %s %s (new: %s)", interaction.user.id, kind, target_id, added)
        key = f"admin.block.{kind}.{'added' if added else 'exists'}"
        await answer(interaction, catalogue.text(interaction.locale, key, id=target_id))

    async def unblock(self, interaction: Interaction, kind: str, target: str) -> None:
        self.require_admin(interaction)
        if (target_id := parse_id(target)) is None:
            await answer(interaction, catalogue.text(interaction.locale, "admin.invalid_id", value=shown(target)))
            return
        removed = await self.bot.policy.unblock(kind, target_id)
        log.info("admin %s unblocked %s %s (was blocked: %s)", interaction.user.id, kind, target_id, removed)
        key = f"admin.unblock.{kind}.{'removed' if removed else 'missing'}"
        await answer(interaction, catalogue.text(interaction.locale, key, id=target_id))

    @app_commands.command(**names("admin.block-user"))
    @app_commands.rename(**option_names("admin.block-user", "user_id", "reason"))
    @app_commands.describe(**option_descriptions("admin.block-user", "user_id", "reason"))
    async def block_user(
        self, interaction: Interaction, user_id: Range[str, 1, 40], reason: Range[str, 1, MAX_REASON] | None = None
    ) -> None:
        await self.block(interaction, "user", user_id, reason)

    @app_commands.command(**names("admin.unblock-user"))
    @app_commands.rename(**option_names("admin.unblock-user", "user_id"))
    @app_commands.describe(**option_descriptions("admin.unblock-user", "user_id"))
    async def unblock_user(self, interaction: Interaction, user_id: Range[str, 1, 40]) -> None:
        await self.unblock(interaction, "user", user_id)

    @app_commands.command(**names("admin.block-server"))
    @app_commands.rename(**option_names("admin.block-server", "server_id", "reason"))
    @app_commands.describe(**option_descriptions("admin.block-server", "server_id", "reason"))
    async def block_server(
        self, interaction: Interaction, server_id: Range[str, 1, 40], reason: Range[str, 1, MAX_REASON] | None = None
    ) -> None:
        await self.block(interaction, "guild", server_id, reason)

    @app_commands.command(**names("admin.unblock-server"))
    @app_commands.rename(**option_names("admin.unblock-server", "server_id"))
    @app_commands.describe(**option_descriptions("admin.unblock-server", "server_id"))
    async def unblock_server(self, interaction: Interaction, server_id: Range[str, 1, 40]) -> None:
        await self.unblock(interaction, "guild", server_id)

    @app_commands.command(**names("admin.blocks"))
    async def blocks(self, interaction: Interaction) -> None:
        self.require_admin(interaction)
        await answer(interaction, blocks_text(await self.bot.storage.blocks(), interaction.locale))

    @app_commands.command(**names("admin.usage"))
    async def usage(self, interaction: Interaction) -> None:
        self.require_admin(interaction)
        now = datetime.now(UTC)
        day_start, next_day, month_start, next_month = periods(now)
        spans = (
            ("today", day_start, next_day),
            ("week", next_day - timedelta(days=7), next_day),  # the last 7 UTC days, as /usage counts them
            ("month", month_start, next_month),
        )
        locale = interaction.locale
        lines = [catalogue.text(locale, "admin.usage.title")]
        for name, since, until in spans:
            totals = await self.bot.storage.usage_totals(None, since, until)
            line = usage_line(catalogue.text(locale, f"admin.usage.{name}"), totals, locale)
            lines.append(with_global_cap(line, name, self.bot.global_caps, locale))
        await answer(interaction, "\n".join(lines))

    @app_commands.command(**names("admin.providers"))
    async def providers(self, interaction: Interaction) -> None:
        self.require_admin(interaction)
        locale = interaction.locale
        lines = [catalogue.text(locale, "admin.providers.title")]
        for upstream in self.bot.router.upstreams:
            requests, failures, seconds = self.bot.metrics.provider_reading(upstream.name)
            state = catalogue.text(locale, f"admin.providers.state.{upstream.breaker.state.value}")
            models = ", ".join(upstream.models)
            lines.append(
                catalogue.text(
                    locale,
                    "admin.providers.line",
                    name=upstream.name,
                    models=models,
                    state=state,
                    requests=requests,
                    failures=failures,
                    seconds=f"{seconds:.1f}",
                )
            )
        await answer(interaction, "\n".join(lines))

    @app_commands.command(**names("admin.sync"))
    async def sync(self, interaction: Interaction) -> None:
        self.require_admin(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)  # syncing can outlast the 3 s deadline
        await self.bot.sync_commands()
        await interaction.edit_original_response(content=catalogue.text(interaction.locale, "admin.synced"))


def parse_id(text: str) -> int | None:
    """A Discord id from its digits or a mention (`<@123>`, `<@!123>`); None when it is no id."""
    digits = text.strip().removeprefix("<@").removeprefix("!").removesuffix(">")
    if not digits.isascii() or not digits.isdigit() or not 0 < int(digits) <= SNOWFLAKE_MAX:
        return None
    return int(digits)


def blocks_text(blocks: list[Block], locale: discord.Locale) -> str:
    """One line per block, newest last, cut to fit a message with a count of those left out."""
    if not blocks:
        return catalogue.text(locale, "admin.blocks.none")
    lines = [catalogue.text(locale, "admin.blocks.title", count=len(blocks))]
    for index, block in enumerate(blocks):
        reason = shown(block.reason) if block.reason else catalogue.text(locale, "admin.blocks.no_reason")
        line = catalogue.text(
            locale,
            f"admin.blocks.{block.kind}",
            id=block.target_id,
            by=block.blocked_by,
            when=discord.utils.format_dt(block.created_at, "R"),
            reason=reason,
        )
        more = catalogue.text(locale, "admin.blocks.more", count=len(blocks) - index)
        if len("\n".join([*lines, line])) + len(more) + 1 > MESSAGE_LIMIT:
            lines.append(more)
            break
        lines.append(line)
    return "\n".join(lines)


def usage_line(period: str, totals: UsageTotals, locale: discord.Locale) -> str:
    cost = micro_to_dollars(totals.cost)
    return catalogue.text(locale, "admin.usage.line", period=period, jobs=totals.jobs, images=totals.images, cost=cost)


def with_global_cap(line: str, span: str, caps: Caps, locale: discord.Locale) -> str:
    """The usage line of `span`, with the deployment-wide cap on that span when one is set."""
    if span == "today" and caps.global_daily_images is not None:
        return catalogue.text(locale, "admin.usage.daily_cap", line=line, allowed=caps.global_daily_images)
    if span == "month" and caps.global_monthly_budget is not None:
        allowed = micro_to_dollars(caps.global_monthly_budget)
        return catalogue.text(locale, "admin.usage.budget_cap", line=line, allowed=allowed)
    return line


def shown(text: str) -> str:
    """Text a user typed, safe to echo: no markdown, no mentions, no line breaks."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(" ".join(text.split())))


async def answer(interaction: Interaction, content: str) -> None:
    """Admins' answers are private and ping nobody, though they mention users."""
    await interaction.response.send_message(content, ephemeral=True, allowed_mentions=discord.AllowedMentions.none())
