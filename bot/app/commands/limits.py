"""/limits: moderators see and change their server's limits; every change is recorded."""

from typing import TYPE_CHECKING, Any, TypeAlias

import discord
from discord import app_commands
from discord.app_commands import Choice, Range, locale_str

from bot.app.errors import in_code
from bot.app.i18n import catalogue
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
        name=locale_str("limits", key="command.limits.name"),
        description=locale_str("See and change this server's image limits", key="command.limits.description"),
        guild_only=True,
        allowed_contexts=app_commands.AppCommandContext(guild=True),  # guild_only alone leaves a group's open
        default_permissions=discord.Permissions(manage_guild=True),
    )

    @group.command(
        name=locale_str("show", key="command.limits.show.name"),
        description=locale_str(
            "Every limit in force here, and which ones this server has changed", key="command.limits.show.description"
        ),
    )
    async def show(interaction: Interaction) -> None:
        limits = await require_moderator(interaction)
        changed = await interaction.client.policy.overrides(interaction.guild_id or 0)
        await _answer(interaction, embed=limits_embed(limits, changed, interaction.locale))

    @group.command(
        name=locale_str("set", key="command.limits.set.name"),
        description=locale_str("Change one limit", key="command.limits.set.description"),
    )
    @app_commands.rename(
        name=locale_str("name", key="command.limits.set.option.name.name"),
        value=locale_str("value", key="command.limits.set.option.value.name"),
    )
    @app_commands.describe(
        name=locale_str("The limit to change", key="command.limits.set.option.name.description"),
        value=locale_str("Its new value; 0 means unlimited", key="command.limits.set.option.value.description"),
    )
    @app_commands.choices(name=[Choice(name=name, value=name) for name in SCALAR_LIMITS])
    async def set_limit(interaction: Interaction, name: str, value: Range[str, 1, 200]) -> None:
        limits = await require_moderator(interaction)
        parsed = rules.parse_limit(name, value, interaction.client.generation.rules.models)
        await _change(interaction, limits, name, parsed)

    @group.command(
        name=locale_str("reset", key="command.limits.reset.name"),
        description=locale_str("Put one limit back to the bot's default", key="command.limits.reset.description"),
    )
    @app_commands.rename(
        name=locale_str("name", key="command.limits.reset.option.name.name"),
    )
    @app_commands.describe(
        name=locale_str("The limit to reset", key="command.limits.reset.option.name.description"),
    )
    @app_commands.choices(name=[Choice(name=name, value=name) for name in LIMIT_NAMES])
    async def reset(interaction: Interaction, name: str) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, name, None)

    @group.command(
        name=locale_str("history", key="command.limits.history.name"),
        description=locale_str(
            "Recent changes of this server's limits: who, what, when", key="command.limits.history.description"
        ),
    )
    async def history(interaction: Interaction) -> None:
        await require_moderator(interaction)
        changes = await interaction.client.policy.changes(interaction.guild_id or 0, HISTORY_LENGTH)
        locale = interaction.locale
        lines = [
            catalogue.text(
                locale,
                "limits.change",
                when=discord.utils.format_dt(change.changed_at, "R"),
                who=f"<@{change.changed_by}>",
                name=change.name,
                old=_stored_display(change.name, change.old_value, locale),
                new=_stored_display(change.name, change.new_value, locale),
            )
            for change in changes
        ]
        await _answer(interaction, "\n".join(lines) or catalogue.text(locale, "limits.no_changes"))

    @group.command(
        name=locale_str("channel", key="command.limits.channel.name"),
        description=locale_str(
            "Allow the image commands in a channel, or stop allowing it", key="command.limits.channel.description"
        ),
    )
    @app_commands.rename(
        channel=locale_str("channel", key="command.limits.channel.option.channel.name"),
        allowed=locale_str("allowed", key="command.limits.channel.option.allowed.name"),
    )
    @app_commands.describe(
        channel=locale_str("The channel", key="command.limits.channel.option.channel.description"),
        allowed=locale_str(
            "Allow it (the commands then work only in allowed channels)",
            key="command.limits.channel.option.allowed.description",
        ),
    )
    async def channel(interaction: Interaction, channel: discord.TextChannel, allowed: bool) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, "channels", _toggled(limits.channels, channel.id, allowed))

    @group.command(
        name=locale_str("exempt-role", key="command.limits.exempt-role.name"),
        description=locale_str(
            "Free a role from every quota, or undo it", key="command.limits.exempt-role.description"
        ),
    )
    @app_commands.rename(
        role=locale_str("role", key="command.limits.exempt-role.option.role.name"),
        exempt=locale_str("exempt", key="command.limits.exempt-role.option.exempt.name"),
    )
    @app_commands.describe(
        role=locale_str("The role", key="command.limits.exempt-role.option.role.description"),
        exempt=locale_str(
            "Exempt it from quotas, cooldown and budget", key="command.limits.exempt-role.option.exempt.description"
        ),
    )
    async def exempt_role(interaction: Interaction, role: discord.Role, exempt: bool) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, "exempt_roles", _toggled(limits.exempt_roles, role.id, exempt))

    @group.command(
        name=locale_str("role-quota", key="command.limits.role-quota.name"),
        description=locale_str(
            "Give a role its own daily image quota (0 removes it)", key="command.limits.role-quota.description"
        ),
    )
    @app_commands.rename(
        role=locale_str("role", key="command.limits.role-quota.option.role.name"),
        images=locale_str("images", key="command.limits.role-quota.option.images.name"),
    )
    @app_commands.describe(
        role=locale_str("The role", key="command.limits.role-quota.option.role.description"),
        images=locale_str(
            "Images a day for its members (the highest of their roles)",
            key="command.limits.role-quota.option.images.description",
        ),
    )
    async def role_quota(interaction: Interaction, role: discord.Role, images: Range[int, 0, MAX_ROLE_QUOTA]) -> None:
        limits = await require_moderator(interaction)
        quotas = tuple((held, count) for held, count in limits.role_daily_images if held != role.id)
        await _change(interaction, limits, "role_daily_images", quotas + (((role.id, images),) if images else ()))

    @group.command(
        name=locale_str("moderator-role", key="command.limits.moderator-role.name"),
        description=locale_str(
            "Let a role manage these limits and see usage, or undo it", key="command.limits.moderator-role.description"
        ),
    )
    @app_commands.rename(
        role=locale_str("role", key="command.limits.moderator-role.option.role.name"),
        moderator=locale_str("moderator", key="command.limits.moderator-role.option.moderator.name"),
    )
    @app_commands.describe(
        role=locale_str("The role", key="command.limits.moderator-role.option.role.description"),
        moderator=locale_str(
            "Its members may use /limits and /usage", key="command.limits.moderator-role.option.moderator.description"
        ),
    )
    async def moderator_role(interaction: Interaction, role: discord.Role, moderator: bool) -> None:
        limits = await require_moderator(interaction)
        await _change(interaction, limits, "moderator_roles", _toggled(limits.moderator_roles, role.id, moderator))

    @group.command(
        name=locale_str("block-word", key="command.limits.block-word.name"),
        description=locale_str(
            "Refuse prompts holding a word or pattern (* matches letters)", key="command.limits.block-word.description"
        ),
    )
    @app_commands.rename(
        pattern=locale_str("pattern", key="command.limits.block-word.option.pattern.name"),
    )
    @app_commands.describe(
        pattern=locale_str(
            "A word, a phrase, or a pattern such as gore*", key="command.limits.block-word.option.pattern.description"
        ),
    )
    async def block_word(interaction: Interaction, pattern: Range[str, 1, rules.MAX_WORD_PATTERN]) -> None:
        limits = await require_moderator(interaction)
        word = rules.check_word_pattern(pattern)
        await _change(interaction, limits, "blocked_words", _toggled(limits.blocked_words, word, True))

    @group.command(
        name=locale_str("unblock-word", key="command.limits.unblock-word.name"),
        description=locale_str("Allow a blocked word or pattern again", key="command.limits.unblock-word.description"),
    )
    @app_commands.rename(
        pattern=locale_str("pattern", key="command.limits.unblock-word.option.pattern.name"),
    )
    @app_commands.describe(
        pattern=locale_str(
            "The word or pattern, as it was blocked", key="command.limits.unblock-word.option.pattern.description"
        ),
    )
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
        embed.add_field(name=f"{catalogue.text(locale, f'limit.{name}')} (`{name}`)", value=f"{value} {marker}")
    return embed


async def _change(interaction: Interaction, limits: ServerLimits, name: str, value: Any | None) -> None:
    """Store the change (None resets to the default) and say what it was and is now."""
    old = rules.display(name, getattr(limits, name))
    await interaction.client.policy.set_limit(interaction.guild_id or 0, name, value, interaction.user.id)
    new = rules.display(name, getattr(await interaction.client.policy.limits(interaction.guild_id), name))
    await _answer(interaction, catalogue.text(interaction.locale, "limits.updated", name=name, old=old, new=new))


def _toggled(items: tuple[Any, ...], item: Any, present: bool) -> tuple[Any, ...]:
    kept = tuple(existing for existing in items if existing != item)
    return (*kept, item) if present else kept


def _stored_display(name: str, stored: str | None, locale: discord.Locale) -> str:
    if stored is None:
        return catalogue.text(locale, "limits.default_value")
    try:
        return rules.display(name, rules.decode(name, stored))
    except ValueError:
        return f"`{in_code(stored)}`"


async def _answer(interaction: Interaction, content: str | None = None, *, embed: discord.Embed | None = None) -> None:
    """Moderators' answers are private, and mention nobody even when they name roles and members."""
    await interaction.response.send_message(
        content, embed=embed, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )
