"""The JSON OpenRouter answers with: chat completion objects and its error objects."""

import base64
import secrets
import time

from tests.loopback.image_api.render import EncodedImage

JSONObject = dict[str, object]

PROVIDER_NAME = "Google AI Studio"  # who OpenRouter says served the loopback's models
IMAGE_TOKENS = 1290  # what Gemini bills for one image


def error_body(code: int, message: str, metadata: JSONObject | None = None) -> JSONObject:
    """OpenRouter's error object: `{"error": {"code", "message", "metadata"?}}`; the HTTP status equals `code`."""
    error: JSONObject = {"code": code, "message": message}
    if metadata is not None:
        error["metadata"] = metadata
    return {"error": error}


def image_part(image: EncodedImage, index: int) -> JSONObject:
    """One entry of `message.images`: the image as a base64 data URL."""
    url = f"data:{image.media_type};base64,{base64.b64encode(image.data).decode()}"
    return {"type": "image_url", "image_url": {"url": url}, "index": index}


def completion(
    model: str,
    *,
    content: str | None = "",
    images: list[JSONObject] | None = None,
    finish_reason: str = "stop",
    native_finish_reason: str = "STOP",
    refusal: str | None = None,
    error: JSONObject | None = None,
    prompt_tokens: int = 0,
) -> JSONObject:
    """A non-streamed chat completion object as OpenRouter sends it, with one choice."""
    message: JSONObject = {"role": "assistant", "content": content, "refusal": refusal, "reasoning": None}
    if images:
        message["images"] = images
    choice: JSONObject = {
        "logprobs": None,
        "finish_reason": finish_reason,
        "native_finish_reason": native_finish_reason,
        "index": 0,
        "message": message,
    }
    if error is not None:
        choice["error"] = error
    completion_tokens = IMAGE_TOKENS * len(images or []) + len(content or "") // 4
    return {
        "id": f"gen-{int(time.time())}-{secrets.token_hex(10)}",
        "provider": PROVIDER_NAME,
        "model": model,
        "object": "chat.completion",
        "created": int(time.time()),
        "choices": [choice],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
