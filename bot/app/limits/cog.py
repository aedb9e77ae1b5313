"""/limits: moderators see and change their server's limits; every change is recorded."""

from typing import TYPE_CHECKING, Any, TypeAlias

import discord
from discord import app_commands
from discord.app_commands import Choice, Range
from discord.ext import commands

from bot.app.errors import in_code
from bot.app.i18n import catalogue
from bot.app.i18n.command_text import label, names, option_descriptions, option_names
from bot.app.limit_text import display
from bot.app.moderation import require_moderator
from bot.core import limits as rules
from bot.core.limits import LIMIT_NAMES, SCALAR_LIMITS, ServerLimits

if TYPE_CHECKING:
    from bot.app.client import ImageBot

Interaction: TypeAlias = "discord.Interaction[ImageBot]"
MAX_ROLE_QUOTA = 100_000
HISTORY_LENGTH = 15


@app_commands.guild_only()
@app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)  # guild_only leaves a group's open
@app_commands.default_permissions(manage_guild=True)
class Limits(
    commands.GroupCog, group_name=label("command.limits.name"), group_description=label("command.limits.description")
):
    """/limits: hidden from members without Manage Server by default, checked on every use."""

    def __init__(self, bot: "ImageBot") -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(**names("limits.show"))
    async def show(self, interaction: Interaction) -> None:
        limits = await require_moderator(interaction)
        changed = await self.bot.policy.overrides(interaction.guild_id or 0)
        await _answer(interaction, embed=limits_embed(limits, changed, interaction.locale))

    @app_commands.command(**names("limits.set"))
    @app_commands.rename(**option_names("limits.set", "name", "value"))
    @app_commands.describe(**option_descriptions("limits.set", "name", "value"))
    @app_commands.choices(name=[Choice(name=label(f"limit.{name}"), value=name) for name in SCALAR_LIMITS])
    async def set_limit(self, interaction: Interaction, name: str, value: Range[str, 1, 200]) -> None:
        limits = await require_moderator(interaction)
        parsed = rules.parse_limit(name, value, self.bot.generation.rules.models)
        await _change(interaction, limits, name, parsed)

    @app_commands.command(**names("limits.reset"))
    @app_commands.rename(**option_names("limits.reset", "name"))
    @app_commands.describe(**option_descriptions("limits.reset", "name"))
    @app_commands.choices(name=[Choice(name=label(f"limit.{name}"), value=name) for name in LIMIT_NAMES])
    async def reset(self, interaction: Interaction, name: str) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, name, None)

    @app_commands.command(**names("limits.history"))
    async def history(self, interaction: Interaction) -> None:
        await require_moderator(interaction)
        changes = await self.bot.policy.changes(interaction.guild_id or 0, HISTORY_LENGTH)
        defaults, locale = self.bot.policy.defaults, interaction.locale
        lines = [
            catalogue.text(
                locale,
                "limits.change",
                when=discord.utils.format_dt(change.changed_at, "R"),
                who=f"<@{change.changed_by}>",
                name=_label(change.name, locale),
                old=_stored_display(change.name, change.old_value, defaults, locale),
                new=_stored_display(change.name, change.new_value, defaults, locale),
            )
            for change in changes
        ]
        await _answer(interaction, "\n".join(lines) or catalogue.text(locale, "limits.no_changes"))

    @app_commands.command(**names("limits.channel"))
    @app_commands.rename(**option_names("limits.channel", "channel", "allowed"))
    @app_commands.describe(**option_descriptions("limits.channel", "channel", "allowed"))
    async def channel(self, interaction: Interaction, channel: discord.TextChannel, allowed: bool) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, "channels", _toggled(limits.channels, channel.id, allowed))

    @app_commands.command(**names("limits.exempt-role"))
    @app_commands.rename(**option_names("limits.exempt-role", "role", "exempt"))
    @app_commands.describe(**option_descriptions("limits.exempt-role", "role", "exempt"))
    async def exempt_role(self, interaction: Interaction, role: discord.Role, exempt: bool) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, "exempt_roles", _toggled(limits.exempt_roles, role.id, exempt))

    @app_commands.command(**names("limits.role-quota"))
    @app_commands.rename(**option_names("limits.role-quota", "role", "images"))
    @app_commands.describe(**option_descriptions("limits.role-quota", "role", "images"))
    async def role_quota(
        self, interaction: Interaction, role: discord.Role, images: Range[int, 0, MAX_ROLE_QUOTA]
    ) -> None:
        limits = await require_moderator(interaction)
        quotas = tuple((held, count) for held, count in limits.role_daily_images if held != role.id)
        await _change(interaction, limits, "role_daily_images", quotas + (((role.id, images),) if images else ()))

    @app_commands.command(**names("limits.moderator-role"))
    @app_commands.rename(**option_names("limits.moderator-role", "role", "moderator"))
    @app_commands.describe(**option_descriptions("limits.moderator-role", "role", "moderator"))
    async def moderator_role(self, interaction: Interaction, role: discord.Role, moderator: bool) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, "moderator_roles", _toggled(limits.moderator_roles, role.id, moderator))

    @app_commands.command(**names("limits.block-word"))
    @app_commands.rename(**option_names("limits.block-word", "pattern"))
    @app_commands.describe(**option_descriptions("limits.block-word", "pattern"))
    async def block_word(self, interaction: Interaction, pattern: Range[str, 1, rules.MAX_WORD_PATTERN]) -> None:
        limits = await require_moderator(interaction)
        word = rules.check_word_pattern(pattern)
        await _change(interaction, limits, "blocked_words", _toggled(limits.blocked_words, word, True))

    @app_commands.command(**names("limits.unblock-word"))
    @app_commands.rename(**option_names("limits.unblock-word", "pattern"))
    @app_commands.describe(**option_descriptions("limits.unblock-word", "pattern"))
    async def unblock_word(self, interaction: Interaction, pattern: Range[str, 1, rules.MAX_WORD_PATTERN]) -> None:
        limits = await require_moderator(interaction)
        word = rules.check_word_pattern(pattern)
        await _change(interaction, limits, "blocked_words", _toggled(limits.blocked_words, word, False))


