"""The Gemini stand-in's server: lifecycle, the `generateContent` route, and the bookkeeping tests read."""

import asyncio
import hmac
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

from aiohttp import web

from ..image_api.render import IMAGE_FORMATS, ImageFormat, render_image
from .faults import Fault, FaultKind, FaultQueue
from .records import RecordedRequest
from .shapes import (
    FLASH_IMAGE_TOKENS,
    IMAGE_TOKENS,
    JSONObject,
    candidate,
    image_part,
    invalid_key_body,
    missing_key_body,
    response_body,
    text_part,
    usage,
)
from .sizes import ONE_K_ONLY
from .validation import ContentRequest, Refused, parse_body, validate

log = logging.getLogger(__name__)

VERSION = "v1beta"
GENERATE_PATH = f"/{VERSION}/models/{{model}}:generateContent"
DEFAULT_MODELS = ("gemini-3-pro-image-preview", "gemini-2.5-flash-image")
MAX_BODY_BYTES = 64 * 1024 * 1024  # up to 14 input pictures travel inline
ANSWER_TEXT = "Here is the image you asked for."
THOUGHT_TEXT = "Composing the scene: checking layout and lighting before the final render."
_SHUTDOWN_GRACE = 0.05  # seconds stop() lets running handlers finish before cutting them off


