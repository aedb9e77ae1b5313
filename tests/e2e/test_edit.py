"""/edit and the "Edit image" menu as a member sees them: their pictures in, edited images out."""

import io

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

from bot.app.i18n import catalogue
from tests.e2e.helpers import buttons, embed_fields, form_fields, image_size, outcome, png_bytes


def jpeg_bytes(size: tuple[int, int] = (80, 60)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


async def test_edit_sends_exactly_the_attached_picture(discord_api, image_api, bot, member, guild) -> None:
    picture = png_bytes()

    reply = await discord_api.slash(
        "edit",
        user=member,
        guild=guild,
        options={"prompt": "make it blue"},
        attachments={"image": ("cat.png", picture)},
    )

    assert await reply.acknowledged(within=3.0)
    message = await reply.final(timeout=15, until=outcome)
    assert [image_size(file) for file in message.files] == [(1024, 1024)]
    assert [file.filename for file in message.files] == ["edit-1.png"]
    assert embed_fields(message.embeds[0])["Input pictures"] == "1"
    assert image_api.last_request.input_images == [picture]
    assert [request.method for request in discord_api.requests if request.path.endswith("/cat.png")] == ["GET"]
    assert image_api.last_request.json["image"][0].startswith("data:image/png;base64,")
    assert image_api.last_request.json["prompt"] == "make it blue"
    assert set(buttons(message)) == {"Reroll", "Edit", "Upscale", "Delete"}


async def test_edit_sends_several_pictures_in_order(discord_api, image_api, bot, member, guild) -> None:
    pictures = [png_bytes(colour=(255, 0, 0)), jpeg_bytes(), png_bytes(size=(30, 90), colour=(0, 255, 0))]

    reply = await discord_api.slash(
        "edit",
        user=member,
        guild=guild,
        options={"prompt": "combine them", "count": 2},
        attachments={
            "image": ("a.png", pictures[0]),
            "image2": ("b.jpg", pictures[1]),
            "image3": ("c.png", pictures[2]),
        },
    )

    message = await reply.final(timeout=15, until=outcome)
    assert len(message.files) == 2
    assert image_api.last_request.input_images == pictures
    assert embed_fields(message.embeds[0])["Input pictures"] == "3"


def bomb_png() -> bytes:
    """A small file that declares 6000x4000 pixels: over the test bot's 20 MP cap."""
    buffer = io.BytesIO()
    Image.new("1", (6000, 4000)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "make", "key", "params"),
    [
        ("notes.png", lambda: b"just some text, not a picture", "error.not_an_image", {"name": "notes.png"}),
        ("anim.gif", lambda: b"GIF89a" + bytes(64), "error.not_an_image", {"name": "anim.gif"}),
        ("broken.png", lambda: png_bytes((300, 300))[:200], "error.corrupt_image", {"name": "broken.png"}),
        (
            "big.png",
            lambda: b"\x89PNG\r\n\x1a\n" + bytes(3 * 1024 * 1024),
            "error.picture_too_large",
            {"name": "big.png", "size": "3.0 MB", "limit": "2.0 MB"},
        ),
        (
            "bomb.png",
            bomb_png,
            "error.too_many_pixels",
            {"name": "bomb.png", "width": 6000, "height": 4000, "limit": "20"},
        ),
    ],
    ids=["text", "gif", "corrupt", "too_large", "too_many_pixels"],
)
async def test_a_bad_picture_is_refused_before_the_api_is_called(
    discord_api, image_api, bot, member, guild, filename, make, key, params
) -> None:
    reply = await discord_api.slash(
        "edit",
        user=member,
        guild=guild,
        options={"prompt": "fix it"},
        attachments={"image": png_bytes(), "image2": (filename, make())},
    )

    message = await reply.final(timeout=15, until=outcome)
    assert message.content == catalogue.text("en-US", key, **params)
    assert message.files == []
    assert image_api.requests == []


async def test_an_expired_attachment_is_explained(discord_api, image_api, bot, member, guild) -> None:
    attachment = discord_api.add_attachment(png_bytes(), "old.png")
    discord_api.expire_attachment(attachment["id"])

    reply = await discord_api.slash(
        "edit", user=member, guild=guild, options={"prompt": "fix it"}, attachments={"image": attachment}
    )

    message = await reply.final(timeout=15, until=outcome)
    assert message.content == catalogue.text("en-US", "error.picture_unavailable", name="old.png")
    assert image_api.requests == []


