"""Reading the image API's answers: every success shape gateways send, and every error shape.

Pure functions over bytes and headers, so each shape is table-tested without a server.
"""

import base64
import binascii
import email.utils
import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.core.errors import (
    AuthenticationFailed,
    EmptyResult,
    ImageAPIError,
    MalformedAnswer,
    Overloaded,
    RateLimited,
    RequestRejected,
    SafetyRefused,
    ServerError,
    UpstreamQuotaExhausted,
    UpstreamTimeout,
)
from bot.core.imageapi.scanner import spooled
from bot.core.imageapi.spool import Spool, head_of, reader_of, release, size_of
from bot.core.images import SNIFF_BYTES, ImageFormat, sniff_format

AUTH_CODES = {"invalid_api_key", "invalid_token", "invalid_key", "unauthorized", "authentication_error"}
QUOTA_CODES = {"insufficient_user_quota", "insufficient_quota", "billing_hard_limit_reached", "quota_exhausted"}
RATE_CODES = {"rate_limit_exceeded", "resource_exhausted", "too_many_requests", "429"}
SAFETY_CODES = {
    "prompt_blocked",
    "sensitive_words_detected",
    "content_policy_violation",
    "content_filter",
    "moderation_blocked",
    "safety",
    "image_safety",
}
EMPTY_CODES = {"empty_response", "no_image", "no_images"}
SAFETY_WORDS = ("safety", "content policy", "sensitive", "moderation", "prohibited", "prompt_blocked")
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*(\S+?)\s*\)")
RETRY_IN_TEXT = re.compile(r"retry (?:in|after) (\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?)?\b", re.IGNORECASE)
RETRY_DELAY_FIELD = re.compile(r'"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"')
DETAIL_LIMIT = 300


@dataclass(frozen=True, slots=True)
class ImageBytes:
    """An image's encoded bytes: in memory, or spooled as the answer arrived (see spool.py)."""

    data: bytes | Spool
    format: ImageFormat

    @property
    def size(self) -> int:
        """Bytes in the encoded image."""
        return size_of(self.data)

    def reader(self) -> io.BytesIO | io.BufferedRandom:
        """The encoded bytes as a file at their start (a spool's own file: read one copy at a time)."""
        return reader_of(self.data)

    def head(self, count: int) -> bytes:
        """The first `count` bytes (enough for a header)."""
        return head_of(self.data, count)

    def release(self) -> None:
        """Free a spool as soon as its image is no longer needed (bytes go with the last reference)."""
        release(self.data)


@dataclass(frozen=True, slots=True)
class ImageLink:
    url: str


ImageSource = ImageBytes | ImageLink


def parse_success(raw: bytes) -> list[ImageSource]:
    """The images of a 200 answer, inline ones decoded and links left to download."""
    try:
        body = json.loads(raw)
    except ValueError:
        raise MalformedAnswer("the answer is not JSON", 200) from None
    if not isinstance(body, dict):
        raise MalformedAnswer("the answer is not a JSON object", 200)
    if isinstance(body.get("error"), dict | str):
        raise classify_error(200, raw, {})
    items = body.get("data")
    if items is None:
        raise MalformedAnswer("the answer has no data field", 200)
    if not isinstance(items, list):
        raise MalformedAnswer("the answer's data is not a list", 200)
    if not items:
        raise SafetyRefused("the answer holds no images", 200)  # how gateways report a silent safety block
    sources = [source for item in items if (source := _item_source(item)) is not None]
    if not sources:
        raise EmptyResult("no item of the answer holds an image", 200)
    return sources


def _item_source(item: object) -> ImageSource | None:
    if isinstance(item, str):
        return _text_source(item)
    if not isinstance(item, dict):
        return None
    if isinstance(b64 := item.get("b64_json"), str) and b64.strip():
        return decode_base64_image(b64)
    for key in ("url", "content", "text"):
        if isinstance(value := item.get(key), str) and value.strip():
            return _text_source(value)
    return None


def _text_source(text: str) -> ImageSource | None:
    text = text.strip()
    if match := MARKDOWN_IMAGE.search(text):
        text = match.group(1)
    if text.startswith("data:"):
        return decode_data_url(text)
    if text.startswith(("http://", "https://")):
        return ImageLink(text)
    return None


