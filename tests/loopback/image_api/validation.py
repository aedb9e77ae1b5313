"""Checking a generation request against the spec; every refusal names the field at fault."""

import base64
import binascii
import io
import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

from PIL import Image

from .shapes import RESPONSE_FORMATS, ErrorCode, JSONObject, ResponseFormat, error_body

MAX_PROMPT = 1000
MAX_IMAGES_PER_REQUEST = 10
MIN_SIDE, MAX_SIDE = 64, 8192
QUALITY_SCALE: dict[str, int] = {"1k": 1, "2k": 2, "4k": 4}
DEFAULT_SIZE = (1024, 1024)
# The ratios a gateway takes as `size` in place of pixels, and the 1K size it makes for each.
RATIO_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1792, 1024),
    "9:16": (1024, 1792),
    "3:2": (1536, 1024),
    "2:3": (1024, 1536),
    "4:3": (1280, 960),
    "3:4": (960, 1280),
}
INPUT_FORMATS = frozenset({"PNG", "JPEG", "WEBP", "GIF"})

_SIZE = re.compile(r"(\d{1,6})x(\d{1,6})", re.IGNORECASE)
_DATA_URL = re.compile(r"data:(image/[\w.+-]+);base64,(.*)", re.DOTALL)


class RequestRejected(Exception):
    """A request the API refuses, with everything its OpenAI-style error body needs."""

    def __init__(
        self, status: int, message: str, *, param: str | None, code: ErrorCode, type_: str = "invalid_request_error"
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.type_ = type_

    def body(self) -> JSONObject:
        """The error body to answer with."""
        return error_body(self.message, type_=self.type_, code=self.code, param=self.param)


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """A request that passed every check, with defaults filled in."""

    prompt: str
    model: str | None
    n: int
    size: tuple[int, int]
    quality: str
    response_format: ResponseFormat
    style: str | None
    user: str | None
    images: tuple[bytes, ...]
    links: tuple[str, ...]

    @property
    def output_size(self) -> tuple[int, int]:
        """The pixel size of each generated image: the requested size scaled by the quality class."""
        scale = QUALITY_SCALE[self.quality]
        return self.size[0] * scale, self.size[1] * scale


def parse_body(raw: bytes) -> dict[str, object]:
    """The request body as a JSON object, or RequestRejected."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise _invalid(None, "We could not parse the JSON body of your request.", "invalid_json") from None
    if not isinstance(body, dict):
        raise _invalid(None, "The request body must be a JSON object.", "invalid_json")
    return cast(dict[str, object], body)


def validate(body: Mapping[str, object], models: Collection[str]) -> GenerationRequest:
    """Check every field the spec defines (unknown fields are ignored); decode inline input images.

    Decoding input images costs CPU: call this from a worker thread.
    """
    prompt = _prompt(body.get("prompt"))
    model = _model(body.get("model"), models)
    n = _count(body.get("n"))
    size = _size(body.get("size"))
    quality = _quality(body.get("quality"))
    if max(size) * QUALITY_SCALE[quality] > MAX_SIDE:
        message = f"'size' {size[0]}x{size[1]} at quality {quality} is over {MAX_SIDE} pixels a side."
        raise _invalid("size", message, "invalid_value")
    response_format = _response_format(body.get("response_format"))
    style, user = _optional_string(body, "style"), _optional_string(body, "user")
    images, links = _inputs(body.get("image"))
    return GenerationRequest(prompt, model, n, size, quality, response_format, style, user, images, links)


def _prompt(value: object) -> str:
    if value is None:
        raise _invalid("prompt", "Missing required parameter: 'prompt'.", "missing_required_parameter")
    if not isinstance(value, str):
        raise _invalid("prompt", "Invalid type for 'prompt': expected a string.", "invalid_type")
    if not value.strip():
        raise _invalid("prompt", "'prompt' must not be empty.", "invalid_value")
    if len(value) > MAX_PROMPT:
        message = f"'prompt' is {len(value)} characters long; at most {MAX_PROMPT} are allowed."
        raise _invalid("prompt", message, "string_above_max_length")
    return value


def _model(value: object, models: Collection[str]) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid("model", "Invalid type for 'model': expected a string.", "invalid_type")
    if value not in models:
        message = f"The model `{value}` does not exist or you do not have access to it."
        raise _invalid("model", message, "model_not_found")
    return value


def _count(value: object) -> int:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid("n", "Invalid type for 'n': expected an integer.", "invalid_type")
    if not 1 <= value <= MAX_IMAGES_PER_REQUEST:
        raise _invalid("n", f"'n' must be between 1 and {MAX_IMAGES_PER_REQUEST}; got {value}.", "invalid_value")
    return value


def _size(value: object) -> tuple[int, int]:
    if value is None:
        return DEFAULT_SIZE
    if not isinstance(value, str):
        raise _invalid("size", "Invalid type for 'size': expected a string like '1024x1024'.", "invalid_type")
    if value in RATIO_SIZES:  # new-api passes a size holding ':' to Gemini as the aspect ratio
        return RATIO_SIZES[value]
    match = _SIZE.fullmatch(value)
    if match is None:
        raise _invalid("size", f"'size' must look like '1024x1024' or '16:9'; got {value!r}.", "invalid_value")
    width, height = int(match[1]), int(match[2])
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        message = f"'size' sides must be between {MIN_SIDE} and {MAX_SIDE} pixels; got {value!r}."
        raise _invalid("size", message, "invalid_value")
    return width, height


def _quality(value: object) -> str:
    if value is None:
        return "1k"
    if not isinstance(value, str) or value.lower() not in QUALITY_SCALE:
        raise _invalid("quality", f"'quality' must be one of 1k, 2k, 4k; got {value!r}.", "invalid_value")
    return value.lower()


def _response_format(value: object) -> ResponseFormat:
    if value is None:
        return "url"  # the spec's default
    if value in RESPONSE_FORMATS:
        return cast(ResponseFormat, value)
    raise _invalid("response_format", f"'response_format' must be 'url' or 'b64_json'; got {value!r}.", "invalid_value")


def _optional_string(body: Mapping[str, object], name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise _invalid(name, f"Invalid type for '{name}': expected a string.", "invalid_type")


def _inputs(value: object) -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    if value is None:
        return (), ()
    if not isinstance(value, list):
        raise _invalid("image", "Invalid type for 'image': expected an array of strings.", "invalid_type")
    images: list[bytes] = []
    links: list[str] = []
    for index, entry in enumerate(value):
        if not isinstance(entry, str):
            raise _invalid("image", f"Invalid type for 'image[{index}]': expected a string.", "invalid_type")
        if entry.startswith(("http://", "https://")):
            if not urlsplit(entry).hostname:
                raise _invalid("image", f"'image[{index}]' is not a valid link.", "invalid_value")
            links.append(entry)
        else:
            images.append(_inline_image(entry, index))
    return tuple(images), tuple(links)


def _inline_image(entry: str, index: int) -> bytes:
    """The bytes of a `data:` URL or bare base64 entry, which must hold a real image."""
    match = _DATA_URL.fullmatch(entry)
    encoded = match[2] if match else entry
    try:
        data = base64.b64decode("".join(encoded.split()), validate=True)
    except (binascii.Error, ValueError):
        data = b""
    if not data or _image_format(data) not in INPUT_FORMATS:
        message = f"'image[{index}]' must be an http(s) link, a data: URL or base64 of a PNG, JPEG, WebP or GIF image."
        raise _invalid("image", message, "invalid_image")
    return data


def _image_format(data: bytes) -> str | None:
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.format
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


def _invalid(param: str | None, message: str, code: str) -> RequestRejected:
    return RequestRejected(400, message, param=param, code=code)
