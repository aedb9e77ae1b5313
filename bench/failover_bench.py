"""Failover benchmark: N /imagine with the primary image provider dead or hanging, against only the secondary.

The bot runs as its own process (`python -m bot`) with an IMAGE_PROVIDERS_FILE of two gateway providers on
127.0.0.1: `primary` (priority 1, its `timeout` T) and `secondary` (priority 2), with the default breaker (3 failures
in a row open it for 30 s; --breaker-failures and --cooloff change it). Three scenarios, each with a fresh bot,
database and loopback servers:

  (a) only the secondary configured;
  (b) the primary dead: its base_url a port of 127.0.0.1 nothing listens on (connection refused);
  (c) the primary hanging: it takes every request and never answers, so each attempt waits out T.

Each scenario warms up with a model only the secondary serves (the primary's breaker stays closed), then sends two
bursts of N /imagine through C slots (IMAGE_API_CONCURRENCY) with API latency L: burst 1 starts with the breaker
closed (it opens during the burst; /healthz is polled to see when), burst 2 with it open (opened by burst 1, within
its cool-off). Prints the time to result (gateway event -> the response holding the images) p50 and p99, how many
were delivered, how many requests each provider saw, and each burst against the same burst of (a). The bot logs at
ERROR: the failovers' warnings are expected here.

    .venv/bin/python bench/failover_bench.py
    .venv/bin/python bench/failover_bench.py --requests 100 --latency 1 --ramp 10
    .venv/bin/python bench/failover_bench.py --breaker-failures 1000   # in effect no breaker: what it buys
"""

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

try:
    import aiohttp
    from imagine_bench import API_KEY, TOKEN, delivery, percentile, start_bot
    from prometheus_client.parser import text_string_to_metric_families

    from tests.e2e.bot_process import free_port, healthy
    from tests.e2e.helpers import outcome
    from tests.loopback.discord import DiscordServer, GuildRecord, UserRecord
    from tests.loopback.image_api import DEFAULT_MODELS, ImageAPIServer, hang
except ModuleNotFoundError as missing:  # one line saying what to install, not a traceback
    raise SystemExit(f"{missing.name} is missing: run scripts/setup-venv.sh test, then use .venv/bin/python") from None

SCENARIOS = {"a": "only the secondary", "b": "primary dead (connection refused)", "c": "primary hanging"}
KEY_ENV = "FAILOVER_BENCH_KEY"  # both loopback APIs take the same key
MODEL, WARMUP_MODEL = DEFAULT_MODELS  # the primary serves only MODEL, so warm-up jobs never touch it
POLL = 0.05  # seconds between /healthz reads during a burst


@dataclass(slots=True)
class Burst:
    """One burst's figures: per job in sending order, times to result (None: not delivered) and send times."""

    times: list[float | None]
    dispatched: list[float]  # loop time each command reached the bot
    opened: float | None  # loop time the primary's breaker was first seen open, None if never
    first: float  # loop time of the first command
    providers: dict[str, str] = field(default_factory=dict)  # provider -> what it saw
    rate_limited: int = 0  # 429s from the loopback Discord during the burst
    failures: list[str] = field(default_factory=list)

    def delivered(self, jobs: list[int] | None = None) -> list[float]:
        picked = range(len(self.times)) if jobs is None else jobs
        return [seconds for index in picked if (seconds := self.times[index]) is not None]

    def after_opening(self) -> list[int]:
        """The jobs whose command reached the bot after the breaker was seen open."""
        if self.opened is None:
            return []
        return [index for index, at in enumerate(self.dispatched) if at > self.opened]


def providers_file(primary: str | None, secondary: str, arguments: argparse.Namespace) -> str:
    tables = []
    if primary is not None:
        extra = f"timeout = {arguments.timeout}\nbreaker_failures = {arguments.breaker_failures}\n"
        extra += f"breaker_cooloff = {arguments.cooloff}\n"
        if arguments.retries is not None:  # unset: the file's default
            extra += f"max_retries = {arguments.retries}\n"
        tables.append(provider_table("primary", primary, 1, [MODEL], extra))
    tables.append(provider_table("secondary", secondary, 2, [MODEL, WARMUP_MODEL], ""))
    return "\n".join(tables)


def provider_table(name: str, base_url: str, priority: int, models: list[str], extra: str) -> str:
    served = ", ".join(f'"{model}" = "{model}"' for model in models)
    return (
        f'[[providers]]\nname = "{name}"\nkind = "gateway"\nbase_url = "{base_url}"\napi_key_env = "{KEY_ENV}"\n'
        f"models = {{ {served} }}\npriority = {priority}\n{extra}"
    )


def provider_counts(metrics: str) -> Counter[str]:
    """From the bot's /metrics: `provider served` and `provider kind` (failures) counts."""
    counts: Counter[str] = Counter()
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "imagebot_provider_request_seconds_count":
                counts[f"{sample.labels['provider']} served"] += int(sample.value)
            elif sample.name == "imagebot_provider_failures_total":
                counts[f"{sample.labels['provider']} {sample.labels['kind']}"] += int(sample.value)
    return counts


class Deployment:
    """One scenario's loopback servers and bot process."""

    def __init__(self, scenario: str, arguments: argparse.Namespace) -> None:
        self.scenario = scenario
        self.arguments = arguments
        self.discord_api = DiscordServer(token=TOKEN)
        self.secondary = ImageAPIServer(api_key=API_KEY, unique_images=False)
        self.primary = ImageAPIServer(api_key=API_KEY, unique_images=False) if scenario == "c" else None
        self.health_port = free_port()
        self.dead_port = next(port for port in iter(free_port, None) if port != self.health_port)
        self.data = tempfile.TemporaryDirectory(prefix="imagebot-failover-bench-")
        self.users = 0
        self.bot: asyncio.subprocess.Process | None = None

    def primary_url(self) -> str | None:
        if self.scenario == "a":
            return None
        return self.primary.base_url if self.primary is not None else f"http://127.0.0.1:{self.dead_port}"

    async def start(self, http: aiohttp.ClientSession) -> None:
        await self.discord_api.start()
        for api in (self.secondary, self.primary):
            if api is not None:
                await api.start()
                api.latency = self.arguments.latency
        self.guilds = [self.discord_api.add_guild(name=f"Server {n}") for n in range(self.arguments.servers)]
        file = Path(self.data.name) / "providers.toml"
        file.write_text(providers_file(self.primary_url(), self.secondary.base_url, self.arguments))
        settings = {
            "IMAGE_PROVIDERS_FILE": str(file),
            KEY_ENV: API_KEY,
            "IMAGE_API_KEY": "",
            "IMAGE_MODELS": f"{MODEL},{WARMUP_MODEL}",
            "IMAGE_DEFAULT_MODEL": MODEL,
            "HEALTH_PORT": str(self.health_port),
            "DATA_DIR": self.data.name,
            "LOG_LEVEL": "ERROR",
        }
        guild_ids = ",".join(str(guild.id) for guild in self.guilds)
        self.bot = await start_bot(self.discord_api, self.secondary, guild_ids, self.arguments.slots, None, settings)
        await self.discord_api.wait_commands(timeout=60)
        await self.discord_api.wait_ready(timeout=60)
        await healthy(http, self.health_port)

    async def stop(self) -> None:
        if self.bot is not None:
            self.bot.terminate()
            await self.bot.wait()
        await self.discord_api.stop()
        for api in (self.secondary, self.primary):
            if api is not None:
                await api.stop()
        self.data.cleanup()

    def member(self) -> tuple[UserRecord, GuildRecord]:
        """A new member (none meets a cooldown) and their server, round robin."""
        guild = self.guilds[self.users % len(self.guilds)]
        self.users += 1
        return self.discord_api.add_user(name=f"user{self.users}", guild_id=guild.id), guild

    async def warm_up(self) -> None:
        """Jobs that pay for imports and connections, on the model only the secondary serves."""
        for _ in range(self.arguments.warmup):
            user, guild = self.member()
            options = {"prompt": "warm up", "model": WARMUP_MODEL}
            await (await self.discord_api.slash("imagine", user=user, guild=guild, options=options)).final(
                timeout=60, until=outcome
            )

    async def breaker(self, http: aiohttp.ClientSession) -> str:
        async with http.get(f"http://127.0.0.1:{self.health_port}/healthz") as response:
            return json.loads(await response.text())["providers"].get("primary", "none")

    async def counts(self, http: aiohttp.ClientSession) -> Counter[str]:
        async with http.get(f"http://127.0.0.1:{self.health_port}/metrics") as response:
            return provider_counts(await response.text())

    async def burst(self, http: aiohttp.ClientSession) -> Burst:
        """N /imagine over the ramp, while /healthz is watched for the primary's breaker opening."""
        requests, ramp = self.arguments.requests, self.arguments.ramp
        if self.primary is not None:  # every request it gets hangs
            self.primary.fail_next(*(hang() for _ in range(max(0, requests - self.primary.pending_faults))))
        loop = asyncio.get_running_loop()
        seen = {"secondary": len(self.secondary.requests), "primary": len(self.primary.requests) if self.primary else 0}
        before, limited = await self.counts(http), self.discord_api.rate_limited
        opened: list[float] = []
        watcher = asyncio.create_task(self.watch(http, opened))
        members = [self.member() for _ in range(requests)]
        started = time.perf_counter()
        handles, waiting = [], []
        for index, (user, guild) in enumerate(members):  # evenly over the ramp; a ramp of 0 sends them all at once
            await asyncio.sleep(max(0.0, started + ramp * index / requests - time.perf_counter()))
            handles.append(await self.discord_api.slash("imagine", user=user, guild=guild, options={"prompt": "a cat"}))
            # watched from now on: delivery() reads the clock when it sees the result, which must not wait for the ramp
            waiting.append(asyncio.create_task(delivery(handles[-1])))
        results = await asyncio.gather(*waiting, return_exceptions=True)
        watcher.cancel()
        counts = await self.counts(http) - before
        dispatched = [handle.dispatched_at if handle.dispatched_at is not None else loop.time() for handle in handles]
        burst = Burst(
            times=[result if isinstance(result, float) else None for result in results],
            dispatched=dispatched,
            opened=opened[0] if opened else None,
            first=min(dispatched),
            failures=sorted({repr(result)[:200] for result in results if isinstance(result, BaseException)}),
            rate_limited=self.discord_api.rate_limited - limited,
        )
        burst.providers["secondary"] = (
            f"{len(self.secondary.requests) - seen['secondary']} requests, {counts['secondary served']} served"
        )
        if self.scenario != "a":
            failed = ", ".join(f"{key.split()[1]} {n}" for key, n in counts.items() if key.startswith("primary "))
            reached = (
                f"{len(self.primary.requests) - seen['primary']} requests"
                if self.primary is not None
                else "nothing listens"
            )
            burst.providers["primary"] = f"{reached}; the bot counted {failed or 'no failure'}"
        return burst

    async def watch(self, http: aiohttp.ClientSession, opened: list[float]) -> None:
        while not opened:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):  # a missed reading only delays the sighting
                if await self.breaker(http) != "closed":
                    opened.append(asyncio.get_running_loop().time())
            await asyncio.sleep(POLL)


def figures(values: list[float], total: int) -> str:
    if not values:
        return f"delivered 0/{total}"
    return f"delivered {len(values)}/{total}, p50 {percentile(values, 0.5):.2f} s, p99 {percentile(values, 0.99):.2f} s"


def against(values: list[float], baseline: list[float]) -> str:
    if not values or not baseline:
        return ""
    p50 = percentile(values, 0.5) / percentile(baseline, 0.5) - 1
    p99 = percentile(values, 0.99) / percentile(baseline, 0.99) - 1
    return f" (against (a): p50 {p50:+.1%}, p99 {p99:+.1%})"


def report(scenario: str, bursts: list[Burst], baseline: list[Burst] | None, states: list[str]) -> None:
    for number, burst in enumerate(bursts, 1):
        reference = baseline[number - 1] if baseline else None
        total = len(burst.times)
        if scenario == "a":
            print(f"  burst {number}: {figures(burst.delivered(), total)}")
        else:
            state = f"breaker {states[number - 1]} at the start"
            opening = (
                f", seen open {burst.opened - burst.first:.2f} s after the first command"
                if burst.opened is not None and states[number - 1] == "closed"
                else ""
            )
            print(f"  burst {number} ({state}{opening}):")
            base = reference.delivered() if reference else []
            print(f"    all jobs: {figures(burst.delivered(), total)}{against(burst.delivered(), base)}")
            if states[number - 1] == "closed":
                later = burst.after_opening()
                if later:  # against the jobs of (a) sent at the same offsets
                    base = reference.delivered(later) if reference else []
                    print(
                        f"    jobs sent after it opened: {figures(burst.delivered(later), len(later))}"
                        f"{against(burst.delivered(later), base)}"
                    )
                else:
                    print("    jobs sent after it opened: none (all were sent before; --ramp spreads them)")
        for name, seen in burst.providers.items():
            print(f"    {name}: {seen}")
        if burst.rate_limited:
            print(f"    429s from the loopback Discord: {burst.rate_limited}")
        for failure in burst.failures:
            print(f"    failure: {failure}")


