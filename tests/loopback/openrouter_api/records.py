"""What the loopback OpenRouter remembers about each chat completion request."""

from collections.abc import Mapping
from dataclasses import dataclass, field

from .validation import ChatRequest


@dataclass(slots=True)
class RecordedRequest:
    """One `POST /api/v1/chat/completions`, filled in as it is handled.

    `received_at` is `time.monotonic()` at arrival; `status` stays None until an answer is sent (so for a request
    that hangs, is dropped or whose client left); `body` and `json` stay empty for a request refused for its key, and
    `chat` is None for one refused for its body. `headers` is case-insensitive. `output_sizes` holds the pixel size
    of each image answered.
    """

    headers: Mapping[str, str]
    received_at: float
    body: bytes = b""
    json: dict[str, object] | None = None
    chat: ChatRequest | None = None
    status: int | None = None
    fault: str | None = None
    output_sizes: list[tuple[int, int]] = field(default_factory=list)

    @property
    def input_images(self) -> list[bytes]:
        """The decoded inline input pictures, in request order."""
        return list(self.chat.images) if self.chat else []

    @property
    def image_config(self) -> object:
        """The request's `image_config` as sent (None when absent)."""
        return (self.json or {}).get("image_config")
