"""A fair job queue: a fixed number of slots, shared round-robin across servers, then across their users.

When a slot frees, the next job comes from the server at the head of the rotation of servers with queued
jobs; that server goes to the back of the rotation if it still has jobs. Within a server its users take
turns the same way, and each user's own jobs start first come, first served. A server that arrives joins
the back of the rotation, so it waits behind at most one job of each server already waiting, and no stream
of newcomers can starve those. A job without a server (a DM) counts as a server of its own, keyed by its
user, so DM users neither share one turn nor one server cap.

With a gate (slots shared by several processes), a job starts only once the gate also grants a slot: the
queue asks for one lease per free local slot while jobs wait, and the job to start is chosen when a lease
arrives, so the order stays fair within the process.

A job is kept until `result()` has returned (or raised) its outcome once; callers should ask for every job's
result, since an outcome nobody asks for stays until the queue is dropped.
"""

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar, cast

from bot.core.errors import JobCancelled, QueueClosed, QueueFull
from bot.core.slots import Lease, SlotGate

log = logging.getLogger(__name__)

GATE_RETRY_SECONDS = 1.0
T = TypeVar("T")
X = TypeVar("X")
ServerKey = int | tuple[str, int]


class QueueState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a job stands: its 1-based place among queued jobs in start order, or when it started running."""

    state: QueueState
    position: int | None
    started_at: float | None


@dataclass(eq=False, slots=True)
class _Job(Generic[T]):
    id: str
    server: ServerKey
    user_id: int
    work: Callable[[], Awaitable[T]]
    state: QueueState = QueueState.QUEUED
    started_at: float | None = None
    value: T | None = None
    error: BaseException | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(eq=False, slots=True)
class _Server(Generic[T]):
    users: OrderedDict[int, deque[_Job[T]]] = field(default_factory=OrderedDict)
    queued: int = 0


class FairQueue(Generic[T]):
    """Runs jobs' work in at most `slots` tasks at once, starting queued jobs fairly."""

    def __init__(
        self,
        slots: int,
        *,
        max_per_user: int = 0,
        max_per_server: int = 0,
        gate: SlotGate | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if slots < 1:
            raise ValueError("a queue needs at least one slot")
        self._slots = slots
        self._max_per_user = max_per_user  # 0: no cap; caps count queued jobs only
        self._max_per_server = max_per_server
        self._clock = clock
        self._jobs: dict[str, _Job[T]] = {}
        self._servers: OrderedDict[ServerKey, _Server[T]] = OrderedDict()  # the rotation, head next
        self._queued_by_user: dict[int, int] = {}  # across servers
        self._queued = 0
        self._running: dict[asyncio.Task[T], _Job[T]] = {}
        self._listeners: list[Callable[[], None]] = []
        self._closed = False
        self._gate = gate
        self._leasing: set[asyncio.Task[None]] = set()  # each waits for the gate's slot for the next job

    @property
    def slots(self) -> int:
        return self._slots

    @property
    def queued(self) -> int:
        return self._queued

    @property
    def running(self) -> int:
        return len(self._running)

    @property
    def closed(self) -> bool:
        """Whether close() was called: no more jobs are taken."""
        return self._closed

    def submit(self, job_id: str, server_id: int | None, user_id: int, work: Callable[[], Awaitable[T]]) -> None:
        """Queue `work`; raises QueueFull when the user's or server's queued jobs are at their cap, or QueueClosed."""
        if self._closed:
            raise QueueClosed
        if job_id in self._jobs:
            raise ValueError(f"job {job_id} is already in the queue")
        key = _server_key(server_id, user_id)
        if self._max_per_user and (queued := self._queued_by_user.get(user_id, 0)) >= self._max_per_user:
            raise QueueFull("user", queued, self._max_per_user)
        server = self._servers.get(key)
        if self._max_per_server and server is not None and server.queued >= self._max_per_server:
            raise QueueFull("server", server.queued, self._max_per_server)
        job = _Job(job_id, key, user_id, work)
        self._jobs[job_id] = job
        if server is None:
            server = self._servers[key] = _Server()
        server.users.setdefault(user_id, deque()).append(job)
        self._count(job, server, 1)
        self._dispatch()
        self._notify()

    async def result(self, job_id: str) -> T:
        """Wait for the job's work to finish and return its result; re-raises its exception, or JobCancelled."""
        job = self._jobs[job_id]
        await job.done.wait()  # an Event, so a cancelled waiter leaves the job alone
        self._jobs.pop(job_id, None)  # delivered: forget the job
        if job.error is not None:
            raise job.error
        return cast(T, job.value)

    def cancel(self, job_id: str) -> bool:
        """Take a queued job out of the queue (True); a running, finished or unknown job is left alone (False)."""
        job = self._jobs.get(job_id)
        if job is None or job.state is not QueueState.QUEUED:
            return False
        server = self._servers[job.server]
        jobs = server.users[job.user_id]
        jobs.remove(job)
        if not jobs:
            del server.users[job.user_id]
        if not server.users:
            del self._servers[job.server]
        self._count(job, server, -1)
        _settle(job, QueueState.CANCELLED, JobCancelled("requester"))
        self._notify()
        return True

    def place(self, job_id: str) -> Place | None:
        """Where the job stands, or None for a job the queue doesn't know (or no longer keeps)."""
        job = self._jobs.get(job_id)
        if job is None:
            return None
        if job.state is QueueState.QUEUED:
            position = next(n for n, queued in enumerate(self._order(), 1) if queued is job)
            return Place(job.state, position, None)
        return Place(job.state, None, job.started_at)

    def places(self) -> dict[str, Place]:
        """Every queued or running job's place, in one pass over the queue."""
        places = {job.id: Place(job.state, None, job.started_at) for job in self._running.values()}
        for position, job in enumerate(self._order(), 1):
            places[job.id] = Place(job.state, position, None)
        return places

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` (cheap, synchronous) after every change of state; returns its unsubscribe function."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def close(self, grace: float) -> tuple[list[str], list[str]]:
        """Cancel queued jobs, give running ones `grace` seconds, then cancel them; returns both lists of ids."""
        self._closed = True
        queued = list(self._order())
        self._servers.clear()
        self._queued_by_user.clear()
        self._queued = 0
        for job in queued:
            _settle(job, QueueState.CANCELLED, JobCancelled("shutdown"))
        for leasing in self._leasing:
            leasing.cancel()
        self._notify()
        running = dict(self._running)
        late: list[asyncio.Task[T]] = []
        if running:
            await asyncio.wait(list(running), timeout=grace)
            late = [task for task in running if not task.done()]
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)
        # work that swallows its cancellation and returns counts as done
        stopped = [running[task].id for task in late if running[task].state is QueueState.CANCELLED]
        log.info("queue closed: %d queued and %d running jobs cancelled", len(queued), len(stopped))
        return [job.id for job in queued], stopped

    def _order(self) -> Iterator[_Job[T]]:
        """Queued jobs in the order they will start if no other job arrives."""
        return _round_robin(_round_robin(server.users.values()) for server in self._servers.values())

    def _count(self, job: _Job[T], server: _Server[T], change: int) -> None:
        server.queued += change
        self._queued += change
        by_user = self._queued_by_user.get(job.user_id, 0) + change
        if by_user:
            self._queued_by_user[job.user_id] = by_user
        else:
            del self._queued_by_user[job.user_id]  # no entry per user who ever queued

    def _dispatch(self) -> None:
        while self._queued > len(self._leasing) and len(self._running) + len(self._leasing) < self._slots:
            if self._gate is None:
                self._start()
            else:
                task = asyncio.create_task(self._start_when_leased(self._gate), name="queue-lease")
                self._leasing.add(task)
                task.add_done_callback(self._leasing.discard)

    async def _start_when_leased(self, gate: SlotGate) -> None:
        try:
            lease = await gate.acquire()
        except Exception:  # the gate retries what it expects; anything else must not stall the queue
            log.exception("could not take a shared slot; trying again")
            await asyncio.sleep(GATE_RETRY_SECONDS)
            self._leasing.discard(asyncio.current_task())
            self._dispatch()
            return
        self._leasing.discard(asyncio.current_task())
        if self._queued == 0:  # cancelled or closed meanwhile
            await asyncio.shield(gate.release(lease))
            return
        self._start(_holding(lease, gate))
        self._notify()

    def _start(self, wrap: Callable[[Callable[[], Awaitable[T]]], Callable[[], Awaitable[T]]] | None = None) -> None:
        """Start the next job in fair order; `wrap` wraps its work (to hold a lease while it runs)."""
        key, server = self._servers.popitem(last=False)
        user_id, jobs = server.users.popitem(last=False)
        job = jobs.popleft()
        if jobs:
            server.users[user_id] = jobs  # back of the server's rotation of users
        if server.users:
            self._servers[key] = server  # back of the rotation of servers
        self._count(job, server, -1)
        job.state = QueueState.RUNNING
        job.started_at = self._clock()
        work = job.work if wrap is None else wrap(job.work)
        task = asyncio.create_task(_call(work), name=f"queue-job-{job.id}")
        self._running[task] = job
        task.add_done_callback(self._finished)
        log.debug("job %s started (server %s, user %s)", job.id, job.server, job.user_id)

    def _finished(self, task: asyncio.Task[T]) -> None:
        job = self._running.pop(task)
        if task.cancelled():
            _settle(job, QueueState.CANCELLED, JobCancelled("shutdown"))  # only close() cancels running work
        elif (error := task.exception()) is not None:  # read here, so it is never "never retrieved"
            _settle(job, QueueState.DONE, error)
        else:
            job.value = task.result()
            _settle(job, QueueState.DONE, None)
        log.debug("job %s %s", job.id, job.state)
        self._dispatch()
        self._notify()

    def _notify(self) -> None:
        for listener in tuple(self._listeners):
            try:
                listener()
            except Exception:
                log.exception("queue listener %r failed", listener)


def _server_key(server_id: int | None, user_id: int) -> ServerKey:
    return ("dm", user_id) if server_id is None else server_id


def _settle(job: _Job[T], state: QueueState, error: BaseException | None) -> None:
    job.state = state
    job.error = error
    job.done.set()


async def _call(work: Callable[[], Awaitable[T]]) -> T:
    return await work()


def _holding(lease: Lease, gate: SlotGate) -> Callable[[Callable[[], Awaitable[X]]], Callable[[], Awaitable[X]]]:
    """A wrapper of work that frees the lease when the work ends, even when it is cancelled."""

    def wrap(work: Callable[[], Awaitable[X]]) -> Callable[[], Awaitable[X]]:
        async def held() -> X:
            try:
                return await work()
            finally:
                await asyncio.shield(gate.release(lease))

        return held

    return wrap


def _round_robin(queues: Iterable[Iterable[X]]) -> Iterator[X]:
    """One item from each queue in turn, dropping queues as they run out."""
    turns = deque(iter(queue) for queue in queues)
    while turns:
        turn = turns.popleft()
        for item in turn:  # at most one: the queue then goes to the back
            yield item
            turns.append(turn)
            break