def decode_data_url(url: str) -> ImageBytes:
    """Decode a `data:image/...;base64,...` URL."""
    header, _, payload = url.partition(",")
    if ";base64" not in header:
        raise MalformedAnswer("an image data URL is not base64", 200)
    return decode_base64_image(payload)


def decode_base64_image(text: str) -> ImageBytes:
    """Decode base64 text into image bytes whose format is told by the bytes; a placeholder of a spooled image
    (scanner.py) gives that image."""
    compact = "".join(text.split())
    if (spool := spooled(compact)) is not None:
        return checked_image(spool)
    try:
        data = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise MalformedAnswer("an image is not valid base64", 200) from None
    return checked_image(data)


def checked_image(data: bytes | Spool) -> ImageBytes:
    """Wrap bytes that must be a PNG, JPEG, WebP or GIF image (a spool small enough to stay in memory as bytes)."""
    if isinstance(data, Spool):
        data = data.settled()
    head = head_of(data, SNIFF_BYTES)
    if (image_format := sniff_format(head)) is None:
        raise MalformedAnswer("an answer item is not a PNG, JPEG, WebP or GIF image", 200)
    return ImageBytes(data, image_format)


def classify_error(status: int, raw: bytes, headers: Mapping[str, str]) -> ImageAPIError:
    """The typed error for a failed answer, from its status, `error.code` and message."""
    code, message = _error_fields(raw)
    detail = (message or _plain_text(raw))[:DETAIL_LIMIT]
    retry_after = retry_after_seconds(headers, raw.decode("utf-8", "replace"))
    error_type = _error_type(status, code, f"{code} {message}".lower())
    if error_type is RateLimited:
        return RateLimited(retry_after, detail, status)
    return error_type(detail, status, retry_after)


def _error_type(status: int, code: str, text: str) -> type[ImageAPIError]:
    if status == 401 or code in AUTH_CODES:
        return AuthenticationFailed
    if code in QUOTA_CODES or status == 402 or (status == 403 and "quota" in text):
        return UpstreamQuotaExhausted
    if status == 429 or code in RATE_CODES:
        return RateLimited
    if code in SAFETY_CODES or (400 <= status < 500 and any(word in text for word in SAFETY_WORDS)):
        return SafetyRefused
    if status == 503 or "overloaded" in text:
        return Overloaded
    if status in (408, 504, 524):
        return UpstreamTimeout
    if code in EMPTY_CODES or "no images generated" in text or "no image generated" in text:
        return EmptyResult
    if status == 403:
        return AuthenticationFailed
    if 400 <= status < 500:
        return RequestRejected
    if status == 200:
        return MalformedAnswer
    return ServerError


def _error_fields(raw: bytes) -> tuple[str, str]:
    """`error.code` (lower-cased, numbers as text) and the innermost `error.message`."""
    code, message = "", ""
    body: Any = _json_or_none(raw)
    for _ in range(3):  # gateways nest a provider's JSON error inside `message`
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, str):
            return code, error
        if not isinstance(error, dict):
            break
        if (inner_code := error.get("code") or error.get("status") or error.get("type")) is not None:
            code = code or str(inner_code).lower()
        message = str(error.get("message") or message)
        body = _json_or_none(message.encode())
    return code, message


def retry_after_seconds(headers: Mapping[str, str], text: str) -> float:
    """Seconds to wait from `Retry-After` (seconds or a date), `retry-after-ms`, or "retry in Xs"."""
    if (milliseconds := _number(headers.get("retry-after-ms"))) is not None:
        return max(0.0, milliseconds / 1000)
    if value := headers.get("retry-after"):
        seconds = _number(value)
        if seconds is None:
            try:
                seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                seconds = 0.0
        return max(0.0, seconds)
    if match := RETRY_IN_TEXT.search(text):
        seconds = float(match.group(1))
        return seconds / 1000 if match.group(2) == "ms" else seconds
    if match := RETRY_DELAY_FIELD.search(text.replace('\\"', '"')):
        return float(match.group(1))
    return 0.0


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _plain_text(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace")
    text = re.sub(r"<[^>]+>", " ", text)  # HTML error pages
    return " ".join(text.split())
