"""What the loopback image API remembers about each generation request."""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(slots=True)
class RecordedRequest:
    """One `POST /v1/images/generations`, filled in as it is handled.

    `received_at` is `time.monotonic()` at arrival; `status` stays None until an answer is sent
    (so it stays None for a request that hangs or whose client left); `body` and `json` stay empty for a
    request refused for its key. `headers` is case-insensitive. `input_images` holds the decoded
    inline `image` entries (data URLs and bare base64), `input_links` the http(s) ones, in request order;
    `output_sizes` the byte size of each image generated for it.
    """

    headers: Mapping[str, str]
    received_at: float
    body: bytes = b""
    json: dict[str, object] | None = None
    status: int | None = None
    fault: str | None = None
    input_images: list[bytes] = field(default_factory=list)
    input_links: list[str] = field(default_factory=list)
    output_sizes: list[int] = field(default_factory=list)
