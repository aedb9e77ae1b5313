"""A loopback OpenRouter (`POST /api/v1/chat/completions` with image output) for tests and benchmarks.

api = OpenRouterServer(api_key="test-key")
await api.start()
api.fail_next(moderation())
...  # point the provider at api.base_url, or an OpenAI client at api.api_base
await api.stop()
"""

from .faults import (
    Fault,
    FaultKind,
    api_error,
    bad_gateway,
    choice_error,
    content_filter,
    drop,
    error_in_body,
    hang,
    insufficient_credits,
    low_credit,
    moderation,
    no_provider,
    rate_limited,
    refused,
    text_only,
    timed_out,
)
from .records import RecordedRequest
from .server import API_PREFIX, CHAT_PATH, DEFAULT_MODELS, OpenRouterServer
from .sizes import output_size

__all__ = [
    "API_PREFIX",
    "CHAT_PATH",
    "DEFAULT_MODELS",
    "Fault",
    "FaultKind",
    "OpenRouterServer",
    "RecordedRequest",
    "api_error",
    "bad_gateway",
    "choice_error",
    "content_filter",
    "drop",
    "error_in_body",
    "hang",
    "insufficient_credits",
    "low_credit",
    "moderation",
    "no_provider",
    "output_size",
    "rate_limited",
    "refused",
    "text_only",
    "timed_out",
]
