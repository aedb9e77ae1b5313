"""A loopback stand-in of Google's native Gemini API (`POST /v1beta/models/{model}:generateContent`).

api = GeminiAPIServer(api_key="test-key")
await api.start()
api.fail_next(safety())
...  # point google-genai (`HttpOptions(base_url=api.base_url)`) or the `gemini` provider at api.base_url
await api.stop()
"""

from .faults import (
    Fault,
    FaultKind,
    deadline_exceeded,
    drop,
    finished,
    google_error,
    hang,
    no_image,
    overloaded,
    prompt_blocked,
    rate_limited,
    safety,
    server_error,
)
from .records import RecordedRequest
from .server import DEFAULT_MODELS, GENERATE_PATH, GeminiAPIServer
from .sizes import GEMINI_3_1K, output_size

__all__ = [
    "DEFAULT_MODELS",
    "GEMINI_3_1K",
    "GENERATE_PATH",
    "Fault",
    "FaultKind",
    "GeminiAPIServer",
    "RecordedRequest",
    "deadline_exceeded",
    "drop",
    "finished",
    "google_error",
    "hang",
    "no_image",
    "output_size",
    "overloaded",
    "prompt_blocked",
    "rate_limited",
    "safety",
    "server_error",
]
