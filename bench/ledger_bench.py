"""The ledger at scale: how long booking, settling, /quota, /history, /usage and /admin usage take on a full one.

Fills a fresh database (SQLite in a temporary folder, or PostgreSQL in a schema of its own that it drops at the end)
with `--jobs` settled jobs (their ledger rows and their jobs) over `--days` days, across `--servers` servers and
`--members` members (a few members ask for far more than the rest; 5 % of requests come from direct messages), through
the storage's own row encoders, in bulk. The rows are written at the schema they were first kept in, then storage
opens the database as the bot does, applying the later migrations (the time it takes is printed). Then it times each
operation, `--samples` times, on members picked as the traffic picks them, and prints the median and 99th
percentile in milliseconds, and the database's size. With `--explain`, it prints the plans of the booking
statements (PostgreSQL's generic plans, which prepared statements come to use).

    .venv/bin/python bench/ledger_bench.py --jobs 100000 --backend sqlite
    .venv/bin/python bench/ledger_bench.py --jobs 1000000 --backend postgres --explain
"""

import argparse
import asyncio
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

try:
    import asyncpg

    from bot.core.storage import (
        Caps,
        JobRecord,
        JobStatus,
        Reservation,
        Storage,
        UsageRecord,
        open_storage,
        periods,
        postgres,
        sql,
    )
    from bot.core.storage import sqlite as sqlite_dialect
    from bot.core.storage.migrations import load_migrations
    from bot.core.storage.rows import job_params, params
    from tests.storage_backends import DEFAULT_POSTGRES_URL, postgres_schema
except ModuleNotFoundError as missing:  # one line saying what to install, not a traceback
    raise SystemExit(f"{missing.name} is missing: run scripts/setup-venv.sh test, then use .venv/bin/python") from None

LEDGER_SCHEMA = 5  # the migration the ledger's rows were first written at: later ones build on existing rows
MODELS = ("gpt-image-1", "gemini-2.5-flash-image", "flux-pro")
PRICE = 40_000  # micro-dollars per image
CHUNK = 50_000  # rows per bulk insert
HISTORY_LENGTH = 10
RETENTION_DAYS = 90
GENEROUS = Caps(  # every check runs, none refuses
    user_daily_images=10**9, server_daily_images=10**9, server_monthly_budget=10**15, cooldown_seconds=1
)
GLOBAL = Caps(
    user_daily_images=10**9,
    server_daily_images=10**9,
    server_monthly_budget=10**15,
    cooldown_seconds=1,
    global_daily_images=10**9,
    global_monthly_budget=10**15,
)


class Traffic:
    """Who asks, where and when: members drawn with a heavy head, each mostly in a server of their own."""

    def __init__(self, servers: int, members: int, days: int, seed: int = 15) -> None:
        self.random = random.Random(seed)
        self.servers = [700_000_000_000_000_000 + n for n in range(1, servers + 1)]
        self.members = members
        self.now = datetime.now(UTC)
        self.seconds = days * 86_400

    def member(self) -> tuple[int | None, int]:
        """(server or None for a direct message, member)."""
        index = int(self.members * self.random.random() ** 3)  # the top 1 % of members ask for about a fifth
        place = None if self.random.random() < 0.05 else self.servers[index % len(self.servers)]
        return place, 800_000_000_000_000_000 + index

    def settled(self, n: int) -> tuple[JobRecord, UsageRecord]:
        place, user = self.member()
        at = self.now - timedelta(seconds=self.random.random() * self.seconds)
        roll = self.random.random()
        outcome = "delivered" if roll < 0.9 else "failed" if roll < 0.97 else "interrupted"
        count = self.random.randint(1, 4)
        images = count if outcome == "delivered" else 0
        model = self.random.choice(MODELS)
        job = JobRecord(
            id=f"{n:016x}",
            kind="imagine",
            user_id=user,
            guild_id=place,
            channel_id=1,
            prompt="a lighthouse at dusk, in the style of a woodcut",
            model=model,
            n=count,
            quality="1k",
            status=JobStatus.DONE if outcome == "delivered" else JobStatus.FAILED,
            created_at=at,
            finished_at=at + timedelta(seconds=20),
        )
        cost = 0 if outcome == "interrupted" else count * PRICE
        usage = UsageRecord(job.id, place, user, model, "1k", count, images, cost, outcome, at, job.finished_at)
        return job, usage


def chunks(traffic: Traffic, jobs: int) -> Iterator[list[tuple[JobRecord, UsageRecord]]]:
    for start in range(0, jobs, CHUNK):
        yield [traffic.settled(n) for n in range(start, min(start + CHUNK, jobs))]


