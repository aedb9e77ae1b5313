"""The pixel sizes the stand-in answers with: Gemini's table of aspect ratio x `imageSize`.

Gemini 3 image models (gemini-3-pro-image-preview and the like), width x height:

    ratio   1K           2K           4K
    1:1     1024x1024    2048x2048    4096x4096
    2:3     848x1264     1696x2528    3392x5056
    3:2     1264x848     2528x1696    5056x3392
    3:4     896x1200     1792x2400    3584x4800
    4:3     1200x896     2400x1792    4800x3584
    4:5     928x1152     1856x2304    3712x4608
    5:4     1152x928     2304x1856    4608x3712
    9:16    768x1376     1536x2752    3072x5504
    16:9    1376x768     2752x1536    5504x3072
    21:9    1584x672     3168x1344    6336x2688

gemini-2.5-flash-image makes 1K only, whatever `imageSize` asks (1:1 1024x1024, 2:3 832x1248, 3:2 1248x832,
3:4 864x1184, 4:3 1184x864, 4:5 896x1152, 5:4 1152x896, 9:16 768x1344, 16:9 1344x768, 21:9 1536x672): the stand-in
ignores its `imageSize` silently, which is how a smaller delivery than asked looks to a client.
"""

from collections.abc import Mapping
from math import log
from types import MappingProxyType

IMAGE_SIZES: Mapping[str, int] = MappingProxyType({"1K": 1, "2K": 2, "4K": 4})  # case matters: "2k" is refused
DEFAULT_IMAGE_SIZE = "1K"
DEFAULT_RATIO = "1:1"

GEMINI_3_1K: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "1:1": (1024, 1024),
        "2:3": (848, 1264),
        "3:2": (1264, 848),
        "3:4": (896, 1200),
        "4:3": (1200, 896),
        "4:5": (928, 1152),
        "5:4": (1152, 928),
        "9:16": (768, 1376),
        "16:9": (1376, 768),
        "21:9": (1584, 672),
    }
)
FLASH_25: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "1:1": (1024, 1024),
        "2:3": (832, 1248),
        "3:2": (1248, 832),
        "3:4": (864, 1184),
        "4:3": (1184, 864),
        "4:5": (896, 1152),
        "5:4": (1152, 896),
        "9:16": (768, 1344),
        "16:9": (1344, 768),
        "21:9": (1536, 672),
    }
)
ONE_K_ONLY: Mapping[str, Mapping[str, tuple[int, int]]] = MappingProxyType({"gemini-2.5-flash-image": FLASH_25})
ASPECT_RATIOS = frozenset(GEMINI_3_1K)


def output_size(model: str, ratio: str, image_size: str) -> tuple[int, int]:
    """The pixel size `model` makes at `ratio` and `image_size` (both already checked)."""
    if (table := ONE_K_ONLY.get(model)) is not None:
        return table[ratio]
    width, height = GEMINI_3_1K[ratio]
    scale = IMAGE_SIZES[image_size]
    return width * scale, height * scale


def nearest_ratio(width: int, height: int) -> str:
    """The supported ratio closest to a picture's own, which Gemini follows when an edit names none."""
    return min(ASPECT_RATIOS, key=lambda ratio: abs(log(_value(ratio)) - log(width / height)))


def _value(ratio: str) -> float:
    across, down = ratio.split(":")
    return int(across) / int(down)
