"""Checking requests as OpenAI's Images API does for GPT image models; each refusal is the vendor's error.

Generations come as JSON, edits as multipart (text fields are strings there, so numbers are parsed first). Both
refuse parameters they do not know, `response_format` and `style` among them: GPT image models always answer base64.
"""

import io
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from PIL import Image

from .errors import APIErrorAnswer, invalid, invalid_type, invalid_value, missing_parameter, unknown_parameter
from .records import UploadedFile

GPT_IMAGE_MODELS = ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2")
FLEXIBLE_SIZE_PREFIX = "gpt-image-2"  # these take any WxH within limits; the others the three standard sizes
STANDARD_SIZES = ("1024x1024", "1536x1024", "1024x1536", "auto")
QUALITIES = ("low", "medium", "high", "auto")
BACKGROUNDS = ("transparent", "opaque", "auto")
OUTPUT_FORMATS = ("png", "jpeg", "webp")
MODERATIONS = ("low", "auto")
INPUT_FIDELITIES = ("high", "low")
INPUT_TYPES: Mapping[str, str] = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
MAX_PROMPT = 32000
MAX_N = 10
MAX_PICTURES = 16
MAX_PICTURE_BYTES = 50 * 1024 * 1024
MAX_MASK_BYTES = 4 * 1024 * 1024
MAX_SIDE, MAX_PIXELS, MAX_ASPECT = 3840, 3840 * 2160, 3.0
AUTO_QUALITY, AUTO_BACKGROUND = "high", "opaque"  # what `auto` resolves to in an answer

_COMMON = frozenset(
    {
        "prompt",
        "model",
        "n",
        "size",
        "quality",
        "background",
        "output_format",
        "output_compression",
        "user",
        "safety_identifier",
        "stream",
        "partial_images",
    }
)
GENERATION_PARAMS = _COMMON | {"moderation"}
EDIT_PARAMS = _COMMON | {"input_fidelity"}
IMAGE_FIELDS = ("image", "image[]")
EDIT_FILES = frozenset({*IMAGE_FIELDS, "mask"})
_INTEGER_FIELDS = ("n", "output_compression", "partial_images")
_SIZE = re.compile(r"(\d{1,5})x(\d{1,5})")


@dataclass(frozen=True, slots=True)
class ImageJob:
    """A request that passed every check, with `auto` resolved to what the answer reports."""

    model: str
    prompt: str
    n: int
    size: tuple[int, int]
    quality: str
    background: str
    output_format: str
    pictures: int = 0  # input pictures of an edit

    @property
    def size_label(self) -> str:
        """The size as the answer's `size` field gives it."""
        return f"{self.size[0]}x{self.size[1]}"


def check_generation(params: Mapping[str, object], models: Collection[str]) -> ImageJob:
    """A JSON generation request checked."""
    _known(params, GENERATION_PARAMS)
    _choice(params, "moderation", MODERATIONS)
    return _checked(params, models, auto_size=(1024, 1024), pictures=0)


def check_edit(fields: Mapping[str, str], files: Sequence[UploadedFile], models: Collection[str]) -> ImageJob:
    """A multipart edit checked, its pictures decoded; CPU-bound, so the server calls it in a worker thread."""
    if text_files := EDIT_FILES & fields.keys():
        name = sorted(text_files)[0]
        raise invalid_type(name, "a file", fields[name])
    _known(fields, EDIT_PARAMS)
    if unknown := {upload.field for upload in files} - EDIT_FILES:
        raise unknown_parameter(sorted(unknown)[0])
    params = _typed(fields)
    _choice(params, "input_fidelity", INPUT_FIDELITIES)
    _prompt(params)  # a missing prompt is named before a missing image
    sizes = _pictures([upload for upload in files if upload.field in IMAGE_FIELDS])
    masks = [upload for upload in files if upload.field == "mask"]
    if masks:
        _mask(masks, sizes[0])
    width, height = sizes[0]
    auto = (1024, 1024) if width == height else (1536, 1024) if width > height else (1024, 1536)
    return _checked(params, models, auto_size=auto, pictures=len(sizes))


