"""The JSON Google's Gemini API answers with: `GenerateContentResponse` and the `google.rpc.Status` error body.

Field names are those of google-genai's `types.py` in their REST (camelCase) spelling: a response holds
`candidates[] {content {role, parts[]}, finishReason, finishMessage, index}`, `promptFeedback {blockReason}`,
`usageMetadata`, `modelVersion` and `responseId`; an image part is `inlineData {mimeType, data}` (base64).
"""

import base64
import secrets
from collections.abc import Sequence

from ..image_api.render import EncodedImage

JSONObject = dict[str, object]

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
LOCALIZED_MESSAGE = "type.googleapis.com/google.rpc.LocalizedMessage"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
HELP = "type.googleapis.com/google.rpc.Help"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
SERVICE = "generativelanguage.googleapis.com"
# What gemini-3-pro-image-preview bills per output image (gemini-2.5-flash-image: 1290 at its one size)
IMAGE_TOKENS = {"1K": 1120, "2K": 1120, "4K": 2000}
FLASH_IMAGE_TOKENS = 1290
INPUT_IMAGE_TOKENS = 258


def error_body(code: int, status: str, message: str, details: Sequence[JSONObject] = ()) -> JSONObject:
    """`{"error": {"code", "message", "status", "details"}}`; `details` is left out when empty, as Google does."""
    error: JSONObject = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = list(details)
    return {"error": error}


def invalid_key_body() -> JSONObject:
    """400 INVALID_ARGUMENT for a key Google does not know."""
    message = "API key not valid. Please pass a valid API key."
    details: list[JSONObject] = [
        {
            "@type": ERROR_INFO,
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": SERVICE},
        },
        {"@type": LOCALIZED_MESSAGE, "locale": "en-US", "message": message},
    ]
    return error_body(400, "INVALID_ARGUMENT", message, details)


def missing_key_body() -> JSONObject:
    """403 PERMISSION_DENIED for a request with no key at all."""
    message = (
        "Method doesn't allow unregistered callers (callers without established identity). "
        "Please use API Key or other form of API consumer identity to call this API."
    )
    return error_body(403, "PERMISSION_DENIED", message)


def invalid_argument(message: str, field: str | None = None) -> JSONObject:
    """400 INVALID_ARGUMENT with a BadRequest field violation, as Google's request checks answer."""
    violation: JSONObject = {"description": message} if field is None else {"field": field, "description": message}
    return error_body(400, "INVALID_ARGUMENT", message, [{"@type": BAD_REQUEST, "fieldViolations": [violation]}])


def model_not_found_body(model: str, version: str) -> JSONObject:
    """404 NOT_FOUND for a model this API does not serve."""
    message = (
        f"models/{model} is not found for API version {version}, or is not supported for generateContent. "
        "Call ListModels to see the list of available models and their supported methods."
    )
    return error_body(404, "NOT_FOUND", message)


def image_part(image: EncodedImage, *, thought: bool = False) -> JSONObject:
    """An `inlineData` part holding the image; `thought` marks an interim draft (Gemini 3's thinking images)."""
    part: JSONObject = {"inlineData": {"mimeType": image.media_type, "data": base64.b64encode(image.data).decode()}}
    if thought:
        part["thought"] = True
    return part


def text_part(text: str, *, thought: bool = False) -> JSONObject:
    """A `text` part."""
    return {"text": text, "thought": True} if thought else {"text": text}


def usage(prompt_tokens: int, image_tokens: int, input_images: int) -> JSONObject:
    """`usageMetadata`: the prompt's text and image tokens, and the output image's."""
    prompt_details: list[JSONObject] = [{"modality": "TEXT", "tokenCount": prompt_tokens}]
    if input_images:
        prompt_details.append({"modality": "IMAGE", "tokenCount": INPUT_IMAGE_TOKENS * input_images})
    total_prompt = prompt_tokens + INPUT_IMAGE_TOKENS * input_images
    return {
        "promptTokenCount": total_prompt,
        "candidatesTokenCount": image_tokens,
        "totalTokenCount": total_prompt + image_tokens,
        "promptTokensDetails": prompt_details,
        "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": image_tokens}] if image_tokens else [],
    }


def response_body(
    model: str,
    usage_metadata: JSONObject,
    candidates: Sequence[JSONObject] = (),
    prompt_feedback: JSONObject | None = None,
) -> JSONObject:
    """A `GenerateContentResponse`: candidates (none for a blocked prompt), usage, model version and response id."""
    body: JSONObject = {}
    if candidates:
        body["candidates"] = list(candidates)
    if prompt_feedback is not None:
        body["promptFeedback"] = prompt_feedback
    body["usageMetadata"] = usage_metadata
    body["modelVersion"] = model
    body["responseId"] = secrets.token_urlsafe(16)
    return body


def candidate(parts: Sequence[JSONObject], finish_reason: str, finish_message: str | None = None) -> JSONObject:
    """One candidate; a refusal has no parts, and Google then leaves `content` out."""
    entry: JSONObject = {}
    if parts:
        entry["content"] = {"parts": list(parts), "role": "model"}
    entry["finishReason"] = finish_reason
    if finish_message is not None:
        entry["finishMessage"] = finish_message
    entry["index"] = 0
    return entry
