"""Per-server limits as members and moderators meet them: each refused with its own message, exactly counted."""

import asyncio
import io

import discord
import pytest
from PIL import Image

from bot.app.i18n import catalogue
from bot.core.storage import periods
from tests.e2e.helpers import buttons, form_fields, outcome, png_bytes
from tests.e2e.test_imagine_faults import CASES as FAULT_CASES


def text(key: str, **params: object) -> str:
    return catalogue.text("en-US", key, **params)


pytestmark = pytest.mark.usefixtures("limits_reset")


async def set_limit(discord_api, guild, moderator, name: str, value: str) -> str:
    reply = await discord_api.slash("limits set", user=moderator, guild=guild, options={"name": name, "value": value})
    return (await reply.final(timeout=5, until=outcome)).content


async def imagine(discord_api, guild, user, **options: object):
    reply = await discord_api.slash("imagine", user=user, guild=guild, options={"prompt": "a lantern"} | options)
    return reply, await reply.final(timeout=15, until=outcome)


async def test_a_moderator_sets_a_limit_and_is_told_old_and_new(discord_api, bot, guild, moderator) -> None:
    answer = await set_limit(discord_api, guild, moderator, "user_daily_images", "2")

    assert answer == text("limits.updated", name=text("limit.user_daily_images"), old="unlimited", new="2")
    assert (await bot.policy.limits(guild.id)).user_daily_images == 2


async def test_the_daily_quota_of_a_member_is_enforced_and_explained(
    discord_api, image_api, bot, guild, moderator, member
) -> None:
    await set_limit(discord_api, guild, moderator, "user_daily_images", "3")

    _, first = await imagine(discord_api, guild, member, count=2)
    _, second = await imagine(discord_api, guild, member, count=1)
    _, refused = await imagine(discord_api, guild, member, count=1)

    assert (len(first.files), len(second.files)) == (2, 1)
    assert refused.files == []
    assert refused.content.startswith("You've used 3 of your 3 images for today. More are available <t:")
    assert len(image_api.requests) == 2


async def test_a_hundred_members_at_once_get_exactly_the_servers_daily_images(
    discord_api, image_api, bot, guild, moderator
) -> None:
    members = [discord_api.add_user(f"crowd{n}", guild_id=guild.id) for n in range(100)]
    used_today = await server_images_today(bot, guild)
    await set_limit(discord_api, guild, moderator, "server_daily_images", str(used_today + 10))
    image_api.latency = 0.2  # all 100 are in flight together

    replies = await asyncio.gather(*(imagine(discord_api, guild, user) for user in members))

    delivered = [message for _, message in replies if message.files]
    refused = [message for _, message in replies if not message.files]
    assert len(delivered) == 10
    assert len(image_api.requests) == 10
    resets = discord.utils.format_dt(periods(discord.utils.utcnow())[1], "R")
    full = used_today + 10
    assert {message.content for message in refused} == {
        text("error.quota.server_daily", used=full, allowed=full, resets=resets)
    }
    await settled(bot)  # the last result is posted just before its ledger row is written
    assert await server_images_today(bot, guild) == used_today + 10


async def settled(bot) -> None:
    """Wait for the jobs in flight to be settled: a result is posted just before its ledger row is written."""
    assert await bot.jobs.wait_idle(5) == 0


async def server_images_today(bot, guild) -> int:
    day_start, next_day, _, _ = periods(discord.utils.utcnow())
    return (await bot.storage.usage_totals(guild.id, day_start, next_day)).images


async def test_the_cooldown_makes_a_member_wait(discord_api, image_api, bot, guild, moderator, member) -> None:
    await set_limit(discord_api, guild, moderator, "cooldown_seconds", "600")

    _, first = await imagine(discord_api, guild, member)
    _, second = await imagine(discord_api, guild, member)

    assert len(first.files) == 1
    assert second.content.startswith("Please wait a moment between requests: you can ask again <t:")
    assert len(image_api.requests) == 1


