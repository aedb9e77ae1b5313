"""Faults the OpenAI Images stand-in injects, each replacing the answer to one request, shaped as OpenAI sends them."""

import json
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from .answers import empty_answer
from .errors import JSONObject, error_body

RATE_LIMITS_PAGE = "https://platform.openai.com/account/rate-limits"
HELP = "help.openai.com"


class FaultKind(StrEnum):
    """How a fault answers."""

    RESPOND = "respond"  # a canned status, body and headers
    HANG = "hang"  # no answer at all, until the client leaves or the server stops
    DROP = "drop"  # the connection is closed without an answer


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected answer; build it with the factory functions of this module."""

    name: str
    kind: FaultKind = FaultKind.RESPOND
    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


def api_error(
    status: int,
    message: str,
    *,
    type_: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
    name: str = "api_error",
) -> Fault:
    """Any OpenAI error answer."""
    return _json_fault(name, status, error_body(message, type_=type_, code=code, param=param), headers)


def moderation_blocked() -> Fault:
    """400 `moderation_blocked`: the safety system refused the prompt or a picture."""
    message = (
        "Your request was rejected by the safety system. If you believe this is an error, contact us at "
        f"{HELP} and include the request ID in your message."
    )
    return api_error(400, message, type_="image_generation_user_error", code="moderation_blocked", name="safety")


def rate_limited(retry_after: float = 1.0, *, header: bool = True) -> Fault:
    """429 `rate_limit_exceeded` with the exhausted `x-ratelimit-*` bucket; with `header`, a `retry-after` too."""
    wait = duration(retry_after)
    message = (
        "Rate limit reached for gpt-image in organization org-loopback on images per minute (IPM): Limit 5, Used 5, "
        f"Requested 1. Please try again in {wait}. Visit {RATE_LIMITS_PAGE} to learn more."
    )
    headers = {
        "x-ratelimit-limit-requests": "5",
        "x-ratelimit-remaining-requests": "0",
        "x-ratelimit-reset-requests": wait,
    }
    if header:
        headers["retry-after"] = f"{retry_after:g}"
    return api_error(429, message, type_="requests", code="rate_limit_exceeded", headers=headers, name="rate_limited")


def insufficient_quota() -> Fault:
    """429 `insufficient_quota`: the account's credit is used up (retrying does not help)."""
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more information on this "
        "error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors."
    )
    return api_error(429, message, type_="insufficient_quota", code="insufficient_quota", name="insufficient_quota")


def server_error(status: int = 500) -> Fault:
    """A 5xx `server_error`."""
    if not 500 <= status <= 599:
        raise ValueError(f"server_error needs a 5xx status, not {status}")
    message = (
        "The server had an error while processing your request. Sorry about that! You can retry your request, "
        f"or contact us through our help center at {HELP} if the error persists."
    )
    return api_error(status, message, type_="server_error", name="server_error")


def overloaded() -> Fault:
    """503: the engine is overloaded."""
    message = "The engine is currently overloaded, please try again later."
    return api_error(503, message, type_="server_error", name="overloaded")


def empty_data() -> Fault:
    """200 with no image."""
    return _json_fault("empty_data", 200, empty_answer(), None)


def hang() -> Fault:
    """Never answer; the handler ends when the client disconnects or the server stops."""
    return Fault("hang", kind=FaultKind.HANG)


def drop() -> Fault:
    """Close the connection without answering."""
    return Fault("drop", kind=FaultKind.DROP)


def duration(seconds: float) -> str:
    """Seconds as OpenAI writes a duration: `250ms`, `12s`, `1m30s`."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:g}s" if minutes else f"{rest:g}s"


class FaultQueue:
    """Faults waiting for requests, first in, first out; each is used once."""

    def __init__(self) -> None:
        self._faults: deque[Fault] = deque()

    def __len__(self) -> int:
        return len(self._faults)

    def push(self, fault: Fault) -> None:
        self._faults.append(fault)

    def pop(self) -> Fault | None:
        return self._faults.popleft() if self._faults else None

    def clear(self) -> None:
        self._faults.clear()


def _json_fault(name: str, status: int, body: JSONObject, headers: dict[str, str] | None) -> Fault:
    return Fault(name, status=status, body=json.dumps(body).encode(), headers=tuple((headers or {}).items()))
