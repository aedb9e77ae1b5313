"""What every provider kind shares: the call it is given, and an HTTP base that posts within a deadline, retries
what is worth retrying, reads answers within a size cap, downloads linked images and keeps the key out of errors.

A kind says only what differs: its endpoint, headers and body, how it reads a success, and how it words a
failure (each mapped onto the existing error tree, so members read the same messages whatever the provider).
"""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

from bot.core.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    DownloadFailed,
    ImageAPIError,
    MalformedAnswer,
    Overloaded,
    RateLimited,
    RequestRejected,
    ServerError,
    UpstreamQuotaExhausted,
    UpstreamTimeout,
)
from bot.core.imageapi.answers import ImageBytes, ImageLink, checked_image
from bot.core.imageapi.retry import retry_delay, should_retry
from bot.core.imageapi.scanner import AnswerScanner, ScannedAnswer, parse_scanned
from bot.core.imageapi.spool import CHUNK, Spool
from bot.core.inputs import InputPicture
from bot.core.providers.body import StreamedJSON
from bot.core.request import ImageRequest

log = logging.getLogger(__name__)

LONG_RATE_LIMIT = 5.0  # seconds: a 429 asking to wait longer than this is worth another provider
PASSED_OVER = (
    ConnectionFailed,
    UpstreamTimeout,
    ServerError,
    Overloaded,
    MalformedAnswer,
    DownloadFailed,
    AuthenticationFailed,
    UpstreamQuotaExhausted,
)


def status_error(status: int) -> type[ImageAPIError]:
    """What an HTTP status alone says (a kind words what its answer says first; this is what is left)."""
    if status == 401:
        return AuthenticationFailed
    if status == 402:
        return UpstreamQuotaExhausted
    if status == 503:
        return Overloaded
    if status in (408, 504, 524):
        return UpstreamTimeout
    if 400 <= status < 500:
        return RequestRejected
    return ServerError if status >= 500 else MalformedAnswer


def fails_over(error: ImageAPIError) -> bool:
    """Whether another provider should be tried after `error`: an outage of this one, not a refusal about the
    prompt (see router.py)."""
    if isinstance(error, RateLimited):
        return error.retry_after == 0 or error.retry_after > LONG_RATE_LIMIT
    return isinstance(error, PASSED_OVER)


ANSWER_OVERHEAD = 1024 * 1024  # room for JSON around the images in an answer
Body = dict[str, Any] | aiohttp.FormData


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderCall:
    """One request as a provider is asked it.

    `request` is checked and normalised: `size` is one of generation.ASPECT_SIZES' `WxH` values or None,
    `quality` one of 1k/2k/4k or None (the API's default, 1k), `style` vivid/natural or None. `model` is the
    provider's own id for the model members chose; `user` an opaque id of the member; `pictures` the input
    pictures of an edit, fetched and checked (empty for a generation).
    """

    request: ImageRequest
    model: str
    user: str | None = None
    pictures: tuple[InputPicture, ...] = ()
    others_remain: bool = False  # another provider would be tried next: fail over at once rather than retry here


@dataclass(frozen=True, slots=True)
class ProviderSettings:
    """How the bot reaches one provider; the kind's own options (a gateway's value tables) live in the kind."""

    name: str
    base_url: str
    api_key: str = field(repr=False)
    timeout: float = 300.0  # seconds for one attempt at this provider, retries included
    connect_timeout: float = 10.0
    max_retries: int = 0  # retries at this provider (after a 429, a 5xx or a lost connection) before failing over
    download_max_bytes: int = 50 * 1024 * 1024
    download_timeout: float = 60.0
    key_name: str = "its key"  # where the operator set the key (an environment variable), named when it is refused


class Provider(Protocol):
    """An image API the job pipeline can use."""

    @property
    def name(self) -> str: ...

    async def generate(self, call: ProviderCall) -> list[ImageBytes]:
        """Images from a prompt; raises an ImageAPIError subclass."""

    async def edit(self, call: ProviderCall) -> list[ImageBytes]:
        """Images from the call's input pictures and prompt; raises an ImageAPIError subclass."""

    def tier_floor(self, quality: str | None, size: str | None) -> int:
        """The fewest pixels on the long side an image at `quality` (and `size`) has from this provider: a smaller
        one was delivered at a lower tier than asked."""
        ...


