"""Google's native Gemini API (`POST {root}/v1beta/models/{model}:generateContent`), one image per call.

What the bot's options become:

    bot option                 sent as
    model (provider's id)      the path's `{model}`, e.g. "gemini-3-pro-image-preview"
    API key                    the `x-goog-api-key` header (never the `?key=` query, which lands in access logs)
    prompt                     `contents[0].parts[0].text` (`contents[0].role` is "user")
    input pictures (edit)      further parts of the same content, in order: `inline_data {mime_type, data}` (base64)
    count N                    N calls, one after the other (the model makes one image per call)
    size WxH                   `generationConfig.imageConfig.aspectRatio`: the ratio ASPECT_SIZES offers it for
                               ("1792x1024" -> "16:9"); left out when None (Gemini then picks 1:1, or an input's ratio)
    quality 1k/2k/4k           `generationConfig.imageConfig.imageSize` "1K"/"2K"/"4K" (uppercase: Google rejects
                               "2k"); left out when None (Gemini's default, 1K)
    style, user                not sent: the API has no such fields
    (always)                   `generationConfig.responseModalities: ["IMAGE"]`, so the model answers with a picture
                               rather than text about one

What a tier means here (`tier_floor`): Gemini 3 image models make 1K, 2K and 4K images whose long side is 1024-1584,
2048-3168 and 4096-6336 pixels across their ratios (1:1 is 1024, 2048, 4096; 16:9 is 1376x768, 2752x1536,
5504x3072); gemini-2.5-flash-image makes 1K only (16:9 is 1344x768), whatever `imageSize` says.

Failures, as Google words them (`{"error": {"code", "message", "status", "details"}}`):

    400 INVALID_ARGUMENT  RequestRejected; AuthenticationFailed when `details` give the reason API_KEY_INVALID
    401 UNAUTHENTICATED, 403 PERMISSION_DENIED  AuthenticationFailed
    429 RESOURCE_EXHAUSTED  RateLimited, waiting the RetryInfo `retryDelay` ("7s"), else Retry-After or the message
    500 INTERNAL  ServerError   503 UNAVAILABLE  Overloaded   504 DEADLINE_EXCEEDED  UpstreamTimeout
    other 4xx  RequestRejected   other 5xx  ServerError

A refusal comes as HTTP 200 without an image: `promptFeedback.blockReason`, or a candidate's `finishReason` in
SAFETY_FINISHES, is SafetyRefused; no candidate, or another reason (NO_IMAGE, IMAGE_OTHER, OTHER, STOP with text
only) is EmptyResult, unless Google's `finishMessage` says the image was blocked or filtered.
"""

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from bot.core.errors import (
    AuthenticationFailed,
    EmptyResult,
    ImageAPIError,
    MalformedAnswer,
    Overloaded,
    RateLimited,
    SafetyRefused,
    UpstreamTimeout,
)
from bot.core.imageapi.answers import DETAIL_LIMIT, ImageBytes, ImageLink, decode_base64_image, retry_after_seconds
from bot.core.inputs import MEDIA_TYPES, InputPicture
from bot.core.providers.base import Body, HTTPProvider, ProviderCall, api_root, status_error
from bot.core.providers.body import Base64Of
from bot.core.providers.gemini_sizes import image_config, tier_floor

VERSION = "v1beta"
SAFETY_FINISHES = frozenset(
    {
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "PROHIBITED_CONTENT",
        "SAFETY",
        "BLOCKLIST",
        "SPII",
        "IMAGE_RECITATION",
        "RECITATION",
    }
)
BLOCK_WORDS = ("safety", "prohibited", "blocked", "filtered", "policy", "policies")
AUTH_REASONS = frozenset({"API_KEY_INVALID"})
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


