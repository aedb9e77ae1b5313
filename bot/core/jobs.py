"""Jobs: what a member asked for, recorded durably, then run: pictures fetched, images generated.

A job is saved before it runs, so that its result buttons (reroll, edit, upscale) find it after a
restart; its status says how it ended.
"""

import dataclasses
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bot.core.generation import GenerationService, ImageAsk
from bot.core.imageapi import Generation, GenerationRequest
from bot.core.inputs import PictureFetcher, PictureRef, encode_for_api
from bot.core.storage import JobRecord, JobStatus, PictureSource, Storage, new_job_id

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
class Job:
    """A checked job: its durable record and the API request it makes (pictures are added when it runs)."""

    record: JobRecord
    request: GenerationRequest

    @property
    def id(self) -> str:
        return self.record.id


class JobService:
    """Creates jobs from asks, records them, and runs them through the generation service."""

    def __init__(
        self, generation: GenerationService, fetcher: PictureFetcher, storage: Storage, input_mode: str
    ) -> None:
        self._generation = generation
        self._fetcher = fetcher
        self._storage = storage
        self._input_mode = input_mode

    @property
    def generation(self) -> GenerationService:
        return self._generation

    def create(self, ask: ImageAsk, kind: JobKind, channel_id: int | None) -> Job:
        """A new job for `ask`; raises an InvalidRequest subclass when a rule is broken (no I/O)."""
        request = self._generation.prepare(ask)
        self._fetcher.precheck(ask.pictures)
        record = JobRecord(
            id=new_job_id(),
            kind=kind,
            user_id=ask.user_id,
            guild_id=ask.guild_id,
            channel_id=channel_id,
            prompt=request.prompt,
            model=request.model,
            n=request.n,
            size=request.size,
            quality=request.quality,
            style=request.style,
            pictures=tuple(PictureSource(picture.name, picture.url) for picture in ask.pictures),
        )
        return Job(record, request)

    def again(self, record: JobRecord, user_id: int, channel_id: int | None) -> Job:
        """The same request as an earlier job, as a new job of `user_id`'s (checked against today's rules)."""
        return self.create(ask_of(record, user_id), JobKind(record.kind), channel_id)

    async def load(self, job_id: str) -> JobRecord | None:
        return await self._storage.load_job(job_id)

    async def run(self, job: Job) -> Generation:
        """Record the job, fetch and check its pictures, and generate; a failure marks the job failed."""
        await self._storage.save_job(job.record)
        try:
            request = job.request
            if refs := [PictureRef(source.name, source.url) for source in job.record.pictures]:
                pictures = await self._fetcher.fetch_all(refs)
                request = dataclasses.replace(request, images=encode_for_api(pictures, self._input_mode))
            return await self._generation.generate(request)
        except Exception:
            await self.finish(job, JobStatus.FAILED)
            raise

    async def finish(self, job: Job, status: JobStatus) -> None:
        await self._storage.finish_job(job.id, status, datetime.now(UTC))


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
