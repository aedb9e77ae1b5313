"""Client for the OpenAI-compatible image API (`POST /v1/images/generations`)."""

from bot.core.imageapi.answers import ImageBytes
from bot.core.imageapi.request import (
    DEFAULT_MODEL_MAX_PICTURES,
    DEFAULT_MODELS,
    QUALITIES,
    RESPONSE_FORMATS,
    hash_user,
)

__all__ = [
    "DEFAULT_MODELS",
    "DEFAULT_MODEL_MAX_PICTURES",
    "QUALITIES",
    "RESPONSE_FORMATS",
    "ImageBytes",
    "hash_user",
]
