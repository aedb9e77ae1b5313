"""Attachment storage and the CDN-like routes that serve it back over signed-looking URLs."""

from __future__ import annotations

import hashlib
import io
import mimetypes
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from .snowflakes import SnowflakeGenerator

OCTET_STREAM = "application/octet-stream"
URL_LIFETIME = 24 * 3600
"""Seconds encoded in the ``ex`` parameter of attachment URLs (the loopback CDN does not enforce it)."""

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),
)


def sniff_content_type(data: bytes, filename: str) -> str:
    """Tell a file's type by its leading bytes, then by its extension."""
    for magic, offset, content_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic and (content_type != "image/webp" or data[:4] == b"RIFF"):
            return content_type
    guessed, _ = mimetypes.guess_type(filename)
    return guessed or OCTET_STREAM


def image_size(data: bytes, content_type: str | None) -> tuple[int, int] | None:
    """Width and height of an image, or ``None`` for anything Pillow cannot read."""
    if not content_type or not content_type.startswith("image/"):
        return None
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:
        return None


@dataclass(slots=True)
class StoredFile:
    """Bytes the loopback CDN serves at ``path`` until expired."""

    id: int
    filename: str
    data: bytes
    content_type: str
    path: str
    query: str
    width: int | None
    height: int | None
    expired: bool = False


class AttachmentStore:
    """Keeps uploaded and test-provided files; serves them under ``/cdn`` (``url``) and ``/media`` (``proxy_url``)."""

    def __init__(self, ids: SnowflakeGenerator) -> None:
        self._ids = ids
        self._files: dict[int, StoredFile] = {}
        self._secret = secrets.token_bytes(16)
        self.origin: str | None = None

    def store(
        self,
        data: bytes,
        filename: str,
        *,
        scope: str,
        content_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        """Store ``data`` under ``{scope}/{id}/{filename}`` (scope like ``attachments/<channel id>``)."""
        attachment_id = self._ids.next()
        kind = content_type or sniff_content_type(data, filename)
        if width is None or height is None:
            size = image_size(data, kind)
            if size is not None:
                width, height = size
        path = f"{scope}/{attachment_id}/{quote(filename)}"
        issued = int(time.time())
        signature = hashlib.sha256(self._secret + path.encode()).hexdigest()
        query = f"ex={issued + URL_LIFETIME:x}&is={issued:x}&hm={signature}&"
        stored = StoredFile(attachment_id, filename, data, kind, path, query, width, height)
        self._files[attachment_id] = stored
        return stored

    def get(self, attachment_id: int) -> StoredFile | None:
        """The stored file with that id."""
        return self._files.get(attachment_id)

    def expire(self, attachment_id: int) -> None:
        """Make the file's URLs answer 404 from now on."""
        stored = self._files.get(attachment_id)
        if stored is None:
            raise LookupError(f"no attachment with id {attachment_id}")
        stored.expired = True

    def url(self, stored: StoredFile, *, proxy: bool = False) -> str:
        """The CDN (or media proxy) URL of a stored file."""
        if self.origin is None:
            raise RuntimeError("the server must be started before attachments get URLs")
        root = "media" if proxy else "cdn"
        return f"{self.origin}/{root}/{stored.path}?{stored.query}"

    def payload(self, stored: StoredFile, *, description: str | None = None, ephemeral: bool = False) -> dict[str, Any]:
        """The attachment object Discord puts in messages and resolved data."""
        payload: dict[str, Any] = {
            "id": str(stored.id),
            "filename": stored.filename,
            "size": len(stored.data),
            "url": self.url(stored),
            "proxy_url": self.url(stored, proxy=True),
            "content_type": stored.content_type,
        }
        if stored.width is not None and stored.height is not None:
            payload["width"] = stored.width
            payload["height"] = stored.height
        if description is not None:
            payload["description"] = description
        if ephemeral:
            payload["ephemeral"] = True
        return payload

    async def serve(self, request: web.Request) -> web.Response:
        """GET handler for ``/cdn/...`` and ``/media/...``."""
        segments = request.match_info["tail"].split("/")
        stored = None
        if len(segments) >= 2 and segments[-2].isdigit():
            stored = self._files.get(int(segments[-2]))
        if stored is None or stored.expired:
            return web.Response(status=404, text="This content is no longer available.")
        return web.Response(body=stored.data, content_type=stored.content_type)
