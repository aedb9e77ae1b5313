"""What the end-to-end tests look at: the images and texts a member sees."""

import io

from PIL import Image

from tests.loopback.discord import FileRecord


def image_size(file: FileRecord) -> tuple[int, int]:
    """Width and height of an uploaded image, decoding all of it (a broken file fails here)."""
    with Image.open(io.BytesIO(file.data)) as image:
        image.load()
        return image.size


def embed_fields(embed: dict) -> dict[str, str]:
    return {field["name"]: field["value"] for field in embed.get("fields", [])}
