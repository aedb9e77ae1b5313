"""A loopback OpenAI-compatible image API (`POST /v1/images/generations`) for tests and benchmarks.

api = ImageAPIServer(api_key="test-key")
await api.start()
api.fail_next(rate_limited(retry_after=0.1))
...  # point the client at api.base_url
await api.stop()
"""

from .faults import (
    Fault,
    FaultKind,
    api_error,
    dead_url,
    empty_data,
    empty_response,
    error_code_int,
    hang,
    no_images,
    not_json,
    overloaded,
    quota_exhausted,
    rate_limited,
    safety,
    server_error,
    unauthorized,
)
from .records import RecordedRequest
from .render import ImageFormat
from .server import DEFAULT_MODELS, GENERATIONS_PATH, ImageAPIServer
from .shapes import AnswerShape

__all__ = [
    "DEFAULT_MODELS",
    "GENERATIONS_PATH",
    "AnswerShape",
    "Fault",
    "FaultKind",
    "ImageAPIServer",
    "ImageFormat",
    "RecordedRequest",
    "api_error",
    "dead_url",
    "empty_data",
    "empty_response",
    "error_code_int",
    "hang",
    "no_images",
    "not_json",
    "overloaded",
    "quota_exhausted",
    "rate_limited",
    "safety",
    "server_error",
    "unauthorized",
]
