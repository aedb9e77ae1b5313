import base64
import io
import json

import pytest
from multidict import CIMultiDict
from PIL import Image

from bot.core import errors
from bot.core.imageapi.answers import ImageBytes, ImageLink, classify_error, parse_success, retry_after_seconds
from bot.core.images import ImageFormat


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


PNG = image_bytes()
PNG_IMAGE = ImageBytes(PNG, ImageFormat.PNG)
B64 = base64.b64encode(PNG).decode()


def answer(*items: object) -> bytes:
    return json.dumps({"created": 1700000000, "data": list(items)}).encode()


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ({"b64_json": B64}, PNG_IMAGE),
        ({"url": f"data:image/png;base64,{B64}"}, PNG_IMAGE),
        ({"url": "https://cdn.example/x.png"}, ImageLink("https://cdn.example/x.png")),
        ({"url": "", "b64_json": B64, "revised_prompt": ""}, PNG_IMAGE),
        (
            {"url": f"data:image/png;base64,{B64}", "b64_json": "", "revised_prompt": ""},
            ImageBytes(PNG, ImageFormat.PNG),
        ),
        ({"url": f"![image](data:image/png;base64,{B64})"}, PNG_IMAGE),
        ({"url": "Here you go: ![image](https://cdn.example/y.png)"}, ImageLink("https://cdn.example/y.png")),
        ({"b64_json": B64[:40] + "\n" + B64[40:]}, PNG_IMAGE),
    ],
    ids=[
        "b64_json",
        "data_url",
        "url",
        "empty_strings_b64",
        "empty_strings_url",
        "markdown_data",
        "markdown_link",
        "wrapped",
    ],
)
def test_every_answer_shape_yields_the_image(item: dict, expected: object) -> None:
    assert parse_success(answer(item)) == [expected]


@pytest.mark.parametrize(("fmt", "expected"), [("JPEG", ImageFormat.JPEG), ("WEBP", ImageFormat.WEBP)])
def test_format_is_told_by_the_bytes_not_the_data_url(fmt: str, expected: ImageFormat) -> None:
    data = image_bytes(fmt)
    item = {"url": f"data:image/png;base64,{base64.b64encode(data).decode()}"}
    assert parse_success(answer(item)) == [ImageBytes(data, expected)]


def test_several_items_keep_their_order() -> None:
    jpeg = image_bytes("JPEG")
    sources = parse_success(answer({"b64_json": B64}, {"b64_json": base64.b64encode(jpeg).decode()}))
    assert [source.data for source in sources] == [PNG, jpeg]


def test_empty_data_is_a_safety_refusal() -> None:
    with pytest.raises(errors.SafetyRefused):
        parse_success(answer())


def test_items_without_any_image_are_an_empty_result() -> None:
    with pytest.raises(errors.EmptyResult):
        parse_success(answer({"url": "", "b64_json": "", "revised_prompt": ""}))


@pytest.mark.parametrize(
    "raw",
    [b"<html>502 Bad Gateway</html>", b"[]", b'{"created": 1}', b'{"data": "nope"}'],
    ids=["html", "list", "no_data", "data_not_list"],
)
def test_unreadable_answers_are_malformed(raw: bytes) -> None:
    with pytest.raises(errors.MalformedAnswer):
        parse_success(raw)


def test_base64_that_is_not_an_image_is_malformed() -> None:
    with pytest.raises(errors.MalformedAnswer, match="not a PNG"):
        parse_success(answer({"b64_json": base64.b64encode(b"hello world").decode()}))


def test_invalid_base64_is_malformed() -> None:
    with pytest.raises(errors.MalformedAnswer, match="base64"):
        parse_success(answer({"b64_json": "***not base64***"}))


def test_an_error_object_inside_a_200_is_classified() -> None:
    raw = json.dumps({"error": {"message": "prompt blocked", "code": "prompt_blocked"}}).encode()
    with pytest.raises(errors.SafetyRefused):
        parse_success(raw)


def openai_error(message: str, code: object = None, kind: str = "invalid_request_error") -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "param": None, "code": code}}).encode()


