"""The loopback OpenRouter server: lifecycle, the chat completions route, and the bookkeeping tests read."""

import asyncio
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

from aiohttp import hdrs, web

from tests.loopback.image_api.render import render_images

from .faults import Fault, FaultKind, FaultQueue
from .records import RecordedRequest
from .shapes import JSONObject, completion, error_body, image_part
from .sizes import output_size
from .validation import ChatRequest, RequestRejected, parse_body, validate

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
CHAT_PATH = API_PREFIX + "/chat/completions"
DEFAULT_MODELS = ("google/gemini-2.5-flash-image", "google/gemini-3-pro-image-preview")
MAX_BODY_BYTES = 64 * 1024 * 1024  # input pictures travel inline
AFFORDABLE_TOKENS = 1500  # what a low-credit account can pay for, in the 402 a low_credit fault gives
MODEL_MAX_TOKENS = 32768  # what OpenRouter reserves credit for when a request sets no max_tokens
_SHUTDOWN_GRACE = 0.05


class OpenRouterServer:
    """OpenRouter's `POST /api/v1/chat/completions` on 127.0.0.1: real PNGs through `message.images`, faults on demand.

    Settings (`latency`, `images_per_answer`) are read when a request arrives; a queued fault is taken by the first
    request that then passes the key and body checks. `reset()` restores the settings and clears faults and records.
    """

    def __init__(self, api_key: str = "test-key", models: Iterable[str] = DEFAULT_MODELS) -> None:
        self.api_key = api_key
        self.models = tuple(models)
        self.latency = 0.0
        self.images_per_answer = 1  # Gemini makes one image per answer; more shows how a client picks
        self.requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._changed = asyncio.Event()
        self._faults = FaultQueue()
        self._serial = 0
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        if self._runner is not None:
            raise RuntimeError("the OpenRouter stand-in is already running")
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(CHAT_PATH, self._chat)
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=_SHUTDOWN_GRACE, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner, self._base_url = runner, f"http://{host}:{port}"

    async def stop(self) -> None:
        """Stop listening and cut off requests still running (hanging ones included)."""
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
        """`http://127.0.0.1:PORT`: the root, as `https://openrouter.ai` is."""
        if self._base_url is None:
            raise RuntimeError("the OpenRouter stand-in has not been started")
        return self._base_url

    @property
    def api_base(self) -> str:
        """`base_url` + `/api/v1`, what OpenAI-compatible clients take as their base URL."""
        return self.base_url + API_PREFIX

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent chat completion request."""
        if not self.requests:
            raise LookupError("the OpenRouter stand-in has received no request")
        return self.requests[-1]

    @property
    def in_flight(self) -> int:
        """Requests being handled now (latency and hanging included)."""
        return self._in_flight

    @property
    def pending_faults(self) -> int:
        """Faults queued and not yet used."""
        return len(self._faults)

    def fail_next(self, *faults: Fault) -> None:
        """Queue faults, each answering one later request that passes the key and body checks, in order."""
        for fault in faults:
            self._faults.push(fault)

    def reset(self) -> None:
        """Clear faults and records; restore the default settings."""
        self._faults.clear()
        self.requests.clear()
        self.latency = 0.0
        self.images_per_answer = 1

    async def wait_requests(self, count: int) -> None:
        """Return once at least `count` requests were received since `reset()`; wrap it in a timeout."""
        await self._wait_until(lambda: len(self.requests) >= count)

    async def wait_in_flight(self, count: int = 1) -> None:
        """Return once at least `count` requests are being handled; wrap it in a timeout."""
        await self._wait_until(lambda: self._in_flight >= count)

    async def wait_idle(self) -> None:
        """Return once no request is being handled; wrap it in a timeout."""
        await self._wait_until(lambda: self._in_flight == 0)

    async def _wait_until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        record = RecordedRequest(headers=request.headers, received_at=time.monotonic())
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
        latency, images_per_answer = self.latency, self.images_per_answer
        if (refusal := self._key_refusal(request.headers.get(hdrs.AUTHORIZATION))) is not None:
            return _json_response(401, error_body(401, refusal))
        try:
            record.body = await request.read()
            record.json = fields = parse_body(record.body)
            record.chat = chat = await asyncio.to_thread(validate, fields, self.models)
        except web.HTTPRequestEntityTooLarge:
            return _json_response(413, error_body(413, f"Request body is over {MAX_BODY_BYTES} bytes"))
        except RequestRejected as rejected:
            return _json_response(rejected.status, rejected.body())
        if (fault := self._faults.pop()) is not None:
            record.fault = fault.name
            if not (fault.kind is FaultKind.LOW_CREDIT and chat.max_tokens is not None):  # else it is served
                log.debug("injecting fault %s", fault.name)
                await asyncio.sleep(latency)
                return await self._inject(fault, request, chat)
        # the images are made during the latency, as a model works while the client waits
        work = asyncio.create_task(self._complete(record, chat, images_per_answer))
        try:
            await asyncio.sleep(latency)
            return await work
        finally:
            work.cancel()  # a no-op once done; stops the work when the client left

    def _key_refusal(self, header: str | None) -> str | None:
        """Why the key is refused, as OpenRouter words it, or None when it is right."""
        scheme, _, key = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return "No auth credentials found"
        if not hmac.compare_digest(key.strip().encode(), self.api_key.encode()):
            return "User not found."
        return None

    async def _inject(self, fault: Fault, request: web.Request, chat: ChatRequest) -> web.StreamResponse:
        """The fault's answer."""
        match fault.kind:
            case FaultKind.HANG:
                never: asyncio.Future[web.Response] = asyncio.get_running_loop().create_future()
                return await never  # the handler ends when the client leaves or the server stops
            case FaultKind.DROP:
                if request.transport is not None:
                    request.transport.abort()
                gone: asyncio.Future[web.Response] = asyncio.get_running_loop().create_future()
                return await gone  # handler_cancellation ends it as the connection is lost
            case FaultKind.LOW_CREDIT:
                message = (
                    "This request requires more credits, or fewer max_tokens. You requested up to "
                    f"{MODEL_MAX_TOKENS} tokens, but can only afford {AFFORDABLE_TOKENS}."
                )
                return _json_response(402, error_body(402, message))
            case FaultKind.COMPLETION:
                body = completion(
                    chat.model,
                    content=fault.content,
                    finish_reason=fault.finish_reason,
                    native_finish_reason=fault.native_finish_reason,
                    refusal=fault.refusal,
                    error=fault.choice_error,
                )
                return _json_response(200, body)
            case FaultKind.RESPOND:
                return _json_response(fault.status, fault.body or {}, dict(fault.headers))

    async def _complete(self, record: RecordedRequest, chat: ChatRequest, images_per_answer: int) -> web.Response:
        if not chat.wants_image:  # without "image" in modalities the model only writes
            text = f"I would draw this: {chat.prompt[:200]}"
            return _json_response(200, completion(chat.model, content=text))
        size = output_size(chat.aspect_ratio, chat.honoured_size, chat.model)
        self._serial += 1
        images = await render_images(f"{chat.prompt}\0{self._serial}", images_per_answer, size, "png")
        record.output_sizes = [image.size for image in images]
        parts = [image_part(image, index) for index, image in enumerate(images)]
        return _json_response(200, completion(chat.model, images=parts))


def _json_response(status: int, body: JSONObject, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)