class GeminiAPIServer:
    """Google's `POST /v1beta/models/{model}:generateContent` on 127.0.0.1, with real images and injectable faults.

    The key is taken from `x-goog-api-key` or `?key=`, as Google takes it. Settings (`latency`, `image_format`,
    `thought_images`) are read when a request arrives; a queued fault is taken by the first request that then passes
    the key and body checks. `reset()` restores the settings and clears faults and records between tests.
    """

    def __init__(self, api_key: str = "test-key", models: Iterable[str] = DEFAULT_MODELS) -> None:
        self.api_key = api_key
        self.models = tuple(models)
        self.latency = 0.0
        self.thought_images = 0  # interim drafts (`thought: true` parts) before the final image, as Gemini 3 shows
        self.requests: list[RecordedRequest] = []
        self._image_format: ImageFormat = "png"
        self._in_flight = 0
        self._changed = asyncio.Event()
        self._faults = FaultQueue()
        self._serial = itertools.count()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        if self._runner is not None:
            raise RuntimeError("the Gemini stand-in is already running")
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(GENERATE_PATH, self._generate_content)
        # handler_cancellation: a client that leaves ends its handler, so in_flight stays honest
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=_SHUTDOWN_GRACE, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner, self._base_url = runner, f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop listening and cut off requests still running (hanging ones included) without waiting on them."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """`http://127.0.0.1:PORT`, the root `/v1beta/...` hangs from (what `HttpOptions.base_url` takes)."""
        if self._base_url is None:
            raise RuntimeError("the Gemini stand-in has not been started")
        return self._base_url

    @property
    def image_format(self) -> ImageFormat:
        """How made images are encoded: png (gemini-2.5-flash-image), jpeg (Gemini 3 models) or webp."""
        return self._image_format

    @image_format.setter
    def image_format(self, image_format: ImageFormat) -> None:
        if image_format not in IMAGE_FORMATS:
            raise ValueError(f"unknown image format {image_format!r}; expected one of {sorted(IMAGE_FORMATS)}")
        self._image_format = image_format

    @property
    def in_flight(self) -> int:
        """Requests being handled now (latency and hanging included)."""
        return self._in_flight

    @property
    def pending_faults(self) -> int:
        """Faults queued and not yet used."""
        return len(self._faults)

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request."""
        if not self.requests:
            raise LookupError("the Gemini stand-in has received no request")
        return self.requests[-1]

    def fail_next(self, *faults: Fault) -> None:
        """Queue faults, each answering one later request that passes the key and body checks, in order."""
        for fault in faults:
            self._faults.push(fault)

    def reset(self) -> None:
        """Clear faults and records; restore the default settings."""
        self._faults.clear()
        self.requests.clear()
        self.latency = 0.0
        self.thought_images = 0
        self._image_format = "png"

    async def wait_in_flight(self, count: int = 1) -> None:
        """Return once at least `count` requests are being handled; wrap it in a timeout."""
        await self._wait_until(lambda: self._in_flight >= count)

    async def wait_requests(self, count: int) -> None:
        """Return once at least `count` requests were received since `reset()`; wrap it in a timeout."""
        await self._wait_until(lambda: len(self.requests) >= count)

    async def _wait_until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _generate_content(self, request: web.Request) -> web.StreamResponse:
        record = RecordedRequest(
            headers=request.headers, received_at=time.monotonic(), model=request.match_info["model"]
        )
        self.requests.append(record)
        self._in_flight += 1
        self._notify()
        try:
            response = await self._answer(request, record)
        finally:
            self._in_flight -= 1
            self._notify()
        record.status = response.status
        return response

    async def _answer(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        # settings are taken on arrival, so a test changing them mid-request affects later requests only
        latency, image_format, thoughts = self.latency, self._image_format, self.thought_images
        if (refusal := self._key_refusal(request, record)) is not None:
            return refusal
        try:
            record.body = await request.read()
            record.json = fields = parse_body(record.body)
            content = await asyncio.to_thread(validate, fields, record.model, self.models, VERSION)
        except Refused as refused:
            return _json_response(refused.status, refused.body)
        record.input_images = [picture.data for picture in content.pictures]
        record.input_mime_types = [picture.mime_type for picture in content.pictures]
        fault = self._faults.pop()
        await asyncio.sleep(latency)
        if fault is None:
            return await self._image_answer(record, content, image_format, thoughts)
        record.fault = fault.name
        log.debug("injecting fault %s", fault.name)
        return await self._inject(request, fault, content)

    def _key_refusal(self, request: web.Request, record: RecordedRequest) -> web.Response | None:
        header, query = request.headers.get("x-goog-api-key"), request.query.get("key")
        key = header if header is not None else query
        record.key_from = "header" if header is not None else "query" if query is not None else None
        if not key:
            return _json_response(403, missing_key_body())
        if not hmac.compare_digest(key.encode(), self.api_key.encode()):
            return _json_response(400, invalid_key_body())
        return None

    async def _image_answer(
        self, record: RecordedRequest, content: ContentRequest, image_format: ImageFormat, thoughts: int
    ) -> web.Response:
        seed = f"{content.prompt}\0{next(self._serial)}"  # differs per request, like a real model
        size = content.output_size
        images = [
            await asyncio.to_thread(render_image, seed, index, size, image_format) for index in range(thoughts + 1)
        ]
        record.output_sizes = [size]
        parts: list[JSONObject] = []
        for draft in images[:-1]:
            parts += [text_part(THOUGHT_TEXT, thought=True), image_part(draft, thought=True)]
        if "TEXT" in content.modalities:
            parts.append(text_part(ANSWER_TEXT))
        parts.append(image_part(images[-1]))
        body = response_body(content.model, _usage(content, _image_tokens(content)), [candidate(parts, "STOP")])
        return _json_response(200, body)

    async def _inject(self, request: web.Request, fault: Fault, content: ContentRequest) -> web.StreamResponse:
        match fault.kind:
            case FaultKind.HANG | FaultKind.DROP:
                if fault.kind is FaultKind.DROP and request.transport is not None:
                    request.transport.close()  # the client sees the connection end; this handler is then cancelled
                never: asyncio.Future[web.Response] = asyncio.get_running_loop().create_future()
                return await never
            case FaultKind.CANDIDATE:
                assert fault.candidate is not None
                return _json_response(200, response_body(content.model, _usage(content, 0), [fault.candidate]))
            case FaultKind.BLOCKED:
                feedback: JSONObject = {"blockReason": fault.block_reason}
                body = response_body(content.model, _usage(content, 0), prompt_feedback=feedback)
                return _json_response(200, body)
            case FaultKind.RESPOND:
                headers = {**dict(fault.headers), "Content-Type": "application/json; charset=UTF-8"}
                return web.Response(status=fault.status, body=fault.body, headers=headers)


def _image_tokens(content: ContentRequest) -> int:
    return FLASH_IMAGE_TOKENS if content.model in ONE_K_ONLY else IMAGE_TOKENS[content.image_size]


def _usage(content: ContentRequest, image_tokens: int) -> JSONObject:
    return usage(max(1, len(content.prompt.split())), image_tokens, len(content.pictures))


def _json_response(status: int, body: JSONObject) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", charset="UTF-8")