async def fill_sqlite(path: Path, traffic: Traffic, jobs: int) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute(sqlite_dialect._SCHEMA_VERSION)
    for migration in load_migrations("sqlite")[:LEDGER_SCHEMA]:
        db.executescript(migration.sql)
        db.execute("INSERT INTO schema_version VALUES (?, ?)", (migration.version, "2024-01-01T00:00:00+00:00"))
    write = sqlite_dialect.SQLiteDialect.write_time
    save_job = sql.render(sql.SAVE_JOB, sqlite_dialect.FRAGMENTS)
    settle = sql.render(sql.SETTLE, sqlite_dialect.FRAGMENTS)
    for chunk in chunks(traffic, jobs):
        db.execute("BEGIN")
        db.executemany(save_job, [{**job_params(job, write), "owner": "main"} for job, _ in chunk])
        db.executemany(settle, [params(usage, write) for _, usage in chunk])
        db.execute("COMMIT")
    db.close()


async def fill_postgres(url: str, traffic: Traffic, jobs: int) -> None:
    db = await asyncpg.connect(url)
    await db.execute(postgres._SCHEMA_VERSION)
    for migration in load_migrations("postgres")[:LEDGER_SCHEMA]:
        await db.execute(migration.sql)
        await db.execute("INSERT INTO schema_version (version) VALUES ($1)", migration.version)
    write = postgres.PostgresDialect.write_time
    job_columns = (*sql.TABLES["jobs"].names, "owner")
    ledger_columns = sql.TABLES["ledger"].names
    for chunk in chunks(traffic, jobs):
        jobs_rows = [{**job_params(job, write), "owner": "main"} for job, _ in chunk]
        ledger_rows = [params(usage, write) for _, usage in chunk]
        await db.copy_records_to_table(
            "jobs", records=[tuple(row[c] for c in job_columns) for row in jobs_rows], columns=job_columns
        )
        await db.copy_records_to_table(
            "usage_ledger",
            records=[tuple(row[c] for c in ledger_columns) for row in ledger_rows],
            columns=ledger_columns,
        )
    await db.execute("ANALYZE")
    await db.close()


@asynccontextmanager
async def database(backend: str, base_url: str) -> AsyncIterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
    else:
        async with postgres_schema(base_url) as url:
            yield url


async def analyze(url: str) -> None:
    """What autovacuum does to a ledger that grew row by row: statistics, and the hint bits and visibility map a
    bulk load leaves unset (else the first reads of each page write it, the slow runs of a fresh COPY)."""
    db = await asyncpg.connect(url)
    try:
        await db.execute("VACUUM ANALYZE")
    finally:
        await db.close()


