"""OpenRouter: images through chat completions (`POST {root}/api/v1/chat/completions`), one image per call.

What the bot's options become:

    bot option                 sent as
    model (provider's id)      `model`, e.g. "google/gemini-2.5-flash-image"
    prompt                     `messages[0].content`: the text alone, or a `text` part first when there are pictures
    input pictures (edit)      `image_url` parts after the text, in order, as `data:image/...;base64,...` URLs
    count N                    N calls, each asking for one image (the first image of each answer is taken)
    size WxH                   `image_config.aspect_ratio`: the ratio ASPECT_SIZES offers it for ("1792x1024" -> "16:9")
    quality 1k/2k/4k           `image_config.image_size` "1K"/"2K"/"4K" (uppercase: lowercase is ignored upstream)
    style                      not sent: OpenRouter has no such option
    user                       `user`
    (always)                   `modalities: ["image", "text"]`; `max_tokens` (without it low-credit keys get 402)

What a tier means here (`tier_floor`): OpenRouter passes `image_size` on to Gemini's image models, whose long side is
1K: 1024-1584, 2K: 2048-3168 and 4K: 4096-6336 pixels across their ratios; a floor between the tiers (2000, 3600)
tells a delivered 2K or 4K image from a smaller one whatever the ratio. Models that ignore `image_size`
(gemini-2.5-flash-image, the non-Gemini ones) answer at their own size, 1K for Gemini (16:9 is 1344x768 there).

Failures, as OpenRouter words them (`{"error": {"code", "message", "metadata"}}`, the HTTP status equal to the code,
or HTTP 200 with the error in the body or in `choices[0].error` once the model has started):

    400 RequestRejected (SafetyRefused when the provider's reason is a safety one)   401 AuthenticationFailed
    402 UpstreamQuotaExhausted   403 SafetyRefused when flagged by moderation, else AuthenticationFailed (the key's
    permissions or guardrail)   408 UpstreamTimeout   429 RateLimited   502 ServerError   503 Overloaded
    504/524 UpstreamTimeout   other 4xx RequestRejected   other 5xx ServerError
    200 without an image: SafetyRefused for `content_filter`, a safety `native_finish_reason`, a `refusal` or text
    that speaks of safety; else EmptyResult (`length`: max_tokens ran out)
"""

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.core.errors import (
    AuthenticationFailed,
    EmptyResult,
    ImageAPIError,
    MalformedAnswer,
    RateLimited,
    SafetyRefused,
)
from bot.core.imageapi.answers import (
    DETAIL_LIMIT,
    SAFETY_WORDS,
    ImageBytes,
    ImageLink,
    decode_data_url,
    retry_after_seconds,
)
from bot.core.providers.base import Body, HTTPProvider, ProviderCall, api_root, status_error
from bot.core.providers.body import encode_for_api
from bot.core.providers.gemini_sizes import image_config as gemini_image_config
from bot.core.providers.gemini_sizes import tier_floor

CHAT_PATH = "/api/v1/chat/completions"
HTML_TAG = re.compile(r"<[^>]+>")
# An image costs Gemini 1120-2000 output tokens, thinking models add some; OpenRouter reserves credit for max_tokens
MAX_TOKENS = 8192
SAFETY_FINISH = {"content_filter"}
SAFETY_NATIVE_FINISH = {
    "safety",
    "image_safety",
    "prohibited_content",
    "image_prohibited_content",
    "blocklist",
    "spii",
}