async def run_scenario(scenario: str, arguments: argparse.Namespace, baseline: list[Burst] | None) -> list[Burst]:
    deployment = Deployment(scenario, arguments)
    print(f"({scenario}) {SCENARIOS[scenario]}", flush=True)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        try:
            await deployment.start(http)
            await deployment.warm_up()
            bursts, states = [], []
            for _ in range(2):
                states.append(await deployment.breaker(http))
                bursts.append(await deployment.burst(http))
            states.append(await deployment.breaker(http))
        finally:
            await deployment.stop()
    report(scenario, bursts, baseline, states)
    if scenario != "a":
        print(f"  primary's breaker after burst 2: {states[2]}")
    return bursts


async def run(arguments: argparse.Namespace) -> None:
    retries = "the file's default" if arguments.retries is None else arguments.retries
    print(
        f"N={arguments.requests} over {arguments.ramp:.1f}s from {arguments.servers} servers, C={arguments.slots} "
        f"slots, L={arguments.latency:.1f}s, primary timeout {arguments.timeout:.1f}s and max_retries {retries}, "
        f"breaker {arguments.breaker_failures} failures / {arguments.cooloff:.0f} s; "
        "time to result = gateway event -> the response with the images"
    )
    print(
        "burst 1 starts with the primary's breaker closed; burst 2 right after it, with the breaker opened by "
        "burst 1 (the jobs once the breaker is open)"
    )
    baseline = await run_scenario("a", arguments, None)
    for scenario in ("b", "c"):
        await run_scenario(scenario, arguments, baseline)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100, help="jobs in each burst (N)")
    parser.add_argument("--latency", type=float, default=1.0, help="image API latency in seconds (L)")
    parser.add_argument("--slots", type=int, default=20, help="IMAGE_API_CONCURRENCY (C)")
    parser.add_argument("--timeout", type=float, default=5.0, help="the primary's timeout in the providers file (T)")
    parser.add_argument("--retries", type=int, help="the primary's max_retries (default: the file's default, 1)")
    parser.add_argument("--breaker-failures", type=int, default=3, help="failures in a row that open its breaker")
    parser.add_argument("--cooloff", type=float, default=30.0, help="seconds its breaker stays open")
    parser.add_argument("--servers", type=int, default=20, help="servers the jobs come from, round robin")
    parser.add_argument("--ramp", type=float, default=0.0, help="seconds over which a burst is sent (0: at once)")
    parser.add_argument("--warmup", type=int, default=3, help="jobs before measuring (a model only the secondary has)")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
