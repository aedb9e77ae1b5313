"""Checking a `generateContent` request as Google does; each refusal is the `google.rpc.Status` body it answers.

Google's JSON parser takes every field in lowerCamelCase or snake_case (google-genai sends `inlineData` holding
`mime_type`), refuses a name it does not know (`Unknown name "size" at 'generation_config': Cannot find field.`),
and `imageConfig.imageSize` must be "1K", "2K" or "4K" exactly: "2k" is refused.
"""

import base64
import binascii
import io
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from PIL import Image

from .shapes import JSONObject, invalid_argument, model_not_found_body
from .sizes import ASPECT_RATIOS, DEFAULT_IMAGE_SIZE, DEFAULT_RATIO, IMAGE_SIZES, nearest_ratio, output_size

MAX_PICTURES = 14  # gemini-3-pro-image-preview's limit on input images
MODALITIES = frozenset({"TEXT", "IMAGE", "AUDIO"})
INPUT_MIME_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})
# The fields each message has, in snake_case; the names beyond those the stand-in reads are accepted and ignored.
KNOWN_FIELDS: Mapping[str, frozenset[str]] = {
    "": frozenset(
        {"contents", "generation_config", "safety_settings", "system_instruction", "tools", "tool_config"}
        | {"cached_content", "model"}
    ),
    "content": frozenset({"role", "parts"}),
    "part": frozenset(
        {"text", "inline_data", "file_data", "thought", "thought_signature", "function_call", "function_response"}
        | {"executable_code", "code_execution_result", "video_metadata", "media_resolution"}
    ),
    "blob": frozenset({"mime_type", "data"}),
    "generation_config": frozenset(
        {"response_modalities", "image_config", "candidate_count", "max_output_tokens", "temperature", "top_p"}
        | {"top_k", "seed", "stop_sequences", "thinking_config", "response_mime_type", "media_resolution"}
        | {"presence_penalty", "frequency_penalty", "response_logprobs", "logprobs", "speech_config"}
    ),
    "image_config": frozenset({"aspect_ratio", "image_size"}),
}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


class Refused(Exception):
    """A request Google refuses: its HTTP status and error body."""

    def __init__(self, status: int, body: JSONObject) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


@dataclass(frozen=True, slots=True)
class InputPicture:
    """One `inline_data` part of the request, decoded."""

    mime_type: str
    data: bytes
    size: tuple[int, int]


@dataclass(frozen=True, slots=True)
class ContentRequest:
    """A request that passed every check, with Google's defaults filled in."""

    model: str
    prompt: str  # the text parts, joined
    pictures: tuple[InputPicture, ...]
    modalities: frozenset[str]
    aspect_ratio: str
    image_size: str

    @property
    def output_size(self) -> tuple[int, int]:
        """The pixel size of the image the model makes."""
        return output_size(self.model, self.aspect_ratio, self.image_size)


def parse_body(raw: bytes) -> JSONObject:
    """The request body as a JSON object, or Refused."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _invalid("Invalid JSON payload received. Unexpected token.") from None
    if not isinstance(body, dict):
        raise _invalid("Invalid JSON payload received. Expected an object.")
    return body


def validate(body: JSONObject, model: str, models: Collection[str], version: str) -> ContentRequest:
    """Check the request as Google does, decoding its input pictures (CPU work: call it from a worker thread)."""
    fields = _message(body, "", "")
    if model not in models:
        raise Refused(404, model_not_found_body(model, version))
    texts, pictures = _contents(fields.get("contents"))
    config = _message(fields.get("generation_config") or {}, "generation_config", "generation_config")
    modalities = _modalities(config.get("response_modalities"))
    image = _message(config.get("image_config") or {}, "image_config", "generation_config.image_config")
    aspect_ratio = _aspect_ratio(image.get("aspect_ratio"), pictures)
    image_size = _image_size(image.get("image_size"))
    return ContentRequest(model, "\n".join(texts), tuple(pictures), modalities, aspect_ratio, image_size)


def _message(value: object, kind: str, path: str) -> dict[str, object]:
    """A message's fields under their snake_case names; an unknown name is refused as Google words it."""
    if not isinstance(value, dict):
        raise _invalid(f"Invalid value at '{path}', expected an object.", path)
    fields: dict[str, object] = {}
    for name, field in value.items():
        snake = _CAMEL.sub("_", name).lower()
        if snake not in KNOWN_FIELDS[kind]:
            where = f" at '{path}'" if path else ""
            message = f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'
            raise _invalid(message, path or None)
        fields[snake] = field
    return fields


