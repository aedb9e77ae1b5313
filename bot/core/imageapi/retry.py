"""When to try a failed call again, and how long to wait first."""

import random
from collections.abc import Callable

from bot.core.errors import ConnectionFailed, ImageAPIError, Overloaded, RateLimited, ServerError, UpstreamTimeout

BASE_DELAY = 1.0
MAX_DELAY = 30.0


def should_retry(error: ImageAPIError, attempt: int, max_retries: int) -> bool:
    """Retry throttling, overload, server faults and lost connections; never other refusals."""
    if attempt >= max_retries:
        return False
    if isinstance(error, UpstreamTimeout):
        return error.status is not None  # the gateway timed out (408/504/524); our own deadline is final
    return isinstance(error, RateLimited | Overloaded | ServerError | ConnectionFailed)


def retry_delay(attempt: int, error: ImageAPIError, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter; the server's own retry-after wins when it gives one."""
    if error.retry_after > 0:
        return error.retry_after * (1 + 0.1 * rand())
    ceiling = min(MAX_DELAY, BASE_DELAY * 2.0**attempt)
    return ceiling * (0.5 + 0.5 * rand())