def _checked(
    params: Mapping[str, object], models: Collection[str], *, auto_size: tuple[int, int], pictures: int
) -> ImageJob:
    prompt = _prompt(params)
    model = _model(params, models)
    n = _integer(params, "n", 1, MAX_N, default=1)
    size = _size(params.get("size"), model) or auto_size
    quality = _choice(params, "quality", QUALITIES) or "auto"
    background = _choice(params, "background", BACKGROUNDS) or "auto"
    output_format = _choice(params, "output_format", OUTPUT_FORMATS) or "png"
    _integer(params, "output_compression", 0, 100, default=100)
    _integer(params, "partial_images", 0, 3, default=0)
    _string(params, "user")
    _string(params, "safety_identifier")
    if background == "transparent" and output_format == "jpeg":
        raise invalid(
            "background", "Transparent background is not supported for the 'jpeg' output format.", "invalid_value"
        )
    if (stream := params.get("stream")) not in (None, False):
        if not isinstance(stream, bool):
            raise invalid_type("stream", "a boolean", stream)
        raise invalid("stream", "Streaming is not offered by this loopback stand-in.", "unsupported_value")
    return ImageJob(
        model=model,
        prompt=prompt,
        n=n,
        size=size,
        quality=AUTO_QUALITY if quality == "auto" else quality,
        background=AUTO_BACKGROUND if background == "auto" else background,
        output_format=output_format,
        pictures=pictures,
    )


def _known(params: Collection[str], allowed: Collection[str]) -> None:
    for name in params:
        if name not in allowed:
            raise unknown_parameter(name)


def _typed(fields: Mapping[str, str]) -> dict[str, object]:
    """Multipart text fields with numbers and booleans parsed, as the API reads a form."""
    params: dict[str, object] = dict(fields)
    for name in _INTEGER_FIELDS:
        if (text := fields.get(name)) is not None:
            try:
                params[name] = int(text)
            except ValueError:
                message = f"Invalid type for '{name}': expected an integer, but got a string that could not be parsed."
                raise invalid(name, message, "invalid_type") from None
    if (text := fields.get("stream")) is not None:
        params["stream"] = {"true": True, "false": False}.get(text.lower(), text)
    return params


def _prompt(params: Mapping[str, object]) -> str:
    prompt = _string(params, "prompt")
    if prompt is None:
        raise missing_parameter("prompt")
    if not prompt:
        message = (
            "Invalid 'prompt': empty string. Expected a string with minimum length 1, but got an empty string instead."
        )
        raise invalid("prompt", message, "empty_string")
    if len(prompt) > MAX_PROMPT:
        message = (
            f"Invalid 'prompt': string too long. Expected a string with maximum length {MAX_PROMPT}, "
            f"but got a string with length {len(prompt)} instead."
        )
        raise invalid("prompt", message, "string_above_max_length")
    return prompt


def _model(params: Mapping[str, object], models: Collection[str]) -> str:
    model = _string(params, "model")
    if model is None:
        raise missing_parameter("model")
    if model not in models:
        message = f"The model `{model}` does not exist or you do not have access to it."
        raise APIErrorAnswer(404, message, code="model_not_found")
    return model


