import pytest

from bot.core import errors
from bot.core.imageapi.retry import MAX_DELAY, retry_delay, should_retry


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (errors.RateLimited(2.0), True),
        (errors.Overloaded("busy", 503), True),
        (errors.ServerError("boom", 500), True),
        (errors.ConnectionFailed("reset"), True),
        (errors.UpstreamTimeout("cdn cut", 524), True),
        (errors.UpstreamTimeout("our deadline"), False),
        (errors.SafetyRefused("no", 400), False),
        (errors.AuthenticationFailed("key", 401), False),
        (errors.UpstreamQuotaExhausted("credit", 403), False),
        (errors.RequestRejected("bad size", 400), False),
        (errors.EmptyResult("none", 500), False),
        (errors.MalformedAnswer("html", 200), False),
    ],
)
def test_what_is_retried(error: errors.ImageAPIError, retried: bool) -> None:
    assert should_retry(error, attempt=0, max_retries=3) is retried


def test_no_retry_past_the_limit() -> None:
    assert should_retry(errors.Overloaded(), attempt=2, max_retries=3)
    assert not should_retry(errors.Overloaded(), attempt=3, max_retries=3)


@pytest.mark.parametrize(("attempt", "low", "high"), [(0, 0.5, 1.0), (1, 1.0, 2.0), (2, 2.0, 4.0), (10, 15.0, 30.0)])
def test_backoff_grows_exponentially_with_jitter(attempt: int, low: float, high: float) -> None:
    assert retry_delay(attempt, errors.ServerError(), rand=lambda: 0.0) == low
    assert retry_delay(attempt, errors.ServerError(), rand=lambda: 1.0) == high
    assert high <= MAX_DELAY


def test_server_retry_after_wins_over_backoff() -> None:
    assert retry_delay(0, errors.RateLimited(20.0), rand=lambda: 0.0) == 20.0
    assert retry_delay(0, errors.RateLimited(20.0), rand=lambda: 1.0) == pytest.approx(22.0)


def test_rate_limit_without_retry_after_backs_off() -> None:
    assert retry_delay(1, errors.RateLimited(0.0), rand=lambda: 0.0) == 1.0


def test_retry_after_on_any_error_is_honoured() -> None:
    assert retry_delay(3, errors.Overloaded("busy", 503, retry_after=0.5), rand=lambda: 0.0) == 0.5
