"""/help lists what the member may use here, privately, grouped by who may use it."""

from bot.app.i18n import catalogue
from tests.e2e.helpers import outcome
from tests.loopback.discord import permissions


def text(key: str) -> str:
    return catalogue.text("en-US", key)


async def sections(discord_api, guild, user) -> dict[str, str]:
    reply = await discord_api.slash("help", user=user, guild=guild)
    answer = await reply.final(timeout=5, until=outcome)
    assert reply.ephemeral
    return {field["name"]: field["value"] for field in answer.embeds[0]["fields"]}


async def test_a_member_sees_the_member_commands_only(discord_api, bot, guild, member) -> None:
    shown = await sections(discord_api, guild, member)

    assert list(shown) == [text("help.members")]
    assert text("help.command.imagine") in shown[text("help.members")]
    assert text("help.command.edit_image") in shown[text("help.members")]


async def test_a_moderator_also_sees_the_moderator_commands(discord_api, bot, guild) -> None:
    moderator = discord_api.add_user(
        "helpmod", permissions=permissions.DEFAULT_EVERYONE | permissions.MANAGE_GUILD, guild_id=guild.id
    )

    shown = await sections(discord_api, guild, moderator)

    assert list(shown) == [text("help.members"), text("help.moderators")]
    assert text("help.command.limits") in shown[text("help.moderators")]


async def test_the_bots_admin_sees_everything(discord_api, bot, guild, admin) -> None:
    shown = await sections(discord_api, guild, admin)

    assert list(shown) == [text("help.members"), text("help.moderators"), text("help.admins")]
