"""Routing a job to the providers that serve its model, in priority order, failing over when one is down.

A provider is passed over after a lost connection, a timeout, a 5xx or overload, a long rate limit, an answer it
could not make sense of, or its own account trouble (a refused key, no credit): another may well serve the job.
A refusal that is about the member's prompt (safety, a bad request, an empty result) is final: another provider
would refuse it too, and the member must be told. Each provider has a circuit breaker, so that once it keeps
failing, jobs go straight to the next one until a cool-off has passed; then one job tries it again.
"""

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.errors import ImageAPIError
from bot.core.imageapi.answers import ImageBytes
from bot.core.inputs import InputPicture
from bot.core.metrics import Metrics
from bot.core.providers.base import Provider, ProviderCall, fails_over
from bot.core.request import ImageRequest
from bot.core.slots import SlotGate

log = logging.getLogger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"  # in use
    OPEN = "open"  # skipped until the cool-off ends
    HALF_OPEN = "half-open"  # the cool-off ended: one job is trying it


@dataclass(slots=True)
class Breaker:
    """Opens after `failures` failures in a row; after `cooloff` seconds lets one call through to try again."""

    failures: int = 3
    cooloff: float = 30.0
    clock: Callable[[], float] = time.monotonic
    _in_a_row: int = 0
    _opened_at: float | None = None
    _trying: bool = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._trying or self.clock() - self._opened_at >= self.cooloff:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allows(self) -> bool:
        """Whether a call may go to the provider now (taking the one trial call of a half-open breaker)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trying:
            self._trying = True
            return True
        return False

    def succeeded(self) -> None:
        self._in_a_row, self._opened_at, self._trying = 0, None, False

    def failed(self) -> None:
        self._in_a_row += 1
        if self._trying or self._in_a_row >= self.failures:
            self._opened_at, self._trying = self.clock(), False


@dataclass(slots=True)
class Upstream:
    """One configured provider as the router uses it."""

    provider: Provider
    models: dict[str, str]  # the model members see -> the provider's own id
    priority: int = 0
    concurrency: int | None = None  # its own calls at once; None: only the queue's slots bound it
    breaker: Breaker = field(default_factory=Breaker)
    gate: SlotGate | None = None  # its `concurrency` slots shared with other processes; None: this process's own
    _slots: asyncio.Semaphore | None = None

    @property
    def name(self) -> str:
        return self.provider.name

    async def run(self, call: ProviderCall) -> list[ImageBytes]:
        if self.gate is not None:
            lease = await self.gate.acquire()
            try:
                return await self._call(call)
            finally:
                await asyncio.shield(self.gate.release(lease))  # freed even when the job is cancelled
        if self.concurrency is None:
            return await self._call(call)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        async with self._slots:
            return await self._call(call)

    async def _call(self, call: ProviderCall) -> list[ImageBytes]:
        return await (self.provider.edit(call) if call.pictures else self.provider.generate(call))


@dataclass(frozen=True, slots=True)
class Served:
    """What a provider made for a request, which one it was, and the seconds it took."""

    images: list[ImageBytes]
    provider: Upstream
    seconds: float


class Router:
    """Sends each request to the providers serving its model, best first, until one serves it."""

    def __init__(self, upstreams: Sequence[Upstream], metrics: Metrics | None = None) -> None:
        self._upstreams = sorted(upstreams, key=lambda upstream: upstream.priority)  # stable: file order breaks ties
        self._metrics = metrics

    @property
    def upstreams(self) -> tuple[Upstream, ...]:
        return tuple(self._upstreams)

    @property
    def models(self) -> tuple[str, ...]:
        """Every model some provider serves, best provider's first."""
        return tuple(dict.fromkeys(model for upstream in self._upstreams for model in upstream.models))

    async def generate(
        self, request: ImageRequest, *, user: str | None = None, pictures: tuple[InputPicture, ...] = ()
    ) -> Served:
        """The images of a prepared request from the first provider able to make them; raises the last provider's
        error when none could, or at once a refusal about the prompt."""
        candidates = [upstream for upstream in self._upstreams if request.model in upstream.models]
        if not candidates:
            raise ImageAPIError(f"no provider serves the model {request.model!r}")
        last_error: ImageAPIError | None = None
        for number, upstream in enumerate(candidates):
            # an open breaker is passed over while another provider remains; the last one is always tried
            if not upstream.breaker.allows() and number < len(candidates) - 1:
                log.info("%s: skipped while its breaker is open", upstream.name)
                continue
            call = ProviderCall(
                request=request,
                model=upstream.models[request.model or ""],
                user=user,
                pictures=pictures,
                others_remain=number < len(candidates) - 1,
            )
            started = time.monotonic()
            try:
                images = await upstream.run(call)
            except ImageAPIError as error:
                self._count_failure(upstream, error)
                if not fails_over(error):
                    upstream.breaker.succeeded()  # it answered: the refusal is about the prompt, not the provider
                    raise
                upstream.breaker.failed()
                last_error = error
                if number < len(candidates) - 1:
                    log.warning("%s failed (%s); trying the next provider", upstream.name, type(error).__name__)
                continue
            upstream.breaker.succeeded()
            seconds = time.monotonic() - started
            if self._metrics is not None:
                self._metrics.provider_request(upstream.name, seconds)
            return Served(images, upstream, seconds)
        raise last_error or ImageAPIError("no provider could be tried")  # never: the last one always is

    def _count_failure(self, upstream: Upstream, error: ImageAPIError) -> None:
        if self._metrics is not None:
            self._metrics.provider_error(upstream.name, type(error).__name__)
