"""The `openai` kind: OpenAI's Images API with GPT image models (gpt-image-1, -1-mini, -1.5, -2, …).

A generation is `POST {root}/v1/images/generations` with a JSON body; an edit is `POST {root}/v1/images/edits` as
multipart, each input picture an `image[]` file part in order. GPT image models always answer base64, so no
`response_format` is sent (the API refuses it for them). The bot's options map as follows:

    bot option          sent
    count               n (1-10, one call)
    size (ratio)        1:1 -> 1024x1024; wider (16:9, 3:2, 4:3) -> 1536x1024; taller (9:16, 2:3, 3:4) -> 1024x1536;
                        none -> left out (the model picks, `auto`)
    quality (tier)      1k -> medium; 2k -> high; 4k -> high; none -> medium, as 1k (the bot books a request without
                        a tier as 1k, so the API must not pick a dearer `auto`)
    style               not sent (GPT image models refuse it; the prompt carries the style)
    user                user (the member's opaque id)

GPT image models make only these three sizes, so a tier cannot buy more pixels: 2k and 4k are the largest size the
model offers for the ratio, and quality is what the tier buys (see `OpenAIProvider.tier_floor`).
"""

import json
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import aiohttp

from bot.core.errors import (
    AuthenticationFailed,
    EmptyResult,
    ImageAPIError,
    MalformedAnswer,
    RateLimited,
    SafetyRefused,
    UpstreamQuotaExhausted,
)
from bot.core.imageapi.answers import ImageBytes, ImageLink, decode_base64_image, retry_after_seconds
from bot.core.inputs import MEDIA_TYPES, InputPicture
from bot.core.providers.base import Body, HTTPProvider, ProviderCall, api_root, status_error

SQUARE, LANDSCAPE, PORTRAIT = "1024x1024", "1536x1024", "1024x1536"
QUALITY_VALUES: Mapping[str, str] = MappingProxyType({"1k": "medium", "2k": "high", "4k": "high"})
DEFAULT_TIER = "1k"  # what a request without a tier is booked as
SAFETY_CODES = frozenset({"moderation_blocked", "content_policy_violation"})
SAFETY_TYPE = "image_generation_user_error"  # the type of image refusals; older ones carry no code, only the message
QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
DETAIL_LIMIT = 300
_SIZE = re.compile(r"(\d+)x(\d+)")
_TRY_AGAIN = re.compile(r"try again in ((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)", re.IGNORECASE)
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_LIMITED_BUCKETS = ("requests", "tokens", "images")  # the x-ratelimit-{remaining,reset}-* pairs OpenAI sends


def openai_size(size: str | None) -> str | None:
    """The GPT image size for the bot's `WxH`: square, landscape or portrait by its shape; None (`auto`) for none."""
    if size is None or (match := _SIZE.fullmatch(size)) is None:
        return None
    width, height = int(match[1]), int(match[2])
    return SQUARE if width == height else LANDSCAPE if width > height else PORTRAIT


def multipart(fields: Mapping[str, Any], pictures: Sequence[InputPicture]) -> aiohttp.FormData:
    """An edit's form: each field as text (a table as JSON), then each picture an `image[]` file part, in order."""
    form = aiohttp.FormData(default_to_multipart=True)
    for name, value in fields.items():
        form.add_field(name, value if isinstance(value, str) else json.dumps(value))
    for number, picture in enumerate(pictures, start=1):
        filename = f"image-{number}.{picture.format.extension}"
        form.add_field("image[]", picture.upload(), filename=filename, content_type=MEDIA_TYPES[picture.format])
    return form


