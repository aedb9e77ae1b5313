"""Which job a log line belongs to, carried by contextvars, and how prompts may appear in logs."""

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JobIds:
    """The ids every log line of a job carries."""

    job: str
    guild: int | None
    user: int


# Tasks and threads (asyncio.to_thread) started inside a job copy the context, so their lines carry it too.
_current: ContextVar[JobIds | None] = ContextVar("log_job", default=None)


@contextlib.contextmanager
def job_context(job_id: str, guild_id: int | None, user_id: int) -> Iterator[None]:
    """Tag every log record emitted inside the block (and in tasks started there) with the job's ids."""
    token = _current.set(JobIds(job_id, guild_id, user_id))
    try:
        yield
    finally:
        _current.reset(token)


class JobContextFilter(logging.Filter):
    """Adds `job`, `guild` and `user` attributes to records emitted inside a job_context."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _current.get()
        if ids is not None and not hasattr(record, "job"):  # ids given explicitly through `extra` win
            record.job = ids.job
            record.guild = ids.guild
            record.user = ids.user
        return True


def prompt_for_log(prompt: str, log_prompts: bool) -> str:
    """The prompt itself when the operator allows it, else only its length (members' text stays private)."""
    return prompt if log_prompts else f"<prompt: {len(prompt)} chars>"
