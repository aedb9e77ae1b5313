"""Slots leased through PostgreSQL: the image API's cap and each provider's own hold across processes, and leases
never leak."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

import aiohttp
import pytest

from bot.core.providers.config import ProviderConfig
from bot.core.providers.factory import build_upstreams
from bot.core.providers.router import Router
from bot.core.queue import FairQueue
from bot.core.request import ImageRequest
from bot.core.storage import SharedSlotGate, Storage, open_storage
from bot.core.storage.postgres_slots import POLL_SECONDS
from tests.loopback.image_api import ImageAPIServer
from tests.storage_backends import run_sql
from tests.unit.core.storage.builders import NOW


class Gauge:
    """Counts work running at once, and the most that ever did."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0

    def work(self, seconds: float) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            self.now += 1
            self.most = max(self.most, self.now)
            try:
                await asyncio.sleep(seconds)
            finally:
                self.now -= 1

        return run


@pytest.fixture
async def processes(postgres_url: str) -> AsyncIterator[list[Storage]]:
    """Two processes' storages on one database."""
    storages = [await open_storage(postgres_url, f"shards-{n}") for n in range(2)]
    yield storages
    for storage in storages:
        await storage.close()


async def started(storage: Storage, cap: int, pool: str = "") -> SharedSlotGate:
    slots = storage.shared_slots(cap, pool)
    assert slots is not None
    await slots.start()
    return slots


async def test_sqlite_has_no_shared_slots(sqlite_url):
    storage = await open_storage(sqlite_url)
    try:
        assert storage.shared_slots(4) is None
    finally:
        await storage.close()


async def test_a_slot_freed_in_one_process_is_taken_at_once_in_another(processes):
    first, second = [await started(storage, 2) for storage in processes]
    try:
        held = [await first.acquire(), await first.acquire()]
        waiting = asyncio.create_task(second.acquire())
        await asyncio.sleep(0.3)
        assert not waiting.done()

        loop = asyncio.get_running_loop()
        freed_at = loop.time()
        await first.release(held[0])
        lease = await asyncio.wait_for(waiting, 5)
        assert lease.slot == held[0].slot
        assert loop.time() - freed_at < POLL_SECONDS / 2  # woken by the notification, not by polling
    finally:
        for slots in (first, second):
            await slots.close()


async def test_two_processes_never_hold_more_than_the_cap(processes):
    gates = [await started(storage, 3) for storage in processes]
    gauge = Gauge()

    async def hold(gate: SharedSlotGate) -> None:
        lease = await gate.acquire()
        try:
            await gauge.work(0.02)()
        finally:
            await gate.release(lease)

    try:
        await asyncio.wait_for(asyncio.gather(*(hold(gates[n % 2]) for n in range(40))), 30)
    finally:
        for gate in gates:
            await gate.close()
    assert gauge.most == 3


async def test_an_expired_lease_is_taken_and_its_late_release_frees_nothing(processes, postgres_url):
    first, second = [await started(storage, 1) for storage in processes]
    try:
        old = await first.acquire()
        await run_sql(postgres_url, "UPDATE api_slots SET expires_at = now() - interval '1 second'")
        new = await asyncio.wait_for(second.acquire(), 5)
        assert new.slot == old.slot

        await first.release(old)  # the dead holder's late release
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(first.acquire(), POLL_SECONDS * 1.5)
    finally:
        for slots in (first, second):
            await slots.close()


async def test_a_restarted_instance_frees_what_its_previous_run_held(processes, postgres_url):
    first, second = processes
    crashed = await started(first, 2)
    await crashed.acquire()
    await crashed.acquire()
    await crashed.close()  # without releasing: the process died

    restarted_storage = await open_storage(postgres_url, "shards-0")
    restarted = await started(restarted_storage, 2)
    other = await started(second, 2)
    try:
        assert {(await asyncio.wait_for(other.acquire(), 1)).slot for _ in range(2)} == {0, 1}
    finally:
        for slots in (restarted, other):
            await slots.close()
        await restarted_storage.close()