async def test_more_pictures_than_the_model_takes_are_refused_privately(
    discord_api, image_api, bot, member, guild
) -> None:
    attachments = {name: png_bytes() for name in ("image", "image2", "image3", "image4")}

    reply = await discord_api.slash(
        "edit",
        user=member,
        guild=guild,
        options={"prompt": "merge", "model": "gemini-2.5-flash-image"},
        attachments=attachments,
    )

    message = await reply.final(timeout=15, until=outcome)
    assert reply.ephemeral
    assert message.content == catalogue.text(
        "en-US", "error.too_many_pictures", count=4, limit=3, model="gemini-2.5-flash-image"
    )
    assert image_api.requests == []


async def test_the_menu_edits_the_pictures_of_a_message(discord_api, image_api, bot, member, guild) -> None:
    pictures = [png_bytes(colour=(1, 2, 3)), jpeg_bytes()]
    posted = discord_api.post_message(
        guild.default_channel.id, member, "look", attachments=[("one.png", pictures[0]), ("two.jpg", pictures[1])]
    )

    opened = await discord_api.context_menu("Edit image", user=member, message=posted, guild=guild)

    assert await opened.acknowledged(within=3.0)
    fields = await form_fields(opened)
    assert set(fields) == {"Prompt", "How many images", "Quality"}
    submitted = await discord_api.submit_modal(
        opened, {fields["Prompt"]: "as a watercolour", fields["How many images"]: ["1"], fields["Quality"]: ["1"]}
    )
    message = await submitted.final(timeout=15, until=outcome)
    assert len(message.files) == 2
    assert image_api.last_request.input_images == pictures
    assert image_api.last_request.json["quality"] == "2k"
    assert image_api.last_request.json["prompt"] == "as a watercolour"


async def test_the_menu_takes_discord_hosted_embed_images_only(discord_api, image_api, bot, member, guild) -> None:
    outside_requests: list[str] = []

    async def record(request: web.Request) -> web.Response:
        outside_requests.append(request.path)
        return web.Response(body=png_bytes(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/{path:.*}", record)
    async with TestServer(app, host="127.0.0.1") as outside:  # an address a member typed: never fetched
        hosted = discord_api.add_attachment(png_bytes(colour=(9, 9, 9)), "hosted.png")
        link = str(outside.make_url("/internal/admin.png"))
        posted = discord_api.post_message(
            guild.default_channel.id,
            member,
            embeds=[
                {"type": "image", "thumbnail": {"url": hosted["url"], "proxy_url": hosted["proxy_url"]}},
                {"type": "image", "thumbnail": {"url": link, "proxy_url": link}},
            ],
        )

        opened = await discord_api.context_menu("Edit image", user=member, message=posted, guild=guild)
        fields = await form_fields(opened)
        submitted = await discord_api.submit_modal(opened, {fields["Prompt"]: "brighter"})

        await submitted.final(timeout=15, until=outcome)
    assert image_api.last_request.input_images == [png_bytes(colour=(9, 9, 9))]
    assert outside_requests == []


async def test_the_menu_on_a_message_without_pictures_says_so(discord_api, image_api, bot, member, guild) -> None:
    posted = discord_api.post_message(guild.default_channel.id, member, "no pictures here")

    opened = await discord_api.context_menu("Edit image", user=member, message=posted, guild=guild)

    message = await opened.final(timeout=5, until=outcome)
    assert opened.ephemeral
    assert message.content == catalogue.text("en-US", "error.no_pictures")
    assert opened.modal is None


async def test_a_picture_discord_reports_too_large_is_refused_privately_at_once(
    discord_api, image_api, bot, member, guild
) -> None:
    reply = await discord_api.slash(
        "edit",
        user=member,
        guild=guild,
        options={"prompt": "fix it"},
        attachments={"image": ("huge.png", b"\x89PNG\r\n\x1a\n" + bytes(3 * 1024 * 1024))},
    )

    message = await reply.final(timeout=5, until=outcome)
    assert reply.callback_type == 4  # answered at once: no "thinking", no download
    assert reply.ephemeral
    assert message.content.startswith("`huge.png` is 3.0 MB")
    assert not [request for request in discord_api.requests if request.path.endswith("/huge.png")]
