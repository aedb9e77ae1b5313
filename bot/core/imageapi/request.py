"""What the bot asks the image API for, and the JSON body that asks it."""

import hashlib
import hmac
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from bot.core.request import ImageRequest

QUALITIES = ("1k", "2k", "4k")
RESPONSE_FORMATS = ("b64_json", "url")  # what the API may be asked to answer with (any shape is read either way)
DEFAULT_MODELS = ("gemini-3-pro-image-preview", "gemini-2.5-flash-image")  # the default gateway's image models
# Input pictures each of those models accepts; `*` covers models not listed.
DEFAULT_MODEL_MAX_PICTURES: Mapping[str, int] = MappingProxyType(
    {"gemini-3-pro-image-preview": 14, "gemini-2.5-flash-image": 3, "*": 4}
)


def build_body(
    request: ImageRequest, response_format: str, *, user: str | None = None, images: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The spec's request body for a prepared request; `user` is an opaque id, `images` the input pictures as the
    API takes them. Optional fields are sent only when set."""
    body: dict[str, Any] = {
        "model": request.model,
        "prompt": request.prompt,
        "n": request.count,
        "response_format": response_format,
    }
    optional = {"size": request.size, "quality": request.quality, "style": request.style, "user": user}
    body.update({name: value for name, value in optional.items() if value})
    if images:
        body["image"] = list(images)
    return body


def hash_user(user_id: int, salt: str) -> str:
    """A stable id for abuse tracking upstream that cannot be turned back into the Discord id."""
    digest = hmac.new(salt.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return f"u-{digest[:32]}"
