"""The ledger's rollups: always the sums of the ledger's rows, however jobs end, and built from an existing ledger."""

import asyncio
import random
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from bot.core.storage import Caps, JobStatus, Storage, open_storage
from bot.core.storage.migrations import load_migrations
from tests.storage_backends import run_sql
from tests.unit.core.storage.builders import GUILD, NOW, OTHER_GUILD, PRICE, USER, job, reservation, usage
from tests.unit.core.storage.ledger_oracle import Ledger

MEASURES = ("jobs", "images", "cost", "delivered_images", "delivered_cost")
PLACES = (GUILD, OTHER_GUILD, None)
MODELS = ("gpt-image-1", "gemini")


def expected_rollups(rows: Iterable[tuple[object, ...]]) -> tuple[Counter[tuple[object, ...]], ...]:
    """Each rollup's measures summed straight from ledger rows (guild, user, model, images, cost, outcome, day,
    month), keyed as the rollup is."""
    daily: Counter[tuple[object, ...]] = Counter()
    monthly: Counter[tuple[object, ...]] = Counter()
    for guild, user, model, images, cost, outcome, day, month in rows:
        delivered = outcome == "delivered"
        measures = (int(delivered), images, cost, images if delivered else 0, cost if delivered else 0)
        for name, value in zip(MEASURES, measures, strict=True):
            daily[(guild or 0, str(day), model, name)] += value
            monthly[(guild or 0, str(month), user, name)] += value
    return daily, monthly


async def stored_rollups(storage_url: str) -> tuple[Counter[tuple[object, ...]], ...]:
    found: list[Counter[tuple[object, ...]]] = []
    for table, key in (("usage_daily", "day, model"), ("usage_monthly", "month, user_id")):
        counts: Counter[tuple[object, ...]] = Counter()
        for guild, period, third, *measures in await run_sql(
            storage_url,
            f"SELECT guild_id, {key}, {', '.join(MEASURES)} FROM {table}",  # noqa: S608 (constants)
        ):
            for name, value in zip(MEASURES, measures, strict=True):
                if value:
                    counts[(guild, str(period), third, name)] += value
        found.append(counts)
    return tuple(found)


async def raw_ledger(storage_url: str) -> list[tuple[object, ...]]:
    """The ledger's rows with their UTC day and month, as each database reckons them."""
    if storage_url.startswith("sqlite:///"):
        day, month = "substr(created_at, 1, 10)", "substr(created_at, 1, 8) || '01'"
    else:
        day = "CAST(created_at AT TIME ZONE 'UTC' AS DATE)"
        month = "CAST(date_trunc('month', created_at AT TIME ZONE 'UTC') AS DATE)"
    statement = f"SELECT guild_id, user_id, model, images, cost, outcome, {day}, {month} FROM usage_ledger"  # noqa: S608
    return await run_sql(storage_url, statement)


async def test_rollups_are_the_ledgers_sums_after_concurrent_bookings_refunds_interruptions_and_takeovers(
    storage_url: str,
):
    first, second = await open_storage(storage_url, "one"), await open_storage(storage_url, "two")
    shuffled = random.Random(15)
    try:
        for storage in (first, second):
            await storage.recover_interrupted(NOW)

        async def run(index: int) -> None:
            storage = (first, second)[index % 2]
            place = PLACES[index % 3]
            at = NOW - timedelta(days=shuffled.choice((0, 0, 1, 20, 40)), minutes=index)
            record = job(guild_id=place, user_id=USER + index % 4, at=at)
            await storage.save_job(record)
            await storage.reserve(reservation(job_id=record.id, guild_id=place, user_id=record.user_id, at=at), Caps())
            ending = index % 5
            model = MODELS[index % 2]
            if ending == 0:  # delivered, then settled again: the first settlement stands
                await storage.settle(
                    usage(job_id=record.id, guild_id=place, user_id=record.user_id, at=at, model=model)
                )
                await storage.settle(usage(job_id=record.id, guild_id=place, user_id=record.user_id, at=at, images=9))
            elif ending == 1:  # refunded: nothing delivered, the attempt still costs
                failed = {"images": 0, "cost": PRICE, "outcome": "failed", "model": model}
                await storage.settle(usage(job_id=record.id, guild_id=place, user_id=record.user_id, at=at, **failed))
            elif ending == 2:
                await storage.settle(
                    usage(job_id=record.id, guild_id=place, user_id=record.user_id, at=at, images=2, model=model)
                )
            # 3 and 4 stay running: one instance restarts, the other is taken over

        await asyncio.gather(*(run(index) for index in range(60)))
        restarted = await open_storage(storage_url, "one")
        try:
            interrupted = await restarted.recover_interrupted(NOW + timedelta(minutes=1))
            taken_over = await restarted.recover_orphans(NOW + timedelta(minutes=2), NOW + timedelta(minutes=2))
        finally:
            await restarted.close()
    finally:
        for storage in (first, second):
            await storage.close()

    rows = await raw_ledger(storage_url)
    assert interrupted and taken_over
    assert Counter(row[5] for row in rows) == {"delivered": 24, "failed": 12, "interrupted": 24}
    assert await stored_rollups(storage_url) == tuple(
        Counter({key: value for key, value in rollup.items() if value}) for rollup in expected_rollups(rows)
    )


