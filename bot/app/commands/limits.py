"""/limits: moderators see and change their server's limits; every change is recorded."""

from typing import TYPE_CHECKING, Any, TypeAlias

import discord
from discord import app_commands
from discord.app_commands import Choice, Range

from bot.app.errors import in_code
from bot.app.i18n import catalogue
from bot.app.i18n.command_text import label, names, option_descriptions, option_names
from bot.app.moderation import require_moderator
from bot.core import limits as rules
from bot.core.limits import LIMIT_NAMES, SCALAR_LIMITS, ServerLimits

if TYPE_CHECKING:
    from bot.app.client import ImageBot

Interaction: TypeAlias = "discord.Interaction[ImageBot]"
MAX_ROLE_QUOTA = 100_000
HISTORY_LENGTH = 15


def limits_group() -> app_commands.Group:
    """The /limits group: hidden from members without Manage Server by default, checked on every use."""
    group = app_commands.Group(
        **names("limits"),
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),  # guild_only alone leaves a group's open
        default_permissions=discord.Permissions(manage_guild=True),
    )

    @group.command(**names("limits.show"))
    async def show(interaction: Interaction) -> None:
        limits = await require_moderator(interaction)
        changed = await interaction.client.policy.overrides(interaction.guild_id or 0)
        await _answer(interaction, embed=limits_embed(limits, changed, interaction.locale))

    @group.command(**names("limits.set"))
    @app_commands.rename(**option_names("limits.set", "name", "value"))
    @app_commands.describe(**option_descriptions("limits.set", "name", "value"))
    @app_commands.choices(name=[Choice(name=label(f"limit.{name}"), value=name) for name in SCALAR_LIMITS])
    async def set_limit(interaction: Interaction, name: str, value: Range[str, 1, 200]) -> None:
        limits = await require_moderator(interaction)
        parsed = rules.parse_limit(name, value, interaction.client.generation.rules.models)
        await _change(interaction, limits, name, parsed)

    @group.command(**names("limits.reset"))
    @app_commands.rename(**option_names("limits.reset", "name"))
    @app_commands.describe(**option_descriptions("limits.reset", "name"))
    @app_commands.choices(name=[Choice(name=label(f"limit.{name}"), value=name) for name in LIMIT_NAMES])
    async def reset(interaction: Interaction, name: str) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, name, None)

    @group.command(**names("limits.history"))
    async def history(interaction: Interaction) -> None:
        await require_moderator(interaction)
        changes = await interaction.client.policy.changes(interaction.guild_id or 0, HISTORY_LENGTH)
        defaults, locale = interaction.client.policy.defaults, interaction.locale
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

    @group.command(**names("limits.channel"))
    @app_commands.rename(**option_names("limits.channel", "channel", "allowed"))
    @app_commands.describe(**option_descriptions("limits.channel", "channel", "allowed"))
    async def channel(interaction: Interaction, channel: discord.TextChannel, allowed: bool) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, "channels", _toggled(limits.channels, channel.id, allowed))

    @group.command(**names("limits.exempt-role"))
    @app_commands.rename(**option_names("limits.exempt-role", "role", "exempt"))
    @app_commands.describe(**option_descriptions("limits.exempt-role", "role", "exempt"))
    async def exempt_role(interaction: Interaction, role: discord.Role, exempt: bool) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, "exempt_roles", _toggled(limits.exempt_roles, role.id, exempt))

    @group.command(**names("limits.role-quota"))
    @app_commands.rename(**option_names("limits.role-quota", "role", "images"))
    @app_commands.describe(**option_descriptions("limits.role-quota", "role", "images"))
    async def role_quota(interaction: Interaction, role: discord.Role, images: Range[int, 0, MAX_ROLE_QUOTA]) -> None:
        limits = await require_moderator(interaction)
        quotas = tuple((held, count) for held, count in limits.role_daily_images if held != role.id)
        await _change(interaction, limits, "role_daily_images", quotas + (((role.id, images),) if images else ()))

    @group.command(**names("limits.moderator-role"))
    @app_commands.rename(**option_names("limits.moderator-role", "role", "moderator"))
    @app_commands.describe(**option_descriptions("limits.moderator-role", "role", "moderator"))
    async def moderator_role(interaction: Interaction, role: discord.Role, moderator: bool) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, "moderator_roles", _toggled(limits.moderator_roles, role.id, moderator))

    @group.command(**names("limits.block-word"))
    @app_commands.rename(**option_names("limits.block-word", "pattern"))
    @app_commands.describe(**option_descriptions("limits.block-word", "pattern"))
    async def block_word(interaction: Interaction, pattern: Range[str, 1, rules.MAX_WORD_PATTERN]) -> None:
        limits = await require_moderator(interaction)
        word = rules.check_word_pattern(pattern)
        await _change(interaction, limits, "blocked_words", _toggled(limits.blocked_words, word, True))

    @group.command(**names("limits.unblock-word"))
    @app_commands.rename(**option_names("limits.unblock-word", "pattern"))
    @app_commands.describe(**option_descriptions("limits.unblock-word", "pattern"))
    async def unblock_word(interaction: Interaction, pattern: Range[str, 1, rules.MAX_WORD_PATTERN]) -> None:
        limits = await require_moderator(interaction)
        word = rules.check_word_pattern(pattern)
        await _change(interaction, limits, "blocked_words", _toggled(limits.blocked_words, word, False))

    return group


def limits_embed(limits: ServerLimits, changed: set[str], locale: discord.Locale) -> discord.Embed:
    """Every limit with its value, marking the ones this server set itself."""
    embed = discord.Embed(
        title=catalogue.text(locale, "limits.title"),
        description=catalogue.text(locale, "limits.description"),
        colour=discord.Colour.blurple(),
    )
    for name in LIMIT_NAMES:
        value = rules.display(name, getattr(limits, name))
        marker = catalogue.text(locale, "limits.changed" if name in changed else "limits.default")
        embed.add_field(name=f"{_label(name, locale)} (`{name}`)", value=f"{value} {marker}")
    return embed


async def _change(interaction: Interaction, limits: ServerLimits, name: str, value: Any | None) -> None:
    """Store the change (None resets to the default) and say what it was and is now."""
    await interaction.client.policy.set_limit(interaction.guild_id or 0, name, value, interaction.user.id)
    old = rules.display(name, getattr(limits, name))  # `limits` is from before the change
    new = rules.display(name, getattr(await interaction.client.policy.limits(interaction.guild_id), name))
    locale = interaction.locale
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
        return catalogue.text(locale, "limits.default_value", value=rules.display(name, getattr(defaults, name)))
    try:
        return rules.display(name, rules.decode(name, stored))
    except ValueError:
        return f"`{in_code(stored)}`"


async def _answer(interaction: Interaction, content: str | None = None, *, embed: discord.Embed | None = None) -> None:
    """Moderators' answers are private, and mention nobody even when they name roles and members."""
    await interaction.response.send_message(
        content, embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )
