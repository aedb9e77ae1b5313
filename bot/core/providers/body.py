"""A JSON request body written as it is sent, its input pictures base64-encoded a slice at a time.

An edit's pictures would otherwise sit in memory several times over (as base64 text, inside a JSON string, as that
string's bytes); here each is read from its own bytes while the body goes out, with the length known beforehand.
"""

import base64
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.abc import AbstractStreamWriter

from bot.core.inputs import INPUT_MODES, MEDIA_TYPES, InputPicture

SLICE = 3 * 64 * 1024  # bytes of a picture encoded at a time (a multiple of 3: no padding inside)


@dataclass(frozen=True, slots=True)
class Base64Of:
    """Where a JSON body holds an input picture: its bytes as a base64 string, after `prefix` (`data:…;base64,`
    for a data URL)."""

    picture: InputPicture
    prefix: str = ""

    @property
    def size(self) -> int:
        """The bytes of the JSON string, quotes included."""
        return 2 + len(self.prefix.encode()) + 4 * -(-self.picture.size // 3)

    def chunks(self) -> Iterator[bytes]:
        reader = self.picture.reader()
        yield b'"' + self.prefix.encode()
        while data := reader.read(SLICE):
            yield base64.b64encode(data)
        yield b'"'


Piece = bytes | Base64Of


def encode_for_api(pictures: Sequence[InputPicture], mode: str) -> tuple[str | Base64Of, ...]:
    """The spec's `image` entries: "data_url" gives data:image/…;base64,…, "base64" bare base64, "link" the URL."""
    if mode == "link":
        return tuple(picture.ref.url for picture in pictures)
    if mode == "base64":
        return tuple(Base64Of(picture) for picture in pictures)
    if mode == "data_url":
        return tuple(Base64Of(picture, f"data:{MEDIA_TYPES[picture.format]};base64,") for picture in pictures)
    raise ValueError(f"unknown input mode {mode!r}; expected one of {INPUT_MODES}")


class StreamedJSON(aiohttp.Payload):
    """`body` as JSON (`application/json`, with its Content-Length), pictures encoded while it is written."""

    def __init__(self, body: Mapping[str, Any]) -> None:
        super().__init__(body, content_type="application/json")
        self._pieces = _joined(_pieces(body))
        self._size = sum(len(piece) if isinstance(piece, bytes) else piece.size for piece in self._pieces)

    def chunks(self) -> Iterator[bytes]:
        for piece in self._pieces:
            yield from (piece,) if isinstance(piece, bytes) else piece.chunks()

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(self, writer: AbstractStreamWriter, content_length: int | None) -> None:
        remaining = content_length
        for chunk in self.chunks():
            if remaining is not None:
                chunk = chunk[:remaining]
                remaining -= len(chunk)
            await writer.write(chunk)
            if remaining == 0:
                return

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return b"".join(self.chunks()).decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"".join(self.chunks())


def _pieces(value: Any) -> Iterator[Piece]:
    """`value` as compact JSON, in pieces; a picture stays a piece of its own."""
    if isinstance(value, Base64Of):
        yield value
    elif isinstance(value, Mapping):
        yield b"{"
        for number, (key, item) in enumerate(value.items()):
            yield (b"," if number else b"") + json.dumps(str(key)).encode() + b":"
            yield from _pieces(item)
        yield b"}"
    elif isinstance(value, list | tuple):
        yield b"["
        for number, item in enumerate(value):
            if number:
                yield b","
            yield from _pieces(item)
        yield b"]"
    else:
        yield json.dumps(value, separators=(",", ":")).encode()


def _joined(pieces: Iterator[Piece]) -> list[Piece]:
    """Neighbouring bytes made one piece, so a body is written in few parts."""
    joined: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, bytes) and joined and isinstance(joined[-1], bytes):
            joined[-1] += piece
        else:
            joined.append(piece)
    return joined
