"""What Gemini's image models make at each tier, shared by every kind that reaches them (Google's own API,
OpenRouter, and the gateways in front of them): the ratio and size names they take, and the pixel floor of
each tier.

Gemini 3 image models make 1K at about 1024 pixels on the long side (1024 to 1584 by ratio), 2K at twice that and
4K at four times; gemini-2.5-flash-image makes 1K whatever is asked. The floors sit between the tiers for every
ratio: the smallest 2K and 4K long sides are 2048 and 4096, the largest 1K and 2K ones 1584 and 3168 (21:9).
"""

from collections.abc import Mapping
from types import MappingProxyType

from bot.core.errors import RequestRejected
from bot.core.request import RATIOS

IMAGE_SIZES: Mapping[str, str] = MappingProxyType({"1k": "1K", "2k": "2K", "4k": "4K"})  # uppercase: lowercase fails
TIER_FLOORS: Mapping[str, int] = MappingProxyType({"1k": 0, "2k": 2000, "4k": 3600})


def tier_floor(quality: str | None) -> int:
    """The fewest pixels on the long side of a Gemini image at `quality` (1k, or None, gives 0)."""
    return TIER_FLOORS.get((quality or "1k").lower(), 0)


def image_config(size: str | None, quality: str | None, *, ratio_key: str, size_key: str, api: str) -> dict[str, str]:
    """The aspect ratio and image size for a request's `WxH` size and tier, under the keys `api` uses."""
    config: dict[str, str] = {}
    if size is not None:
        if (ratio := RATIOS.get(size)) is None:
            raise RequestRejected(f"size {size} has no aspect ratio to ask {api} for")
        config[ratio_key] = ratio
    if quality is not None:
        if (image_size := IMAGE_SIZES.get(quality.lower())) is None:
            raise RequestRejected(f"quality {quality} has no {api} {size_key}")
        config[size_key] = image_size
    return config
