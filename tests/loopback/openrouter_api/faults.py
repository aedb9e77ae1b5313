"""Faults the loopback OpenRouter injects, each replacing the answer to one chat completion request.

Each factory follows what OpenRouter documents and sends: its error object with the HTTP status equal to the code,
moderation metadata on 403, refusals as a 200 with no image, errors inside a 200 once the model has started.
`FaultQueue` hands them out first in, first out.
"""

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from .shapes import PROVIDER_NAME, JSONObject, error_body


class FaultKind(StrEnum):
    """How a fault answers."""

    RESPOND = "respond"  # a canned status, JSON body and headers
    COMPLETION = "completion"  # a 200 chat completion without images, built for the request's model
    LOW_CREDIT = "low_credit"  # 402 when the request sets no max_tokens; answered normally otherwise
    HANG = "hang"  # no answer at all, until the client leaves or the server stops
    DROP = "drop"  # the connection is closed without an answer


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected answer; build it with the factory functions of this module.

    For COMPLETION, the choice's `finish_reason`, `native_finish_reason`, `content`, `refusal` and `choice_error`.
    """

    name: str
    kind: FaultKind = FaultKind.RESPOND
    status: int = 200
    body: JSONObject | None = None
    headers: tuple[tuple[str, str], ...] = ()
    finish_reason: str = "stop"
    native_finish_reason: str = "STOP"
    content: str | None = ""
    refusal: str | None = None
    choice_error: JSONObject | None = None


def api_error(
    status: int, message: str, metadata: JSONObject | None = None, *, headers: dict[str, str] | None = None
) -> Fault:
    """Any error in OpenRouter's shape, with the HTTP status equal to its code."""
    body = error_body(status, message, metadata)
    return Fault("api_error", status=status, body=body, headers=tuple((headers or {}).items()))


def moderation(reasons: tuple[str, ...] = ("violence",), flagged_input: str = "…a flagged prompt…") -> Fault:
    """403: the model requires moderation and the input was flagged; `metadata` says why."""
    message = f"Your input was flagged for {', '.join(reasons)}. No credits were charged."
    metadata: JSONObject = {
        "reasons": list(reasons),
        "flagged_input": flagged_input[:100],
        "provider_name": PROVIDER_NAME,
        "model_slug": "google/gemini-2.5-flash-image",
    }
    return Fault("moderation", status=403, body=error_body(403, message, metadata))


def content_filter(native_finish_reason: str = "IMAGE_SAFETY") -> Fault:
    """A 200 with no image: the provider's safety filter stopped it (Gemini's reason as `native_finish_reason`)."""
    return Fault(
        "content_filter",
        kind=FaultKind.COMPLETION,
        finish_reason="content_filter",
        native_finish_reason=native_finish_reason,
        content=None,
    )


def refused(text: str = "I can't help with creating that image.") -> Fault:
    """A 200 with no image and the model's `refusal`, as models that word refusals do."""
    return Fault("refused", kind=FaultKind.COMPLETION, content=None, refusal=text)


def text_only(text: str = "Here is a description of the picture instead.") -> Fault:
    """A 200 where the model wrote text and made no image."""
    return Fault("text_only", kind=FaultKind.COMPLETION, content=text)


def choice_error(code: int = 502, message: str = "Provider returned error") -> Fault:
    """A 200 whose choice ends with `finish_reason: "error"` and the error inside it (the model had started)."""
    error: JSONObject = {"code": code, "message": message, "metadata": {"provider_name": PROVIDER_NAME}}
    return Fault(
        "choice_error",
        kind=FaultKind.COMPLETION,
        finish_reason="error",
        native_finish_reason="error",
        content="",
        choice_error=error,
    )


def error_in_body(code: int = 502, message: str = "Provider returned error") -> Fault:
    """A 200 whose body is an error object: the status was sent before the model failed."""
    metadata: JSONObject = {"provider_name": PROVIDER_NAME, "raw": "upstream connection reset"}
    return Fault("error_in_body", status=200, body=error_body(code, message, metadata))


def rate_limited(retry_after: float = 1.0) -> Fault:
    """429 with `Retry-After`: the model is rate limited upstream."""
    message = "google/gemini-2.5-flash-image is temporarily rate-limited upstream. Please retry shortly."
    metadata: JSONObject = {"provider_name": PROVIDER_NAME, "raw": message}
    headers = {"Retry-After": f"{retry_after:g}"}
    return Fault("rate_limited", status=429, body=error_body(429, message, metadata), headers=tuple(headers.items()))


def insufficient_credits() -> Fault:
    """402: the account's credits are spent."""
    message = "Insufficient credits. Add more using https://openrouter.ai/settings/credits"
    return Fault("insufficient_credits", status=402, body=error_body(402, message))


def low_credit() -> Fault:
    """402 for a request without `max_tokens` (credit is reserved for the model's whole output), else served."""
    return Fault("low_credit", kind=FaultKind.LOW_CREDIT)


def timed_out() -> Fault:
    """408: the request timed out at OpenRouter."""
    return Fault("timed_out", status=408, body=error_body(408, "Request timed out"))


def bad_gateway() -> Fault:
    """502: the model is down or answered something invalid."""
    metadata: JSONObject = {"provider_name": PROVIDER_NAME, "raw": "Internal error encountered."}
    return Fault("bad_gateway", status=502, body=error_body(502, "Provider returned error", metadata))


def no_provider() -> Fault:
    """503: no provider meets the routing requirements (they are all down or overloaded)."""
    message = "No allowed providers are available for the selected model."
    return Fault("no_provider", status=503, body=error_body(503, message))


def hang() -> Fault:
    """Never answer; the handler ends when the client disconnects or the server stops."""
    return Fault("hang", kind=FaultKind.HANG)


def drop() -> Fault:
    """Close the connection without a byte of answer."""
    return Fault("drop", kind=FaultKind.DROP)


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
