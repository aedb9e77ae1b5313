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
from typing import Protocol

from bot.core.accounting import Accountant, Allowance
from bot.core.errors import BotError, OutsideServer, QueueClosed, QueueFull, QuotaExceeded, TooManyPictures
from bot.core.fitting import FittedImage, fit_image
from bot.core.generation import GenerationService
from bot.core.imageapi import ImageBytes
from bot.core.imageapi.spool import Spool
from bot.core.inputs import PictureFetcher, PictureRef
from bot.core.limits import Requester, ServerLimits, caps_for, check_request
from bot.core.log_context import job_context, prompt_for_log
from bot.core.member_defaults import checked_defaults, with_defaults
from bot.core.memory import release_freed_memory
from bot.core.metrics import Metrics, job_outcome
from bot.core.policy import Policy
from bot.core.queue import FairQueue, Place
from bot.core.request import ImageRequest
from bot.core.storage import Caps, JobRecord, JobStatus, MemberDefaults, PictureSource, Storage, new_job_id
from bot.core.styles import Style, apply_style, available

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
    """A job's images, each fitted under the upload limit, the provider that made them and the seconds it took."""

    images: list[FittedImage]
    seconds: float
    provider: str = ""
    quality: str | None = None  # the tier delivered


@dataclass(frozen=True, slots=True)
class Job:
    """A checked job: its durable record, the API request it makes (pictures are added when it runs), and the
    quotas it counts against."""

    record: JobRecord
    request: ImageRequest  # prepared: checked and normalised
    caps: Caps = field(default_factory=Caps)
    from_defaults: frozenset[str] = frozenset()  # the options taken from the member's own defaults

    @property
    def id(self) -> str:
        return self.record.id


