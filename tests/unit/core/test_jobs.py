"""Jobs through real parts: the loopback image API, a local picture host, and a SQLite store."""

import base64
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from PIL import Image

from bot.core import errors
from bot.core.accounting import Accountant
from bot.core.generation import GenerationService, ImageAsk, RequestRules
from bot.core.imageapi import ImageAPIClient, ImageAPIConfig
from bot.core.inputs import PictureFetcher, PictureRef
from bot.core.jobs import JobKind, JobResult, JobService
from bot.core.limits import Requester, ServerLimits
from bot.core.policy import Policy
from bot.core.queue import FairQueue
from bot.core.storage import JobStatus, Storage, open_storage
from tests.loopback.image_api import ImageAPIServer

KEY = "sk-jobs"
UPLOAD_LIMIT = 10 * 1024 * 1024
PRICES = {"gemini-3-pro-image-preview": 134_000, "gemini-3-pro-image-preview@4k": 240_000, "*": 39_000}
MODELS = ("gemini-3-pro-image-preview", "gemini-2.5-flash-image")
RULES = RequestRules(MODELS, MODELS[0], 1000, {"gemini-2.5-flash-image": 3, "*": 14})


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, format="PNG")
    return buffer.getvalue()


PICTURES = {"red.png": png((255, 0, 0)), "blue.png": png((0, 0, 255))}


@dataclass
class Setup:
    api: ImageAPIServer
    host: TestServer
    storage: Storage
    session: aiohttp.ClientSession

    def jobs(self, input_mode: str = "data_url", limits: ServerLimits | None = None) -> JobService:
        client = ImageAPIClient(self.session, ImageAPIConfig(self.api.base_url, KEY, timeout=5, max_retries=0))
        fetcher = PictureFetcher(
            self.session,
            allowed_origins=frozenset({str(self.host.make_url("/").origin())}),
            max_bytes=1024 * 1024,
            max_pixels=10_000_000,
            timeout=5,
        )
        policy = Policy(self.storage, limits or ServerLimits())
        generation = GenerationService(client, RULES, "salt")
        queue: FairQueue[JobResult] = FairQueue(2)
        accountant = Accountant(self.storage, PRICES)
        return JobService(generation, fetcher, self.storage, policy, accountant, queue, input_mode)

    def picture(self, name: str) -> PictureRef:
        return PictureRef(name, str(self.host.make_url(f"/{name}")))


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async def serve(request: web.Request) -> web.Response:
        if (data := PICTURES.get(request.match_info["name"])) is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    api = ImageAPIServer(api_key=KEY, models=MODELS)
    await api.start()
    storage = await open_storage(f"sqlite:///{tmp_path / 'jobs.db'}")
    async with TestServer(app, host="127.0.0.1") as host, aiohttp.ClientSession() as session:
        yield Setup(api, host, storage, session)
    await storage.close()
    await api.stop()


def requester(user_id: int = 1, guild_id: int | None = 8, channel_id: int | None = 9) -> Requester:
    return Requester(user_id, guild_id, channel_id)


async def test_a_job_is_recorded_booked_run_and_settled(setup) -> None:
    jobs = setup.jobs()
    job = await jobs.create(ImageAsk("a fox", user_id=7, guild_id=8, count=2), JobKind.IMAGINE, requester(7))

    result = await jobs.run(job, UPLOAD_LIMIT)
    assert await setup.storage.user_reserved(8, 7) == 2  # booked while it runs
    await jobs.finish(job, JobStatus.DONE, delivered=2, generated=2, message_id=55)

    assert len(result.images) == 2
    record = await jobs.load(job.id)
    assert record is not None
    assert (record.kind, record.user_id, record.guild_id, record.channel_id) == ("imagine", 7, 8, 9)
    assert (record.prompt, record.n, record.status, record.message_id) == ("a fox", 2, JobStatus.DONE, 55)
    assert record.finished_at is not None
    assert await setup.storage.user_reserved(8, 7) == 0
    (entry,) = await setup.storage.history(7, 8)
    assert (entry.images, entry.outcome) == (2, "delivered")


async def test_a_job_over_a_quota_is_refused_and_nothing_is_generated(setup) -> None:
    jobs = setup.jobs(limits=ServerLimits(user_daily_images=2))
    first = await jobs.create(ImageAsk("a", user_id=3, guild_id=8, count=2), JobKind.IMAGINE, requester(3))
    await jobs.run(first, UPLOAD_LIMIT)
    await jobs.finish(first, JobStatus.DONE, delivered=2, generated=2)
    second = await jobs.create(ImageAsk("b", user_id=3, guild_id=8), JobKind.IMAGINE, requester(3))

    with pytest.raises(errors.QuotaExceeded) as refused:
        await jobs.run(second, UPLOAD_LIMIT)

    assert (refused.value.limit, refused.value.used, refused.value.allowed) == ("user_daily", 2, 2)
    assert len(setup.api.requests) == 1
    record = await jobs.load(second.id)
    assert record is not None
    assert record.status is JobStatus.FAILED


async def test_a_failure_after_generation_refunds_the_images_but_counts_the_cost(setup) -> None:
    jobs = setup.jobs()
    job = await jobs.create(ImageAsk("a", user_id=4, guild_id=8, count=3), JobKind.IMAGINE, requester(4))
    await jobs.run(job, UPLOAD_LIMIT)

    await jobs.finish(job, JobStatus.FAILED, generated=3)  # e.g. Discord refused the upload

    (entry,) = await setup.storage.history(4, 8)
    assert (entry.images, entry.outcome) == (0, "failed")
    since = entry.job.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
    totals = await setup.storage.user_usage(8, 4, since, since.replace(year=since.year + 1))
    assert (totals.images, totals.cost) == (0, 3 * 134_000)


