"""Several image providers behind one bot process, configured in a providers file: a member sees one result when
the first provider is down, the breaker stops waiting on a provider that keeps failing, and a refusal about the
prompt is told, not tried elsewhere."""

import time
from collections.abc import AsyncIterator

import pytest

from bot.app.i18n import catalogue
from tests.conftest import MODELS
from tests.loopback import image_api as faults
from tests.loopback.image_api import ImageAPIServer

KEYS = {"PRIMARY_KEY": "sk-primary-0001", "SECONDARY_KEY": "sk-secondary-0002"}


def providers_file(primary: str, secondary: str, *, timeout: float = 10) -> str:
    models = ", ".join(f'"{model}" = "{model}"' for model in MODELS)
    return f"""
[[providers]]
name = "primary"
kind = "gateway"
base_url = "{primary}"
api_key_env = "PRIMARY_KEY"
models = {{ {models} }}
priority = 1
timeout = {timeout}
max_retries = 0

[[providers]]
name = "secondary"
kind = "gateway"
base_url = "{secondary}"
api_key_env = "SECONDARY_KEY"
models = {{ {models} }}
priority = 2
"""


@pytest.fixture
async def apis() -> AsyncIterator[tuple[ImageAPIServer, ImageAPIServer]]:
    async with (
        ImageAPIServer(api_key=KEYS["PRIMARY_KEY"], models=MODELS) as primary,
        ImageAPIServer(api_key=KEYS["SECONDARY_KEY"], models=MODELS) as secondary,
    ):
        yield primary, secondary


async def test_the_secondary_serves_when_the_primary_is_overloaded(deployment, apis) -> None:
    primary, secondary = apis
    primary.fail_next(faults.overloaded())
    await deployment.start(providers_file(primary.base_url, secondary.base_url), primary, KEYS)

    result = await deployment.imagine()

    assert len(result.files) == 1
    assert (len(primary.requests), len(secondary.requests)) == (1, 1)
    stderr = await deployment.stop()
    assert "primary failed (Overloaded); trying the next provider" in stderr


async def test_a_hanging_primary_is_skipped_once_its_breaker_opens(deployment, apis) -> None:
    primary, secondary = apis
    for _ in range(3):
        primary.fail_next(faults.hang())
    await deployment.start(providers_file(primary.base_url, secondary.base_url, timeout=1), primary, KEYS)

    for _ in range(3):  # each waits out the primary's timeout, then the secondary serves
        assert len((await deployment.imagine()).files) == 1
    started = time.monotonic()
    later = [await deployment.imagine() for _ in range(3)]

    assert all(len(result.files) == 1 for result in later)
    assert time.monotonic() - started < 3.0  # no timeout waited: the breaker sends them straight on
    assert (len(primary.requests), len(secondary.requests)) == (3, 6)


async def test_a_safety_refusal_is_told_and_not_tried_elsewhere(deployment, apis) -> None:
    primary, secondary = apis
    primary.fail_next(faults.safety())
    await deployment.start(providers_file(primary.base_url, secondary.base_url), primary, KEYS)

    refused = await deployment.imagine()

    assert refused.content == catalogue.text("en-US", "error.safety")
    assert secondary.requests == []
