"""Discord's rate limits: fixed-window buckets per route and per bot, with Discord's headers and 429 answers.

Discord's observed limits (the defaults of ``RateLimits``):

- ``interaction_webhook``, per interaction token: every request under ``/webhooks/{application_id}/{token}``
  (get, edit or delete the original response, follow-ups, get, edit or delete a follow-up) shares 5 requests per
  2 s. The interaction callback (``POST /interactions/{id}/{token}/callback``) is not limited.
- ``message_create``, per channel: ``POST /channels/{id}/messages``, 5 per 5 s.
- ``message_edit``, per channel: ``PATCH`` and ``DELETE /channels/{id}/messages/{message_id}`` share 5 per 5 s.
- ``global``, per bot token: 50 requests per second over every route except the interaction routes (the
  callback and the interaction webhook). Every other route is unlimited but counts here.

Windows are fixed, as Discord's are: a window opens with the first request and closes ``per`` seconds later. A
refused request is not executed and counts toward nothing. A limited route answers with ``X-RateLimit-Limit``,
``-Remaining``, ``-Reset`` (epoch seconds), ``-Reset-After`` (seconds) and ``-Bucket`` (a hash of the bucket's
kind, without the channel or token, as Discord's leaves out top-level resources: discord.py keys its buckets by
hash plus those). A refusal is a 429 with ``{"message", "retry_after", "global"}``, ``Retry-After`` (whole
seconds), ``X-RateLimit-Scope`` (``user`` or ``global``), ``X-RateLimit-Global`` for the global limit, and
``Via``: without it discord.py takes a 429 for a Cloudflare ban and does not retry.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from aiohttp import web

from .responses import json_response

GLOBAL = "global"
INTERACTION_WEBHOOK = "interaction_webhook"
MESSAGE_CREATE = "message_create"
MESSAGE_EDIT = "message_edit"

_INTERACTION_ROUTE = re.compile(r"^/interactions/\d+/[^/]+/callback$|^/webhooks/\d+/[^/]+")
_WEBHOOK = re.compile(r"^/webhooks/\d+/([^/]+)(?:/|$)")
_CHANNEL_MESSAGES = re.compile(r"^/channels/(\d+)/messages$")
_CHANNEL_MESSAGE = re.compile(r"^/channels/(\d+)/messages/\d+$")


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``requests`` requests in a window of ``per`` seconds."""

    requests: int
    per: float


@dataclass(frozen=True, slots=True)
class RateLimits:
    """The numbers the loopback enforces; the defaults are Discord's observed limits."""

    interaction_webhook: Limit = Limit(5, 2.0)
    message_create: Limit = Limit(5, 5.0)
    message_edit: Limit = Limit(5, 5.0)
    global_limit: Limit = Limit(50, 1.0)


def rate_limited_response(
    retry_after: float, *, is_global: bool = False, code: int = 0, headers: Mapping[str, str] | None = None
) -> web.Response:
    """Discord's 429: the body discord.py reads, ``Retry-After`` in whole seconds, and the ``Via`` it requires."""
    body: dict[str, object] = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
    if code:
        body["code"] = code
    answer = {
        **(headers or {}),
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "Via": "1.1 google",
        "X-RateLimit-Scope": GLOBAL if is_global else "user",
    }
    if is_global:
        answer["X-RateLimit-Global"] = "true"
    return json_response(body, status=429, headers=answer)


def _ceil_ms(seconds: float) -> float:
    """Seconds rounded up to the millisecond, so that a client never comes back early."""
    return math.ceil(max(0.0, seconds) * 1000) / 1000


def _route_bucket(limits: RateLimits, method: str, path: str) -> tuple[str, str, Limit] | None:
    """The route bucket a request falls in: its name, its key (token or channel id) and its limit."""
    if match := _WEBHOOK.match(path):
        return INTERACTION_WEBHOOK, match.group(1), limits.interaction_webhook
    if method == "POST" and (match := _CHANNEL_MESSAGES.match(path)):
        return MESSAGE_CREATE, match.group(1), limits.message_create
    if method in ("PATCH", "DELETE") and (match := _CHANNEL_MESSAGE.match(path)):
        return MESSAGE_EDIT, match.group(1), limits.message_edit
    return None


@dataclass(slots=True)
class _Window:
    resets_at: float
    count: int = 0


@dataclass(frozen=True, slots=True)
class Ticket:
    """A request admitted by a route bucket; its answer carries the bucket's state after it."""

    bucket: str
    limit: int
    remaining: int
    resets_at: float

    def headers(self, now: float) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers at loop time ``now``."""
        reset_after = _ceil_ms(self.resets_at - now)
        return {
            "X-RateLimit-Bucket": hashlib.sha256(self.bucket.encode()).hexdigest()[:32],
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        }


class RateLimitExceeded(Exception):
    """A bucket refused the request."""

    def __init__(self, bucket: str, retry_after: float, headers: Mapping[str, str]) -> None:
        super().__init__(f"{bucket} rate limit exceeded, retry after {retry_after:.3f}s")
        self.bucket = bucket
        self.retry_after = retry_after
        self.headers = dict(headers)

    def response(self) -> web.Response:
        """The 429 Discord sends."""
        return rate_limited_response(self.retry_after, is_global=self.bucket == GLOBAL, headers=self.headers)


@dataclass(slots=True)
class RateLimiter:
    """Counts requests in fixed windows per bucket and key; ``limits=None`` turns it off."""

    limits: RateLimits | None
    _windows: dict[tuple[str, str], _Window] = field(default_factory=dict)

    @classmethod
    def from_option(cls, option: bool | RateLimits) -> RateLimiter:
        """``True``: Discord's limits; ``False``: none; a ``RateLimits``: those numbers."""
        if isinstance(option, RateLimits):
            return cls(option)
        return cls(RateLimits() if option else None)

    def admit(self, method: str, path: str, credential: str) -> Ticket | None:
        """Count a request (path below ``/api/v10``) or raise ``RateLimitExceeded``; a ticket on limited routes."""
        if self.limits is None:
            return None
        now = asyncio.get_running_loop().time()
        buckets: list[tuple[str, str, Limit]] = []
        if not _INTERACTION_ROUTE.match(path):
            buckets.append((GLOBAL, credential, self.limits.global_limit))
        route = _route_bucket(self.limits, method, path)
        if route is not None:
            buckets.append(route)
        windows = [self._window(name, key, limit, now) for name, key, limit in buckets]
        for (name, _, limit), window in zip(buckets, windows, strict=True):
            if window.count >= limit.requests:
                headers = {} if name == GLOBAL else Ticket(name, limit.requests, 0, window.resets_at).headers(now)
                raise RateLimitExceeded(name, _ceil_ms(window.resets_at - now), headers)
        for (name, key, _), window in zip(buckets, windows, strict=True):
            window.count += 1
            self._windows[name, key] = window
        if route is None:
            return None
        name, _, limit = route
        return Ticket(name, limit.requests, limit.requests - windows[-1].count, windows[-1].resets_at)

    def _window(self, name: str, key: str, limit: Limit, now: float) -> _Window:
        """The open window, or a new one (stored only once a request is admitted into it)."""
        window = self._windows.get((name, key))
        if window is None or now >= window.resets_at:
            return _Window(resets_at=now + limit.per)
        return window
