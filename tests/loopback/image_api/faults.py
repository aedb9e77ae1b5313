"""Faults the loopback image API injects, each replacing the answer to one generation request.

Each factory returns a `Fault` whose shape follows what OpenAI-compatible gateways really send
(status, body, headers); `FaultQueue` hands them out first in, first out.
"""

import json
import time
from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Literal

from .shapes import ErrorCode, JSONObject, error_body, invalid_key_body

SafetyCode = Literal["prompt_blocked", "sensitive_words_detected", "content_policy_violation"]

_JSON = "application/json"
_HTML = "text/html; charset=utf-8"
_GATEWAY = "new_api_error"  # the error type gateways use for their own refusals
_UPSTREAM = "upstream_error"  # ... and for errors passed on from the model's provider
_SAFETY_MESSAGES: dict[str, str] = {
    "prompt_blocked": "The prompt was blocked by the model's safety filters (block reason: PROHIBITED_CONTENT).",
    "sensitive_words_detected": "sensitive words detected",
    "content_policy_violation": (
        "Your request was rejected as a result of our safety system. "
        "Your prompt may contain text that is not allowed by our safety system."
    ),
}
_PROVIDER_ERRORS: dict[int, tuple[str, str]] = {
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: ("INTERNAL", "An internal error has occurred. Please retry or report the problem."),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
}
_CDN_STATUS_TEXT: dict[int, str] = {520: "Web server is returning an unknown error", 524: "A timeout occurred"}


class FaultKind(StrEnum):
    """How a fault answers."""

    RESPOND = "respond"  # a canned status, body and headers
    HANG = "hang"  # no answer at all, until the client leaves or the server stops
    DEAD_URL = "dead_url"  # a 200 whose links answer 404


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected answer; build it with the factory functions of this module."""

    name: str
    kind: FaultKind = FaultKind.RESPOND
    status: int = 200
    body: bytes = b""
    content_type: str = _JSON
    headers: tuple[tuple[str, str], ...] = ()


def api_error(
    status: int,
    message: str,
    *,
    code: ErrorCode = None,
    type_: str = "invalid_request_error",
    param: str | None = None,
    headers: dict[str, str] | None = None,
    name: str = "api_error",
) -> Fault:
    """Any OpenAI-style error answer."""
    body = error_body(message, type_=type_, code=code, param=param)
    return _json_fault(name, status, body, headers)


def rate_limited(retry_after: float = 1.0, *, header: bool = True, in_message: bool = False) -> Fault:
    """429 `rate_limit_exceeded`; the delay in a `Retry-After` header and/or as "Please retry in Xs." text."""
    message = "Rate limit reached for image generation requests."
    if in_message:
        message += f" Please retry in {retry_after:g}s."
    headers = {"Retry-After": f"{retry_after:g}"} if header else None
    return api_error(
        429, message, code="rate_limit_exceeded", type_="rate_limit_error", headers=headers, name="rate_limited"
    )


def server_error(status: int = 500, *, html: bool = False) -> Fault:
    """A 5xx: OpenAI-style JSON, or the HTML page a proxy or CDN in front of the gateway sends."""
    if not 500 <= status <= 599:
        raise ValueError(f"server_error needs a 5xx status, not {status}")
    reason = _reason(status)
    if html:
        title = f"{status} {reason}"
        page = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
            "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        )
        return Fault("server_error", status=status, body=page.encode(), content_type=_HTML)
    return api_error(status, reason, code="server_error", type_="server_error", name="server_error")


def overloaded() -> Fault:
    """503: the model's provider is overloaded, passed on by the gateway."""
    code, message = _PROVIDER_ERRORS[503]
    return api_error(503, message, code=code, type_=_UPSTREAM, name="overloaded")


def safety(status: int = 400, code: SafetyCode = "prompt_blocked") -> Fault:
    """A safety refusal in OpenAI shape."""
    message = _SAFETY_MESSAGES.get(code, f"The request was refused by the safety system ({code}).")
    return api_error(status, message, code=code, name="safety")


def quota_exhausted() -> Fault:
    """403 `insufficient_user_quota`: the account's balance at the gateway is spent."""
    message = "user quota is not enough, remaining quota: $0.012000, need quota: $0.134000"
    return api_error(403, message, code="insufficient_user_quota", type_=_GATEWAY, name="quota_exhausted")


def unauthorized() -> Fault:
    """401 `invalid_api_key`, exactly what a wrong key gets."""
    return _json_fault("unauthorized", 401, invalid_key_body(), None)


def empty_data() -> Fault:
    """200 with no images: how some gateways answer a silent safety block."""
    return _json_fault("empty_data", 200, {"created": int(time.time()), "data": []}, None)


def not_json(body: str | None = None, content_type: str = _HTML) -> Fault:
    """200 whose body is not JSON: by default a CDN's browser-check page."""
    page = body if body is not None else _challenge_page()
    return Fault("not_json", status=200, body=page.encode(), content_type=content_type)


def hang() -> Fault:
    """Never answer; the handler ends when the client disconnects or the server stops."""
    return Fault("hang", kind=FaultKind.HANG)


def dead_url() -> Fault:
    """200 whose `url` items point at files this server answers 404 for (expired links)."""
    return Fault("dead_url", kind=FaultKind.DEAD_URL)


def error_code_int(status: int = 429, *, retry_in: float | None = None) -> Fault:
    """An error whose `code` is an integer and whose `message` holds the provider's own JSON error.

    With `retry_in`, the inner error says "Please retry in Xs." and carries a RetryInfo `retryDelay`, as Gemini's do.
    """
    provider_status, text = _PROVIDER_ERRORS.get(status, ("UNKNOWN", _reason(status)))
    inner: JSONObject = {"code": status, "message": text, "status": provider_status}
    if retry_in is not None:
        inner["message"] = f"{text} Please retry in {retry_in:g}s."
        inner["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_in:g}s"}]
    message = json.dumps({"error": inner})
    return api_error(status, message, code=status, type_=_UPSTREAM, param="", name="error_code_int")


def empty_response() -> Fault:
    """500 `empty_response`: the provider answered without content."""
    message = "The model returned an empty response."
    return api_error(500, message, code="empty_response", type_=_GATEWAY, name="empty_response")


def no_images() -> Fault:
    """500 "no images generated": the provider answered with text only."""
    return api_error(500, "no images generated", code=None, type_=_UPSTREAM, name="no_images")


class FaultQueue:
    """Faults waiting for requests, first in, first out; each is used once."""

    def __init__(self) -> None:
        self._faults: deque[Fault] = deque()

    def __len__(self) -> int:
        return len(self._faults)

    def push(self, fault: Fault) -> None:
        """Queue `fault` for the next request that has none."""
        self._faults.append(fault)

    def pop(self) -> Fault | None:
        """The oldest queued fault, or None."""
        return self._faults.popleft() if self._faults else None

    def clear(self) -> None:
        """Forget every queued fault."""
        self._faults.clear()


def _json_fault(name: str, status: int, body: JSONObject, headers: dict[str, str] | None) -> Fault:
    return Fault(name, status=status, body=json.dumps(body).encode(), headers=tuple((headers or {}).items()))


def _challenge_page() -> str:
    return (
        '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head>'
        "<body><h1>Checking your browser before accessing the site.</h1></body></html>"
    )


def _reason(status: int) -> str:
    if status in _CDN_STATUS_TEXT:
        return _CDN_STATUS_TEXT[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Server Error"
