"""Prometheus metrics of one bot, in a registry of its own so that several bots in one process never clash."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.core.errors import (
    InvalidRequest,
    JobCancelled,
    NotAllowedHere,
    NotPermitted,
    QueueClosed,
    QueueFull,
    QuotaExceeded,
)

OUTCOMES = ("delivered", "failed", "cancelled", "refused")
# image jobs take from about a second to the API's 300 s timeout
GATEWAY_BUCKETS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
# the bot's own rules turned the job down before any image was asked for
REFUSALS = (InvalidRequest, NotAllowedHere, NotPermitted, QuotaExceeded, QueueFull, QueueClosed)


@dataclass(frozen=True, slots=True)
class QueueReading:
    """The queue as it stands: jobs waiting, jobs running, and the slots they share."""

    queued: int
    running: int
    slots: int


class _QueueCollector(Collector):
    """Reads the queue at scrape time, so the gauges are never stale and nothing has to update them."""

    def __init__(self) -> None:
        self.read: Callable[[], QueueReading] | None = None

    def describe(self) -> Iterator[Metric]:
        return iter(self._families(QueueReading(0, 0, 0)))

    def collect(self) -> Iterator[Metric]:
        return iter(self._families(self.read()) if self.read is not None else ())

    @staticmethod
    def _families(reading: QueueReading) -> list[Metric]:
        jobs = GaugeMetricFamily("imagebot_queue_jobs", "Image jobs in the queue, by state.", labels=["state"])
        jobs.add_metric(["queued"], reading.queued)
        jobs.add_metric(["running"], reading.running)
        slots = GaugeMetricFamily("imagebot_queue_slots", "Jobs that may run at once.", value=reading.slots)
        return [jobs, slots]


class Metrics:
    """The bot's counters, latency histogram and queue gauges, rendered in the Prometheus text format."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._jobs = Counter(
            "imagebot_jobs_total", "Image jobs finished, by outcome.", ["outcome"], registry=self.registry
        )
        for outcome in OUTCOMES:
            self._jobs.labels(outcome)  # every outcome shows from the start, at 0
        self._images = Counter(
            "imagebot_images_delivered_total", "Images delivered to members.", registry=self.registry
        )
        self._gateway_seconds = Histogram(
            "imagebot_gateway_request_seconds",
            "Seconds the image API took to answer a request.",
            buckets=GATEWAY_BUCKETS,
            registry=self.registry,
        )
        self._gateway_errors = Counter(
            "imagebot_gateway_errors_total", "Image API failures, by error class.", ["kind"], registry=self.registry
        )
        self._provider_seconds = Histogram(
            "imagebot_provider_request_seconds",
            "Seconds each provider took to serve a request, by provider.",
            ["provider"],
            buckets=GATEWAY_BUCKETS,
            registry=self.registry,
        )
        self._provider_failures = Counter(
            "imagebot_provider_failures_total",
            "Provider failures, by provider and error class.",
            ["provider", "kind"],
            registry=self.registry,
        )
        self._discord_errors = Counter(
            "imagebot_discord_errors_total", "Discord HTTP failures, by status.", ["status"], registry=self.registry
        )
        self._queue = _QueueCollector()
        self.registry.register(self._queue)

    def job_finished(self, outcome: str, images: int) -> None:
        """Count a finished job and the images it delivered."""
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown job outcome {outcome!r}; expected one of {', '.join(OUTCOMES)}")
        self._jobs.labels(outcome).inc()
        if images:
            self._images.inc(images)

    def gateway_request(self, seconds: float) -> None:
        """Record how long one image API request took."""
        self._gateway_seconds.observe(seconds)

    def provider_request(self, provider: str, seconds: float) -> None:
        """A provider served a request in `seconds`."""
        self._provider_seconds.labels(provider).observe(seconds)

    def provider_reading(self, provider: str) -> tuple[int, int, float]:
        """A provider's requests served, failures, and mean seconds per request served, since the start."""
        served = self.registry.get_sample_value("imagebot_provider_request_seconds_count", {"provider": provider}) or 0
        total = self.registry.get_sample_value("imagebot_provider_request_seconds_sum", {"provider": provider}) or 0.0
        failures = sum(
            sample.value
            for metric in self._provider_failures.collect()
            for sample in metric.samples
            if sample.name.endswith("_total") and sample.labels.get("provider") == provider
        )
        return int(served), int(failures), total / served if served else 0.0

    def provider_error(self, provider: str, kind: str) -> None:
        """A provider failed with an error of class `kind` (the job may still be served by another)."""
        self._provider_failures.labels(provider, kind).inc()

    def gateway_error(self, kind: str) -> None:
        """Count an image API failure by its error class name (e.g. RateLimited)."""
        self._gateway_errors.labels(kind).inc()

    def discord_error(self, status: int) -> None:
        """Count a Discord HTTP failure by its status."""
        self._discord_errors.labels(str(status)).inc()

    def watch_queue(self, queued: Callable[[], int], running: Callable[[], int], slots: int) -> None:
        """Read the queue's gauges from these callables at each scrape."""
        self._queue.read = lambda: QueueReading(queued(), running(), slots)

    def queue(self) -> QueueReading | None:
        """The watched queue as it stands now; None before `watch_queue`."""
        return self._queue.read() if self._queue.read is not None else None

    def render(self) -> bytes:
        """Every metric in the Prometheus text exposition format (0.0.4)."""
        return generate_latest(self.registry)


def job_outcome(error: BaseException) -> str:
    """The outcome label of a job that ended with `error`: refused, cancelled or failed."""
    if isinstance(error, REFUSALS):
        return "refused"
    return "cancelled" if isinstance(error, JobCancelled) else "failed"