class HTTPProvider:
    """A provider reached over HTTP; subclasses give its dialect (see the module docstring)."""

    images_per_call: int | None = None  # None: the whole count in one call; 1: one call per image

    def __init__(
        self,
        session: aiohttp.ClientSession,
        settings: ProviderSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._session = session
        self.settings = settings
        self._sleep = sleep
        self._rand = rand

    @property
    def name(self) -> str:
        return self.settings.name

    # -- what a kind gives ---------------------------------------------------------------------------------

    def url(self, call: ProviderCall, edit: bool) -> str:
        """Where the call goes."""
        raise NotImplementedError

    def headers(self) -> dict[str, str]:
        """The headers of every call (the key among them)."""
        raise NotImplementedError

    def body(self, call: ProviderCall, edit: bool, count: int) -> Body:
        """The body asking for `count` images."""
        raise NotImplementedError

    def parse(self, raw: bytes) -> list[ImageBytes | ImageLink]:
        """The images of a successful answer (HTTP 200); raises an ImageAPIError for a refusal or an empty one."""
        raise NotImplementedError

    def classify(self, status: int, raw: bytes, headers: Mapping[str, str]) -> ImageAPIError:
        """The typed error for a failed answer (any status but 200)."""
        raise NotImplementedError

    def tier_floor(self, quality: str | None, size: str | None) -> int:
        """See `Provider.tier_floor`."""
        raise NotImplementedError

    # -- the shared part -----------------------------------------------------------------------------------

    async def generate(self, call: ProviderCall) -> list[ImageBytes]:
        return await self._run(call, edit=False)

    async def edit(self, call: ProviderCall) -> list[ImageBytes]:
        return await self._run(call, edit=True)

    def images_per(self, call: ProviderCall) -> int | None:
        """How many images one request of `call` may ask for (None: the whole count); the kind's `images_per_call`
        unless the model decides."""
        return self.images_per_call

    async def _run(self, call: ProviderCall, *, edit: bool) -> list[ImageBytes]:
        """Every image the call asks for: in one call, or one call per image for kinds that make one at a time."""
        deadline = time.monotonic() + self.settings.timeout
        count = call.request.count
        if (per_call := self.images_per(call)) is None:
            return await self._attempts(call, edit, count, deadline)
        images: list[ImageBytes] = []
        while len(images) < count:
            images += await self._attempts(call, edit, min(per_call, count - len(images)), deadline)
        return images

    async def _attempts(self, call: ProviderCall, edit: bool, count: int, deadline: float) -> list[ImageBytes]:
        attempt = 0
        while True:
            try:
                answer = await self._post(self.url(call, edit), self.body(call, edit, count), count, deadline)
                # the skeleton is small (images were spooled as they arrived), so parsing stays on the loop
                sources = parse_scanned(self.parse, answer)
                return await self._fetch_all(sources, deadline)
            except ImageAPIError as error:
                error = self._redacted(error)
                delay = retry_delay(attempt, error, self._rand)
                retries = 0 if call.others_remain and fails_over(error) else self.settings.max_retries
                if not should_retry(error, attempt, retries) or time.monotonic() + delay >= deadline:
                    self._log_failure(error, attempt)
                    raise error from None
                log.warning("%s: %s (attempt %d); retrying in %.1fs", self.name, error, attempt + 1, delay)
                await self._sleep(delay)
                attempt += 1

    async def _post(self, url: str, body: Body, count: int, deadline: float) -> ScannedAnswer:
        timeout = aiohttp.ClientTimeout(total=self._remaining(deadline), sock_connect=self.settings.connect_timeout)
        cap = self.settings.download_max_bytes * count * 4 // 3 + ANSWER_OVERHEAD  # base64 grows by 4/3
        sent = StreamedJSON(body) if isinstance(body, dict) else body
        try:
            async with self._session.post(url, headers=self.headers(), timeout=timeout, data=sent) as response:
                if response.status == 200:
                    return await scan_answer(response, cap)
                if (raw := await read_capped(response, cap)) is None:
                    raise MalformedAnswer(f"the answer is larger than {cap} bytes", response.status)
                raise self.classify(response.status, raw, response.headers)
        except aiohttp.ConnectionTimeoutError:
            raise ConnectionFailed("could not connect in time") from None
        except TimeoutError:
            raise UpstreamTimeout(f"no answer within {self.settings.timeout:.0f}s") from None
        except aiohttp.ClientError as error:
            raise ConnectionFailed(type(error).__name__) from None

    async def _fetch_all(self, sources: list[ImageBytes | ImageLink], deadline: float) -> list[ImageBytes]:
        """Every image of an answer, in order; when one fails, those already held are freed."""
        images: list[ImageBytes] = []
        try:
            for source in sources:
                images.append(source if isinstance(source, ImageBytes) else await self._fetch(source, deadline))
        except BaseException:
            for image in images + [source for source in sources if isinstance(source, ImageBytes)]:
                image.release()
            raise
        return images

    async def _fetch(self, source: ImageLink, deadline: float) -> ImageBytes:
        """A linked image downloaded at once into a spool, within a size cap and a timeout."""
        limit = self.settings.download_max_bytes
        total = min(self.settings.download_timeout, self._remaining(deadline))
        spool = Spool()
        try:
            async with self._session.get(source.url, timeout=aiohttp.ClientTimeout(total=total)) as response:
                if response.status != 200:
                    raise DownloadFailed(f"the image link answered HTTP {response.status}", response.status)
                if not await spool_capped(response, limit, spool):
                    raise DownloadFailed(f"the image is larger than {limit} bytes")
            return checked_image(spool)
        except TimeoutError:
            spool.close()
            raise DownloadFailed(f"the image link gave nothing within {total:.0f}s") from None
        except aiohttp.ClientError as error:
            spool.close()
            raise DownloadFailed(f"the image link failed: {type(error).__name__}") from None
        except BaseException:
            spool.close()
            raise

    def _remaining(self, deadline: float) -> float:
        if (remaining := deadline - time.monotonic()) <= 0:
            raise UpstreamTimeout(f"no answer within {self.settings.timeout:.0f}s")
        return remaining

    def _redacted(self, error: ImageAPIError) -> ImageAPIError:
        """Keep the API key out of messages even when an API echoes it back."""
        key = self.settings.api_key
        if key and (key in error.detail or any(key in str(arg) for arg in error.args)):
            error.detail = error.detail.replace(key, "[redacted]")
            error.args = tuple(str(arg).replace(key, "[redacted]") for arg in error.args)
        return error

    def _log_failure(self, error: ImageAPIError, attempt: int) -> None:
        if isinstance(error, AuthenticationFailed):
            log.error("%s refused the API key (HTTP %s): check %s", self.name, error.status, self.settings.key_name)
        elif isinstance(error, RateLimited):
            log.warning(
                "%s rate limited after %d attempts (retry after %.0fs)", self.name, attempt + 1, error.retry_after
            )
        else:
            log.warning("%s failed after %d attempts: %s: %s", self.name, attempt + 1, type(error).__name__, error)


async def scan_answer(response: aiohttp.ClientResponse, cap: int) -> ScannedAnswer:
    """A 200 answer read as it arrives (see scanner.py); MalformedAnswer when it is larger than `cap` bytes."""
    if response.content_length is not None and response.content_length > cap:
        raise MalformedAnswer(f"the answer is larger than {cap} bytes", response.status)
    scanner = AnswerScanner(cap)
    try:
        async for chunk in response.content.iter_chunked(CHUNK):
            await asyncio.to_thread(scanner.feed, chunk)  # base64 decoding and file writes: off the loop
    except BaseException:
        scanner.close()
        raise
    return scanner.finish()


async def spool_capped(response: aiohttp.ClientResponse, cap: int, spool: Spool) -> bool:
    """Write the body into `spool`; False when it is larger than `cap` bytes (told before or while reading it)."""
    if response.content_length is not None and response.content_length > cap:
        return False
    async for chunk in response.content.iter_chunked(CHUNK):
        spool.write(chunk)
        if spool.size > cap:
            return False
    return True


async def read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes | None:
    """The body, or None when it is larger than `cap` bytes (told before or while reading it)."""
    if response.content_length is not None and response.content_length > cap:
        return None
    chunks = bytearray()
    async for chunk in response.content.iter_chunked(CHUNK):
        chunks += chunk
        if len(chunks) > cap:
            return None
    return bytes(chunks)


def api_root(base_url: str, version: str) -> str:
    """`base_url` without a trailing `version` segment (e.g. `/v1`), so the kind can append its documented paths
    whether the operator wrote `https://api.openai.com` or `https://api.openai.com/v1`."""
    root = base_url.rstrip("/")
    return root.removesuffix("/" + version.strip("/"))
