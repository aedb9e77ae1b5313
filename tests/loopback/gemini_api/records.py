"""What the Gemini stand-in remembers about each `generateContent` request."""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(slots=True)
class RecordedRequest:
    """One `POST /v1beta/models/{model}:generateContent`, filled in as it is handled.

    `received_at` is `time.monotonic()` at arrival; `key_from` is "header" (`x-goog-api-key`), "query" (`?key=`) or
    None; `status` stays None until an answer is sent (so for a request that hangs, drops or whose client left);
    `body` and `json` stay empty for a request refused for its key. `headers` is case-insensitive. `input_images`
    holds the decoded `inline_data` pictures and `input_mime_types` their declared types, in request order;
    `output_sizes` the pixel size of each image made for it.
    """

    headers: Mapping[str, str]
    received_at: float
    model: str
    key_from: str | None = None
    body: bytes = b""
    json: dict[str, object] | None = None
    status: int | None = None
    fault: str | None = None
    input_images: list[bytes] = field(default_factory=list)
    input_mime_types: list[str] = field(default_factory=list)
    output_sizes: list[tuple[int, int]] = field(default_factory=list)
