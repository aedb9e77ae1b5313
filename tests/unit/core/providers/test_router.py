"""Routing and failover across providers, through two loopback gateways: the next provider after an outage, never
after a refusal about the prompt; breakers that stop waiting on a dead provider; each provider's own slots."""

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.core import errors
from bot.core.metrics import Metrics
from bot.core.providers.base import ProviderSettings, fails_over
from bot.core.providers.gateway import GatewayProvider
from bot.core.providers.router import Breaker, BreakerState, Router, Upstream
from bot.core.request import ImageRequest
from tests.loopback import image_api as faults
from tests.loopback.image_api import ImageAPIServer

KEY = "sk-router"
MODEL = "gemini-3-pro-image-preview"
REQUEST = ImageRequest(prompt="a lighthouse", model=MODEL, count=1, size="1024x1024")
DEAD = "http://127.0.0.1:9"  # nothing listens there: connections are refused at once


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def apis() -> AsyncIterator[tuple[ImageAPIServer, ImageAPIServer]]:
    async with ImageAPIServer(api_key=KEY) as primary, ImageAPIServer(api_key=KEY) as secondary:
        yield primary, secondary


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


def upstream(session, name: str, base_url: str, priority: int, retries: int = 0, **kwargs: object) -> Upstream:
    settings = ProviderSettings(name=name, base_url=base_url, api_key=KEY, timeout=5.0, max_retries=retries)
    return Upstream(GatewayProvider(session, settings), {MODEL: MODEL}, priority, **kwargs)  # type: ignore[arg-type]


async def test_the_secondary_serves_when_the_primary_answers_503(session, apis) -> None:
    primary, secondary = apis
    primary.fail_next(faults.overloaded())
    metrics = Metrics()
    router = Router(
        [upstream(session, "second", secondary.base_url, 2), upstream(session, "first", primary.base_url, 1)], metrics
    )

    served = await router.generate(REQUEST)

    assert (served.provider.name, len(served.images)) == ("second", 1)
    assert (len(primary.requests), len(secondary.requests)) == (1, 1)
    failures = metrics.registry.get_sample_value(
        "imagebot_provider_failures_total", {"provider": "first", "kind": "Overloaded"}
    )
    assert failures == 1


async def test_an_outage_fails_over_at_once_instead_of_retrying_while_another_provider_remains(session, apis) -> None:
    primary, secondary = apis
    primary.fail_next(faults.server_error(500), faults.server_error(500))
    first = upstream(session, "first", primary.base_url, 1, retries=3)
    router = Router([first, upstream(session, "second", secondary.base_url, 2)])

    assert (await router.generate(REQUEST)).provider.name == "second"
    assert len(primary.requests) == 1  # not retried: the secondary was there
    assert (await Router([first]).generate(REQUEST)).provider.name == "first"  # alone, it retries its 500
    assert len(primary.requests) == 3


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (faults.safety(), errors.SafetyRefused),
        (faults.api_error(400, "bad size", code="invalid_request"), errors.RequestRejected),
    ],
)
async def test_a_refusal_about_the_prompt_is_not_tried_elsewhere(session, apis, fault, error) -> None:
    primary, secondary = apis
    primary.fail_next(fault)
    router = Router(
        [upstream(session, "first", primary.base_url, 1), upstream(session, "second", secondary.base_url, 2)]
    )

    with pytest.raises(error):
        await router.generate(REQUEST)

    assert secondary.requests == []


async def test_an_open_breaker_sends_jobs_straight_to_the_secondary(session, apis) -> None:
    _, secondary = apis
    clock = Clock()
    dead = upstream(session, "dead", DEAD, 1, breaker=Breaker(failures=3, cooloff=30, clock=clock))
    router = Router([dead, upstream(session, "second", secondary.base_url, 2)])

    for _ in range(3):
        assert (await router.generate(REQUEST)).provider.name == "second"
    assert dead.breaker.state is BreakerState.OPEN
    started = time.monotonic()
    served = await asyncio.gather(*(router.generate(REQUEST) for _ in range(5)))

    assert all(item.provider.name == "second" for item in served)
    assert time.monotonic() - started < 2.0
    assert len(secondary.requests) == 8


async def test_after_the_cooloff_one_job_tries_the_primary_again(session, apis) -> None:
    primary, secondary = apis
    clock = Clock()
    first = upstream(session, "first", primary.base_url, 1, breaker=Breaker(failures=1, cooloff=30, clock=clock))
    router = Router([first, upstream(session, "second", secondary.base_url, 2)])
    primary.fail_next(faults.server_error(502))
    await router.generate(REQUEST)
    assert first.breaker.state is BreakerState.OPEN

    await router.generate(REQUEST)  # still cooling off: the secondary serves
    clock.now = 31
    served = await router.generate(REQUEST)  # the primary is tried again, works, and closes its breaker

    assert served.provider.name == "first"
    assert first.breaker.state is BreakerState.CLOSED
    assert len(primary.requests) == 2


async def test_the_only_provider_is_always_tried_even_with_its_breaker_open(session, apis) -> None:
    primary, _ = apis
    only = upstream(session, "only", primary.base_url, 1, breaker=Breaker(failures=1, cooloff=30, clock=Clock()))
    router = Router([only])
    primary.fail_next(faults.server_error(500))
    with pytest.raises(errors.ServerError):
        await router.generate(REQUEST)

    assert (await router.generate(REQUEST)).provider.name == "only"


async def test_when_every_provider_fails_the_last_reason_is_given(session, apis) -> None:
    primary, secondary = apis
    primary.fail_next(faults.overloaded())
    secondary.fail_next(faults.server_error(502))
    router = Router(
        [upstream(session, "first", primary.base_url, 1), upstream(session, "second", secondary.base_url, 2)]
    )

    with pytest.raises(errors.ServerError):
        await router.generate(REQUEST)


async def test_a_provider_keeps_to_its_own_concurrency(session, apis) -> None:
    primary, _ = apis
    primary.latency = 0.2
    router = Router([upstream(session, "first", primary.base_url, 1, concurrency=2)])

    await asyncio.gather(*(router.generate(REQUEST) for _ in range(5)))

    assert primary.max_in_flight == 2


async def test_a_model_no_provider_serves_is_an_error(session, apis) -> None:
    with pytest.raises(errors.ImageAPIError, match="no provider serves"):
        await Router([upstream(session, "first", apis[0].base_url, 1)]).generate(
            ImageRequest(prompt="x", model="other")
        )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (errors.ConnectionFailed(), True),
        (errors.UpstreamTimeout(), True),
        (errors.ServerError(), True),
        (errors.Overloaded(), True),
        (errors.AuthenticationFailed(), True),
        (errors.UpstreamQuotaExhausted(), True),
        (errors.RateLimited(30), True),
        (errors.RateLimited(2), False),
        (errors.SafetyRefused(), False),
        (errors.RequestRejected(), False),
        (errors.EmptyResult(), False),
    ],
)
def test_which_failures_fail_over(error, expected) -> None:
    assert fails_over(error) is expected