class OpenRouterProvider(HTTPProvider):
    """OpenRouter's chat completions with image output (see the module docstring for the mapping)."""

    images_per_call = 1  # one image per answer is all image models promise there

    def url(self, call: ProviderCall, edit: bool) -> str:
        return api_root(self.settings.base_url, "/api/v1") + CHAT_PATH

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.api_key}"}

    def body(self, call: ProviderCall, edit: bool, count: int) -> Body:
        request = call.request
        content: str | list[dict[str, Any]] = request.prompt
        if call.pictures:
            pictures = encode_for_api(call.pictures, "data_url")
            content = [{"type": "text", "text": request.prompt}]
            content += [{"type": "image_url", "image_url": {"url": url}} for url in pictures]
        body: dict[str, Any] = {
            "model": call.model,
            "messages": [{"role": "user", "content": content}],
            "modalities": ["image", "text"],
            "max_tokens": MAX_TOKENS,
        }
        if image_config := gemini_image_config(
            request.size, request.quality, ratio_key="aspect_ratio", size_key="image_size", api="OpenRouter"
        ):
            body["image_config"] = image_config
        if call.user:
            body["user"] = call.user
        return body

    def parse(self, raw: bytes) -> list[ImageBytes | ImageLink]:
        answer = _json_object(raw)
        if answer is None:
            raise MalformedAnswer("the answer is not a JSON object", 200)
        if isinstance(error := answer.get("error"), dict):
            raise _error(_code(error, 200), error, {})
        choices = answer.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choice := choices[0], dict):
            raise MalformedAnswer("the answer has no choice", 200)
        if isinstance(error := choice.get("error"), dict):
            raise _error(_code(error, 502), error, {})
        message = choice.get("message")
        if not isinstance(message, dict):
            raise MalformedAnswer("the answer's choice has no message", 200)
        images = message.get("images")
        for image in images if isinstance(images, list) else []:
            if (url := _image_url(image)) is not None:
                return [_source(url)]  # one image per call: more would overshoot the count booked
        raise _no_image(choice, message)

    def classify(self, status: int, raw: bytes, headers: Mapping[str, str]) -> ImageAPIError:
        answer = _json_object(raw)
        error = answer.get("error") if answer is not None else None
        if not isinstance(error, dict):  # a proxy's page, not OpenRouter's JSON
            error = {"message": " ".join(HTML_TAG.sub(" ", raw.decode("utf-8", "replace")).split())}
        return _error(status, error, headers)

    def tier_floor(self, quality: str | None, size: str | None) -> int:
        """The fewest pixels on the long side of an image delivered at `quality` (1k, or None, gives 0).

        The same for every ratio (`size`): Gemini's smallest 2K and 4K long sides are 2048 and 4096, its largest
        1K and 2K ones 1584 and 3168, so 2000 and 3600 sit between the tiers for all of them.
        """
        return tier_floor(quality)


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        answer = json.loads(raw)
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _code(error: Mapping[str, Any], default: int) -> int:
    """An error's `code` when it is an HTTP status (OpenRouter's are), else `default`."""
    code = error.get("code")
    if isinstance(code, int) and 400 <= code <= 599:
        return code
    if isinstance(code, str) and code.isdigit() and 400 <= int(code) <= 599:
        return int(code)
    return default


def _error(status: int, error: Mapping[str, Any], headers: Mapping[str, str]) -> ImageAPIError:
    """The typed error for OpenRouter's error object `error`, met with HTTP `status`."""
    message = str(error.get("message") or "")
    metadata = error.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    provider = metadata.get("provider_name")
    detail = f"{provider}: {message}" if isinstance(provider, str) and provider else message
    detail = detail[:DETAIL_LIMIT]
    if status == 429:
        return RateLimited(retry_after_seconds(headers, json.dumps(error)), detail, status)
    reasons = metadata.get("reasons")
    if status == 403 and (isinstance(reasons, list) or "flagged_input" in metadata):
        # the flagged input is the member's prompt: it stays out of messages and logs
        words = ", ".join(str(reason) for reason in reasons) if isinstance(reasons, list) else "unstated"
        return SafetyRefused(f"flagged by moderation: {words}"[:DETAIL_LIMIT], status)
    text = f"{message} {json.dumps(metadata.get('raw'))}".lower()
    if status in (400, 403) and any(word in text for word in SAFETY_WORDS):
        return SafetyRefused(detail, status)
    if status == 403:
        return AuthenticationFailed(detail or "the key may not use this model", status)
    return status_error(status)(detail, status, retry_after_seconds(headers, ""))


def _image_url(image: object) -> str | None:
    if not isinstance(image, dict):
        return None
    image_url = image.get("image_url")
    url = image_url.get("url") if isinstance(image_url, dict) else None
    return url.strip() if isinstance(url, str) and url.strip() else None


def _source(url: str) -> ImageBytes | ImageLink:
    if url.startswith("data:"):
        return decode_data_url(url)
    if url.startswith(("http://", "https://")):
        return ImageLink(url)
    raise MalformedAnswer("an image in the answer is neither a data URL nor a link", 200)


def _no_image(choice: Mapping[str, Any], message: Mapping[str, Any]) -> ImageAPIError:
    """Why a 200 holds no image: a refusal for safety, or none given."""
    finish = str(choice.get("finish_reason") or "").lower()
    native = str(choice.get("native_finish_reason") or "").lower()
    refusal = message.get("refusal")
    reason = f"finish_reason {finish or 'none'}" + (f" ({native})" if native and native != finish else "")
    if finish in SAFETY_FINISH or native in SAFETY_NATIVE_FINISH:
        return SafetyRefused(f"no image: {reason}", 200)
    if isinstance(refusal, str) and refusal.strip():
        return SafetyRefused(f"no image, the model refused ({reason})", 200)  # its words may echo the prompt
    content = message.get("content")
    if isinstance(content, str) and any(word in content.lower() for word in SAFETY_WORDS):
        return SafetyRefused(f"no image, the model's text speaks of safety ({reason})", 200)
    if finish == "length":
        return EmptyResult(f"no image: max_tokens ({MAX_TOKENS}) ran out first", 200)
    return EmptyResult(f"no image in the answer: {reason}", 200)
