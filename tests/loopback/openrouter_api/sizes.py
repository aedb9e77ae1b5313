"""The pixel size of an answer: Gemini's image tables, which OpenRouter passes `image_config` through to.

Gemini 3's image models (Nano Banana Pro, Nano Banana 2) make 1K, 2K and 4K images; 2K doubles each side of 1K and
4K quadruples it. gemini-2.5-flash-image makes 1K only, at sizes of its own, whatever `image_size` says:

    ratio   Gemini 3: 1K   2K          4K          gemini-2.5-flash-image
    1:1     1024x1024      2048x2048   4096x4096   1024x1024
    2:3     848x1264       1696x2528   3392x5056   832x1248
    3:2     1264x848       2528x1696   5056x3392   1248x832
    3:4     896x1200       1792x2400   3584x4800   864x1184
    4:3     1200x896       2400x1792   4800x3584   1184x864
    4:5     928x1152       1856x2304   3712x4608   896x1152
    5:4     1152x928       2304x1856   4608x3712   1152x896
    9:16    768x1376       1536x2752   3072x5504   768x1344
    16:9    1376x768       2752x1536   5504x3072   1344x768
    21:9    1584x672       3168x1344   6336x2688   1536x672

No `aspect_ratio` means 1:1; an `image_size` other than the uppercase 1K/2K/4K is ignored (as users report of
lowercase values), and the answer comes at 1K.
"""

ONE_K: dict[str, tuple[int, int]] = {
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
FLASH_25: dict[str, tuple[int, int]] = {
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
ONE_K_ONLY_MODELS = frozenset({"google/gemini-2.5-flash-image", "google/gemini-2.5-flash-image-preview"})
ASPECT_RATIOS = frozenset(ONE_K)
IMAGE_SIZES: dict[str, int] = {"1K": 1, "2K": 2, "4K": 4}  # the scale of each side against 1K
DEFAULT_RATIO = "1:1"
DEFAULT_IMAGE_SIZE = "1K"


def output_size(aspect_ratio: str | None, image_size: str | None, model: str | None = None) -> tuple[int, int]:
    """The pixels of an image `model` makes at `aspect_ratio` and `image_size` (both already checked, or None)."""
    ratio = aspect_ratio or DEFAULT_RATIO
    if model in ONE_K_ONLY_MODELS:
        return FLASH_25[ratio]
    width, height = ONE_K[ratio]
    scale = IMAGE_SIZES.get(image_size or DEFAULT_IMAGE_SIZE, 1)
    return width * scale, height * scale
