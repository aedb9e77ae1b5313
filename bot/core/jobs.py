"""Jobs: what a member asked for, checked, recorded durably, booked against quotas, then run.

A job is saved before it runs, so that its result buttons (reroll, edit, upscale) find it after a
restart; its status says how it ended, and the ledger what it delivered and cost.
"""

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from bot.core.accounting import Accountant
from bot.core.errors import OutsideServer, QueueClosed, QueueFull, QuotaExceeded
from bot.core.fitting import FittedImage, fit_image
from bot.core.generation import GenerationService, ImageAsk
from bot.core.imageapi import GenerationRequest, ImageBytes
from bot.core.inputs import PictureFetcher, PictureRef, encode_for_api
from bot.core.limits import Requester, caps_for, check_request
from bot.core.log_context import job_context
from bot.core.policy import Policy
from bot.core.queue import FairQueue, Place
from bot.core.storage import Caps, JobRecord, JobStatus, PictureSource, Storage, new_job_id

log = logging.getLogger(__name__)

# What the model is asked when a member upscales a result: the picture itself is the input.
UPSCALE_PROMPT = (
    "Render this exact image again at a higher resolution. Keep its content, composition, colours and style "
    "unchanged; add only fine detail."
)


class JobKind(StrEnum):
    IMAGINE = "imagine"
    EDIT = "edit"
    UPSCALE = "upscale"


@dataclass(frozen=True, slots=True)
class JobResult:
    """A job's images, each fitted under the upload limit, and the seconds the image API took."""

    images: list[FittedImage]
    seconds: float


@dataclass(frozen=True, slots=True)
class Job:
    """A checked job: its durable record, the API request it makes (pictures are added when it runs), and the
    quotas it counts against."""

    record: JobRecord
    request: GenerationRequest
    caps: Caps = field(default_factory=Caps)

    @property
    def id(self) -> str:
        return self.record.id