async def test_a_member_may_run_only_so_many_requests_at_once(
    discord_api, image_api, bot, guild, moderator, member
) -> None:
    await set_limit(discord_api, guild, moderator, "concurrent_jobs", "1")
    image_api.latency = 1.0

    running = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "slow"})
    await asyncio.sleep(0.3)
    _, refused = await imagine(discord_api, guild, member)

    assert refused.content == text("error.quota.concurrent", used=1, allowed=1)
    assert len((await running.final(timeout=15, until=outcome)).files) == 1


async def test_the_monthly_budget_stops_spending(discord_api, image_api, bot, guild, moderator, member) -> None:
    spent = await month_cost(bot, guild)
    budget = (spent + 200_000) / 1_000_000  # room for one pro image at $0.134, not two
    await set_limit(discord_api, guild, moderator, "monthly_budget", f"{budget:.6f}")

    _, first = await imagine(discord_api, guild, member)
    _, second = await imagine(discord_api, guild, member)

    assert len(first.files) == 1
    assert second.content.startswith("This server has used $")
    assert "monthly image budget. It resets <t:" in second.content


async def month_cost(bot, guild) -> int:
    _, _, month_start, next_month = periods(discord.utils.utcnow())
    return (await bot.storage.usage_totals(guild.id, month_start, next_month)).cost


@pytest.mark.parametrize(
    ("name", "value", "options", "expected"),
    [
        ("max_count", "2", {"count": 3}, text("error.count_above_limit", limit=2, count=3)),
        ("max_quality", "2k", {"quality": "4k"}, text("error.quality_above_limit", limit="2k")),
        (
            "models",
            "gemini-2.5-flash-image",
            {"model": "gemini-3-pro-image-preview"},
            text("error.model_not_allowed", model="gemini-3-pro-image-preview", allowed="gemini-2.5-flash-image"),
        ),
    ],
    ids=["max_count", "max_quality", "models"],
)
async def test_a_request_beyond_the_servers_rules_is_refused_privately(
    discord_api, image_api, bot, guild, moderator, member, name, value, options, expected
) -> None:
    await set_limit(discord_api, guild, moderator, name, value)

    reply, refused = await imagine(discord_api, guild, member, **options)

    assert reply.ephemeral
    assert refused.content == expected
    assert image_api.requests == []


async def test_the_servers_first_model_becomes_its_default(discord_api, image_api, bot, guild, moderator, member):
    await set_limit(discord_api, guild, moderator, "models", "gemini-2.5-flash-image")

    await imagine(discord_api, guild, member)

    assert image_api.last_request.json["model"] == "gemini-2.5-flash-image"


async def test_commands_work_only_in_allowed_channels(discord_api, image_api, bot, guild, moderator, member) -> None:
    art = discord_api.add_channel(guild.id, "art")
    allowed = await discord_api.slash(
        "limits channel", user=moderator, guild=guild, options={"channel": art.id, "allowed": True}
    )
    await allowed.final(timeout=5, until=outcome)

    elsewhere = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "x"})
    here = await discord_api.slash("imagine", user=member, guild=guild, channel=art, options={"prompt": "x"})

    assert (await elsewhere.final(timeout=5, until=outcome)).content == text(
        "error.channel_not_allowed", channels=f"<#{art.id}>"
    )
    assert len((await here.final(timeout=15, until=outcome)).files) == 1


async def test_an_exempt_role_and_a_role_quota(discord_api, image_api, bot, guild, moderator) -> None:
    vip = discord_api.add_role(guild.id, "vip")
    artist = discord_api.add_role(guild.id, "artist")
    await set_limit(discord_api, guild, moderator, "user_daily_images", "1")
    for command, options in (
        ("limits exempt-role", {"role": vip.id, "exempt": True}),
        ("limits role-quota", {"role": artist.id, "images": 3}),
    ):
        await (await discord_api.slash(command, user=moderator, guild=guild, options=options)).final(
            timeout=5, until=outcome
        )
    exempt = discord_api.add_user("vip-member", roles=[vip], guild_id=guild.id)
    quota3 = discord_api.add_user("artist-member", roles=[artist], guild_id=guild.id)

    exempt_results = [len((await imagine(discord_api, guild, exempt, count=2))[1].files) for _ in range(2)]
    artist_results = [len((await imagine(discord_api, guild, quota3))[1].files) for _ in range(4)]

    assert exempt_results == [2, 2]
    assert artist_results == [1, 1, 1, 0]


