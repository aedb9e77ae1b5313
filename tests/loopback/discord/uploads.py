"""Reading request bodies: JSON, or multipart with ``payload_json`` and ``files[n]`` parts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from .errors import entity_too_large, invalid_json

MAX_REQUEST_SIZE = 25 * 1024 * 1024
"""Discord refuses any request body larger than this with 413 / 40005."""

_CHUNK = 64 * 1024
_FILE_FIELD = re.compile(r"^files?(?:\[(\d+)\])?$")


@dataclass(slots=True)
class UploadedFile:
    """One ``files[n]`` part."""

    index: int
    filename: str
    data: bytes


@dataclass(slots=True)
class RequestBody:
    """The JSON payload (``payload_json`` for multipart) and the uploaded files keyed by index."""

    payload: dict[str, Any] = field(default_factory=dict)
    files: dict[int, UploadedFile] = field(default_factory=dict)
    size: int = 0


async def read_body(request: web.Request, *, max_size: int = MAX_REQUEST_SIZE) -> RequestBody:
    """Parse the body; an oversize body is drained, then refused with 413 / 40005."""
    if request.content_length is not None and request.content_length > max_size:
        await _drain(request)
        raise entity_too_large()
    if request.content_type.startswith("multipart/"):
        body = await _read_multipart(request, max_size)
    else:
        raw = await _read_limited(request, max_size)
        body = RequestBody(payload=_parse_json(raw) if raw.strip() else {}, size=len(raw))
    return body


async def read_json(request: web.Request, *, max_size: int = MAX_REQUEST_SIZE) -> Any:
    """Parse a JSON body of any shape (commands are PUT as a list); an empty body is ``None``."""
    raw = await _read_limited(request, max_size)
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid_json() from None


async def _read_multipart(request: web.Request, max_size: int) -> RequestBody:
    body = RequestBody()
    reader = await request.multipart()
    too_large = False
    next_index = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        data = bytearray()
        while chunk := await part.read_chunk(_CHUNK):
            body.size += len(chunk)
            if body.size > max_size:
                too_large = True
            if not too_large:
                data.extend(chunk)
        if too_large:
            continue
        name = part.name or ""
        if name == "payload_json":
            body.payload = _parse_json(bytes(data))
            continue
        match = _FILE_FIELD.match(name)
        if match is None and part.filename is None:
            continue
        index = int(match.group(1)) if match and match.group(1) is not None else next_index
        next_index = max(next_index, index + 1)
        body.files[index] = UploadedFile(index=index, filename=part.filename or name, data=bytes(data))
    if too_large:
        raise entity_too_large()
    return body


async def _read_limited(request: web.Request, max_size: int) -> bytes:
    data = bytearray()
    while chunk := await request.content.read(_CHUNK):
        data.extend(chunk)
        if len(data) > max_size:
            await _drain(request)
            raise entity_too_large()
    return bytes(data)


async def _drain(request: web.Request) -> None:
    while await request.content.read(_CHUNK):
        pass


def _parse_json(raw: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(raw)
    except ValueError:
        raise invalid_json() from None
    if not isinstance(payload, dict):
        raise invalid_json()
    return payload
