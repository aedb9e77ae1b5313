"""JSON answers with the exact ``Content-Type: application/json`` header discord.py requires."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from .errors import DiscordHTTPError

JSON = "application/json"


def dumps(data: Any) -> str:
    """Compact JSON (orjson, which discord.py's speed extra installs: the loopback must not be the bottleneck)."""
    return orjson.dumps(data).decode()


def json_response(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON answer (no ``charset`` parameter: discord.py compares the header verbatim)."""
    return web.Response(body=orjson.dumps(data), status=status, content_type=JSON, headers=headers)


def error_response(error: DiscordHTTPError) -> web.Response:
    """Discord's ``{"message", "code", "errors"?}`` answer for ``error``."""
    return json_response(error.body(), status=error.status, headers=error.headers)


def no_content() -> web.Response:
    """204."""
    return web.Response(status=204)