async def test_blocked_words_refuse_prompts_privately(discord_api, image_api, bot, guild, moderator, member) -> None:
    await (
        await discord_api.slash("limits block-word", user=moderator, guild=guild, options={"pattern": "Dragon*"})
    ).final(timeout=5, until=outcome)

    reply, refused = await imagine(discord_api, guild, member, prompt="Two DRAGONS fighting")
    _, allowed = await imagine(discord_api, guild, member, prompt="a snapdragon in a vase")

    assert reply.ephemeral
    assert refused.content == text("error.prompt_blocked", word="dragon*")  # shown in code: no escaping
    assert len(allowed.files) == 1
    assert [request.json["prompt"] for request in image_api.requests] == ["a snapdragon in a vase"]


async def test_editing_can_be_switched_off(discord_api, image_api, bot, guild, moderator, member) -> None:
    _, result = await imagine(discord_api, guild, member)
    await set_limit(discord_api, guild, moderator, "edit_allowed", "no")

    edit = await discord_api.slash(
        "edit", user=member, guild=guild, options={"prompt": "bluer"}, attachments={"image": png_bytes()}
    )
    pressed = await discord_api.click(result, buttons(result)["Upscale"], user=member)

    assert (await edit.final(timeout=5, until=outcome)).content == text("error.edit_disabled")
    assert (await pressed.final(timeout=5, until=outcome)).content == text("error.edit_disabled")
    assert len(image_api.requests) == 1


async def test_upscale_uses_the_highest_quality_the_server_allows(
    discord_api, image_api, bot, guild, moderator, member
) -> None:
    _, result = await imagine(discord_api, guild, member)
    await set_limit(discord_api, guild, moderator, "max_quality", "2k")

    pressed = await discord_api.click(result, buttons(result)["Upscale"], user=member)

    await pressed.final(timeout=15, until=outcome)
    assert image_api.last_request.json["quality"] == "2k"


@pytest.mark.parametrize("case", FAULT_CASES, ids=str)
async def test_every_gateway_fault_refunds_the_quota(
    discord_api, image_api, bot, guild, moderator, member, case
) -> None:
    await set_limit(discord_api, guild, moderator, "user_daily_images", "1")
    for fault in FAULT_CASES[case][0]:
        image_api.fail_next(fault)

    _, failed = await imagine(discord_api, guild, member)
    _, retried = await imagine(discord_api, guild, member)

    assert failed.files == []
    assert len(retried.files) == 1
    await settled(bot)
    history = await bot.storage.history(member.id, guild.id)
    assert [entry.outcome for entry in history] == ["delivered", "failed"]


async def test_the_change_log_says_who_changed_what(discord_api, bot, guild, moderator) -> None:
    await set_limit(discord_api, guild, moderator, "max_count", "3")
    await set_limit(discord_api, guild, moderator, "max_count", "5")

    reply = await discord_api.slash("limits history", user=moderator, guild=guild)

    lines = (await reply.final(timeout=5, until=outcome)).content.splitlines()
    label = text("limit.max_count")
    assert lines[0].endswith(f"<@{moderator.id}> changed **{label}**: 3 → 5")
    default = text("limits.default_value", value=bot.policy.defaults.max_count)
    assert lines[1].endswith(f"<@{moderator.id}> changed **{label}**: {default} → 3")


async def test_limits_show_marks_what_the_server_changed(discord_api, bot, guild, moderator) -> None:
    await set_limit(discord_api, guild, moderator, "cooldown_seconds", "30")

    reply = await discord_api.slash("limits show", user=moderator, guild=guild)

    fields = {
        field["name"]: field["value"] for field in (await reply.final(timeout=5, until=outcome)).embeds[0]["fields"]
    }
    assert fields[f"{text('limit.cooldown_seconds')} (`cooldown_seconds`)"] == f"30 s {text('limits.changed')}"
    assert fields[f"{text('limit.max_count')} (`max_count`)"] == f"10 {text('limits.default')}"
    assert reply.ephemeral


