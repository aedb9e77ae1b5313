"""The image API client: one aiohttp session, bounded concurrency, retries within a deadline."""

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from bot.core.errors import (
    AuthenticationFailed,
    ConnectionFailed,
    DownloadFailed,
    ImageAPIError,
    MalformedAnswer,
    RateLimited,
    UpstreamTimeout,
)
from bot.core.imageapi.answers import ImageBytes, ImageLink, checked_image, classify_error, parse_success
from bot.core.imageapi.request import build_body
from bot.core.imageapi.retry import retry_delay, should_retry
from bot.core.request import ImageRequest

log = logging.getLogger(__name__)

ANSWER_OVERHEAD = 1024 * 1024  # room for JSON around the images in an answer


@dataclass(frozen=True, slots=True)
class ImageAPIConfig:
    base_url: str
    api_key: str = field(repr=False)
    timeout: float = 300.0
    connect_timeout: float = 10.0
    concurrency: int = 4
    max_retries: int = 3
    response_format: str = "b64_json"
    download_max_bytes: int = 50 * 1024 * 1024
    download_timeout: float = 60.0


@dataclass(frozen=True, slots=True)
class Generation:
    """What one request produced: the images, and the seconds the API took (waiting for a slot excluded)."""

    images: list[ImageBytes]
    seconds: float


class ImageAPIClient:
    """Calls `POST /v1/images/generations`; knows nothing of Discord."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: ImageAPIConfig,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._session = session
        self._config = config
        self._slots = asyncio.Semaphore(config.concurrency)
        self._sleep = sleep
        self._rand = rand
        self._endpoint = f"{config.base_url.rstrip('/')}/v1/images/generations"

    async def generate(
        self, request: ImageRequest, *, user: str | None = None, images: tuple[str, ...] = ()
    ) -> Generation:
        """Generate the images of a prepared request, waiting for a free slot first; `user` is an opaque id, `images`
        the input pictures as the API takes them. Raises an ImageAPIError subclass."""
        body = build_body(request, self._config.response_format, user=user, images=images)
        async with self._slots:
            started = time.monotonic()
            made = await self._generate_within(started + self._config.timeout, body, request.count)
        return Generation(made, time.monotonic() - started)

    async def _generate_within(self, deadline: float, body: dict[str, object], count: int) -> list[ImageBytes]:
        attempt = 0
        while True:
            try:
                raw = await self._post(body, count, deadline)
                sources = await asyncio.to_thread(parse_success, raw)  # big base64 answers stay off the loop
                return [await self._fetch(source, deadline) for source in sources]
            except ImageAPIError as error:
                error = self._redacted(error)
                delay = retry_delay(attempt, error, self._rand)
                if not should_retry(error, attempt, self._config.max_retries) or time.monotonic() + delay >= deadline:
                    self._log_failure(error, attempt)
                    raise error from None
                log.warning("image API %s (attempt %d); retrying in %.1fs", error, attempt + 1, delay)
                await self._sleep(delay)
                attempt += 1

    async def _post(self, body: dict[str, object], count: int, deadline: float) -> bytes:
        headers = {"Authorization": f"Bearer {self._config.api_key}"}
        timeout = aiohttp.ClientTimeout(total=self._remaining(deadline), sock_connect=self._config.connect_timeout)
        cap = self._config.download_max_bytes * count * 4 // 3 + ANSWER_OVERHEAD  # base64 grows by 4/3
        try:
            async with self._session.post(self._endpoint, json=body, headers=headers, timeout=timeout) as response:
                if (raw := await _read_capped(response, cap)) is None:
                    raise MalformedAnswer(f"the answer is larger than {cap} bytes", response.status)
                if response.status != 200:
                    raise classify_error(response.status, raw, response.headers)
                return raw
        except aiohttp.ConnectionTimeoutError:
            raise ConnectionFailed("could not connect in time") from None
        except TimeoutError:
            raise UpstreamTimeout(f"no answer within {self._config.timeout:.0f}s") from None
        except aiohttp.ClientError as error:
            raise ConnectionFailed(type(error).__name__) from None

    async def _fetch(self, source: ImageBytes | ImageLink, deadline: float) -> ImageBytes:
        """Inline images as they are; linked ones downloaded at once, within a size cap and a timeout."""
        if isinstance(source, ImageBytes):
            return source
        total = min(self._config.download_timeout, self._remaining(deadline))
        try:
            async with self._session.get(source.url, timeout=aiohttp.ClientTimeout(total=total)) as response:
                if response.status != 200:
                    raise DownloadFailed(f"the image link answered HTTP {response.status}", response.status)
                if (data := await _read_capped(response, self._config.download_max_bytes)) is None:
                    raise DownloadFailed(f"the image is larger than {self._config.download_max_bytes} bytes")
        except TimeoutError:
            raise DownloadFailed(f"the image link gave nothing within {total:.0f}s") from None
        except aiohttp.ClientError as error:
            raise DownloadFailed(f"the image link failed: {type(error).__name__}") from None
        return checked_image(data)

    def _remaining(self, deadline: float) -> float:
        if (remaining := deadline - time.monotonic()) <= 0:
            raise UpstreamTimeout(f"no answer within {self._config.timeout:.0f}s")
        return remaining

    def _redacted(self, error: ImageAPIError) -> ImageAPIError:
        """Keep the API key out of messages even when a gateway echoes it back."""
        key = self._config.api_key
        if key in error.detail or any(key in str(arg) for arg in error.args):
            error.detail = error.detail.replace(key, "[redacted]")
            error.args = tuple(str(arg).replace(key, "[redacted]") for arg in error.args)
        return error

    def _log_failure(self, error: ImageAPIError, attempt: int) -> None:
        if isinstance(error, AuthenticationFailed):
            log.error("the image API refused the API key (HTTP %s): check IMAGE_API_KEY", error.status)
        elif isinstance(error, RateLimited):
            log.warning("image API rate limited after %d attempts (retry after %.0fs)", attempt + 1, error.retry_after)
        else:
            log.warning("image API failed after %d attempts: %s: %s", attempt + 1, type(error).__name__, error)


async def _read_capped(response: aiohttp.ClientResponse, cap: int) -> bytes | None:
    """The body, or None when it is larger than `cap` bytes (told before or while reading it)."""
    if response.content_length is not None and response.content_length > cap:
        return None
    chunks = bytearray()
    async for chunk in response.content.iter_chunked(256 * 1024):
        chunks += chunk
        if len(chunks) > cap:
            return None
    return bytes(chunks)