class OpenAIProvider(HTTPProvider):
    """OpenAI's Images API for GPT image models (see the module docstring for the mapping)."""

    def url(self, call: ProviderCall, edit: bool) -> str:
        endpoint = "edits" if edit else "generations"
        return f"{api_root(self.settings.base_url, 'v1')}/v1/images/{endpoint}"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.api_key}"}

    def body(self, call: ProviderCall, edit: bool, count: int) -> Body:
        fields = self._fields(call, count)
        return multipart(fields, call.pictures) if edit else fields

    def _fields(self, call: ProviderCall, count: int) -> dict[str, Any]:
        request = call.request
        fields: dict[str, Any] = {"model": call.model, "prompt": request.prompt, "n": count}
        if (size := openai_size(request.size)) is not None:
            fields["size"] = size
        fields["quality"] = QUALITY_VALUES[request.quality or DEFAULT_TIER]
        if call.user:
            fields["user"] = call.user
        return fields

    def parse(self, raw: bytes) -> list[ImageBytes | ImageLink]:
        try:
            answer = json.loads(raw)
        except ValueError:
            raise MalformedAnswer("the answer is not JSON", 200) from None
        if not isinstance(answer, dict):
            raise MalformedAnswer("the answer is not a JSON object", 200)
        items = answer.get("data")
        if items is not None and not isinstance(items, list):
            raise MalformedAnswer("the answer's data is not a list", 200)
        images: list[ImageBytes | ImageLink] = []
        for item in items or ():
            if isinstance(item, dict) and isinstance(b64 := item.get("b64_json"), str) and b64:
                images.append(decode_base64_image(b64))
            elif isinstance(item, dict) and isinstance(url := item.get("url"), str) and url:
                images.append(ImageLink(url))  # what the Images API sends for models that answer links
        if not images:
            raise EmptyResult("the answer holds no image", 200)
        return images

    def classify(self, status: int, raw: bytes, headers: Mapping[str, str]) -> ImageAPIError:
        code, error_type, message = _error_fields(raw)
        detail = (message or " ".join(raw.decode("utf-8", "replace").split()))[:DETAIL_LIMIT] or f"HTTP {status}"
        if code in SAFETY_CODES or (error_type == SAFETY_TYPE and "safety" in message.lower()):
            return SafetyRefused(detail, status)
        if status == 401:
            return AuthenticationFailed(detail, status)
        if code in QUOTA_CODES:
            return UpstreamQuotaExhausted(detail, status)
        if status == 429:
            return RateLimited(_retry_after(headers, message), detail, status)
        if status == 403:  # the project or organisation may not use the model: the operator must act
            return AuthenticationFailed(detail, status)
        return status_error(status)(detail, status, retry_after_seconds(headers, ""))

    def tier_floor(self, quality: str | None, size: str | None) -> int:
        """The fewest pixels on the long side an image at `quality` has from this kind, for the bot's `size`.

        GPT image models make 1024x1024, 1536x1024 and 1024x1536 only; the tier buys quality, not pixels:

            tier        1:1     wider or taller     no size (`auto`)
            1k, none    0       0                   0
            2k, 4k      1024    1536                1024 (the smallest `auto` may pick)
        """
        if (quality or DEFAULT_TIER) == DEFAULT_TIER:
            return 0
        chosen = openai_size(size) or SQUARE
        return max(int(side) for side in chosen.split("x"))


def _error_fields(raw: bytes) -> tuple[str, str, str]:
    """`error.code` and `error.type` (lower-cased) and `error.message` of an OpenAI error body, or empty strings."""
    try:
        body = json.loads(raw)
    except ValueError:
        return "", "", ""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return "", "", ""
    code, error_type, message = (error.get(name) for name in ("code", "type", "message"))
    return (
        str(code).lower() if code is not None else "",
        str(error_type).lower() if error_type is not None else "",
        str(message) if message is not None else "",
    )


def _retry_after(headers: Mapping[str, str], message: str) -> float:
    """Seconds to wait: `Retry-After`/`retry-after-ms`, else the reset of an exhausted `x-ratelimit-*` bucket, else
    the message's "Please try again in 1m2.5s"."""
    if seconds := retry_after_seconds(headers, ""):
        return seconds
    resets = [
        _duration(headers.get(f"x-ratelimit-reset-{bucket}", ""))
        for bucket in _LIMITED_BUCKETS
        if headers.get(f"x-ratelimit-remaining-{bucket}") == "0"
    ]
    if resets := [reset for reset in resets if reset > 0]:
        return max(resets)
    if match := _TRY_AGAIN.search(message):
        return _duration(match[1])
    return 0.0


def _duration(text: str) -> float:
    """Seconds in an OpenAI duration such as `20ms`, `6s`, `1m30.5s` or `2h0m0s`; 0 when there is none."""
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(text))
