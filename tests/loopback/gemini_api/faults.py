"""Faults the Gemini stand-in injects, each replacing the answer to one request that passed the checks.

Refusals come as Google sends them, HTTP 200 without an image; errors as `google.rpc.Status` bodies with the
vendor's code, status and details. `FaultQueue` hands them out first in, first out.
"""

import json
from collections import deque
from dataclasses import dataclass
from enum import StrEnum

from .shapes import HELP, QUOTA_FAILURE, RETRY_INFO, JSONObject, candidate, error_body, text_part

IMAGE_BLOCKED = (
    "Unable to show the generated image. The image was filtered out because it violated Google's Generative AI "
    "Prohibited Use policy. You will not be charged for blocked images. Try rephrasing the prompt. If you think "
    "this was an error, send feedback."
)
NO_IMAGE_TEXT = "I can describe a picture of that, but I was not able to draw it this time."
_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}


class FaultKind(StrEnum):
    """How a fault answers."""

    RESPOND = "respond"  # a canned status, body and headers
    CANDIDATE = "candidate"  # HTTP 200 whose one candidate has no image
    BLOCKED = "blocked"  # HTTP 200 with `promptFeedback.blockReason` and no candidate
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
    candidate: JSONObject | None = None  # CANDIDATE: what replaces the image's candidate
    block_reason: str = ""  # BLOCKED: `promptFeedback.blockReason`


def google_error(
    code: int, status: str, message: str, details: list[JSONObject] | None = None, headers: dict[str, str] | None = None
) -> Fault:
    """Any `{"error": {"code", "message", "status", "details"}}` answer."""
    body = json.dumps(error_body(code, status, message, details or [])).encode()
    return Fault(f"error_{code}", status=code, body=body, headers=tuple((headers or {}).items()))


def safety(finish_reason: str = "IMAGE_SAFETY", message: str | None = IMAGE_BLOCKED) -> Fault:
    """HTTP 200, no image: the made image was blocked (`finishReason` IMAGE_SAFETY, with Google's explanation)."""
    return Fault("safety", FaultKind.CANDIDATE, candidate=candidate([], finish_reason, message))


def finished(finish_reason: str, *, text: str | None = None, message: str | None = None) -> Fault:
    """HTTP 200, no image, any `finishReason` (NO_IMAGE, IMAGE_OTHER, PROHIBITED_CONTENT, STOP ...), maybe with text."""
    parts = [text_part(text)] if text else []
    return Fault(
        f"finished_{finish_reason.lower()}", FaultKind.CANDIDATE, candidate=candidate(parts, finish_reason, message)
    )


def no_image(text: str = NO_IMAGE_TEXT) -> Fault:
    """HTTP 200 with `finishReason` NO_IMAGE: the model answered in words only."""
    return finished("NO_IMAGE", text=text)


def prompt_blocked(reason: str = "PROHIBITED_CONTENT") -> Fault:
    """HTTP 200 with `promptFeedback.blockReason` and no candidate: the prompt itself was refused."""
    return Fault("prompt_blocked", FaultKind.BLOCKED, block_reason=reason)


def rate_limited(retry_delay: float = 7.0, *, retry_after_header: bool = False) -> Fault:
    """429 RESOURCE_EXHAUSTED with QuotaFailure, Help and RetryInfo `retryDelay` details, as the free tier gets."""
    message = (
        "You exceeded your current quota, please check your plan and billing details. For more information on this "
        "error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n"
        "* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10"
        f"\nPlease retry in {retry_delay:g}s."
    )
    violation = {
        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
        "quotaValue": "10",
    }
    details: list[JSONObject] = [
        {"@type": QUOTA_FAILURE, "violations": [violation]},
        {
            "@type": HELP,
            "links": [
                {
                    "description": "Learn more about Gemini API quotas",
                    "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                }
            ],
        },
        {"@type": RETRY_INFO, "retryDelay": f"{retry_delay:g}s"},
    ]
    headers = {"Retry-After": f"{retry_delay:g}"} if retry_after_header else None
    return google_error(429, "RESOURCE_EXHAUSTED", message, details, headers)


def server_error(code: int = 500) -> Fault:
    """500 INTERNAL, 503 UNAVAILABLE or 504 DEADLINE_EXCEEDED, worded as Google words them."""
    status, message = _STATUS_ERRORS[code]
    return google_error(code, status, message)


def overloaded() -> Fault:
    """503 UNAVAILABLE: the model is overloaded."""
    return server_error(503)


def deadline_exceeded() -> Fault:
    """504 DEADLINE_EXCEEDED."""
    return server_error(504)


def hang() -> Fault:
    """Never answer; the handler ends when the client disconnects or the server stops."""
    return Fault("hang", FaultKind.HANG)


def drop() -> Fault:
    """Close the connection without answering."""
    return Fault("drop", FaultKind.DROP)


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
