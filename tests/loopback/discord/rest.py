"""The aiohttp application: routes, bot-token auth, fault injection, rate limits, Discord-shaped errors, request log."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from .config import API_PREFIX, GATEWAY_PATH
from .context import ARRIVAL_KEY, INTERACTION_KEY, ServerContext
from .errors import DiscordHTTPError, method_not_allowed, not_found, unauthorized
from .interactions import InteractionHandle
from .ratelimits import RateLimitExceeded, Ticket
from .responses import error_response
from .routes_channels import ChannelRoutes
from .routes_core import CoreRoutes
from .routes_interactions import InteractionRoutes
from .state import RequestRecord
from .uploads import MAX_REQUEST_SIZE

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_UNAUTHENTICATED = re.compile(r"^/(webhooks|interactions)/|^/gateway$")
_INTERACTION_PATH = re.compile(r"^/interactions/(\d+)/([^/]+)/")
_WEBHOOK_PATH = re.compile(r"^/webhooks/(\d+)/([^/]+)")


def api_path(path: str) -> str:
    """The path below ``/api/v10`` (other paths unchanged)."""
    return path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path


def _interaction_for(ctx: ServerContext, path: str) -> InteractionHandle | None:
    match = _INTERACTION_PATH.match(path)
    if match:
        handle = ctx.interactions.by_id(int(match.group(1)))
        return handle if handle is not None and handle.token == match.group(2) else None
    match = _WEBHOOK_PATH.match(path)
    return ctx.interactions.by_token(match.group(2)) if match else None


def _authorized(ctx: ServerContext, request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    return header == f"Bot {ctx.config.token}"


def _note_refusal(ctx: ServerContext, path: str, arrived: float, status: int, code: int, message: str) -> None:
    """Tell the interaction a refused request was about (if any) that it was refused before any handler ran."""
    handle = _interaction_for(ctx, path)
    if handle is None:
        return
    if _INTERACTION_PATH.match(path):
        handle.note_callback_arrival(arrived)
    handle.note_error(status, code, message)


def _middleware(ctx: ServerContext) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == GATEWAY_PATH:
            return await handler(request)
        loop = asyncio.get_running_loop()
        request[ARRIVAL_KEY] = loop.time()
        path = api_path(request.path)
        code: int | None = None
        ticket: Ticket | None = None
        bucket: str | None = None
        fault = ctx.faults.take(request.method, path)
        if fault is not None:
            await request.read()
            response: web.StreamResponse = fault.response()
            code = fault.code
            _note_refusal(ctx, path, request[ARRIVAL_KEY], fault.status, fault.code, f"injected {fault.status}")
        else:
            try:
                in_api = request.path.startswith(API_PREFIX + "/")
                if in_api and not _UNAUTHENTICATED.search(path) and not _authorized(ctx, request):
                    raise unauthorized()
                if in_api:
                    ticket = ctx.rate_limiter.admit(request.method, path, request.headers.get("Authorization", ""))
                response = await handler(request)
            except RateLimitExceeded as refused:
                await request.read()
                response = refused.response()
                bucket = refused.bucket
                _note_refusal(ctx, path, request[ARRIVAL_KEY], 429, 0, f"rate limited ({bucket})")
            except DiscordHTTPError as error:
                response = error_response(error)
                code = error.code
                handle = request.get(INTERACTION_KEY)
                if handle is not None:
                    handle.note_error(error.status, error.code, error.message)
            except web.HTTPNotFound:
                response = error_response(not_found())
                code = 0
            except web.HTTPMethodNotAllowed:
                response = error_response(method_not_allowed())
                code = 0
        if ticket is not None:
            response.headers.update(ticket.headers(loop.time()))
        ctx.requests.append(
            RequestRecord(
                method=request.method,
                path=request.path,
                status=response.status,
                time=loop.time(),
                code=code,
                query=request.query_string,
                injected=fault is not None,
                bucket=bucket,
            )
        )
        return response

    return middleware


def build_app(ctx: ServerContext) -> web.Application:
    """The whole loopback Discord as one aiohttp application."""
    app = web.Application(middlewares=[_middleware(ctx)], client_max_size=2 * MAX_REQUEST_SIZE)
    app.router.add_get(GATEWAY_PATH, ctx.hub.handle)
    app.router.add_get("/cdn/{tail:.*}", ctx.cdn.serve)
    app.router.add_get("/media/{tail:.*}", ctx.cdn.serve)
    CoreRoutes(ctx).register(app.router, API_PREFIX)
    InteractionRoutes(ctx).register(app.router, API_PREFIX)
    ChannelRoutes(ctx).register(app.router, API_PREFIX)
    return app
