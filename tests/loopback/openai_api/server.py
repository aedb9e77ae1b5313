"""The OpenAI Images stand-in: lifecycle, routes, and the bookkeeping tests read."""

import asyncio
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Self, cast

from aiohttp import BodyPartReader, hdrs, web

from tests.loopback.image_api.render import EncodedImage, ImageFormat, render_images

from .answers import images_answer
from .errors import APIErrorAnswer, JSONObject, missing_key, wrong_key
from .faults import Fault, FaultKind, FaultQueue
from .records import RecordedRequest, UploadedFile
from .validation import GPT_IMAGE_MODELS, ImageJob, check_edit, check_generation

GENERATIONS_PATH = "/v1/images/generations"
EDITS_PATH = "/v1/images/edits"
MAX_BODY_BYTES = 16 * 50 * 1024 * 1024 + 1024 * 1024  # sixteen pictures at the API's cap, and the fields
_SHUTDOWN_GRACE = 0.05  # seconds stop() lets running handlers finish before cutting them off


class OpenAIImagesServer:
    """`POST /v1/images/generations` and `/v1/images/edits` of OpenAI's Images API on 127.0.0.1.

    It checks requests as the API does for GPT image models and answers with real images of the size asked. Each
    queued fault is taken by the first later request that passes the key and request checks; `latency` delays every
    answer; `requests` records each call. `reset()` clears faults and records and restores the latency.
    """

    def __init__(self, api_key: str = "test-key", models: Iterable[str] = GPT_IMAGE_MODELS) -> None:
        self.api_key = api_key
        self.models = tuple(models)
        self.latency = 0.0
        self.requests: list[RecordedRequest] = []
        self._faults = FaultQueue()
        self._serial = itertools.count()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        if self._runner is not None:
            raise RuntimeError("the OpenAI stand-in is already running")
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(GENERATIONS_PATH, self._generations)
        app.router.add_post(EDITS_PATH, self._edits)
        # handler_cancellation: a client that leaves (or a dropped connection) ends its handler
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
        """`http://127.0.0.1:PORT`, the root the API's `/v1/...` paths hang from."""
        if self._base_url is None:
            raise RuntimeError("the OpenAI stand-in has not been started")
        return self._base_url

    @property
    def last_request(self) -> RecordedRequest:
        """The most recent request."""
        if not self.requests:
            raise LookupError("the OpenAI stand-in has received no request")
        return self.requests[-1]

    @property
    def pending_faults(self) -> int:
        """Faults queued and not yet used."""
        return len(self._faults)

    def fail_next(self, *faults: Fault) -> None:
        """Queue faults, each answering one later request that passes the key and request checks, in order."""
        for fault in faults:
            self._faults.push(fault)

    def reset(self) -> None:
        """Clear faults and records; no latency."""
        self._faults.clear()
        self.requests.clear()
        self.latency = 0.0

    async def _generations(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, edit=False)

    async def _edits(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(request, edit=True)

    async def _handle(self, request: web.Request, *, edit: bool) -> web.StreamResponse:
        record = RecordedRequest(path=request.path, headers=request.headers, received_at=time.monotonic())
        self.requests.append(record)
        response = await self._answer(request, record, edit)
        record.status = response.status
        return response

    async def _answer(self, request: web.Request, record: RecordedRequest, edit: bool) -> web.StreamResponse:
        latency = self.latency  # taken on arrival: a test changing it mid-request affects later requests only
        try:
            self._check_key(request.headers.get(hdrs.AUTHORIZATION))
            if edit:
                await _read_form(request, record)
                job = await asyncio.to_thread(check_edit, record.fields, record.files, self.models)
            else:
                record.json = await _read_json(request)
                job = check_generation(record.json, self.models)
        except APIErrorAnswer as refused:
            return _json_response(refused.status, refused.body())
        fault = self._faults.pop()
        await asyncio.sleep(latency)
        if fault is None:
            return _json_response(200, images_answer(job, await self._images(job)))
        record.fault = fault.name
        return await _inject(fault, request)

    def _check_key(self, header: str | None) -> None:
        scheme, _, key = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise missing_key()
        if not hmac.compare_digest(key.strip().encode(), self.api_key.encode()):
            raise wrong_key(key.strip())

    async def _images(self, job: ImageJob) -> list[EncodedImage]:
        seed = f"{job.prompt}\0{next(self._serial)}"  # differs per request, like a real model
        return await render_images(seed, job.n, job.size, cast(ImageFormat, job.output_format))  # the same names


async def _inject(fault: Fault, request: web.Request) -> web.StreamResponse:
    if fault.kind is FaultKind.RESPOND:
        headers = {**dict(fault.headers), hdrs.CONTENT_TYPE: "application/json", "x-request-id": _request_id()}
        return web.Response(status=fault.status, body=fault.body, headers=headers)
    if fault.kind is FaultKind.DROP and request.transport is not None:
        request.transport.close()
    never: asyncio.Future[web.StreamResponse] = asyncio.get_running_loop().create_future()
    return await never  # nobody resolves it: the handler ends when the connection goes or the server stops


async def _read_json(request: web.Request) -> JSONObject:
    try:
        body = json.loads(await request.read())
    except web.HTTPRequestEntityTooLarge:
        raise APIErrorAnswer(413, f"The request body is over {MAX_BODY_BYTES} bytes.") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        message = (
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
            "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
        )
        raise APIErrorAnswer(400, message) from None
    if not isinstance(body, dict):
        raise APIErrorAnswer(400, "The request body must be a JSON object.")
    return body


async def _read_form(request: web.Request, record: RecordedRequest) -> None:
    """The text fields and file parts of a multipart body, recorded as they come."""
    if request.content_type != "multipart/form-data":
        message = f"Invalid Content-Type header ({request.content_type}), expected multipart/form-data."
        raise APIErrorAnswer(400, message)
    total = 0
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            raise APIErrorAnswer(400, "Could not parse multipart form: every part needs a field name.")
        data = await part.read()
        if (total := total + len(data)) > MAX_BODY_BYTES:
            raise APIErrorAnswer(413, f"The request body is over {MAX_BODY_BYTES} bytes.")
        if part.filename is None:
            record.fields[part.name] = data.decode("utf-8", "replace")
        else:
            content_type = part.headers.get(hdrs.CONTENT_TYPE, "application/octet-stream")
            record.files.append(UploadedFile(part.name, part.filename, content_type.split(";")[0].strip(), data))


def _json_response(status: int, body: JSONObject) -> web.Response:
    headers = {"x-request-id": _request_id()}
    return web.Response(status=status, text=json.dumps(body), content_type="application/json", headers=headers)


def _request_id() -> str:
    return f"req_{secrets.token_hex(16)}"