async def test_a_ledger_from_before_the_rollups_answers_as_it_did(storage_url: str):
    storage = await open_storage(storage_url)
    ledger = Ledger()
    try:
        for index in range(80):
            record = usage(
                guild_id=PLACES[index % 3],
                user_id=USER + index % 5,
                images=index % 4,
                outcome=("delivered", "delivered", "failed")[index % 3],
                model=MODELS[index % 2],
                at=NOW - timedelta(hours=index * 11),
            )
            await storage.settle(record)
            ledger.settle(record)
    finally:
        await storage.close()
    # Back to the schema before the rollups, keeping the ledger's rows: the upgrade builds them from those.
    dialect = "sqlite" if storage_url.startswith("sqlite:///") else "postgres"
    version = next(migration.version for migration in load_migrations(dialect) if migration.name == "ledger_rollups")
    for statement in (
        "DROP TABLE member_defaults",  # a later migration's, applied again with the rollups'
        "DROP TABLE usage_daily",
        "DROP TABLE usage_monthly",
        "DROP INDEX usage_delivered_by_member",
        "DROP INDEX jobs_by_member",
        "DROP INDEX jobs_by_time",
        f"DELETE FROM schema_version WHERE version >= {version}",  # noqa: S608 (a number)
    ):
        await run_sql(storage_url, statement)

    upgraded = await open_storage(storage_url)
    try:
        await ledger.assert_answers(upgraded, NOW)
    finally:
        await upgraded.close()


async def test_usage_answers_match_the_ledger_in_every_window(storage: Storage):
    ledger = Ledger()
    for index in range(120):
        record = usage(
            guild_id=PLACES[index % 3],
            user_id=USER + index % 7,
            images=index % 5,
            outcome=("delivered", "failed", "delivered", "interrupted")[index % 4],
            model=MODELS[index % 2],
            at=NOW - timedelta(hours=index * 7, minutes=index),
        )
        await storage.settle(record)
        ledger.settle(record)

    for moment in (NOW, NOW - timedelta(days=9, hours=5), datetime(2024, 5, 1, tzinfo=UTC)):
        await ledger.assert_answers(storage, moment)


async def test_a_job_still_running_is_in_no_rollup(storage: Storage, storage_url: str):
    record = job(status=JobStatus.RUNNING)
    await storage.save_job(record)
    await storage.reserve(reservation(job_id=record.id), Caps())

    assert await run_sql(storage_url, "SELECT count(*) FROM usage_daily") == [(0,)]


async def test_pruning_changes_no_quota_or_usage_figure_and_keeps_each_members_latest(
    storage: Storage, storage_url: str
):
    ledger = Ledger()
    history_before = {}
    for index in range(160):
        place = PLACES[index % 3]
        at = NOW - timedelta(days=index, hours=index % 5)
        if index >= 150:  # a member who has asked for nothing since long before the cutoff
            place, at = GUILD, NOW - timedelta(days=100, hours=index)
        record = job(guild_id=place, user_id=USER + (9 if index >= 150 else index % 4), at=at)
        await storage.save_job(record)
        await storage.finish_job(record.id, JobStatus.DONE, record.created_at)
        outcome = "failed" if index % 7 < 4 else "delivered"  # some members' latest rows are failures
        if index >= 150:  # and this one's latest delivered request is older than the latest few
            outcome = "delivered" if index >= 157 else "failed"
        settled = usage(job_id=record.id, guild_id=place, user_id=record.user_id, at=record.created_at, outcome=outcome)
        await storage.settle(settled)
        ledger.settle(settled)
    users = {row.user_id for row in ledger.rows.values()}
    for place in PLACES:
        for user in users:
            history_before[(place, user)] = await storage.history(user, place, limit=3)
    rows_before = await run_sql(storage_url, "SELECT count(*) FROM usage_ledger")

    cutoff, start, batches = NOW - timedelta(days=60), None, 0
    while (start := await storage.prune(start, cutoff, keep=3, batch=7)) is not None:
        batches += 1

    assert batches > 5  # walked in small batches
    kept = await run_sql(storage_url, "SELECT count(*) FROM usage_ledger")
    assert kept < rows_before
    assert (await run_sql(storage_url, "SELECT count(*) FROM jobs"))[0][0] <= kept[0][0]
    for place in PLACES:
        for user in users:
            assert await storage.history(user, place, limit=3) == history_before[(place, user)]
    await ledger.assert_answers(storage, NOW)
