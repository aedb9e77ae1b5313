"""What the end-to-end tests look at: the images and texts a member sees."""

import asyncio
import io

from PIL import Image

from bot.app.i18n import catalogue
from tests.loopback.discord import DiscordServer, FileRecord, InteractionHandle, MessageRecord
from tests.loopback.image_api import ImageAPIServer

BUTTON = 2
LABEL = 18


def image_size(file: FileRecord) -> tuple[int, int]:
    """Width and height of an uploaded image, decoding all of it (a broken file fails here)."""
    with Image.open(io.BytesIO(file.data)) as image:
        image.load()
        return image.size


def embed_fields(embed: dict) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed.get("fields", [])}


def png_bytes(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A real PNG of one colour."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def buttons(message: MessageRecord) -> dict[str, str]:
    """The custom id of each button on a message, by label."""
    return {
        item["label"]: item["custom_id"]
        for row in message.components
        for item in row.get("components", [])
        if item.get("type") == BUTTON
    }


async def form_fields(handle: InteractionHandle) -> dict[str, str]:
    """The custom id of each field of the form an interaction opened (once it has answered), by its label."""
    assert await handle.acknowledged(within=3.0), "no answer within Discord's 3 s"
    assert handle.modal is not None, "no form was opened"
    return {
        component["label"]: component["component"]["custom_id"]
        for component in handle.modal["components"]
        if component.get("type") == LABEL
    }


def progress_note(state: MessageRecord) -> bool:
    """Whether a response state is the bot's live progress ("queued — position…", "generating…")."""
    texts = (
        catalogue.text("en-US", "progress.queued", position=0),
        catalogue.text("en-US", "progress.generating", seconds=0),
    )
    prefixes = tuple(text.split("0")[0] for text in texts)
    return not state.embeds and not state.files and state.content.startswith(prefixes)


def outcome(state: MessageRecord) -> bool:
    """A response state that ends the job: its result or its failure, not the "thinking" or progress notes."""
    return not state.loading and not state.deleted and not progress_note(state)


async def api_requests(image_api: ImageAPIServer, count: int) -> None:
    """Wait until the image API has received `count` requests in all (jobs have started)."""
    for _ in range(400):
        if len(image_api.requests) >= count:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"the image API got {len(image_api.requests)} requests, not {count}")


async def bot_post(discord_api: DiscordServer, channel_id: int) -> MessageRecord:
    """The first message the bot posts in a channel on its own (not as an interaction response)."""
    for _ in range(200):
        for message in discord_api.messages(channel_id):
            if message.author_id == discord_api.bot_user_id and message.interaction_id is None:
                return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"the bot posted nothing in channel {channel_id}")
