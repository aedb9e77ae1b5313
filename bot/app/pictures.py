"""The pictures a member points at (attachments and embedded images) as links the bot may fetch."""

from collections.abc import Callable
from pathlib import PurePosixPath

import discord
import yarl

from bot.core.inputs import PictureRef

# Candidates only: the bytes decide later whether a file really is a picture.
PICTURE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".gif"})


def attachment_picture(attachment: discord.Attachment) -> PictureRef:
    return PictureRef(attachment.filename, attachment.url, attachment.size)


def message_pictures(message: discord.Message, is_allowed: Callable[[str], bool]) -> list[PictureRef]:
    """A message's pictures in the order Discord shows them: attachments, then embed images Discord hosts."""
    pictures = [attachment_picture(item) for item in message.attachments if _looks_like_picture(item)]
    for embed in message.embeds:
        media = embed.image if embed.image.url else embed.thumbnail
        url = next((link for link in (media.proxy_url, media.url) if link and is_allowed(link)), None)
        if url is not None and all(picture.url != url for picture in pictures):
            pictures.append(PictureRef(PurePosixPath(yarl.URL(url).path).name or "image", url))
    return pictures


def _looks_like_picture(attachment: discord.Attachment) -> bool:
    return (
        (attachment.content_type or "").startswith("image/")
        or attachment.width is not None
        or PurePosixPath(attachment.filename).suffix.lower() in PICTURE_SUFFIXES
    )
