"""/admin: the bot's admins block users and servers everywhere, see usage across servers, and re-sync commands."""

import logging
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

import discord
from discord import app_commands
from discord.app_commands import Range

from bot.app.i18n import catalogue
from bot.app.i18n.command_text import names, option_descriptions, option_names
from bot.core.errors import NotPermitted
from bot.core.policy import Policy
from bot.core.pricing import micro_to_dollars
from bot.core.storage import Block, Caps, Storage, UsageTotals, periods

if TYPE_CHECKING:
    from bot.app.client import ImageBot

log = logging.getLogger(__name__)

Interaction: TypeAlias = "discord.Interaction[ImageBot]"
MAX_REASON = 200
MESSAGE_LIMIT = 2000  # Discord's limit for a message's content
SNOWFLAKE_MAX = 2**64 - 1


def admin_group(policy: Policy, storage: Storage, owner_ids: Collection[int], global_caps: Caps) -> app_commands.Group:
    """The /admin group: hidden from all but server administrators, and refused to anyone not a bot admin.

    `global_caps` holds the deployment-wide caps, which /admin usage shows next to the totals they cap.
    """
    group = app_commands.Group(
        **names("admin"),
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),  # guild_only alone leaves a group's contexts open
        default_permissions=discord.Permissions(administrator=True),
    )

    def require_admin(interaction: Interaction) -> None:
        # Server administrators see the group too, and Discord lets them change who sees it: check every use.
        if interaction.user.id not in owner_ids:
            raise NotPermitted("admin")

    async def block(interaction: Interaction, kind: str, target: str, reason: str | None) -> None:
        require_admin(interaction)
        if (target_id := parse_id(target)) is None:
            await answer(interaction, catalogue.text(interaction.locale, "admin.invalid_id", value=shown(target)))
            return
        if kind == "user" and target_id in owner_ids:
            await answer(interaction, catalogue.text(interaction.locale, "admin.block.admin"))
            return
        added = await policy.block(kind, target_id, reason, interaction.user.id)
        log.info("admin %s blocked %s %s (new: %s)", interaction.user.id, kind, target_id, added)
        key = f"admin.block.{kind}.{'added' if added else 'exists'}"
        await answer(interaction, catalogue.text(interaction.locale, key, id=target_id))

    async def unblock(interaction: Interaction, kind: str, target: str) -> None:
        require_admin(interaction)
        if (target_id := parse_id(target)) is None:
            await answer(interaction, catalogue.text(interaction.locale, "admin.invalid_id", value=shown(target)))
            return
        removed = await policy.unblock(kind, target_id)
        log.info("admin %s unblocked %s %s (was blocked: %s)", interaction.user.id, kind, target_id, removed)
        key = f"admin.unblock.{kind}.{'removed' if removed else 'missing'}"
        await answer(interaction, catalogue.text(interaction.locale, key, id=target_id))

    @group.command(**names("admin.block-user"))
    @app_commands.rename(**option_names("admin.block-user", "user_id", "reason"))
    @app_commands.describe(**option_descriptions("admin.block-user", "user_id", "reason"))
    async def block_user(
        interaction: Interaction, user_id: Range[str, 1, 40], reason: Range[str, 1, MAX_REASON] | None = None
    ) -> None:
        await block(interaction, "user", user_id, reason)

    @group.command(**names("admin.unblock-user"))
    @app_commands.rename(**option_names("admin.unblock-user", "user_id"))
    @app_commands.describe(**option_descriptions("admin.unblock-user", "user_id"))
    async def unblock_user(interaction: Interaction, user_id: Range[str, 1, 40]) -> None:
        await unblock(interaction, "user", user_id)

    @group.command(**names("admin.block-server"))
    @app_commands.rename(**option_names("admin.block-server", "server_id", "reason"))
    @app_commands.describe(**option_descriptions("admin.block-server", "server_id", "reason"))
    async def block_server(
        interaction: Interaction, server_id: Range[str, 1, 40], reason: Range[str, 1, MAX_REASON] | None = None
    ) -> None:
        await block(interaction, "guild", server_id, reason)

    @group.command(**names("admin.unblock-server"))
    @app_commands.rename(**option_names("admin.unblock-server", "server_id"))
    @app_commands.describe(**option_descriptions("admin.unblock-server", "server_id"))
    async def unblock_server(interaction: Interaction, server_id: Range[str, 1, 40]) -> None:
        await unblock(interaction, "guild", server_id)

    @group.command(**names("admin.blocks"))
    async def blocks(interaction: Interaction) -> None:
        require_admin(interaction)
        await answer(interaction, blocks_text(await storage.blocks(), interaction.locale))

    @group.command(**names("admin.usage"))
    async def usage(interaction: Interaction) -> None:
        require_admin(interaction)
        now = datetime.now(UTC)
        day_start, next_day, month_start, next_month = periods(now)
        spans = (
            ("today", day_start, next_day),
            ("week", now - timedelta(days=7), next_day),  # the last 7 days
            ("month", month_start, next_month),
        )
        locale = interaction.locale
        lines = [catalogue.text(locale, "admin.usage.title")]
        for name, since, until in spans:
            totals = await storage.usage_totals(None, since, until)
            line = usage_line(catalogue.text(locale, f"admin.usage.{name}"), totals, locale)
            lines.append(with_global_cap(line, name, global_caps, locale))
        await answer(interaction, "\n".join(lines))

    @group.command(**names("admin.sync"))
    async def sync(interaction: Interaction) -> None:
        require_admin(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)  # syncing can outlast the 3 s deadline
        await interaction.client.sync_commands()
        await interaction.edit_original_response(content=catalogue.text(interaction.locale, "admin.synced"))

    return group


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