class DeliveryPort(Protocol):
    """What the place a request came from does for its job (the Discord layer implements it); the job service
    decides when."""

    @property
    def upload_limit(self) -> int:
        """The most bytes one image may have where the result is delivered."""
        ...

    async def accept(self, private: bool) -> None:
        """The request passed its checks: acknowledge it (before anything slow), to the member only if `private`."""

    def show_progress(self, job_id: str) -> None:
        """Keep showing where the job stands in the queue, until `stop_progress`."""

    async def stop_progress(self, job_id: str) -> None:
        """Stop showing progress; nothing shown may land after this returns."""

    async def deliver(self, job: "Job", result: "JobResult") -> int | None:
        """Post the job's images; the id of the first message posted, or None when none got out."""

    async def tell_failure(self, error: Exception) -> None:
        """Tell the member why the request was refused or failed (before `accept`: privately)."""


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
        metrics: Metrics | None = None,
        log_prompts: bool = False,
        styles: tuple[Style, ...] = (),
    ) -> None:
        self._generation = generation
        self._styles = styles  # the operator's; each server adds its own
        self._metrics = metrics or Metrics()
        self._log_prompts = log_prompts
        self._fetcher = fetcher
        self._storage = storage
        self._policy = policy
        self._accountant = accountant
        self._queue = queue
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

    async def handle(self, ask: ImageRequest, kind: JobKind, requester: Requester, port: DeliveryPort) -> None:
        """A member's request from start to end: checked (a refusal is told before `accept`), recorded, booked,
        queued, generated, fitted, delivered through `port`, then settled or refunded, and counted in the metrics.
        Failures are told through the port, never raised."""
        try:
            job = await self.create(ask, kind, requester)
        except BotError as error:
            self._metrics.job_finished(job_outcome(error), 0)
            await port.tell_failure(error)
            return
        await port.accept(bool(job.request.private))
        with job_context(job.id, job.record.guild_id, job.record.user_id):  # every line below names the job
            try:
                delivered = await self._deliver(job, port)
            except Exception as error:
                self._metrics.job_finished(job_outcome(error), 0)
                await port.tell_failure(error)
                return
        self._metrics.job_finished("delivered", delivered)

    async def _deliver(self, job: Job, port: DeliveryPort) -> int:
        """Run an accepted job and deliver its images; returns how many were delivered."""
        record = job.record
        log.info(
            "job %s: %s for user %s in guild %s (model=%s n=%d quality=%s pictures=%d) %s",
            job.id,
            record.kind,
            record.user_id,
            record.guild_id,
            record.model,
            record.n,
            record.quality or "1k",
            len(record.pictures),
            prompt_for_log(record.prompt, self._log_prompts),
        )
        await self.submit(job, port.upload_limit)
        port.show_progress(job.id)
        try:
            result = await self.outcome(job)
        finally:
            await port.stop_progress(job.id)  # no progress may land on top of the result
        generated = len(result.images)
        try:
            message_id = await port.deliver(job, result)
        except Exception:
            await self.finish(job, JobStatus.FAILED, generated=generated, result=result)  # billed all the same
            raise
        finally:
            # uploaded (or given up): their spools go now, not when collected, and off the loop (see _release)
            await asyncio.to_thread(_release, [fitted.image for fitted in result.images])
        await self.finish(
            job, JobStatus.DONE, delivered=generated, generated=generated, message_id=message_id, result=result
        )
        log.info("job %s: delivered %d images in %.1fs", job.id, generated, result.seconds)
        return generated

    async def create(self, ask: ImageRequest, kind: JobKind, requester: Requester) -> Job:
        """A new job for `ask`; raises a BotError when a rule refuses it. Cheap: callers run it before the defer."""
        if self._queue.closed:
            raise QueueClosed
        if requester.guild_id is None:
            raise OutsideServer  # no server's quotas or budget could count it
        await self._policy.check_not_blocked(requester)
        limits = await self._policy.limits(requester.guild_id)
        styles = self.styles_here(limits)
        own = await self._storage.load_defaults(requester.user_id)
        ask, from_defaults = with_defaults(ask, own, self._models_here(limits), styles)
        if ask.model is None:
            ask = dataclasses.replace(ask, model=self._default_model(limits))
        asked = self._generation.prepare(ask)
        request, style = apply_style(asked, styles)  # before the checks: templates are checked too
        edit = kind is not JobKind.IMAGINE
        model = request.model or ""  # prepare() filled it in
        check_request(
            limits,
            requester,
            model,
            request.count,
            request.quality,
            request.prompt,
            edit,
            private=bool(request.private),
        )
        self._fetcher.precheck(request.pictures)
        record = JobRecord(
            id=new_job_id(),
            kind=kind,
            user_id=requester.user_id,
            guild_id=requester.guild_id,
            channel_id=requester.channel_id,
            prompt=asked.prompt,  # as the member wrote it: a reroll applies its style again
            model=model,
            n=request.count,
            size=request.size,
            quality=request.quality,
            style=style,
            pictures=tuple(PictureSource(picture.name, picture.url) for picture in request.pictures),
        )
        return Job(record, request, caps_for(limits, requester.role_ids), from_defaults)

    def styles_here(self, limits: ServerLimits) -> dict[str, Style | None]:
        """The styles a member may choose in a server with these limits (see styles.available)."""
        return available(limits.styles, self._styles)

    async def styles(self, guild_id: int | None) -> dict[str, Style | None]:
        """The styles a member may choose in this server."""
        return self.styles_here(await self._policy.limits(guild_id))

    async def allowance(self, requester: Requester) -> Allowance:
        """What the member may still ask for here, as the next booking would count it."""
        limits = await self._policy.limits(requester.guild_id)
        caps = caps_for(limits, requester.role_ids)
        return await self._accountant.allowance(requester.guild_id or 0, requester.user_id, caps, datetime.now(UTC))

    async def highest_quality(self, requester: Requester) -> str:
        """The highest quality the server allows: what Upscale renders at."""
        return (await self._policy.limits(requester.guild_id)).max_quality

    async def check_pictures(self, count: int, requester: Requester) -> None:
        """Refuse `count` input pictures when the model a request here uses by default takes fewer."""
        model = self._default_model(await self._policy.limits(requester.guild_id))
        if count > (allowed := self._generation.rules.pictures_allowed(model)):
            raise TooManyPictures(count, allowed, model)

    def _models_here(self, limits: ServerLimits) -> tuple[str, ...]:
        """The models a request in a server with these limits may use."""
        models = self._generation.rules.models
        return tuple(model for model in models if not limits.models or model in limits.models)

    async def defaults(self, user_id: int) -> MemberDefaults:
        """The member's own defaults."""
        return await self._storage.load_defaults(user_id)

    async def set_defaults(self, defaults: MemberDefaults, guild_id: int | None) -> MemberDefaults:
        """Check the member's defaults against what this server offers, then keep them; returns them as kept
        (canonical values). Raises InvalidChoice naming an option with a value it can't take."""
        styles = await self.styles(guild_id)
        checked = checked_defaults(defaults, self._generation.rules.models, tuple(styles))
        await self._storage.save_defaults(checked)
        return checked

    def _default_model(self, limits: ServerLimits) -> str:
        """The deployment's default model, unless the server allows only others: then the server's first."""
        default = self._generation.rules.default_model
        return limits.models[0] if limits.models and default not in limits.models else default

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
            pictures = tuple(await self._fetcher.fetch_all(job.request.pictures)) if job.request.pictures else ()
            try:
                generation = await self._generation.generate(job.request, job.record.user_id, pictures)
            finally:
                for picture in pictures:
                    picture.release()
            try:
                fitted = [await self._fit(image, upload_limit) for image in generation.images]
            except BaseException:
                for image in generation.images:
                    image.release()
                raise
            return JobResult(fitted, generation.seconds, generation.provider, generation.quality)

    async def _fit(self, image: ImageBytes, limit: int) -> FittedImage:
        async with self._image_work:
            return await asyncio.to_thread(_fit_and_trim, image, limit)  # never on the event loop

    async def finish(
        self,
        job: Job,
        status: JobStatus,
        *,
        delivered: int = 0,
        generated: int = 0,
        message_id: int | None = None,
        result: JobResult | None = None,
    ) -> None:
        """Settle the job's booking (delivered images count against quotas, generated ones cost, at the tier the
        provider delivered) and close it."""
        outcome = "delivered" if status is JobStatus.DONE else "failed"
        served = {"provider": result.provider, "quality": result.quality} if result is not None else {}
        try:
            await self._accountant.settle(job.record, outcome, delivered, generated, **served)
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


