"""Live progress in each waiting member's response: "queued — position 3", then "generating… 12 s".

Edits are throttled twice over, so that a long queue never trips Discord's rate limits: one response is
edited at most every `interval` seconds (Discord allows 5 edits per 2 s per interaction), and all responses
together at most `edits_per_second` (the jobs nearest to starting first).
"""

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

import discord

from bot.app.i18n import catalogue
from bot.app.results.buttons import cancel_view
from bot.core.jobs import JobService
from bot.core.queue import Place, QueueState

log = logging.getLogger(__name__)

INTERVAL = 3.0  # seconds between two edits of one response
EDITS_PER_SECOND = 20.0  # for all responses together
TICK = 1.0  # how often the board looks again when nothing changes (the "generating… N s" clock)
SHOW_RUNNING_AFTER = 3.0  # a job that starts at once keeps Discord's own "thinking…" for its first seconds


@dataclass(slots=True)
class _Watched:
    interaction: discord.Interaction
    shown: str = ""
    last_edit: float = 0.0
    editing: asyncio.Task[None] | None = field(default=None)


class ProgressBoard:
    """Keeps the responses of waiting jobs up to date, within Discord's rate limits."""

    def __init__(
        self,
        jobs: JobService,
        *,
        interval: float = INTERVAL,
        edits_per_second: float = EDITS_PER_SECOND,
        tick: float = TICK,
    ) -> None:
        self._jobs = jobs
        self._interval = interval
        self._edits_per_second = edits_per_second
        self._tick = tick
        self._watched: dict[str, _Watched] = {}
        self._changed = asyncio.Event()
        self._budget = 0.0
        self._last_pass = time.monotonic()
        self._runner: asyncio.Task[None] | None = None
        self._unsubscribe = jobs.subscribe(self._changed.set)

    def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name="progress-board")

    async def stop(self) -> None:
        self._unsubscribe()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        for watched in self._watched.values():
            if watched.editing is not None:
                watched.editing.cancel()

    def watch(self, job_id: str, interaction: discord.Interaction) -> None:
        """Show this job's progress in the interaction's response until `unwatch`."""
        self._watched[job_id] = _Watched(interaction)
        self._changed.set()

    async def unwatch(self, job_id: str) -> None:
        """Stop editing the job's response, waiting for an edit under way, so that it can't land after the result."""
        watched = self._watched.pop(job_id, None)
        if watched is not None and watched.editing is not None:
            with contextlib.suppress(Exception):
                await watched.editing

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self._tick)
            self._changed.clear()
            try:
                self._update()
            except Exception:  # the board must outlive any one bad pass
                log.exception("progress update failed")

    def _update(self) -> None:
        now = time.monotonic()
        self._budget = min(self._edits_per_second, self._budget + (now - self._last_pass) * self._edits_per_second)
        self._last_pass = now
        places = self._jobs.places()
        due = []
        for job_id, watched in self._watched.items():
            place = places.get(job_id)
            if place is None or (watched.editing is not None and not watched.editing.done()):
                continue
            text = self._text(place, now, watched.interaction.locale, replaces_queue=bool(watched.shown))
            if text and text != watched.shown and now - watched.last_edit >= self._interval:
                due.append((_priority(place), job_id, watched, text, place.state is QueueState.QUEUED))
        for _, job_id, watched, text, cancellable in sorted(due, key=lambda item: item[0])[: int(self._budget)]:
            self._budget -= 1
            watched.shown, watched.last_edit = text, now
            watched.editing = asyncio.create_task(self._edit(job_id, watched, text, cancellable))

    def _text(self, place: Place, now: float, locale: discord.Locale, *, replaces_queue: bool) -> str:
        """What the response should say now; "" to leave Discord's "thinking…" alone for a job that started at once."""
        if place.state is QueueState.QUEUED and place.position is not None:
            return catalogue.text(locale, "progress.queued", position=place.position)
        if place.state is QueueState.RUNNING and place.started_at is not None:
            seconds = now - place.started_at
            if seconds >= SHOW_RUNNING_AFTER or replaces_queue:
                return catalogue.text(locale, "progress.generating", seconds=int(seconds))
        return ""

    async def _edit(self, job_id: str, watched: _Watched, text: str, cancellable: bool) -> None:
        view = cancel_view(job_id, watched.interaction.locale) if cancellable else None
        try:
            await watched.interaction.edit_original_response(content=text, view=view)
        except discord.HTTPException as error:
            log.debug("job %s: progress edit failed (%s); no more progress for it", job_id, error.status)
            self._watched.pop(job_id, None)


def _priority(place: Place) -> tuple[int, int]:
    """Running jobs first (their clock moves), then queued ones by how soon they start."""
    return (0, 0) if place.state is QueueState.RUNNING else (1, place.position or 0)
