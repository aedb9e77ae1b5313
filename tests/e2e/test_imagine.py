"""/imagine as a member sees it: acknowledged at once, then images and a compact embed."""

import asyncio
import time

from bot.app.i18n import catalogue
from bot.app.render import PROMPT_PREVIEW
from tests.conftest import API_KEY
from tests.e2e.helpers import embed_fields, image_size, outcome

GENERATION_SECONDS = 0.5  # the image API's latency where a test reads the time a result took


async def test_imagine_posts_the_requested_images(discord_api, image_api, bot, member, guild) -> None:
    image_api.latency = GENERATION_SECONDS
    asked = time.monotonic()
    reply = await discord_api.slash(
        "imagine", user=member, guild=guild, options={"prompt": "a lighthouse at dusk", "count": 2}
    )

    assert await reply.acknowledged(within=3.0)
    assert reply.callback_type == 5  # deferred "thinking"
    message = await reply.final(timeout=15, until=outcome)
    waited = time.monotonic() - asked
    assert [image_size(file) for file in message.files] == [(1024, 1024)] * 2
    assert [file.filename for file in message.files] == ["imagine-1.png", "imagine-2.png"]
    embed = message.embeds[0]
    assert "a lighthouse at dusk" in embed["description"]
    seconds = float(embed_fields(embed)["Time"].removesuffix(" s"))
    # the image API's own time: at least its latency, at most the whole wait (plus rounding to a tenth)
    assert GENERATION_SECONDS <= seconds <= waited + 0.05
    assert embed_fields(embed) == {
        "Model": "gemini-3-pro-image-preview",
        "Size": "1024x1024 (1:1)",
        "Quality": "1k",
        "Time": catalogue.text("en-US", "result.seconds", seconds=seconds),
        "Requested by": f"<@{member.id}>",
    }
    assert embed_fields(embed)["Time"].endswith(" s")
    sent = image_api.last_request.json
    assert sent["prompt"] == "a lighthouse at dusk"
    assert sent["n"] == 2
    assert sent["model"] == "gemini-3-pro-image-preview"
    assert sent["response_format"] == "b64_json"
    assert image_api.last_request.headers["Authorization"] == f"Bearer {API_KEY}"


async def test_every_option_reaches_the_api(discord_api, image_api, bot, member, guild) -> None:
    options = {
        "prompt": "a tall tower",
        "model": "gemini-2.5-flash-image",
        "size": "1024x1792",
        "quality": "2k",
        "style": "natural",
    }
    reply = await discord_api.slash("imagine", user=member, guild=guild, options=options)

    message = await reply.final(timeout=15, until=outcome)
    assert [image_size(file) for file in message.files] == [(2048, 3584)]
    sent = image_api.last_request.json
    assert (sent["model"], sent["size"], sent["quality"], sent["style"]) == (
        "gemini-2.5-flash-image",
        "1024x1792",
        "2k",
        "natural",
    )
    fields = embed_fields(message.embeds[0])
    assert (fields["Model"], fields["Size"], fields["Quality"]) == ("gemini-2.5-flash-image", "2048x3584 (9:16)", "2k")


async def test_the_api_sees_an_opaque_stable_user_id(discord_api, image_api, bot, member, guild) -> None:
    for prompt in ("first", "second"):
        await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": prompt})).final(
            timeout=15, until=outcome
        )

    first, second = (request.json["user"] for request in image_api.requests[-2:])
    assert first == second
    assert str(member.id) not in first
    assert member.name not in first


async def test_ten_images_fit_one_message(discord_api, image_api, bot, member, guild) -> None:
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "ten cats", "count": 10})

    message = await reply.final(timeout=20, until=outcome)
    assert len(message.files) == 10
    assert reply.followups == []
    assert message.embeds[0]["title"] == "10 images"


async def test_a_long_prompt_is_shortened_in_the_embed(discord_api, image_api, bot, member, guild) -> None:
    prompt = "a very detailed scene " * 45  # 990 characters

    message = await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": prompt})).final(
        timeout=15, until=outcome
    )

    description = message.embeds[0]["description"]
    assert len(description) == PROMPT_PREVIEW
    assert description.endswith("…")
    assert image_api.last_request.json["prompt"] == prompt.strip()


async def test_a_blank_prompt_is_refused_privately(discord_api, image_api, bot, member, guild) -> None:
    reply = await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "   "})

    assert await reply.acknowledged(within=3.0)
    assert reply.ephemeral
    message = await reply.final(timeout=5, until=outcome)
    assert message.content == catalogue.text("en-US", "error.prompt_empty")
    assert image_api.requests == []


async def test_every_image_format_is_uploaded_with_its_own_extension(
    discord_api, image_api, bot, member, guild
) -> None:
    image_api.image_format = "jpeg"
    image_api.answer_shape = "url"

    message = await (await discord_api.slash("imagine", user=member, guild=guild, options={"prompt": "a jpeg"})).final(
        timeout=15, until=outcome
    )

    assert [file.filename for file in message.files] == ["imagine-1.jpg"]
    assert message.files[0].data.startswith(b"\xff\xd8\xff")
    assert image_api.image_fetches == 1


async def test_jobs_beyond_the_concurrency_cap_wait(discord_api, image_api, bot, guild) -> None:
    image_api.latency = 0.3
    members = [discord_api.add_user(name=f"crowd{n}", guild_id=guild.id) for n in range(8)]

    replies = [
        await discord_api.slash("imagine", user=user, guild=guild, options={"prompt": "busy"}) for user in members
    ]

    assert all(await asyncio.gather(*(reply.acknowledged(within=3.0) for reply in replies)))
    messages = await asyncio.gather(*(reply.final(timeout=20, until=outcome) for reply in replies))
    assert all(len(message.files) == 1 for message in messages)
    assert image_api.max_in_flight == bot.settings.image_api_concurrency == 4
