"""The loopback image API server: lifecycle, routes, and the bookkeeping tests read."""

import asyncio
import dataclasses
import hmac
import itertools
import json
import logging
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

from aiohttp import hdrs, web

from .faults import Fault, FaultKind, FaultQueue
from .files import FileStore, missing_name
from .records import RecordedRequest
from .render import EXTENSIONS, IMAGE_FORMATS, EncodedImage, ImageFormat, render_images
from .shapes import ANSWER_SHAPES, AnswerShape, JSONObject, data_item, invalid_key_body
from .validation import GenerationRequest, RequestRejected, parse_body, validate

log = logging.getLogger(__name__)

GENERATIONS_PATH = "/v1/images/generations"
FILES_PATH = "/files"
DEFAULT_MODELS = ("gemini-3-pro-image-preview", "gemini-2.5-flash-image")
MAX_BODY_BYTES = 64 * 1024 * 1024  # input images travel inline, so bodies are large
_SHUTDOWN_GRACE = 0.05  # seconds stop() lets running handlers finish before cutting them off


BACKLOG = 1024  # a burst of hundreds of new connections must not overflow the accept queue (SYN retries)


class ImageAPIServer:
    """An OpenAI-compatible `POST /v1/images/generations` on 127.0.0.1 with real images and injectable faults.

    Settings (`latency`, `answer_shape`, `image_format`, `grain`) are read when a request arrives; a queued fault
    is taken by the first request that then passes the key and body checks. `reset()` restores the settings and
    clears faults and records between tests.
    """

    def __init__(
        self, api_key: str = "test-key", models: Iterable[str] = DEFAULT_MODELS, *, unique_images: bool = True
    ) -> None:
        self.api_key = api_key
        self.models = tuple(models)
        self.latency = 0.0
        self.grain = 0.0  # noise sigma in generated images; BULKY_GRAIN makes a 4096x4096 PNG go over 10 MiB
        # False: equal requests get the same images, rendered once (a benchmark then measures the client, not Pillow)
        self.unique_images = unique_images
        # Like some new-api builds: only an uppercase `2K`/`4K` raises the resolution; `2k` silently gives 1K.
        self.case_sensitive_quality = False
        self._rendered: dict[tuple[object, ...], asyncio.Future[list[EncodedImage]]] = {}
        self._bodies: dict[tuple[object, ...], bytes] = {}  # inline answers of rendered images, encoded once
        self.requests: list[RecordedRequest] = []
        self._in_flight = 0
        self._max_in_flight = 0
        self._changed = asyncio.Event()
        self._answer_shape: AnswerShape | None = None
        self._image_format: ImageFormat = "png"
        self._faults = FaultQueue()
        self._files = FileStore()
        self._serial = itertools.count()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        if self._runner is not None:
            raise RuntimeError("the image API is already running")
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(GENERATIONS_PATH, self._generations)
        app.router.add_get(FILES_PATH + "/{name}", self._file)
        # handler_cancellation: a client that leaves ends its handler, so in_flight stays honest
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=_SHUTDOWN_GRACE, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=BACKLOG)
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
        """`http://127.0.0.1:PORT`, without the API path."""
        if self._base_url is None:
            raise RuntimeError("the image API has not been started")
        return self._base_url

    @property
    def answer_shape(self) -> AnswerShape | None:
        """The shape every success is forced into, or None to honour `response_format` (default `url`)."""
        return self._answer_shape

    @answer_shape.setter
    def answer_shape(self, shape: AnswerShape | None) -> None:
        if shape is not None and shape not in ANSWER_SHAPES:
            raise ValueError(f"unknown answer shape {shape!r}; expected one of {sorted(ANSWER_SHAPES)}")
        self._answer_shape = shape

    @property
    def image_format(self) -> ImageFormat:
        """How generated images are encoded: png, jpeg or webp."""
        return self._image_format

    @image_format.setter
    def image_format(self, image_format: ImageFormat) -> None:
        if image_format not in IMAGE_FORMATS:
            raise ValueError(f"unknown image format {image_format!r}; expected one of {sorted(IMAGE_FORMATS)}")
        self._image_format = image_format

    @property
    def image_fetches(self) -> int:
        """How many times generated images were downloaded from their links."""
        return self._files.fetches

    @property
    def pending_faults(self) -> int:
        """Faults queued and not yet used."""
        return len(self._faults)

    @property
    def in_flight(self) -> int:
        """Generation requests being handled now (latency and hanging included)."""
        return self._in_flight

    @property
    def max_in_flight(self) -> int:
        """The most generation requests handled at once since start or `reset()`."""
        return self._max_in_flight

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent generation request."""
        if not self.requests:
            raise LookupError("the image API has received no generation request")
        return self.requests[-1]

    def fail_next(self, *faults: Fault) -> None:
        """Queue faults, each answering one later generation request that passes auth and validation, in order."""
        for fault in faults:
            self._faults.push(fault)

    def reset(self) -> None:
        """Clear faults, records, stored images and counters; restore the default settings."""
        self._faults.clear()
        self._files.clear()
        self.requests.clear()
        self.latency = 0.0
        self.grain = 0.0
        self.case_sensitive_quality = False
        self._answer_shape = None
        self._image_format = "png"
        self._max_in_flight = self._in_flight

    async def wait_in_flight(self, count: int = 1) -> None:
        """Return once at least `count` generation requests are being handled; wrap it in a timeout."""
        await self._wait_until(lambda: self._in_flight >= count)

    async def wait_idle(self) -> None:
        """Return once no generation request is being handled; wrap it in a timeout."""
        await self._wait_until(lambda: self._in_flight == 0)

    async def wait_requests(self, count: int) -> None:
        """Return once at least `count` generation requests were received since `reset()`; wrap it in a timeout."""
        await self._wait_until(lambda: len(self.requests) >= count)

    async def _wait_until(self, condition: Callable[[], bool]) -> None:
        while not condition():
            await self._changed.wait()

    def _notify(self) -> None:
        """Wake every waiter (they re-check their condition) and arm a fresh event for the next change."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _generations(self, request: web.Request) -> web.StreamResponse:
        record = RecordedRequest(headers=request.headers, received_at=time.monotonic())
        self.requests.append(record)
        self._in_flight += 1
        self._max_in_flight = max(self._max_in_flight, self._in_flight)
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
        latency, shape, image_format, grain = self.latency, self._answer_shape, self._image_format, self.grain
        if not self._authorized(request.headers.get(hdrs.AUTHORIZATION)):
            return _json_response(401, invalid_key_body())
        try:
            record.body = await _read_body(request)
            record.json = fields = parse_body(record.body)
            generation = await asyncio.to_thread(validate, fields, self.models)
        except RequestRejected as rejected:
            return _json_response(rejected.status, rejected.body())
        if self.case_sensitive_quality and fields.get("quality") not in ("2K", "4K"):
            generation = dataclasses.replace(generation, quality="1k")
        record.input_images = list(generation.images)
        record.input_links = list(generation.links)
        fault = self._faults.pop()
        if fault is None:
            # the images are made during the latency, as a model works while the client waits
            answer = asyncio.create_task(
                self._generate(record, generation, shape or generation.response_format, image_format, grain)
            )
            try:
                await asyncio.sleep(latency)
                return await answer
            finally:
                answer.cancel()  # a no-op once done; stops the work when the client left
        await asyncio.sleep(latency)
        record.fault = fault.name
        log.debug("injecting fault %s", fault.name)
        return await self._inject(fault, generation, image_format)

    def _authorized(self, header: str | None) -> bool:
        scheme, _, key = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(key.strip().encode(), self.api_key.encode())

    async def _generate(
        self,
        record: RecordedRequest,
        generation: GenerationRequest,
        shape: AnswerShape,
        image_format: ImageFormat,
        grain: float,
    ) -> web.Response:
        images = await self._images(generation, image_format, grain)
        record.output_sizes = [len(image.data) for image in images]
        links = shape == "url" or (shape == "empty_strings" and generation.response_format == "url")
        key = (generation.prompt, generation.n, generation.output_size, image_format, grain, shape)
        if not self.unique_images and not links and key in self._bodies:  # a 42 MB answer is not re-encoded each time
            return web.Response(status=200, body=self._bodies[key], content_type="application/json")
        data = [data_item(shape, image, self._publish, generation.response_format) for image in images]
        body = json.dumps({"created": int(time.time()), "data": data}).encode()
        if not self.unique_images and not links:
            self._bodies[key] = body
        return web.Response(status=200, body=body, content_type="application/json")

    async def _images(
        self, generation: GenerationRequest, image_format: ImageFormat, grain: float
    ) -> list[EncodedImage]:
        if self.unique_images:
            seed = f"{generation.prompt}\0{next(self._serial)}"  # differs per request, like a real model
            return await render_images(seed, generation.n, generation.output_size, image_format, grain)
        key = (generation.prompt, generation.n, generation.output_size, image_format, grain)
        if key not in self._rendered:  # the first request renders; equal ones arriving meanwhile share its work
            self._rendered[key] = asyncio.ensure_future(
                render_images(generation.prompt, generation.n, generation.output_size, image_format, grain)
            )
        return await asyncio.shield(self._rendered[key])  # a client leaving must not cancel the shared render

    async def _inject(self, fault: Fault, generation: GenerationRequest, image_format: ImageFormat) -> web.Response:
        match fault.kind:
            case FaultKind.HANG:
                never: asyncio.Future[web.Response] = asyncio.get_running_loop().create_future()
                return await never  # nobody resolves it: the handler ends when the client leaves or the server stops
            case FaultKind.DEAD_URL:
                extension = EXTENSIONS[image_format]
                data = [{"url": self._link(missing_name(extension))} for _ in range(generation.n)]
                return _json_response(200, {"created": int(time.time()), "data": data})
            case FaultKind.RESPOND:
                headers = {**dict(fault.headers), hdrs.CONTENT_TYPE: fault.content_type}
                return web.Response(status=fault.status, body=fault.body, headers=headers)

    def _publish(self, image: EncodedImage) -> str:
        return self._link(self._files.put(image))

    def _link(self, name: str) -> str:
        return f"{self.base_url}{FILES_PATH}/{name}"

    async def _file(self, request: web.Request) -> web.Response:
        stored = self._files.fetch(request.match_info["name"])
        if stored is None:
            return web.Response(status=404, text="404: Not Found")
        return web.Response(body=stored.data, content_type=stored.media_type)


async def _read_body(request: web.Request) -> bytes:
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        message = f"The request body is over {MAX_BODY_BYTES} bytes."
        raise RequestRejected(413, message, param=None, code="request_too_large") from None


def _json_response(status: int, body: JSONObject) -> web.Response:
    return web.Response(status=status, text=json.dumps(body), content_type="application/json")