class JobService:
    """Checks asks against the server's rules, records jobs, books their images, and runs them."""

    def __init__(
        self,
        generation: GenerationService,
        fetcher: PictureFetcher,
        storage: Storage,
        policy: Policy,
        accountant: Accountant,
        queue: FairQueue[JobResult],
        input_mode: str,
    ) -> None:
        self._generation = generation
        self._fetcher = fetcher
        self._storage = storage
        self._policy = policy
        self._accountant = accountant
        self._queue = queue
        self._input_mode = input_mode
        # one image decoded and re-encoded at a time: a 4K picture takes ~50 MB decoded
        self._image_work = asyncio.Semaphore(1)
        self._in_flight: set[str] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def generation(self) -> GenerationService:
        return self._generation

    @property
    def policy(self) -> Policy:
        return self._policy

    async def create(self, ask: ImageAsk, kind: JobKind, requester: Requester) -> Job:
        """A new job for `ask`; raises a BotError when a rule refuses it. Cheap: callers run it before the defer."""
        if self._queue.closed:
            raise QueueClosed
        if requester.guild_id is None:
            raise OutsideServer  # no server's quotas or budget could count it
        await self._policy.check_not_blocked(requester)
        limits = await self._policy.limits(requester.guild_id)
        if ask.model is None and limits.models and self._generation.rules.default_model not in limits.models:
            ask = dataclasses.replace(ask, model=limits.models[0])  # the server's first model is its default
        request = self._generation.prepare(ask)
        edit = kind is not JobKind.IMAGINE
        check_request(limits, requester, request.model, request.n, request.quality, request.prompt, edit)
        self._fetcher.precheck(ask.pictures)
        record = JobRecord(
            id=new_job_id(),
            kind=kind,
            user_id=ask.user_id,
            guild_id=ask.guild_id,
            channel_id=requester.channel_id,
            prompt=request.prompt,
            model=request.model,
            n=request.n,
            size=request.size,
            quality=request.quality,
            style=request.style,
            pictures=tuple(PictureSource(picture.name, picture.url) for picture in ask.pictures),
        )
        return Job(record, request, caps_for(limits, requester.role_ids))

    async def again(self, record: JobRecord, requester: Requester) -> Job:
        """The same request as an earlier job, as a new job of the requester's (checked against today's rules)."""
        return await self.create(ask_of(record, requester.user_id), JobKind(record.kind), requester)

    async def load(self, job_id: str) -> JobRecord | None:
        return await self._storage.load_job(job_id)

    async def submit(self, job: Job, upload_limit: int) -> None:
        """Record the job, book its images, and queue it; raises QuotaExceeded, QueueFull or QueueClosed.

        Its images are fitted under `upload_limit` bytes each before its slot is freed, so that memory is bounded
        by the slots, not by how many results wait for Discord. The job counts as in flight until `finish`.
        """
        self._in_flight.add(job.id)
        self._idle.clear()
        await self._storage.save_job(job.record)
        try:
            await self._accountant.reserve(job.record, job.caps)
        except QuotaExceeded:
            await self._storage.finish_job(job.id, JobStatus.FAILED, datetime.now(UTC))
            self._landed(job)
            raise
        try:
            self._queue.submit(
                job.id, job.record.guild_id, job.record.user_id, lambda: self._generate(job, upload_limit)
            )
        except (QueueFull, QueueClosed):
            await self.finish(job, JobStatus.FAILED)
            raise

    async def outcome(self, job: Job) -> JobResult:
        """Wait for a submitted job's images; a failure or cancellation settles it, releasing its booking."""
        try:
            return await self._queue.result(job.id)
        except Exception:
            await self.finish(job, JobStatus.FAILED)
            raise

    async def run(self, job: Job, upload_limit: int) -> JobResult:
        """Submit the job and wait for its images."""
        await self.submit(job, upload_limit)
        return await self.outcome(job)

    def place(self, job_id: str) -> Place | None:
        """Where a job stands in the queue (None once it has finished)."""
        return self._queue.place(job_id)

    def places(self) -> dict[str, Place]:
        return self._queue.places()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Be told (synchronously, cheaply) whenever the queue changes."""
        return self._queue.subscribe(listener)

    def cancel(self, job_id: str) -> bool:
        """Take a queued job out of the queue; its waiter then settles it. False once it has started."""
        return self._queue.cancel(job_id)

    async def close(self, grace: float) -> None:
        """Take no more jobs; cancel the queued ones; give running ones `grace` seconds, then cancel them too."""
        queued, running = await self._queue.close(grace)
        if queued or running:
            log.warning("stopping: %d queued and %d running jobs cancelled", len(queued), len(running))

    async def _generate(self, job: Job, upload_limit: int) -> JobResult:
        """A job's work once it has a slot: fetch and check its pictures, ask the image API, fit the images."""
        # the queue's worker task doesn't inherit the submitter's context: name the job again
        with job_context(job.id, job.record.guild_id, job.record.user_id):
            request = job.request
            if refs := [PictureRef(source.name, source.url) for source in job.record.pictures]:
                pictures = await self._fetcher.fetch_all(refs)
                request = dataclasses.replace(request, images=encode_for_api(pictures, self._input_mode))
            generation = await self._generation.generate(request)
            fitted = [await self._fit(image, upload_limit) for image in generation.images]
            return JobResult(fitted, generation.seconds)

    async def _fit(self, image: ImageBytes, limit: int) -> FittedImage:
        async with self._image_work:
            return await asyncio.to_thread(fit_image, image, limit)  # never on the event loop

    async def finish(
        self, job: Job, status: JobStatus, *, delivered: int = 0, generated: int = 0, message_id: int | None = None
    ) -> None:
        """Settle the job's booking (delivered images count against quotas, generated ones cost) and close it."""
        outcome = "delivered" if status is JobStatus.DONE else "failed"
        try:
            await self._accountant.settle(job.record, outcome, delivered, generated)
            await self._storage.finish_job(job.id, status, datetime.now(UTC), message_id)
        finally:
            self._landed(job)

    async def wait_idle(self, grace: float) -> int:
        """Wait up to `grace` seconds for the jobs in flight to finish; returns how many are still running."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
        return len(self._in_flight)

    def _landed(self, job: Job) -> None:
        self._in_flight.discard(job.id)
        if not self._in_flight:
            self._idle.set()


def ask_of(record: JobRecord, user_id: int) -> ImageAsk:
    """The ask that reproduces a recorded job."""
    return ImageAsk(
        prompt=record.prompt,
        user_id=user_id,
        guild_id=record.guild_id,
        model=record.model,
        count=record.n,
        size=record.size,
        quality=record.quality,
        style=record.style,
        pictures=tuple(PictureRef(source.name, source.url) for source in record.pictures),
    )