class GeminiProvider(HTTPProvider):
    """`POST {root}/v1beta/models/{model}:generateContent`; an edit adds its pictures as inline data."""

    images_per_call = 1

    def url(self, call: ProviderCall, edit: bool) -> str:
        model = quote(call.model.removeprefix("models/"), safe="-._")
        return f"{api_root(self.settings.base_url, VERSION)}/{VERSION}/models/{model}:generateContent"

    def headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.settings.api_key}

    def body(self, call: ProviderCall, edit: bool, count: int) -> Body:
        parts: list[dict[str, Any]] = [{"text": call.request.prompt}]
        parts += [_inline_part(picture) for picture in call.pictures]
        config: dict[str, Any] = {"responseModalities": ["IMAGE"]}
        request = call.request
        if wanted := image_config(
            request.size, request.quality, ratio_key="aspectRatio", size_key="imageSize", api="Gemini"
        ):
            config["imageConfig"] = wanted
        return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}

    def parse(self, raw: bytes) -> list[ImageBytes | ImageLink]:
        answer = _json_object(raw)
        if not isinstance(answer, dict):
            raise MalformedAnswer("the answer is not a JSON object", 200)
        if isinstance(error := answer.get("error"), dict):
            code = error.get("code")
            raise self.classify(code if isinstance(code, int) and code != 200 else 500, raw, {})
        feedback = answer.get("promptFeedback")
        if isinstance(feedback, dict) and (reason := feedback.get("blockReason")):
            message = feedback.get("blockReasonMessage")
            raise SafetyRefused(_detail(f"the prompt was blocked ({reason})", message), 200)
        candidates = [item for item in _list(answer.get("candidates")) if isinstance(item, dict)]
        if not candidates:
            raise EmptyResult("the answer has no candidates", 200)
        images = [image for candidate in candidates for image in _images(candidate)]
        if images:
            return [images[-1]]  # one image per call: more would overshoot the count booked; the last is the final
        raise _no_image(candidates[0])

    def classify(self, status: int, raw: bytes, headers: Mapping[str, str]) -> ImageAPIError:
        answer = _json_object(raw)
        if isinstance(answer, list) and answer:  # Google sometimes wraps the error in a one-item list
            answer = answer[0]
        error = answer.get("error") if isinstance(answer, dict) else None
        if not isinstance(error, dict):
            error = {"message": " ".join(raw.decode("utf-8", "replace").split())}
        return _error(status, error, headers)

    def tier_floor(self, quality: str | None, size: str | None) -> int:
        """The fewest pixels on the long side of an image delivered at `quality` (1k, or None, gives 0).

        The same for every ratio (`size`): see TIER_FLOORS and the module docstring for Gemini's sizes per tier.
        """
        return tier_floor(quality)


def _inline_part(picture: InputPicture) -> dict[str, Any]:
    return {"inline_data": {"mime_type": MEDIA_TYPES[picture.format], "data": Base64Of(picture)}}


def _images(candidate: dict[str, Any]) -> list[ImageBytes]:
    """The candidate's images, in order; thought parts (interim drafts) and text are skipped."""
    content = candidate.get("content")
    parts = _list(content.get("parts")) if isinstance(content, dict) else []
    images = []
    for part in parts:
        if not isinstance(part, dict) or part.get("thought") is True:
            continue
        blob = part.get("inlineData", part.get("inline_data"))
        if isinstance(blob, dict) and isinstance(data := blob.get("data"), str) and data:
            images.append(decode_base64_image(data))
    return images


def _no_image(candidate: dict[str, Any]) -> ImageAPIError:
    reason = str(candidate.get("finishReason") or "none given")
    message = candidate.get("finishMessage")
    content = candidate.get("content")
    parts = _list(content.get("parts")) if isinstance(content, dict) else []
    text = " ".join(str(part["text"]) for part in parts if isinstance(part, dict) and part.get("text"))
    detail = _detail(f"no image (finish reason {reason})", message or text)
    said_blocked = isinstance(message, str) and any(word in message.lower() for word in BLOCK_WORDS)
    if reason.upper() in SAFETY_FINISHES or said_blocked:
        return SafetyRefused(detail, 200)
    return EmptyResult(detail, 200)


def _error(status: int, error: Mapping[str, Any], headers: Mapping[str, str]) -> ImageAPIError:
    code = str(error.get("status") or "").upper()
    message = str(error.get("message") or "")
    details = [item for item in _list(error.get("details")) if isinstance(item, dict)]
    detail = message[:DETAIL_LIMIT] or f"HTTP {status}"
    if status == 429 or code == "RESOURCE_EXHAUSTED":
        return RateLimited(_retry_delay(details) or retry_after_seconds(headers, message), detail, status)
    key_refused = any(item.get("reason") in AUTH_REASONS for item in details) or "api key" in message.lower()
    if status in (401, 403) or code in ("UNAUTHENTICATED", "PERMISSION_DENIED") or (status == 400 and key_refused):
        return AuthenticationFailed(detail, status)
    if code == "UNAVAILABLE":
        return Overloaded(detail, status)
    if code == "DEADLINE_EXCEEDED":
        return UpstreamTimeout(detail, status)
    return status_error(status)(detail, status)


def _retry_delay(details: list[dict[str, Any]]) -> float:
    """Seconds from a RetryInfo `retryDelay` such as "7s" or "0.5s" (0 when there is none)."""
    for item in details:
        delay = item.get("retryDelay")
        if item.get("@type") == RETRY_INFO and isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                return 0.0
    return 0.0


def _detail(what: str, said: object) -> str:
    text = " ".join(str(said).split()) if said else ""
    return f"{what}: {text}"[:DETAIL_LIMIT] if text else what


def _json_object(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []
