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
from bot.core.generation import GenerationService, RequestRules
from bot.core.imageapi import hash_user
from bot.core.inputs import PictureFetcher, PictureRef
from bot.core.jobs import Job, JobKind, JobResult, JobService, request_of
from bot.core.limits import Requester, ServerLimits
from bot.core.metrics import Metrics
from bot.core.policy import Policy
from bot.core.providers.base import ProviderSettings
from bot.core.providers.gateway import GatewayOptions, GatewayProvider
from bot.core.providers.router import Router, Upstream
from bot.core.queue import FairQueue
from bot.core.request import ImageRequest
from bot.core.storage import JobStatus, Storage, open_storage
from bot.core.styles import Style
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

    def jobs(
        self,
        input_mode: str = "data_url",
        limits: ServerLimits | None = None,
        metrics: Metrics | None = None,
        log_prompts: bool = False,
        styles: tuple[Style, ...] = (),
    ) -> JobService:
        settings = ProviderSettings(name="gateway", base_url=self.api.base_url, api_key=KEY, timeout=5)
        gateway = GatewayProvider(self.session, settings, options=GatewayOptions(edit_input=input_mode))
        router = Router([Upstream(gateway, {model: model for model in MODELS})])
        fetcher = PictureFetcher(
            self.session,
            allowed_origins=frozenset({str(self.host.make_url("/").origin())}),
            max_bytes=1024 * 1024,
            max_pixels=10_000_000,
            timeout=5,
        )
        policy = Policy(self.storage, limits or ServerLimits())
        generation = GenerationService(router, RULES, "salt")
        queue: FairQueue[JobResult] = FairQueue(2)
        accountant = Accountant(self.storage, PRICES)
        return JobService(
            generation,
            fetcher,
            self.storage,
            policy,
            accountant,
            queue,
            metrics,
            log_prompts=log_prompts,
            styles=styles,
        )

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


class RecordingPort:
    """A delivery port that notes what the job service asked of it, in order."""

    upload_limit = UPLOAD_LIMIT

    def __init__(self, deliver_fails: bool = False) -> None:
        self.calls: list[str] = []
        self.delivered: JobResult | None = None
        self.failure: Exception | None = None
        self._deliver_fails = deliver_fails

    async def accept(self, private: bool) -> None:
        self.calls.append("accept privately" if private else "accept")

    def show_progress(self, job_id: str) -> None:
        self.calls.append("show_progress")

    async def stop_progress(self, job_id: str) -> None:
        self.calls.append("stop_progress")

    async def deliver(self, job: Job, result: JobResult) -> int | None:
        self.calls.append("deliver")
        if self._deliver_fails:
            raise RuntimeError("Discord refused the upload")
        self.delivered = result
        return 77

    async def tell_failure(self, error: Exception) -> None:
        self.calls.append("tell_failure")
        self.failure = error


def counted(metrics: Metrics, outcome: str) -> float:
    return metrics.registry.get_sample_value("imagebot_jobs_total", {"outcome": outcome}) or 0.0


def requester(user_id: int = 1, guild_id: int | None = 8, channel_id: int | None = 9) -> Requester:
    return Requester(user_id, guild_id, channel_id)


async def test_a_job_is_recorded_booked_run_and_settled(setup) -> None:
    jobs = setup.jobs()
    job = await jobs.create(ImageRequest(prompt="a fox", count=2), JobKind.IMAGINE, requester(7))

    result = await jobs.run(job, UPLOAD_LIMIT)
    assert await setup.storage.user_reserved(8, 7) == 2  # booked while it runs
    await jobs.finish(job, JobStatus.DONE, delivered=2, generated=2, message_id=55)

    assert len(result.images) == 2
    assert setup.api.last_request.json["user"] == hash_user(7, "salt")  # the member, only as an opaque id
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
    first = await jobs.create(ImageRequest(prompt="a", count=2), JobKind.IMAGINE, requester(3))
    await jobs.run(first, UPLOAD_LIMIT)
    await jobs.finish(first, JobStatus.DONE, delivered=2, generated=2)
    second = await jobs.create(ImageRequest(prompt="b"), JobKind.IMAGINE, requester(3))

    with pytest.raises(errors.QuotaExceeded) as refused:
        await jobs.run(second, UPLOAD_LIMIT)

    assert (refused.value.limit, refused.value.used, refused.value.allowed) == ("user_daily", 2, 2)
    assert len(setup.api.requests) == 1
    record = await jobs.load(second.id)
    assert record is not None
    assert record.status is JobStatus.FAILED


async def test_a_failure_after_generation_refunds_the_images_but_counts_the_cost(setup) -> None:
    jobs = setup.jobs()
    job = await jobs.create(ImageRequest(prompt="a", count=3), JobKind.IMAGINE, requester(4))
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
        await jobs.create(ImageRequest(prompt="a"), JobKind.IMAGINE, requester(6))
    await jobs.handle(ImageRequest(prompt="a"), JobKind.IMAGINE, requester(6), port := RecordingPort())

    assert port.calls == ["tell_failure"]
    assert isinstance(port.failure, errors.UserBlocked)
    assert await setup.storage.history(6, 8) == []
    assert setup.api.requests == []


async def test_a_request_from_outside_a_server_is_refused_before_anything_is_recorded(setup) -> None:
    jobs = setup.jobs()

    with pytest.raises(errors.OutsideServer):
        await jobs.create(ImageRequest(prompt="a fox"), JobKind.IMAGINE, requester(guild_id=None))

    assert await setup.storage.history(1, None) == []


async def test_a_quality_in_another_case_is_checked_priced_and_sent_as_its_canonical_value(setup) -> None:
    with pytest.raises(errors.QualityAboveLimit):  # a forged "4K" no longer ranks as 1k
        await setup.jobs(limits=ServerLimits(max_quality="1k")).create(
            ImageRequest(prompt="a", quality="4K"), JobKind.IMAGINE, requester(2)
        )
    jobs = setup.jobs(limits=ServerLimits(max_quality="4k"))
    job = await jobs.create(ImageRequest(prompt="a", quality="4K"), JobKind.IMAGINE, requester(2))

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
        await jobs.create(ImageRequest(prompt="a", quality="8k"), JobKind.IMAGINE, requester(2))

    assert await setup.storage.history(2, 8) == []


async def test_an_edit_sends_its_pictures_in_order_and_records_their_links(setup) -> None:
    jobs = setup.jobs()
    pictures = (setup.picture("blue.png"), setup.picture("red.png"))
    job = await jobs.create(ImageRequest(prompt="swap", pictures=pictures), JobKind.EDIT, requester())

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
        await jobs.create(ImageRequest(prompt="x", pictures=(picture,)), JobKind.EDIT, requester()), UPLOAD_LIMIT
    )

    assert setup.api.last_request.json["image"] == [entry or picture.url]


async def test_a_failed_job_is_marked_failed(setup) -> None:
    jobs = setup.jobs()
    job = await jobs.create(ImageRequest(prompt="x", pictures=(setup.picture("gone.png"),)), JobKind.EDIT, requester())

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
        ImageRequest(
            prompt="a kite",
            model=MODELS[1],
            count=3,
            size="1792x1024",
            quality="2k",
            style="vivid",
            pictures=(setup.picture("red.png"),),
        ),
        JobKind.EDIT,
        requester(5, 6, 7),
    )
    await jobs.run(first, UPLOAD_LIMIT)

    second = await jobs.create(request_of(first.record), JobKind(first.record.kind), requester(5, 6, 7))

    assert second.id != first.id
    assert second.request == first.request
    assert second.record.pictures == first.record.pictures


async def test_too_many_pictures_for_the_model_are_refused_before_anything_runs(setup) -> None:
    jobs = setup.jobs()
    pictures = tuple(setup.picture("red.png") for _ in range(4))

    with pytest.raises(errors.TooManyPictures) as refused:
        await jobs.create(ImageRequest(prompt="x", model=MODELS[1], pictures=pictures), JobKind.EDIT, requester())

    assert (refused.value.count, refused.value.limit, refused.value.model) == (4, 3, MODELS[1])


async def test_handle_runs_a_request_through_the_port_and_settles_it(setup) -> None:
    metrics = Metrics()
    jobs, port = setup.jobs(metrics=metrics), RecordingPort()

    await jobs.handle(ImageRequest(prompt="a heron", count=2), JobKind.IMAGINE, requester(3), port)

    assert port.calls == ["accept", "show_progress", "stop_progress", "deliver"]
    assert port.delivered is not None
    assert len(port.delivered.images) == 2
    (entry,) = await setup.storage.history(3, 8)
    assert (entry.images, entry.outcome, entry.job.message_id) == (2, "delivered", 77)
    assert counted(metrics, "delivered") == 1


