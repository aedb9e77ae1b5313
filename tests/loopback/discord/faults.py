"""Injected REST failures: the next N matching requests get a chosen status, answered the way Discord does."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from http import HTTPStatus

from aiohttp import web

from .ratelimits import rate_limited_response
from .responses import json_response

DEFAULT_RETRY_AFTER = 0.05
"""Seconds a 429 asks the client to wait when the test gives no ``retry_after``."""


@dataclass(slots=True)
class Fault:
    """One injection rule."""

    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int
    code: int = 0
    retry_after: float | None = None

    def matches(self, method: str, path: str) -> bool:
        """Whether a request (path below ``/api/v10``) is hit by this rule."""
        return self.remaining > 0 and self.method in ("*", method) and self.pattern.search(path) is not None

    def response(self) -> web.Response:
        """The answer Discord would give with this status."""
        if self.status == 429:
            retry_after = DEFAULT_RETRY_AFTER if self.retry_after is None else self.retry_after
            return rate_limited_response(retry_after, code=self.code)
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Error"
        message = f"{self.status}: {reason}" if self.status >= 500 else reason
        headers = {"Retry-After": str(math.ceil(self.retry_after))} if self.retry_after is not None else None
        return json_response({"message": message, "code": self.code}, status=self.status, headers=headers)


class FaultInjector:
    """Holds injection rules; the oldest matching rule with uses left wins."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(
        self,
        method: str,
        path_regex: str,
        status: int,
        *,
        retry_after: float | None = None,
        count: int = 1,
        code: int = 0,
    ) -> Fault:
        """Make the next ``count`` requests matching ``method`` (or ``"*"``) and ``path_regex`` fail."""
        fault = Fault(method.upper(), re.compile(path_regex), status, count, code, retry_after)
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first rule matching this request."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.remaining -= 1
                return fault
        return None

    def clear(self) -> None:
        """Remove every rule."""
        self._faults.clear()