async def test_a_blocked_member_is_refused_before_anything_is_recorded(setup) -> None:
    jobs = setup.jobs()
    await jobs.policy.block("user", 6, "spam", blocked_by=1)

    with pytest.raises(errors.UserBlocked):
        await jobs.create(ImageAsk("a", user_id=6, guild_id=8), JobKind.IMAGINE, requester(6))


async def test_a_request_from_outside_a_server_is_refused_before_anything_is_recorded(setup) -> None:
    jobs = setup.jobs()

    with pytest.raises(errors.OutsideServer):
        await jobs.create(ImageAsk("a fox", user_id=1), JobKind.IMAGINE, requester(guild_id=None))

    assert await setup.storage.history(1, None) == []


async def test_a_quality_in_another_case_is_checked_priced_and_sent_as_its_canonical_value(setup) -> None:
    with pytest.raises(errors.QualityAboveLimit):  # a forged "4K" no longer ranks as 1k
        await setup.jobs(limits=ServerLimits(max_quality="1k")).create(
            ImageAsk("a", user_id=2, guild_id=8, quality="4K"), JobKind.IMAGINE, requester(2)
        )
    jobs = setup.jobs(limits=ServerLimits(max_quality="4k"))
    job = await jobs.create(ImageAsk("a", user_id=2, guild_id=8, quality="4K"), JobKind.IMAGINE, requester(2))

    await jobs.run(job, UPLOAD_LIMIT)
    await jobs.finish(job, JobStatus.DONE, delivered=1, generated=1)

    assert setup.api.last_request.json["quality"] == "4k"
    (entry,) = await setup.storage.history(2, 8)
    assert entry.job.quality == "4k"
    since = entry.job.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
    totals = await setup.storage.user_usage(8, 2, since, since.replace(year=since.year + 1))
    assert totals.cost == PRICES["gemini-3-pro-image-preview@4k"]  # the 4k price, not the 1k one


async def test_an_unknown_quality_is_refused_before_anything_is_recorded(setup) -> None:
    jobs = setup.jobs()

    with pytest.raises(errors.InvalidChoice):
        await jobs.create(ImageAsk("a", user_id=2, guild_id=8, quality="8k"), JobKind.IMAGINE, requester(2))

    assert await setup.storage.history(2, 8) == []


async def test_an_edit_sends_its_pictures_in_order_and_records_their_links(setup) -> None:
    jobs = setup.jobs()
    pictures = (setup.picture("blue.png"), setup.picture("red.png"))
    job = await jobs.create(ImageAsk("swap", user_id=1, guild_id=8, pictures=pictures), JobKind.EDIT, requester())

    await jobs.run(job, UPLOAD_LIMIT)

    assert setup.api.last_request.input_images == [PICTURES["blue.png"], PICTURES["red.png"]]
    record = await jobs.load(job.id)
    assert record is not None
    assert [(source.name, source.url) for source in record.pictures] == [(p.name, p.url) for p in pictures]


@pytest.mark.parametrize(
    ("mode", "entry"),
    [
        ("data_url", "data:image/png;base64," + base64.b64encode(PICTURES["red.png"]).decode()),
        ("base64", base64.b64encode(PICTURES["red.png"]).decode()),
        ("link", None),
    ],
)
async def test_the_input_mode_decides_how_pictures_are_sent(setup, mode, entry) -> None:
    jobs = setup.jobs(mode)
    picture = setup.picture("red.png")

    await jobs.run(
        await jobs.create(ImageAsk("x", user_id=1, pictures=(picture,)), JobKind.EDIT, requester()), UPLOAD_LIMIT
    )

    assert setup.api.last_request.json["image"] == [entry or picture.url]


async def test_a_failed_job_is_marked_failed(setup) -> None:
    jobs = setup.jobs()
    job = await jobs.create(ImageAsk("x", 1, 8, pictures=(setup.picture("gone.png"),)), JobKind.EDIT, requester())

    with pytest.raises(errors.PictureUnavailable):
        await jobs.run(job, UPLOAD_LIMIT)

    record = await jobs.load(job.id)
    assert record is not None
    assert record.status is JobStatus.FAILED
    assert setup.api.requests == []
    assert await setup.storage.user_reserved(8, 1) == 0
    assert [entry.outcome for entry in await setup.storage.history(1, 8)] == ["failed"]


async def test_again_repeats_a_recorded_job_as_a_new_one(setup) -> None:
    jobs = setup.jobs()
    first = await jobs.create(
        ImageAsk("a kite", 5, 6, MODELS[1], 3, "1792x1024", "2k", "vivid", (setup.picture("red.png"),)),
        JobKind.EDIT,
        requester(5, 6, 7),
    )
    await jobs.run(first, UPLOAD_LIMIT)

    second = await jobs.again(first.record, requester(5, 6, 7))

    assert second.id != first.id
    assert second.request == first.request
    assert second.record.pictures == first.record.pictures


async def test_too_many_pictures_for_the_model_are_refused_before_anything_runs(setup) -> None:
    jobs = setup.jobs()
    pictures = tuple(setup.picture("red.png") for _ in range(4))

    with pytest.raises(errors.TooManyPictures) as refused:
        await jobs.create(ImageAsk("x", 1, model=MODELS[1], pictures=pictures), JobKind.EDIT, requester())

    assert (refused.value.count, refused.value.limit, refused.value.model) == (4, 3, MODELS[1])
