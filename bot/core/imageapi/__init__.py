"""Client for the OpenAI-compatible image API (`POST /v1/images/generations`)."""

from bot.core.imageapi.answers import ImageBytes
from bot.core.imageapi.client import Generation, ImageAPIClient, ImageAPIConfig
from bot.core.imageapi.request import QUALITIES, GenerationRequest, hash_user

__all__ = [
    "QUALITIES",
    "Generation",
    "GenerationRequest",
    "ImageAPIClient",
    "ImageAPIConfig",
    "ImageBytes",
    "hash_user",
]
