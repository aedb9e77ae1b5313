"""The JSON shapes of answers: OpenAI-style errors and the data items gateways send."""

import base64
from collections.abc import Callable
from typing import Literal, get_args

from .render import EncodedImage

AnswerShape = Literal["b64_json", "url", "data_url", "empty_strings", "markdown"]
ANSWER_SHAPES: frozenset[str] = frozenset(get_args(AnswerShape))
ResponseFormat = Literal["url", "b64_json"]
RESPONSE_FORMATS: frozenset[str] = frozenset(get_args(ResponseFormat))

ErrorCode = str | int | None
JSONObject = dict[str, object]


def error_body(message: str, *, type_: str, code: ErrorCode, param: str | None = None) -> JSONObject:
    """An OpenAI-style error body: `{"error": {"message", "type", "param", "code"}}`."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def invalid_key_body() -> JSONObject:
    """The error body answering a missing or wrong API key."""
    return error_body("Incorrect API key provided.", type_="invalid_request_error", code="invalid_api_key")


def data_url(image: EncodedImage) -> str:
    """The image as a `data:` URI."""
    return f"data:{image.media_type};base64,{_b64(image)}"


def data_item(
    shape: AnswerShape, image: EncodedImage, publish: Callable[[EncodedImage], str], requested: ResponseFormat
) -> dict[str, str]:
    """One `data` entry in `shape`; `publish` stores the image and returns its link, called only for links.

    `empty_strings` carries every field, as gateways serialising a fixed struct do: the image sits in the
    field the client asked for (`url` as a link, or `b64_json`) and the other fields are "".
    """
    match shape:
        case "b64_json":
            return {"b64_json": _b64(image)}
        case "url":
            return {"url": publish(image)}
        case "data_url":
            return {"url": data_url(image)}
        case "markdown":
            return {"url": f"![image]({data_url(image)})"}
        case "empty_strings" if requested == "url":
            return {"url": publish(image), "b64_json": "", "revised_prompt": ""}
        case "empty_strings":
            return {"url": "", "b64_json": _b64(image), "revised_prompt": ""}


def _b64(image: EncodedImage) -> str:
    return base64.b64encode(image.data).decode()
