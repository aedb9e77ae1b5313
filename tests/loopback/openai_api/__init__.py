"""A loopback stand-in of OpenAI's Images API for GPT image models (`POST /v1/images/generations` and `/edits`).

api = OpenAIImagesServer(api_key="sk-test")
await api.start()
api.fail_next(moderation_blocked())
...  # point a client at api.base_url (the official `openai` client at api.base_url + "/v1")
await api.stop()
"""

from .faults import (
    Fault,
    FaultKind,
    api_error,
    drop,
    empty_data,
    hang,
    insufficient_quota,
    moderation_blocked,
    overloaded,
    rate_limited,
    server_error,
)
from .records import RecordedRequest, UploadedFile
from .server import EDITS_PATH, GENERATIONS_PATH, OpenAIImagesServer
from .validation import GPT_IMAGE_MODELS

__all__ = [
    "EDITS_PATH",
    "GENERATIONS_PATH",
    "GPT_IMAGE_MODELS",
    "Fault",
    "FaultKind",
    "OpenAIImagesServer",
    "RecordedRequest",
    "UploadedFile",
    "api_error",
    "drop",
    "empty_data",
    "hang",
    "insufficient_quota",
    "moderation_blocked",
    "overloaded",
    "rate_limited",
    "server_error",
]