async def test_handle_tells_a_refusal_before_accepting_and_records_nothing(setup) -> None:
    metrics = Metrics()
    jobs, port = setup.jobs(metrics=metrics), RecordingPort()

    await jobs.handle(ImageRequest(prompt="a heron", count=11), JobKind.IMAGINE, requester(3), port)

    assert port.calls == ["tell_failure"]
    assert isinstance(port.failure, errors.CountOutOfRange)
    assert await setup.storage.history(3, 8) == []
    assert counted(metrics, "refused") == 1


async def test_handle_refunds_the_images_when_delivery_fails(setup) -> None:
    metrics = Metrics()
    jobs, port = setup.jobs(metrics=metrics), RecordingPort(deliver_fails=True)

    await jobs.handle(ImageRequest(prompt="a heron"), JobKind.IMAGINE, requester(3), port)

    assert port.calls == ["accept", "show_progress", "stop_progress", "deliver", "tell_failure"]
    (entry,) = await setup.storage.history(3, 8)
    assert (entry.images, entry.outcome) == (0, "failed")
    assert await setup.storage.user_reserved(8, 3) == 0
    assert counted(metrics, "failed") == 1


@pytest.mark.parametrize("log_prompts", [True, False])
async def test_prompts_are_logged_only_when_the_operator_allows(setup, caplog, log_prompts) -> None:
    jobs = setup.jobs(log_prompts=log_prompts)

    with caplog.at_level("INFO", logger="bot.core.jobs"):
        await jobs.handle(ImageRequest(prompt="a secret garden"), JobKind.IMAGINE, requester(3), RecordingPort())

    assert ("a secret garden" in caplog.text) is log_prompts
    assert ("<prompt: 15 chars>" in caplog.text) is not log_prompts


SERVER_STYLES = (("ink", "an ink drawing of {prompt}, fine lines"), ("gory", "{prompt}, covered in gore"))


async def test_a_server_style_puts_the_prompt_into_its_template_and_the_record_keeps_what_the_member_wrote(
    setup,
) -> None:
    jobs = setup.jobs(limits=ServerLimits(styles=SERVER_STYLES))

    job = await jobs.create(ImageRequest(prompt="a fox", style=" Ink "), JobKind.IMAGINE, requester(8))

    assert (job.request.prompt, job.request.style) == ("an ink drawing of a fox, fine lines", None)
    assert (job.record.prompt, job.record.style) == ("a fox", "ink")


async def test_the_operators_styles_are_offered_and_the_servers_own_of_the_same_name_wins(setup) -> None:
    shipped = (Style("ink", "{prompt} in ink"), Style("noir", "{prompt}, film noir"))
    jobs = setup.jobs(limits=ServerLimits(styles=SERVER_STYLES), styles=shipped)

    noir = await jobs.create(ImageRequest(prompt="a fox", style="noir"), JobKind.IMAGINE, requester(9))
    ink = await jobs.create(ImageRequest(prompt="a cat", style="ink"), JobKind.IMAGINE, requester(9))

    assert noir.request.prompt == "a fox, film noir"
    assert ink.request.prompt == "an ink drawing of a cat, fine lines"


async def test_the_specs_own_styles_are_sent_as_its_style_field(setup) -> None:
    jobs = setup.jobs(limits=ServerLimits(styles=SERVER_STYLES))

    job = await jobs.create(ImageRequest(prompt="a fox", style="VIVID"), JobKind.IMAGINE, requester(10))

    assert (job.request.prompt, job.request.style, job.record.style) == ("a fox", "vivid", "vivid")


async def test_a_style_cannot_carry_a_blocked_word_past_the_check(setup) -> None:
    jobs = setup.jobs(limits=ServerLimits(styles=SERVER_STYLES, blocked_words=("gore",)))

    with pytest.raises(errors.PromptBlocked):
        await jobs.create(ImageRequest(prompt="a fox", style="gory"), JobKind.IMAGINE, requester(11))


async def test_a_style_this_server_does_not_have_is_refused_naming_the_ones_it_has(setup) -> None:
    jobs = setup.jobs(limits=ServerLimits(styles=SERVER_STYLES))

    with pytest.raises(errors.InvalidChoice) as refused:
        await jobs.create(ImageRequest(prompt="a fox", style="sketchy"), JobKind.IMAGINE, requester(12))

    assert refused.value.option == "style"
    assert refused.value.allowed == "vivid, natural, ink, gory"