async def test_fair_queues_of_two_processes_share_the_cap(processes):
    gates = [await started(storage, 2) for storage in processes]
    queues = [FairQueue[None](2, gate=gate) for gate in gates]
    gauge = Gauge()
    try:
        for n in range(12):
            queues[n % 2].submit(f"job-{n}", server_id=n % 3, user_id=n, work=gauge.work(0.05))
        await asyncio.wait_for(asyncio.gather(*(queues[n % 2].result(f"job-{n}") for n in range(12))), 30)
    finally:
        for queue in queues:
            await queue.close(0)
        for gate in gates:
            await gate.close()
    assert gauge.most == 2


async def test_a_job_waiting_for_a_shared_slot_is_queued_and_can_be_cancelled(processes):
    first, second = [await started(storage, 1) for storage in processes]
    queue = FairQueue[None](1, gate=second)
    try:
        elsewhere = await first.acquire()
        queue.submit("job", server_id=1, user_id=1, work=Gauge().work(0))
        await asyncio.sleep(0.2)
        place = queue.place("job")
        assert place is not None and place.position == 1  # still queued: no slot anywhere

        assert queue.cancel("job")
        await first.release(elsewhere)
        queue.submit("next", server_id=1, user_id=1, work=Gauge().work(0))
        await asyncio.wait_for(queue.result("next"), 5)
    finally:
        await queue.close(0)
        for slots in (first, second):
            await slots.close()


async def test_closing_a_queue_that_waits_for_a_slot_frees_everything(processes, postgres_url):
    first, second = [await started(storage, 1) for storage in processes]
    queue = FairQueue[None](1, gate=second)
    elsewhere = await first.acquire()
    queue.submit("job", server_id=1, user_id=1, work=Gauge().work(0))
    await asyncio.sleep(0.1)
    await asyncio.wait_for(queue.close(1), 5)
    await first.release(elsewhere)
    await asyncio.sleep(0.1)
    try:
        assert await run_sql(postgres_url, "SELECT count(*) FROM api_slots WHERE lease IS NOT NULL") == [(0,)]
    finally:
        for slots in (first, second):
            await slots.close()


async def test_the_slots_of_a_stopped_instance_are_freed_when_its_jobs_are_taken_over(processes, postgres_url):
    first, second = processes
    for storage in processes:
        await storage.recover_interrupted(NOW)
    gone = await started(second, 1)
    await gone.acquire()
    await gone.close()  # the process died holding its slot
    await second.leave()

    survivor = await started(first, 1)
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(survivor.acquire(), 0.3)
        await first.recover_orphans(NOW, stale_before=NOW - timedelta(minutes=1))
        assert (await asyncio.wait_for(survivor.acquire(), 1)).slot == 0
    finally:
        await survivor.close()


MODEL = "gemini-3-pro-image-preview"
REQUEST = ImageRequest(prompt="a lighthouse", model=MODEL, count=1, size="1024x1024")


def provider_config(api: ImageAPIServer) -> ProviderConfig:
    return ProviderConfig(
        name="first",
        kind="gateway",
        base_url=api.base_url,
        api_key=api.api_key,
        models={MODEL: MODEL},
        concurrency=2,
        timeout=10.0,
    )


@asynccontextmanager
async def provider_routers(
    storages: list[Storage], api: ImageAPIServer, *, shared: bool
) -> AsyncIterator[list[Router]]:
    """One router per process for the same provider, each with its own session, as client.py wires them; with
    `shared`, the provider's slots are leased through the database, else each process has its own semaphore."""
    gates: list[SharedSlotGate] = []

    def gate_for(storage: Storage) -> Callable[[str, int], SharedSlotGate | None]:
        def make(name: str, cap: int) -> SharedSlotGate | None:
            if not shared or (gate := storage.shared_slots(cap, pool=f"provider:{name}")) is None:
                return None
            gates.append(gate)
            return gate

        return make

    async with AsyncExitStack() as stack:
        routers = []
        for storage in storages:
            session = await stack.enter_async_context(aiohttp.ClientSession())
            upstreams = build_upstreams(
                [provider_config(api)],
                session,
                connect_timeout=5.0,
                download_max_bytes=1 << 24,
                download_timeout=5.0,
                gate_for=gate_for(storage),
            )
            routers.append(Router(upstreams))
        for gate in gates:
            stack.push_async_callback(gate.close)
            await gate.start()
        yield routers