def limits_embed(limits: ServerLimits, changed: set[str], locale: discord.Locale) -> discord.Embed:
    """Every limit with its value, marking the ones this server set itself."""
    embed = discord.Embed(
        title=catalogue.text(locale, "limits.title"),
        description=catalogue.text(locale, "limits.description"),
        colour=discord.Colour.blurple(),
    )
    for name in LIMIT_NAMES:
        value = display(name, getattr(limits, name), locale)
        marker = catalogue.text(locale, "limits.changed" if name in changed else "limits.default")
        embed.add_field(name=f"{_label(name, locale)} (`{name}`)", value=f"{value} {marker}")
    return embed


async def _change(interaction: Interaction, limits: ServerLimits, name: str, value: Any | None) -> None:
    """Store the change (None resets to the default) and say what it was and is now."""
    await interaction.client.policy.set_limit(interaction.guild_id or 0, name, value, interaction.user.id)
    locale = interaction.locale
    old = display(name, getattr(limits, name), locale)  # `limits` is from before the change
    new = display(name, getattr(await interaction.client.policy.limits(interaction.guild_id), name), locale)
    await _answer(interaction, catalogue.text(locale, "limits.updated", name=_label(name, locale), old=old, new=new))


def _label(name: str, locale: discord.Locale) -> str:
    """A limit's name as members read it; the raw id for a limit the catalogue no longer knows (old history)."""
    key = f"limit.{name}"
    return catalogue.text(locale, key) if key in catalogue.keys(catalogue.FALLBACK) else name


def _toggled(items: tuple[Any, ...], item: Any, present: bool) -> tuple[Any, ...]:
    kept = tuple(existing for existing in items if existing != item)
    return (*kept, item) if present else kept


def _stored_display(name: str, stored: str | None, defaults: ServerLimits, locale: discord.Locale) -> str:
    """A value in the change log; None is the default, shown with what the default is now."""
    if stored is None:
        return catalogue.text(locale, "limits.default_value", value=display(name, getattr(defaults, name), locale))
    try:
        return display(name, rules.decode(name, stored), locale)
    except ValueError:
        return f"`{in_code(stored)}`"


async def _answer(interaction: Interaction, content: str | None = None, *, embed: discord.Embed | None = None) -> None:
    """Moderators' answers are private, and mention nobody even when they name roles and members."""
    await interaction.response.send_message(
        content,
        embeds=[] if embed is None else [embed],
        ephemeral=True,
        allowed_mentions=discord.AllowedMentions.none(),
    )