async def size_of(url: str) -> int:
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(file.stat().st_size for file in path.parent.glob(path.name + "*"))
    db = await asyncpg.connect(url)
    try:
        return int(
            await db.fetchval(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class AS c"
                " JOIN pg_namespace AS n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )
        )
    finally:
        await db.close()


async def timed(samples: int, operation: Callable[[int], Awaitable[object]]) -> list[float]:
    """Milliseconds each of `samples` runs took."""
    taken = []
    for n in range(samples):
        started = time.perf_counter()
        await operation(n)
        taken.append((time.perf_counter() - started) * 1000)
    return taken


def line(name: str, ms: list[float]) -> str:
    p99 = statistics.quantiles(ms, n=100)[98] if len(ms) > 1 else ms[0]
    return f"{name:<28} median {statistics.median(ms):7.2f} ms   p99 {p99:7.2f} ms"


async def measure(storage: Storage, traffic: Traffic, samples: int) -> None:
    now = traffic.now
    day_start, next_day, month_start, next_month = periods(now)
    windows = ((day_start, next_day), (next_day - timedelta(days=7), next_day), (month_start, next_month))
    picked = [traffic.member() for _ in range(samples)]
    servers = [traffic.servers[n % len(traffic.servers)] for n in range(samples)]
    booked: list[Reservation] = []

    async def book(n: int, caps: Caps) -> None:
        place, user = picked[n % samples]
        reservation = Reservation(f"b{len(booked):015x}", place, user, 1, PRICE, now + timedelta(seconds=len(booked)))
        await storage.reserve(reservation, caps)
        booked.append(reservation)

    async def settle(n: int) -> None:
        r = booked[n]
        at = r.created_at
        await storage.settle(
            UsageRecord(r.job_id, r.guild_id, r.user_id, MODELS[0], "1k", 1, 1, PRICE, "delivered", at, at)
        )

    async def quota(n: int) -> None:
        place, user = picked[n]
        await storage.booked(place, user, now)
        await storage.user_reserved(place, user)
        await storage.deployment_booked(now)

    async def totals(n: int) -> None:
        for since, until in windows:
            await storage.usage_totals(servers[n], since, until)

    async def top(n: int) -> None:
        await storage.top_users(servers[n], month_start, 10)

    async def chart(n: int) -> None:
        await storage.usage_by_day(servers[n], day_start - timedelta(days=29))

    async def usage(n: int) -> None:
        await totals(n)
        await top(n)
        await chart(n)

    async def admin(n: int) -> None:
        for since, until in windows:
            await storage.usage_totals(None, since, until)

    print(line("booking", await timed(samples, lambda n: book(n, GENEROUS))))
    print(line("settling", await timed(samples, settle)))
    print(line("booking, global caps", await timed(samples, lambda n: book(samples + n, GLOBAL))))
    print(line("/quota", await timed(samples, quota)))
    print(line("/history", await timed(samples, lambda n: storage.history(picked[n][1], picked[n][0], HISTORY_LENGTH))))
    print(line("/usage", await timed(samples, usage)))
    print(line("/usage: totals", await timed(samples, totals)))
    print(line("/usage: top members", await timed(samples, top)))
    print(line("/usage: 30-day chart", await timed(samples, chart)))
    print(line("/admin usage", await timed(samples, admin)))
    if hasattr(storage, "prune"):  # retention, where the code has it: the first batches of a walk
        from bot.core.retention import BATCH, retention_cutoff

        before, start = retention_cutoff(now, RETENTION_DAYS), None

        async def prune(n: int) -> None:
            nonlocal start
            start = await storage.prune(start, before, HISTORY_LENGTH, BATCH)

        print(line(f"retention, a batch of {BATCH}", await timed(samples, prune)))


async def explain(url: str, traffic: Traffic) -> None:
    """The plans of the booking statements, on the filled database, for the busiest member of a server."""
    day, next_day, month, next_month = periods(traffic.now)
    times = {"day": day, "next_day": next_day, "month": month, "next_month": next_month}
    days = {"today": day.date(), "this_month": month.date(), "next_month_day": next_month.date()}
    member = {"guild": traffic.servers[0], "user": 800_000_000_000_000_000}
    statements = {name: getattr(sql, name) for name in ("BOOKED", "GLOBAL_BOOKED")}
    forms = {
        name: statement["server"] if isinstance(statement, dict) else statement
        for name, statement in statements.items()
    }
    if url.startswith("sqlite:///"):
        write = sqlite_dialect.SQLiteDialect.write_time
        named = {**member, **{k: write(v) for k, v in times.items()}, **{k: v.isoformat() for k, v in days.items()}}
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        for name, statement in forms.items():
            print(f"-- {name}")
            for row in db.execute(f"EXPLAIN QUERY PLAN {sql.render(statement, sqlite_dialect.FRAGMENTS)}", named):
                print(f"{'  ' * (row[1] > 0)}{row[3]}")
        db.close()
        return
    values = {**member, **times, **days}
    db = await asyncpg.connect(url)
    try:
        await db.execute("SET plan_cache_mode = force_generic_plan")  # what a prepared statement comes to use
        for name, statement in forms.items():
            text, names = postgres._compile(statement)
            await db.execute(f"PREPARE {name.lower()} AS {text}")
            arguments = ", ".join(f"'{values[n]}'" for n in names)
            print(f"-- {name} (generic plan)")
            for row in await db.fetch(f"EXPLAIN (COSTS OFF) EXECUTE {name.lower()}({arguments})"):
                print(row[0])
    finally:
        await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--database", default=DEFAULT_POSTGRES_URL, help="the PostgreSQL server (a schema of its own)")
    parser.add_argument("--servers", type=int, default=50)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--explain", action="store_true", help="print the plans of the booking statements")
    args = parser.parse_args()
    traffic = Traffic(args.servers, args.members, args.days)
    async with database(args.backend, args.database) as url:
        started = time.perf_counter()
        if args.backend == "sqlite":
            await fill_sqlite(Path(url.removeprefix("sqlite:///")), traffic, args.jobs)
        else:
            await fill_postgres(url, traffic, args.jobs)
        filled = time.perf_counter()
        storage = await open_storage(url)
        opened = time.perf_counter()
        if args.backend == "postgres":  # as autovacuum would soon: see analyze()
            await analyze(url)
        print(
            f"{args.backend}: {args.jobs:,} jobs over {args.days} days, "
            f"{args.servers} servers, {args.members:,} members"
        )
        print(
            f"filled in {filled - started:.1f} s; opened (migrations after {LEDGER_SCHEMA}) in {opened - filled:.1f} s"
        )
        try:
            await measure(storage, traffic, args.samples)
        finally:
            await storage.close()
        print(f"database size: {await size_of(url) / 2**20:,.0f} MiB")
        if args.explain:
            await explain(url, traffic)


if __name__ == "__main__":
    asyncio.run(main())
