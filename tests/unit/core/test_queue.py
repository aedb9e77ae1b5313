"""The fair queue on a real event loop: work waits on gates the tests open, so every order is exact."""

import asyncio
import gc
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from bot.core import errors, queue
from bot.core.queue import FairQueue, Place, QueueState
from bot.core.slots import Lease

log = logging.getLogger(__name__)


class Harness:
    """A queue whose jobs' work waits for gates the test opens, recording start order, peak and cancellations."""

    def __init__(
        self,
        slots: int = 1,
        *,
        max_per_user: int = 0,
        max_per_server: int = 0,
        gate: "GrantedSlots | None" = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue: FairQueue[str] = FairQueue(
            slots, max_per_user=max_per_user, max_per_server=max_per_server, gate=gate, clock=clock
        )
        self.started: list[str] = []
        self.active: list[str] = []  # started and not finished, oldest first
        self.cancelled: list[str] = []
        self.peak = 0
        self._gates: dict[str, asyncio.Event] = {}
        self._changed = asyncio.Event()  # set by the queue's listener and by work starting or ending
        self.queue.subscribe(self._changed.set)

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait until `condition` holds; a stuck queue fails the test within a second."""
        async with asyncio.timeout(1):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    def submit(self, job_id: str, server_id: int | None, user_id: int, error: Exception | None = None) -> None:
        gate = asyncio.Event()
        self.queue.submit(job_id, server_id, user_id, self._work(job_id, gate, error))
        self._gates[job_id] = gate  # only once accepted: a refused job must not replace a waiting job's gate

    def _work(self, job_id: str, gate: asyncio.Event, error: Exception | None) -> Callable[[], Awaitable[str]]:
        async def work() -> str:
            self.started.append(job_id)
            self.active.append(job_id)
            self.peak = max(self.peak, len(self.active))
            self._changed.set()
            try:
                await gate.wait()
            except asyncio.CancelledError:
                self.cancelled.append(job_id)
                raise
            finally:
                self.active.remove(job_id)
                self._changed.set()
            if error is not None:
                raise error
            return f"result of {job_id}"

        return work

    async def result(self, job_id: str) -> str:
        """The job's result, within a second (a lost job fails the test rather than hanging it)."""
        async with asyncio.timeout(1):
            return await self.queue.result(job_id)

    async def close(self, grace: float) -> tuple[list[str], list[str]]:
        async with asyncio.timeout(grace + 1):
            return await self.queue.close(grace)

    def open(self, job_id: str) -> None:
        self._gates[job_id].set()

    async def finish(self, job_id: str | None = None) -> None:
        """Let one running job (the oldest by default) finish, and wait until a queued job takes its slot."""
        await self.until(self.settled)
        job_id = job_id or self.active[0]
        starts = len(self.started) + (1 if self.queue.queued else 0)
        self.open(job_id)
        await self.until(lambda: job_id not in self.active and len(self.started) == starts and self.settled())

    def settled(self) -> bool:
        """Every job the queue runs has begun its work, and every job that ended has left its slot."""
        return len(self.active) == self.queue.running

    async def drain(self) -> list[str]:
        """Finish the oldest running job until none is left; returns the jobs that started meanwhile."""
        await self.until(self.settled)
        before = len(self.started)
        while self.queue.running:
            await self.finish()
        return self.started[before:]


class GrantedSlots:
    """A slot gate (as other processes share) whose slots the test grants; it can fail its first acquires."""

    def __init__(self, *, failures: int = 0) -> None:
        self.free = 0
        self.held: set[Lease] = set()
        self.failures = failures
        self._serial = 0
        self._changed = asyncio.Event()

    def grant(self, slots: int = 1) -> None:
        self.free += slots
        self._changed.set()

    async def acquire(self) -> Lease:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the database went away")
        while not self.free:
            self._changed.clear()
            await self._changed.wait()
        self.free -= 1
        self._serial += 1
        lease = Lease(0, str(self._serial))
        self.held.add(lease)
        return lease

    async def release(self, lease: Lease) -> None:
        self.held.remove(lease)
        self.grant()


@pytest.fixture(autouse=True)
async def unhandled() -> AsyncIterator[list[dict[str, object]]]:
    """What the loop was left to report (task or future exceptions nobody read); none may be, nor any task leak."""
    loop = asyncio.get_running_loop()
    before = asyncio.all_tasks()
    reported: list[dict[str, object]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    yield reported
    gc.collect()  # an unread exception is reported when its task or future is collected
    loop.set_exception_handler(previous)
    assert reported == []
    # the session's event loop may hold other tests' long-lived services (the bot's own tasks): only the
    # queue's job tasks are this test's to account for
    leaked = {task for task in asyncio.all_tasks() - before if task.get_name().startswith("queue-job-")}
    assert leaked == set()


async def test_the_guard_sees_an_exception_nobody_read(unhandled) -> None:
    future = asyncio.get_running_loop().create_future()
    future.set_exception(ValueError("unread"))
    del future
    gc.collect()
    assert [type(context["exception"]) for context in unhandled] == [ValueError]
    unhandled.clear()


async def test_no_more_jobs_run_at_once_than_there_are_slots() -> None:
    harness = Harness(slots=3)
    for n in range(30):
        harness.submit(f"j{n}", n % 4, n % 7)
    assert (harness.queue.running, harness.queue.queued) == (3, 27)
    rng = random.Random(7)
    while harness.queue.running:
        await harness.until(harness.settled)
        assert harness.queue.running == min(3, harness.queue.running + harness.queue.queued)
        await harness.finish(rng.choice(harness.active))
    assert harness.peak == 3
    assert sorted(harness.started) == sorted(f"j{n}" for n in range(30))


async def test_one_users_jobs_start_first_come_first_served() -> None:
    harness = Harness()
    for n in range(5):
        harness.submit(f"j{n}", 1, 10)
    assert await harness.drain() == ["j1", "j2", "j3", "j4"]
    assert harness.started == ["j0", "j1", "j2", "j3", "j4"]


async def test_servers_take_turns_then_their_users_then_each_users_jobs_in_order() -> None:
    harness = Harness()
    harness.submit("x", 99, 1)  # takes the only slot
    for job_id, server_id, user_id in [
        ("a1", 1, 11),
        ("a2", 1, 11),
        ("b1", 1, 12),
        ("c1", 2, 21),
        ("a3", 1, 11),
        ("c2", 2, 21),
        ("d1", None, 31),  # a DM: a server of its own
        ("e1", 2, 22),
    ]:
        harness.submit(job_id, server_id, user_id)
    expected = ["a1", "c1", "d1", "b1", "e1", "a2", "c2", "a3"]
    places = harness.queue.places()
    assert places["x"].state is QueueState.RUNNING
    assert [places[job_id].position for job_id in expected] == list(range(1, 9))
    assert await harness.drain() == expected


async def test_a_server_that_arrives_waits_behind_one_job_of_each_waiting_server() -> None:
    harness = Harness()
    for n in range(10):
        harness.submit(f"a{n}", 1, 11)
        harness.submit(f"b{n}", 2, 21)
    await harness.finish()  # a0 ends, b0 starts: servers 1 and 2 are waiting, in that order
    harness.submit("c0", 3, 31)
    assert harness.queue.place("c0") == Place(QueueState.QUEUED, 3, None)
    for _ in range(3):
        await harness.finish()
    assert harness.started == ["a0", "b0", "a1", "b1", "c0"]
    await harness.drain()


async def test_a_single_job_from_another_server_starts_after_at_most_one_more_job_of_a_busy_one() -> None:
    harness = Harness(slots=2)
    for n in range(52):
        harness.submit(f"a{n}", 1, 10 + n % 5)
    assert (harness.queue.running, harness.queue.queued) == (2, 50)
    await harness.until(harness.settled)
    harness.submit("b", 2, 20)
    assert harness.queue.place("b") == Place(QueueState.QUEUED, 2, None)
    before = len(harness.started)
    while "b" not in harness.started:
        await harness.finish()
    started_since = harness.started[before:]
    assert started_since[-1] == "b"
    assert len(started_since) <= 2  # at most one more job of server 1 went first
    await harness.drain()


async def test_positions_predict_the_order_jobs_start_in() -> None:
    harness = Harness(slots=2)
    rng = random.Random(42)
    for n in range(200):
        harness.submit(f"j{n}", rng.choice([1, 2, 3, 4, None]), rng.randrange(6))
    places = harness.queue.places()
    queued = sorted((place.position, job_id) for job_id, place in places.items() if place.state is QueueState.QUEUED)
    assert [position for position, _ in queued] == list(range(1, 199))
    assert all(harness.queue.place(job_id) == place for job_id, place in places.items())
    running = [job_id for job_id, place in places.items() if place.state is QueueState.RUNNING]
    assert running == ["j0", "j1"]
    assert all(places[job_id].started_at is not None and places[job_id].position is None for job_id in running)
    assert await harness.drain() == [job_id for _, job_id in queued]


async def test_a_cancelled_queued_job_leaves_its_place_and_no_slot_behind() -> None:
    harness = Harness()
    for job_id in ["x", "q1", "q2", "q3"]:
        harness.submit(job_id, 1, 10)
    assert harness.queue.cancel("q2") is True
    with pytest.raises(errors.JobCancelled) as cancelled:
        await harness.result("q2")
    assert cancelled.value.reason == "requester"
    assert {job_id: place.position for job_id, place in harness.queue.places().items()} == {
        "x": None,
        "q1": 1,
        "q3": 2,
    }
    assert (harness.queue.running, harness.queue.queued) == (1, 2)
    assert await harness.drain() == ["q1", "q3"]
    assert "q2" not in harness.started


async def test_running_finished_and_unknown_jobs_are_not_cancelled() -> None:
    harness = Harness()
    harness.submit("x", 1, 10)
    harness.submit("q", 1, 10)
    assert harness.queue.cancel("x") is False
    assert harness.queue.cancel("nope") is False
    await harness.drain()
    assert harness.queue.cancel("q") is False
    assert await harness.result("x") == "result of x"
    assert await harness.result("q") == "result of q"


async def test_caps_count_queued_jobs_only() -> None:
    harness = Harness(max_per_user=2, max_per_server=3)
    harness.submit("run", 1, 10)  # running: not counted
    harness.submit("u1", 1, 10)
    harness.submit("u2", 1, 10)
    with pytest.raises(errors.QueueFull) as full:
        harness.submit("u3", 2, 10)  # the user's cap holds across servers
    assert (full.value.scope, full.value.queued, full.value.limit) == ("user", 2, 2)
    harness.submit("v1", 1, 11)
    with pytest.raises(errors.QueueFull) as full:
        harness.submit("w1", 1, 12)
    assert (full.value.scope, full.value.queued, full.value.limit) == ("server", 3, 3)
    harness.submit("w1", 2, 12)  # another server has room
    harness.submit("dm1", None, 13)
    harness.submit("dm2", None, 13)
    with pytest.raises(errors.QueueFull) as full:
        harness.submit("dm3", None, 13)
    assert full.value.scope == "user"
    await harness.finish()  # u1 starts running, so the user may queue one more
    harness.submit("u3", 1, 10)
    await harness.drain()


async def test_the_works_exception_reaches_result() -> None:
    harness = Harness()
    harness.submit("bad", 1, 10, error=ValueError("boom"))

    def broken() -> Awaitable[str]:
        raise RuntimeError("no coroutine")

    harness.queue.submit("broken", 1, 11, broken)
    harness.open("bad")
    with pytest.raises(ValueError, match="boom"):
        await harness.result("bad")
    with pytest.raises(RuntimeError, match="no coroutine"):
        await harness.result("broken")


async def test_an_outcome_is_kept_until_result_returns_it() -> None:
    now = [100.0]
    harness = Harness(clock=lambda: now[0])
    harness.submit("a", 1, 10)
    now[0] = 105.0
    harness.submit("b", 1, 10)
    await harness.finish("a")
    assert harness.queue.place("a") == Place(QueueState.DONE, None, 100.0)
    assert harness.queue.place("b") == Place(QueueState.RUNNING, None, 105.0)
    assert await harness.result("a") == "result of a"
    assert harness.queue.place("a") is None
    with pytest.raises(KeyError):
        await harness.result("a")
    with pytest.raises(KeyError):
        await harness.result("never submitted")
    harness.open("b")
    assert await harness.result("b") == "result of b"


async def test_a_cancelled_waiter_leaves_the_job_running() -> None:
    harness = Harness()
    harness.submit("a", 1, 10)
    waiter = asyncio.create_task(harness.queue.result("a"))
    await harness.until(lambda: harness.started == ["a"])
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert harness.queue.place("a").state is QueueState.RUNNING
    harness.open("a")
    assert await harness.result("a") == "result of a"


async def test_a_failure_nobody_asks_about_is_not_reported_as_unread(unhandled) -> None:
    harness = Harness()
    harness.submit("bad", 1, 10, error=ValueError("boom"))
    waiter = asyncio.create_task(harness.queue.result("bad"))
    await harness.until(lambda: harness.started == ["bad"])
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    await harness.drain()
    await harness.until(lambda: harness.queue.running == 0)
    del waiter
    gc.collect()
    assert unhandled == []
    assert harness.queue.place("bad").state is QueueState.DONE


async def test_close_cancels_queued_jobs_at_once_and_running_ones_after_the_grace() -> None:
    harness = Harness(slots=2)
    harness.submit("fast", 1, 10)
    harness.submit("slow", 2, 20)
    for job_id in ["q1", "q2", "q3"]:
        harness.submit(job_id, 3, 30)
    await harness.until(lambda: len(harness.active) == 2)
    closing = asyncio.create_task(harness.close(grace=0.02))
    await harness.until(lambda: harness.queue.queued == 0)
    assert harness.queue.place("q1") == Place(QueueState.CANCELLED, None, None)
    with pytest.raises(errors.QueueClosed):
        harness.submit("late", 1, 10)
    harness.open("fast")
    assert await closing == (["q1", "q2", "q3"], ["slow"])
    assert harness.cancelled == ["slow"]
    assert await harness.result("fast") == "result of fast"
    for job_id in ["slow", "q1", "q2", "q3"]:
        with pytest.raises(errors.JobCancelled) as cancelled:
            await harness.result(job_id)
        assert cancelled.value.reason == "shutdown"
    assert await harness.close(grace=1) == ([], [])


async def test_close_returns_as_soon_as_running_jobs_finish() -> None:
    harness = Harness()
    harness.submit("a", 1, 10)
    await harness.until(lambda: harness.started == ["a"])
    began = time.perf_counter()
    closing = asyncio.create_task(harness.close(grace=10))
    await asyncio.sleep(0)
    harness.open("a")
    assert await closing == ([], [])
    assert time.perf_counter() - began < 1
    assert await harness.result("a") == "result of a"


async def test_listeners_hear_every_change_until_they_unsubscribe(caplog) -> None:
    harness = Harness()
    seen: list[tuple[int, int]] = []
    unsubscribe = harness.queue.subscribe(lambda: seen.append((harness.queue.queued, harness.queue.running)))

    def broken() -> None:
        raise RuntimeError("listener bug")

    harness.queue.subscribe(broken)
    harness.submit("a", 1, 10)
    harness.submit("b", 1, 10)
    harness.submit("c", 2, 20)
    harness.queue.cancel("c")
    harness.queue.cancel("c")  # no change, no call
    await harness.drain()
    assert seen == [(0, 1), (1, 1), (2, 1), (1, 1), (0, 1), (0, 0)]
    assert "listener" in caplog.text
    unsubscribe()
    await harness.close(grace=0)
    assert len(seen) == 6


async def test_places_of_a_thousand_queued_jobs_are_quick() -> None:
    harness = Harness()
    for n in range(1001):
        harness.submit(f"j{n}", n % 25, n % 200)
    began = time.perf_counter()
    for _ in range(10):
        places = harness.queue.places()
    elapsed = (time.perf_counter() - began) / 10
    log.info("places() over %d queued jobs: %.2f ms", harness.queue.queued, elapsed * 1000)
    assert len(places) == 1001
    assert elapsed < 0.5  # loose: catches a quadratic pass, not a slow machine
    await harness.close(grace=0)


async def test_submit_refuses_a_job_id_in_use_and_a_queue_needs_a_slot() -> None:
    harness = Harness()
    harness.submit("a", 1, 10)
    with pytest.raises(ValueError, match="already"):
        harness.submit("a", 1, 10)
    with pytest.raises(ValueError, match="slot"):
        FairQueue(0)
    await harness.drain()
    assert await harness.result("a") == "result of a"


async def test_with_a_gate_jobs_stay_queued_until_it_grants_a_slot_and_start_in_fair_order() -> None:
    gate = GrantedSlots()
    harness = Harness(2, gate=gate)
    for job_id, server_id, user_id in [("a1", 1, 11), ("a2", 1, 11), ("a3", 1, 11), ("b1", 2, 21)]:
        harness.submit(job_id, server_id, user_id)
    await asyncio.sleep(0.01)
    assert harness.started == [] and harness.queue.place("a1") == Place(QueueState.QUEUED, 1, None)

    gate.grant()
    await harness.until(lambda: harness.started == ["a1"])
    gate.grant()  # the order is the queue's, whoever asked for the slot
    await harness.until(lambda: harness.started == ["a1", "b1"])
    assert len(gate.held) == 2
    assert await harness.drain() == ["a2", "a3"]  # each freed slot goes back to the gate and comes again
    assert gate.held == set() and gate.free == 2


async def test_a_gate_that_fails_does_not_stall_the_queue(monkeypatch, caplog) -> None:
    monkeypatch.setattr(queue, "GATE_RETRY_SECONDS", 0.01)
    gate = GrantedSlots(failures=2)
    gate.grant()
    harness = Harness(gate=gate)
    harness.submit("a1", 1, 11)
    harness.open("a1")
    assert await harness.result("a1") == "result of a1"
    assert caplog.text.count("could not take a shared slot") == 2


async def test_a_job_cancelled_while_waiting_for_a_slot_gives_the_slot_back() -> None:
    gate = GrantedSlots()
    harness = Harness(gate=gate)
    harness.submit("a1", 1, 11)
    assert harness.queue.cancel("a1")
    gate.grant()
    await asyncio.sleep(0.01)
    assert harness.started == [] and gate.held == set() and gate.free == 1


async def test_closing_stops_waiting_for_slots() -> None:
    gate = GrantedSlots()
    harness = Harness(gate=gate)
    harness.submit("a1", 1, 11)
    harness.submit("a2", 1, 12)
    assert await harness.close(0) == (["a1", "a2"], [])
    gate.grant()
    await asyncio.sleep(0.01)
    assert harness.started == [] and gate.held == set()
