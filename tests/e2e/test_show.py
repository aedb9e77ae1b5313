"""/show: an earlier result posted again for its owner, with working buttons, after a restart too."""

from bot.app.i18n import catalogue
from tests.conftest import bot_env
from tests.e2e.bot_process import START_TIMEOUT, run_bot, stop_bot
from tests.e2e.helpers import buttons, outcome


def job_of(message) -> str:
    """The job id a result's buttons carry (`img:v1:<action>:<job>`)."""
    return buttons(message)["Reroll"].split(":")[3]


async def test_a_result_is_shown_again_with_working_buttons_after_a_restart(own_discord, image_api, tmp_path) -> None:
    guild = own_discord.add_guild(name="Show")
    member = own_discord.add_user(name="collector", guild_id=guild.id)
    env = bot_env(own_discord, image_api, guild)

    first = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT, sessions=1)
        reply = await own_discord.slash("imagine", user=member, guild=guild, options={"prompt": "a glass bird --n 2"})
        result = await reply.final(timeout=15, until=outcome)
    finally:
        stderr = await stop_bot(first)
    assert first.returncode == 0, stderr[-2000:]
    job = job_of(result)

    second = await run_bot(env, tmp_path)
    try:
        await own_discord.wait_ready(START_TIMEOUT, sessions=2)
        history = await (await own_discord.slash("history", user=member, guild=guild)).final(timeout=5, until=outcome)
        assert f"`{job}`" in history.embeds[0]["description"]

        shown = await (await own_discord.slash("show", user=member, guild=guild, options={"job": job})).final(
            timeout=15, until=outcome
        )
        assert [file.data for file in shown.files] == [file.data for file in result.files]
        assert shown.embeds[0]["description"] == result.embeds[0]["description"]
        assert job_of(shown) == job
        requests_before = len(image_api.requests)

        pressed = await own_discord.click(shown, buttons(shown)["Reroll"], user=member)
        rerolled = await pressed.final(timeout=15, until=outcome)
        assert len(rerolled.files) == 2
        assert len(image_api.requests) == requests_before + 1
    finally:
        stderr = await stop_bot(second)
    assert second.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr


async def test_only_the_owner_may_show_a_result_and_a_gone_one_is_said_to_be(
    discord_api, image_api, bot, member, guild
) -> None:
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a paper boat"})
    result = await reply.final(timeout=15, until=outcome)
    job = job_of(result)
    stranger = discord_api.add_user(name="onlooker", guild_id=guild.id)

    refused = await discord_api.slash("show", user=stranger, guild=guild, options={"job": job})
    assert (await refused.final(timeout=5, until=outcome)).content == catalogue.text(
        "en-US", "error.not_yours", owner=member.id
    )
    assert refused.ephemeral

    unknown = await discord_api.slash("show", user=member, guild=guild, options={"job": "0123456789abcdef"})
    said = (await unknown.final(timeout=5, until=outcome)).content
    assert said == catalogue.text("en-US", "error.job_gone", job_id="0123456789abcdef")

    pressed = await discord_api.click(result, buttons(result)["Delete"], user=member)
    await pressed.final(timeout=5, until=lambda state: state.deleted)
    gone = await discord_api.slash("show", user=member, guild=guild, options={"job": job})
    assert (await gone.final(timeout=5, until=outcome)).content == catalogue.text("en-US", "error.result_gone")
