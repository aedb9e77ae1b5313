import asyncio
import contextlib
import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from bot.core.log_context import job_context, prompt_for_log
from bot.logs import REDACTED, setup_logging

TOKEN = "discord-token-abc.123"
API_KEY = "sk-image-key-456"

log = logging.getLogger("tests.logs")


@contextlib.contextmanager
def logging_into(fmt: str, secrets: tuple[str, ...] = ()) -> Iterator[io.StringIO]:
    """The bot's logging setup writing to a buffer, undone on exit.

    A context manager rather than a fixture: undone inside the test's own phase, pytest's capture handlers of that
    phase come back, and none of an earlier phase is resurrected.
    """
    root = logging.getLogger()
    named = [logging.getLogger(name) for name in ("discord.http", "discord.gateway")]
    handlers, level, levels = root.handlers[:], root.level, [logger.level for logger in named]
    out = io.StringIO()
    setup_logging("DEBUG", fmt, secrets=secrets, stream=out)
    try:
        yield out
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for logger, old in zip(named, levels, strict=True):
            logger.setLevel(old)


def json_lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_hold_time_level_logger_and_formatted_message() -> None:
    with logging_into("json") as out:
        log.info("delivered %d images", 3)
        log.warning("second")
    first, second = json_lines(out)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", str(first["time"]))
    assert first["level"] == "INFO"
    assert first["logger"] == "tests.logs"
    assert first["message"] == "delivered 3 images"
    assert second["level"] == "WARNING"
    assert "exc" not in first


def test_json_lines_carry_the_traceback() -> None:
    with logging_into("json") as out:
        try:
            raise ValueError("bad picture")
        except ValueError:
            log.exception("job failed")
    (line,) = json_lines(out)
    assert line["message"] == "job failed"
    assert "Traceback" in str(line["exc"])
    assert "ValueError: bad picture" in str(line["exc"])


def test_job_ids_are_on_lines_inside_the_context_only() -> None:
    with logging_into("json") as out:
        log.info("before")
        with job_context("0123456789abcdef", 42, 7):
            log.info("inside")
        log.info("after")
    before, inside, after = json_lines(out)
    assert (inside["job"], inside["guild"], inside["user"]) == ("0123456789abcdef", 42, 7)
    for line in (before, after):
        assert not {"job", "guild", "user"} & line.keys()


def test_a_job_without_a_server_leaves_the_guild_out() -> None:
    with logging_into("json") as out, job_context("0123456789abcdef", None, 7):
        log.info("in a DM")
    (line,) = json_lines(out)
    assert (line["job"], line["user"]) == ("0123456789abcdef", 7)
    assert "guild" not in line


async def test_tasks_started_inside_the_context_carry_it() -> None:
    async def work() -> None:
        await asyncio.sleep(0)
        log.info("from the task")

    with logging_into("json") as out:
        with job_context("fedcba9876543210", 1, 2):
            task = asyncio.create_task(work())
        await task  # runs after the block has exited: the task holds its own copy of the context
    (line,) = json_lines(out)
    assert (line["job"], line["guild"], line["user"]) == ("fedcba9876543210", 1, 2)


def test_text_lines_of_a_job_end_with_its_ids() -> None:
    with logging_into("text") as out:
        log.info("outside")
        with job_context("0123456789abcdef", 42, 7):
            log.info("inside %s", "a job")
    outside, inside = out.getvalue().splitlines()
    assert outside.endswith("INFO    tests.logs: outside")
    assert inside.endswith("tests.logs: inside a job [job=0123456789abcdef guild=42 user=7]")


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_are_redacted_from_messages(fmt: str) -> None:
    with logging_into(fmt, secrets=(TOKEN, API_KEY)) as out:
        log.info("token %s and key %s", TOKEN, API_KEY)
        log.info(f"inline {API_KEY}")
    text = out.getvalue()
    assert TOKEN not in text
    assert API_KEY not in text
    assert text.count(REDACTED) == 3


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_secrets_are_redacted_from_tracebacks(fmt: str) -> None:
    with logging_into(fmt, secrets=(TOKEN, API_KEY)) as out:
        try:
            raise RuntimeError(f"login refused for {TOKEN}")
        except RuntimeError:
            log.exception("login failed")
    text = out.getvalue()
    assert TOKEN not in text
    assert f"RuntimeError: login refused for {REDACTED}" in (json_lines(out)[0]["exc"] if fmt == "json" else text)


def test_an_empty_secret_redacts_nothing() -> None:
    with logging_into("text", secrets=("", API_KEY)) as out:
        log.info("plain line")
    assert REDACTED not in out.getvalue()
    assert "plain line" in out.getvalue()


def test_pytest_capture_works_again_afterwards(caplog: pytest.LogCaptureFixture) -> None:
    with logging_into("json"):
        log.warning("into the buffer")
    log.warning("into pytest's capture")
    assert [record.getMessage() for record in caplog.records] == ["into pytest's capture"]


def test_prompts_appear_only_when_allowed() -> None:
    prompt = "a lighthouse at dusk"
    assert prompt_for_log(prompt, log_prompts=True) == prompt
    assert prompt_for_log(prompt, log_prompts=False) == "<prompt: 20 chars>"
