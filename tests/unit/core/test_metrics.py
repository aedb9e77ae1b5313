import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.core.errors import JobCancelled, PromptEmpty, QueueFull, SafetyRefused, UpstreamTimeout
from bot.core.metrics import GATEWAY_BUCKETS, Metrics, job_outcome


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the rendered text, keyed by name and sorted labels."""
    text = metrics.render().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_finished_jobs_are_counted_by_outcome_with_their_images() -> None:
    metrics = Metrics()
    metrics.job_finished("delivered", 3)
    metrics.job_finished("delivered", 1)
    metrics.job_finished("refused", 0)

    found = samples(metrics)
    assert found["imagebot_jobs_total", (("outcome", "delivered"),)] == 2
    assert found["imagebot_jobs_total", (("outcome", "refused"),)] == 1
    assert found["imagebot_jobs_total", (("outcome", "failed"),)] == 0  # present before the first failure
    assert found["imagebot_jobs_total", (("outcome", "cancelled"),)] == 0
    assert found["imagebot_images_delivered_total", ()] == 4


def test_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown job outcome"):
        Metrics().job_finished("exploded", 0)


def test_gateway_latency_fills_the_job_sized_buckets() -> None:
    metrics = Metrics()
    for seconds in (0.5, 4.0, 45.0, 400.0):
        metrics.gateway_request(seconds)

    found = samples(metrics)
    buckets = {
        labels[0][1]: value
        for (name, labels), value in found.items()
        if name == "imagebot_gateway_request_seconds_bucket"
    }
    assert set(buckets) == {*(str(bound) for bound in GATEWAY_BUCKETS), "+Inf"}
    assert buckets["1.0"] == 1
    assert buckets["5.0"] == 2
    assert buckets["60.0"] == 3
    assert buckets["300.0"] == 3
    assert buckets["+Inf"] == 4
    assert found["imagebot_gateway_request_seconds_count", ()] == 4
    assert found["imagebot_gateway_request_seconds_sum", ()] == pytest.approx(449.5)


def test_gateway_and_discord_errors_are_counted_by_kind_and_status() -> None:
    metrics = Metrics()
    metrics.gateway_error("RateLimited")
    metrics.gateway_error("RateLimited")
    metrics.gateway_error("SafetyRefused")
    metrics.discord_error(429)
    metrics.discord_error(503)

    found = samples(metrics)
    assert found["imagebot_gateway_errors_total", (("kind", "RateLimited"),)] == 2
    assert found["imagebot_gateway_errors_total", (("kind", "SafetyRefused"),)] == 1
    assert found["imagebot_discord_errors_total", (("status", "429"),)] == 1
    assert found["imagebot_discord_errors_total", (("status", "503"),)] == 1


def test_queue_gauges_read_the_queue_at_each_render() -> None:
    metrics = Metrics()
    state = {"queued": 2, "running": 1}
    metrics.watch_queue(lambda: state["queued"], lambda: state["running"], slots=4)

    found = samples(metrics)
    assert found["imagebot_queue_jobs", (("state", "queued"),)] == 2
    assert found["imagebot_queue_jobs", (("state", "running"),)] == 1
    assert found["imagebot_queue_slots", ()] == 4

    state.update(queued=0, running=3)
    found = samples(metrics)
    assert found["imagebot_queue_jobs", (("state", "queued"),)] == 0
    assert found["imagebot_queue_jobs", (("state", "running"),)] == 3
    assert metrics.queue() is not None and metrics.queue().running == 3


def test_queue_gauges_are_absent_until_a_queue_is_watched() -> None:
    metrics = Metrics()
    assert metrics.queue() is None
    assert not any(name.startswith("imagebot_queue") for name, _ in samples(metrics))


def test_two_bots_in_one_process_keep_separate_counts() -> None:
    first, second = Metrics(), Metrics()
    first.job_finished("failed", 0)

    assert samples(first)["imagebot_jobs_total", (("outcome", "failed"),)] == 1
    assert samples(second)["imagebot_jobs_total", (("outcome", "failed"),)] == 0


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (PromptEmpty(), "refused"),
        (QueueFull("user", 3, 3), "refused"),
        (JobCancelled("shutdown"), "cancelled"),
        (SafetyRefused("blocked"), "failed"),
        (UpstreamTimeout("no answer"), "failed"),
        (RuntimeError("bug"), "failed"),
    ],
)
def test_errors_map_to_job_outcomes(error: BaseException, outcome: str) -> None:
    assert job_outcome(error) == outcome
