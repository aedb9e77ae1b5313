"""What the end-to-end tests look at: the images and texts a member sees."""

import io

from PIL import Image

from tests.loopback.discord import FileRecord, InteractionHandle, MessageRecord

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
