"""What the bot asks the image API for, and the JSON body that asks it."""

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

QUALITIES = ("1k", "2k", "4k")


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """One call to `POST /v1/images/generations`; `user` is already an opaque id."""

    prompt: str
    model: str
    n: int = 1
    size: str | None = None
    quality: str | None = None
    style: str | None = None
    user: str | None = None
    images: tuple[str, ...] = ()


def build_body(request: GenerationRequest, response_format: str) -> dict[str, Any]:
    """The spec's request body; optional fields are sent only when set."""
    body: dict[str, Any] = {
        "model": request.model,
        "prompt": request.prompt,
        "n": request.n,
        "response_format": response_format,
    }
    optional = {"size": request.size, "quality": request.quality, "style": request.style, "user": request.user}
    body.update({name: value for name, value in optional.items() if value})
    if request.images:
        body["image"] = list(request.images)
    return body


def hash_user(user_id: int, salt: str) -> str:
    """A stable id for abuse tracking upstream that cannot be turned back into the Discord id."""
    digest = hmac.new(salt.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return f"u-{digest[:32]}"