NESTED_GEMINI_429 = openai_error(
    json.dumps(
        {
            "error": {
                "code": 429,
                "message": "Resource has been exhausted. Please retry in 7s.",
                "status": "RESOURCE_EXHAUSTED",
            }
        }
    ),
    code=429,
)


@pytest.mark.parametrize(
    ("status", "raw", "expected"),
    [
        (400, openai_error("Your prompt was blocked", "prompt_blocked"), errors.SafetyRefused),
        (400, openai_error("敏感词", "sensitive_words_detected"), errors.SafetyRefused),
        (400, openai_error("violates our content policy", "content_policy_violation"), errors.SafetyRefused),
        (400, openai_error("Request blocked by safety filters"), errors.SafetyRefused),
        (401, openai_error("Incorrect API key provided", "invalid_api_key"), errors.AuthenticationFailed),
        (403, openai_error("user quota is not enough", "insufficient_user_quota"), errors.UpstreamQuotaExhausted),
        (429, openai_error("You exceeded your current quota", "insufficient_quota"), errors.UpstreamQuotaExhausted),
        (429, openai_error("Too many requests", "rate_limit_exceeded"), errors.RateLimited),
        (429, NESTED_GEMINI_429, errors.RateLimited),
        (503, openai_error("The model is overloaded. Please try again later.", "unavailable"), errors.Overloaded),
        (500, openai_error("The model is overloaded"), errors.Overloaded),
        (500, openai_error("empty response from upstream", "empty_response"), errors.EmptyResult),
        (500, openai_error("no images generated"), errors.EmptyResult),
        (500, b"<html><body>Internal Server Error</body></html>", errors.ServerError),
        (502, b"Bad Gateway", errors.ServerError),
        (504, b"Gateway Timeout", errors.UpstreamTimeout),
        (524, b"A timeout occurred", errors.UpstreamTimeout),
        (400, openai_error("size must be WxH", "invalid_size"), errors.RequestRejected),
        (404, openai_error("model not found", "model_not_found"), errors.RequestRejected),
        (403, openai_error("forbidden"), errors.AuthenticationFailed),
    ],
)
def test_errors_map_to_their_type(status: int, raw: bytes, expected: type) -> None:
    error = classify_error(status, raw, CIMultiDict())
    assert type(error) is expected
    assert error.status == status


def test_integer_code_and_json_message_are_unwrapped() -> None:
    error = classify_error(429, NESTED_GEMINI_429, CIMultiDict())
    assert isinstance(error, errors.RateLimited)
    assert error.retry_after == 7
    assert error.detail == "Resource has been exhausted. Please retry in 7s."


def test_rejection_keeps_the_apis_reason() -> None:
    error = classify_error(400, openai_error("size 10x10 is not supported"), CIMultiDict())
    assert error.detail == "size 10x10 is not supported"


def test_html_error_pages_are_reduced_to_text() -> None:
    error = classify_error(500, b"<html><h1>Oops</h1><p>it broke</p></html>", CIMultiDict())
    assert error.detail == "Oops it broke"


@pytest.mark.parametrize(
    ("headers", "text", "expected"),
    [
        ({"Retry-After": "12"}, "", 12.0),
        ({"retry-after-ms": "1500"}, "", 1.5),
        ({}, "Please retry in 3.5s.", 3.5),
        ({}, "retry after 250ms", 0.25),
        ({}, '{"details": [{"retryDelay": "41s"}]}', 41.0),
        ({}, "nothing to say", 0.0),
        ({"Retry-After": "soon"}, "", 0.0),
    ],
)
def test_retry_after_sources(headers: dict[str, str], text: str, expected: float) -> None:
    assert retry_after_seconds(CIMultiDict(headers), text) == pytest.approx(expected)


def test_retry_after_as_http_date() -> None:
    seconds = retry_after_seconds(CIMultiDict({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), "")
    assert seconds == 0.0  # a date in the past means "now"


def test_retry_after_header_is_kept_on_any_error() -> None:
    error = classify_error(503, openai_error("overloaded"), CIMultiDict({"Retry-After": "4"}))
    assert isinstance(error, errors.Overloaded)
    assert error.retry_after == 4
