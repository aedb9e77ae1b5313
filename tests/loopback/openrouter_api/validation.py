"""Checking a chat completion request as OpenRouter does; a refusal is a 400 in its error shape."""

import base64
import binascii
import io
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import cast

from PIL import Image

from .shapes import JSONObject, error_body
from .sizes import ASPECT_RATIOS, IMAGE_SIZES

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
MODALITIES = frozenset({"text", "image"})
_DATA_URL = re.compile(r"data:(image/[\w.+-]+);base64,(.*)", re.DOTALL)


class RequestRejected(Exception):
    """A request OpenRouter refuses, with the status and message of its error object."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def body(self) -> JSONObject:
        """The error body to answer with."""
        return error_body(self.status, self.message)


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A request that passed every check.

    `prompt` joins the text of the user's messages; `images` are the decoded inline `image_url` parts and `links`
    the http(s) ones, in order. `image_size` is what the request sent, `honoured_size` that value when the stand-in
    honours it (None: ignored, the answer comes at 1K; sizes.py has the models that ignore any).
    """

    model: str
    prompt: str
    images: tuple[bytes, ...]
    links: tuple[str, ...]
    modalities: tuple[str, ...] | None
    aspect_ratio: str | None
    image_size: str | None
    max_tokens: int | None
    user: str | None

    @property
    def wants_image(self) -> bool:
        """Whether the model is asked for images: without "image" in `modalities` it answers text only."""
        return self.modalities is not None and "image" in self.modalities

    @property
    def honoured_size(self) -> str | None:
        return self.image_size if self.image_size in IMAGE_SIZES else None


def parse_body(raw: bytes) -> dict[str, object]:
    """The request body as a JSON object, or RequestRejected."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RequestRejected(400, "Invalid JSON in request body") from None
    if not isinstance(body, dict):
        raise RequestRejected(400, "Request body must be a JSON object")
    return cast(dict[str, object], body)


def validate(body: Mapping[str, object], models: Collection[str]) -> ChatRequest:
    """Check the fields an image request uses (others are ignored) and decode inline input images."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestRejected(400, "No models provided")
    if model not in models:
        raise RequestRejected(400, f"{model} is not a valid model ID")
    if body.get("stream"):
        raise RequestRejected(400, "stream: the loopback stand-in answers whole completions only")
    texts: list[str] = []
    images: list[bytes] = []
    links: list[str] = []
    _read_messages(body.get("messages"), texts, images, links)
    image_config = _object(body, "image_config")
    return ChatRequest(
        model=model,
        prompt="\n".join(texts),
        images=tuple(images),
        links=tuple(links),
        modalities=_modalities(body.get("modalities")),
        aspect_ratio=_aspect_ratio(image_config.get("aspect_ratio")),
        image_size=_optional_str(image_config, "image_size", "image_config.image_size"),
        max_tokens=_max_tokens(body.get("max_tokens")),
        user=_optional_str(body, "user", "user"),
    )


def _read_messages(messages: object, texts: list[str], images: list[bytes], links: list[str]) -> None:
    if not isinstance(messages, list) or not messages:
        raise RequestRejected(400, "messages: expected a non-empty array")
    for number, message in enumerate(messages):
        where = f"messages[{number}]"
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise RequestRejected(400, f"{where}.role: expected one of {', '.join(sorted(ROLES))}")
        content = message.get("content")
        if isinstance(content, str):
            if message["role"] == "user":
                texts.append(content)
            continue
        if not isinstance(content, list):
            raise RequestRejected(400, f"{where}.content: expected a string or an array of content parts")
        for index, part in enumerate(content):
            _read_part(part, f"{where}.content[{index}]", message["role"] == "user", texts, images, links)


def _read_part(
    part: object, where: str, from_user: bool, texts: list[str], images: list[bytes], links: list[str]
) -> None:
    if not isinstance(part, dict):
        raise RequestRejected(400, f"{where}: expected an object")
    match part.get("type"):
        case "text":
            if not isinstance(text := part.get("text"), str):
                raise RequestRejected(400, f"{where}.text: expected a string")
            if from_user:
                texts.append(text)
        case "image_url":
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else None
            if not isinstance(url, str):
                raise RequestRejected(400, f"{where}.image_url.url: expected a string")
            if url.startswith(("http://", "https://")):
                links.append(url)
            else:
                images.append(_decoded_image(url, where))
        case other:
            raise RequestRejected(400, f"{where}.type: {other!r} is not a content part type this stand-in reads")


def _decoded_image(url: str, where: str) -> bytes:
    match = _DATA_URL.fullmatch(url.strip())
    if match is None:
        raise RequestRejected(400, f"{where}.image_url.url: expected an http(s) URL or a base64 data URL")
    try:
        data = base64.b64decode(match.group(2), validate=True)
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()
    except (binascii.Error, ValueError, OSError, SyntaxError):
        raise RequestRejected(400, f"{where}: the image data is not a valid image") from None
    return data


def _object(body: Mapping[str, object], name: str) -> Mapping[str, object]:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RequestRejected(400, f"{name}: expected an object")
    return cast(Mapping[str, object], value)


def _modalities(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item in MODALITIES for item in value):
        raise RequestRejected(400, f"modalities: expected an array of {', '.join(sorted(MODALITIES))}")
    return tuple(value)


def _aspect_ratio(value: object) -> str | None:
    if value is None:
        return None
    if value not in ASPECT_RATIOS:
        allowed = ", ".join(sorted(ASPECT_RATIOS))
        raise RequestRejected(400, f"image_config.aspect_ratio: invalid option {value!r}; expected one of {allowed}")
    return cast(str, value)


def _max_tokens(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise RequestRejected(400, "max_tokens: expected a positive integer")
    return value


def _optional_str(body: Mapping[str, object], name: str, where: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise RequestRejected(400, f"{where}: expected a string")
    return value