def _string(params: Mapping[str, object], name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    raise invalid_type(name, "a string", value)


def _choice(params: Mapping[str, object], name: str, allowed: tuple[str, ...]) -> str | None:
    value = _string(params, name)
    if value is not None and value not in allowed:  # the API matches case exactly
        raise invalid_value(name, value, allowed)
    return value


def _integer(params: Mapping[str, object], name: str, low: int, high: int, *, default: int) -> int:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_type(name, "an integer", value)
    if value < low:
        message = f"Invalid '{name}': integer below minimum value. Expected a value >= {low}, but got {value} instead."
        raise invalid(name, message, "integer_below_min_value")
    if value > high:
        message = f"Invalid '{name}': integer above maximum value. Expected a value <= {high}, but got {value} instead."
        raise invalid(name, message, "integer_above_max_value")
    return value


def _size(value: object, model: str) -> tuple[int, int] | None:
    """The asked size, or None for `auto` (or none)."""
    if value is None or value == "auto":
        return None
    if not isinstance(value, str):
        raise invalid_type("size", "a string", value)
    if not model.startswith(FLEXIBLE_SIZE_PREFIX):
        if value not in STANDARD_SIZES:
            raise invalid_value("size", value, STANDARD_SIZES)
        standard_width, standard_height = value.split("x")
        return int(standard_width), int(standard_height)
    if (match := _SIZE.fullmatch(value)) is None:
        raise invalid("size", f"Invalid value: '{value}'. Expected a size like '1536x864' or 'auto'.", "invalid_value")
    width, height = int(match[1]), int(match[2])
    if width % 16 or height % 16 or not width or not height:
        raise invalid(
            "size", f"Invalid value: '{value}'. Width and height must both be divisible by 16.", "invalid_value"
        )
    if (
        max(width, height) / min(width, height) > MAX_ASPECT
        or max(width, height) > MAX_SIDE
        or width * height > MAX_PIXELS
    ):
        message = f"Invalid value: '{value}'. The aspect ratio must be between 1:3 and 3:1, at most 3840x2160."
        raise invalid("size", message, "invalid_value")
    return width, height


def _pictures(uploads: Sequence[UploadedFile]) -> list[tuple[int, int]]:
    """The pixel size of each input picture, each checked."""
    if not uploads:
        raise missing_parameter("image")
    if len(uploads) > MAX_PICTURES:
        message = (
            f"Invalid 'image': array too long. Expected an array with maximum length {MAX_PICTURES}, "
            f"but got an array with length {len(uploads)} instead."
        )
        raise invalid("image", message, "array_above_max_length")
    return [_picture(upload, INPUT_TYPES, MAX_PICTURE_BYTES) for upload in uploads]


def _picture(upload: UploadedFile, types: Mapping[str, str], limit: int) -> tuple[int, int]:
    param = "mask" if upload.field == "mask" else "image"
    if upload.content_type not in types:
        supported = ", ".join(f"'{media}'" for media in sorted(types))
        message = (
            f"Invalid file '{param}': unsupported mimetype ('{upload.content_type}'). "
            f"Supported file formats are {supported}."
        )
        raise invalid(param, message, "unsupported_file_mimetype")
    if len(upload.data) > limit:
        message = f"Invalid file '{param}': {len(upload.data)} bytes, more than the {limit} allowed."
        raise invalid(param, message, "file_too_large")
    try:
        with Image.open(io.BytesIO(upload.data)) as picture:
            picture.load()
            if picture.format != types[upload.content_type]:
                raise ValueError(picture.format)
            return picture.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        message = f"Invalid image file '{upload.filename}': it does not decode as {upload.content_type}."
        raise invalid(param, message, "invalid_image_file") from None


def _mask(masks: Sequence[UploadedFile], first: tuple[int, int]) -> None:
    """The mask must be one PNG with an alpha channel, as large as the first picture."""
    if len(masks) > 1:
        raise invalid("mask", "Invalid 'mask': expected a single file.", "invalid_type")
    mask = masks[0]
    if _picture(mask, {"image/png": "PNG"}, MAX_MASK_BYTES) != first:
        raise invalid("mask", "Invalid mask image format - mask size does not match image size.", "invalid_mask_image")
    with Image.open(io.BytesIO(mask.data)) as picture:
        if "A" not in picture.getbands() and "transparency" not in picture.info:
            raise invalid(
                "mask", "Invalid mask image format - the mask must have an alpha channel.", "invalid_mask_image"
            )