def _fit_and_trim(image: ImageBytes, limit: int) -> FittedImage:
    """`fit_image`, its re-encoded bytes moved to a spool (a file past a megabyte: the upload then streams it, where
    a BytesIO would be copied for it), then the memory of the decoded pixels handed back to the system."""
    fitted = fit_image(image, limit)
    if fitted.reencoded:
        image.release()  # the original is not needed once re-encoded
        if isinstance(encoded := fitted.image.data, bytes):
            spool = Spool()
            spool.write(encoded)
            fitted = dataclasses.replace(fitted, image=ImageBytes(spool, fitted.image.format))
            del encoded
    release_freed_memory()
    return fitted


def _release(images: list[ImageBytes]) -> None:
    """Free the images, then hand their memory back to the system; in a worker thread, since closing a spool's file
    makes the file system free its blocks (blocking work, kept off the loop like the rest of the file I/O)."""
    for image in images:
        image.release()
    release_freed_memory()


def request_of(record: JobRecord) -> ImageRequest:
    """The request that reproduces a recorded job."""
    return ImageRequest(
        prompt=record.prompt,
        model=record.model,
        count=record.n,
        size=record.size,
        quality=record.quality,
        style=record.style,
        pictures=tuple(PictureRef(source.name, source.url) for source in record.pictures),
    )
