"""What the bot asks the image API for, and the JSON body that asks it."""

import hashlib
import hmac
from collections.abc import Mapping
from types import MappingProxyType

QUALITIES = ("1k", "2k", "4k")
RESPONSE_FORMATS = ("b64_json", "url")  # what the API may be asked to answer with (any shape is read either way)
DEFAULT_MODELS = ("gemini-3-pro-image-preview", "gemini-2.5-flash-image")  # the default gateway's image models
# Input pictures each of those models accepts; `*` covers models not listed.
DEFAULT_MODEL_MAX_PICTURES: Mapping[str, int] = MappingProxyType(
    {"gemini-3-pro-image-preview": 14, "gemini-2.5-flash-image": 3, "*": 4}
)


def hash_user(user_id: int, salt: str) -> str:
    """A stable id for abuse tracking upstream that cannot be turned back into the Discord id."""
    digest = hmac.new(salt.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()
    return f"u-{digest[:32]}"