def _contents(value: object) -> tuple[list[str], list[InputPicture]]:
    if not value:
        raise _invalid("* GenerateContentRequest.contents: contents is not specified\n", "contents")
    if not isinstance(value, list):
        raise _invalid("Invalid value at 'contents', expected a list.", "contents")
    texts: list[str] = []
    pictures: list[InputPicture] = []
    for index, item in enumerate(value):
        content = _message(item, "content", f"contents[{index}]")
        parts = content.get("parts")
        if not parts or not isinstance(parts, list):
            raise _invalid(f"* GenerateContentRequest.contents[{index}].parts: contents.parts must not be empty.\n")
        for number, entry in enumerate(parts):
            path = f"contents[{index}].parts[{number}]"
            part = _message(entry, "part", path)
            if isinstance(text := part.get("text"), str):
                texts.append(text)
            elif "inline_data" in part:
                pictures.append(_picture(_message(part["inline_data"], "blob", f"{path}.inline_data"), path))
    if not any(text.strip() for text in texts) and not pictures:
        raise _invalid("* GenerateContentRequest.contents: contents has no text or data\n", "contents")
    if len(pictures) > MAX_PICTURES:
        raise _invalid(f"The request has {len(pictures)} images; at most {MAX_PICTURES} are allowed.", "contents")
    return texts, pictures


def _picture(blob: Mapping[str, object], path: str) -> InputPicture:
    mime_type, encoded = blob.get("mime_type"), blob.get("data")
    if not isinstance(mime_type, str) or mime_type.lower() not in INPUT_MIME_TYPES:
        raise _invalid(f"Unsupported MIME type: {mime_type}", f"{path}.inline_data.mime_type")
    data = _bytes_field(encoded)
    if not data:
        message = f"Invalid value at '{path}.inline_data.data' (TYPE_BYTES), Base64 decoding failed"
        raise _invalid(message, f"{path}.inline_data.data")
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()
            size = picture.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise _invalid(
            "Unable to process input image. Please retry or report in "
            "https://developers.generativeai.google/guide/troubleshooting"
        ) from None
    return InputPicture(mime_type.lower(), data, size)


def _bytes_field(value: object) -> bytes:
    """A proto `bytes` field: standard or URL-safe base64 (google-genai sends the latter), padded or not."""
    if not isinstance(value, str):
        return b""
    text = value.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _modalities(value: object) -> frozenset[str]:
    if value is None:
        return frozenset({"TEXT", "IMAGE"})  # what the image models answer with by default
    if not isinstance(value, list):
        raise _invalid("Invalid value at 'generation_config.response_modalities', expected a list.")
    modalities = set()
    for index, entry in enumerate(value):
        if not isinstance(entry, str) or entry.upper() not in MODALITIES:
            path = f"generation_config.response_modalities[{index}]"
            message = f"Invalid value at '{path}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Modality), "
            raise _invalid(f"{message}{json.dumps(entry)}", path)
        modalities.add(entry.upper())
    if "IMAGE" not in modalities or "AUDIO" in modalities:
        wanted = ", ".join(sorted(modality.lower() for modality in modalities))
        raise _invalid(f"Model does not support the requested response modalities: {wanted}")
    return frozenset(modalities)


def _aspect_ratio(value: object, pictures: list[InputPicture]) -> str:
    if value is None:
        return nearest_ratio(*pictures[0].size) if pictures else DEFAULT_RATIO
    if not isinstance(value, str) or value not in ASPECT_RATIOS:
        supported = ", ".join(sorted(ASPECT_RATIOS))
        message = f"Unsupported aspect ratio: {json.dumps(value)}. Supported values are: {supported}."
        raise _invalid(message, "generation_config.image_config.aspect_ratio")
    return value


def _image_size(value: object) -> str:
    if value is None:
        return DEFAULT_IMAGE_SIZE
    if not isinstance(value, str) or value not in IMAGE_SIZES:
        message = f"Unsupported image size: {json.dumps(value)}. Supported values are: {', '.join(IMAGE_SIZES)}."
        raise _invalid(message, "generation_config.image_config.image_size")
    return value


def _invalid(message: str, field: str | None = None) -> Refused:
    return Refused(400, invalid_argument(message, field))