@pytest.mark.parametrize(("shared", "most"), [(True, 2), (False, 4)])
async def test_two_processes_keep_to_a_providers_own_concurrency(processes, shared, most):
    async with ImageAPIServer() as api, provider_routers(processes, api, shared=shared) as routers:
        api.latency = 0.3
        await asyncio.wait_for(asyncio.gather(*(routers[n % 2].generate(REQUEST) for n in range(8))), 30)
        # shared, the cap holds across both processes; with only each process's own semaphore it is doubled
        assert (api.max_in_flight, len(api.requests)) == (most, 8)


async def test_a_providers_slots_are_apart_from_the_queues(processes, postgres_url):
    queue_slots, provider_slots = await started(processes[0], 1), await started(processes[1], 1, "provider:first")
    try:
        held = await queue_slots.acquire()
        lease = await asyncio.wait_for(provider_slots.acquire(), 1)  # the queue's only slot is taken, not this one
        rows = await run_sql(postgres_url, "SELECT pool, slot FROM api_slots WHERE lease IS NOT NULL ORDER BY pool")
        assert rows == [("", 0), ("provider:first", 0)]
        await queue_slots.release(held)
        await provider_slots.release(lease)
    finally:
        for slots in (queue_slots, provider_slots):
            await slots.close()


async def test_a_provider_slot_freed_in_one_process_is_taken_at_once_in_another(processes):
    first, second = [await started(storage, 1, "provider:first") for storage in processes]
    queue_slots = await started(processes[0], 1)  # a slot freed in the queue's pool grants none of the provider's
    try:
        held = await first.acquire()
        waiting = asyncio.create_task(second.acquire())
        await asyncio.sleep(0.3)
        await queue_slots.release(await queue_slots.acquire())
        await asyncio.sleep(0.05)
        assert not waiting.done()

        loop = asyncio.get_running_loop()
        freed_at = loop.time()
        await first.release(held)
        await asyncio.wait_for(waiting, 5)
        assert loop.time() - freed_at < POLL_SECONDS / 2  # woken by the notification, not by polling
    finally:
        for slots in (first, second, queue_slots):
            await slots.close()


async def test_a_restarted_instance_frees_the_provider_slots_its_previous_run_held(processes, postgres_url):
    first, second = processes
    crashed = await started(first, 1, "provider:first")
    await crashed.acquire()
    await crashed.close()  # without releasing: the process died

    restarted_storage = await open_storage(postgres_url, "shards-0")
    restarted = await started(restarted_storage, 1, "provider:first")
    other = await started(second, 1, "provider:first")
    try:
        assert (await asyncio.wait_for(other.acquire(), 1)).slot == 0
    finally:
        for slots in (restarted, other):
            await slots.close()
        await restarted_storage.close()


async def test_the_provider_slots_of_a_stopped_instance_are_freed_when_its_jobs_are_taken_over(processes):
    first, second = processes
    for storage in processes:
        await storage.recover_interrupted(NOW)
    gone = [await started(second, 1), await started(second, 1, "provider:first")]
    for slots in gone:
        await slots.acquire()
        await slots.close()  # the process died holding its slots
    await second.leave()

    survivors = [await started(first, 1), await started(first, 1, "provider:first")]
    try:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(survivors[1].acquire(), 0.3)
        await first.recover_orphans(NOW, stale_before=NOW - timedelta(minutes=1))
        assert [(await asyncio.wait_for(slots.acquire(), 1)).slot for slots in survivors] == [0, 0]
    finally:
        for slots in survivors:
            await slots.close()


async def test_on_sqlite_a_provider_keeps_to_its_concurrency_with_its_own_semaphore(sqlite_url):
    storage = await open_storage(sqlite_url)
    try:
        assert storage.shared_slots(2, pool="provider:first") is None
        async with ImageAPIServer() as api, provider_routers([storage], api, shared=True) as [router]:
            assert router.upstreams[0].gate is None
            api.latency = 0.2
            await asyncio.wait_for(asyncio.gather(*(router.generate(REQUEST) for _ in range(5))), 30)
            assert api.max_in_flight == 2
    finally:
        await storage.close()