async def test_a_bad_value_is_explained(discord_api, bot, guild, moderator) -> None:
    answer = await set_limit(discord_api, guild, moderator, "max_quality", "8k")

    assert answer == text("error.invalid_limit_value", name="max_quality", value="8k")


async def test_moderator_commands_are_hidden_from_members_by_default(discord_api, bot, guild, member) -> None:
    with pytest.raises(PermissionError):
        await discord_api.slash("limits show", user=member, guild=guild)


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("limits show", {}),
        ("limits set", {"name": "user_daily_images", "value": "0"}),
        ("limits reset", {"name": "user_daily_images"}),
        ("limits history", {}),
        ("limits block-word", {"pattern": "x"}),
        ("usage", {}),
    ],
)
async def test_moderator_commands_are_refused_to_members_even_when_the_server_opens_them(
    discord_api, bot, guild, member, command, options
) -> None:
    discord_api.open_command_to_everyone(guild.id, command.split()[0])

    reply = await discord_api.slash(command, user=member, guild=guild, options=options)

    assert (await reply.final(timeout=5, until=outcome)).content == text("error.not_permitted.moderator")
    assert await bot.policy.overrides(guild.id) == set()


async def test_a_moderator_role_grants_the_moderator_commands(discord_api, bot, guild, moderator) -> None:
    helpers = discord_api.add_role(guild.id, "helpers")
    helper = discord_api.add_user("helper", roles=[helpers], guild_id=guild.id)
    discord_api.open_command_to_everyone(guild.id, "limits")
    await (
        await discord_api.slash(
            "limits moderator-role", user=moderator, guild=guild, options={"role": helpers.id, "moderator": True}
        )
    ).final(timeout=5, until=outcome)

    answer = await set_limit(discord_api, guild, helper, "max_count", "4")

    assert answer == text("limits.updated", name=text("limit.max_count"), old="10", new="4")


async def test_usage_shows_totals_top_members_and_a_chart(discord_api, image_api, bot, guild, moderator, member):
    await imagine(discord_api, guild, member, count=3)
    await settled(bot)

    reply = await discord_api.slash("usage", user=moderator, guild=guild)

    message = await reply.final(timeout=10, until=outcome)
    assert reply.ephemeral
    embed = message.embeds[0]
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert set(fields) >= {text("usage.today"), text("usage.week"), text("usage.month"), text("usage.top")}
    assert f"<@{member.id}>: 3 images" in fields[text("usage.top")]
    (chart,) = message.files
    with Image.open(io.BytesIO(chart.data)) as picture:
        assert picture.format == "PNG"
        assert picture.size == (1000, 500)


async def test_usage_of_one_member(discord_api, image_api, bot, guild, moderator, member) -> None:
    await imagine(discord_api, guild, member, count=2)
    await settled(bot)

    reply = await discord_api.slash("usage", user=moderator, guild=guild, options={"member": member.id})

    fields = {
        field["name"]: field["value"] for field in (await reply.final(timeout=10, until=outcome)).embeds[0]["fields"]
    }
    assert fields[text("usage.today")].startswith("2 images in 1 requests")


async def test_the_form_of_an_edit_respects_the_servers_count_limit(
    discord_api, image_api, bot, guild, moderator, member
) -> None:
    await set_limit(discord_api, guild, moderator, "max_count", "2")
    posted = discord_api.post_message(guild.default_channel.id, member, "pic", attachments=[("p.png", png_bytes())])

    opened = await discord_api.context_menu("Edit image", user=member, message=posted, guild=guild)
    fields = await form_fields(opened)
    submitted = await discord_api.submit_modal(opened, {fields["Prompt"]: "sepia", fields["How many images"]: ["4"]})

    assert (await submitted.final(timeout=5, until=outcome)).content == text(
        "error.count_above_limit", limit=2, count=5
    )
