"""Estimated cost of images, from a configurable price table, in integer micro-dollars (exact sums)."""

from collections.abc import Mapping

MICRO = 1_000_000  # micro-dollars in a dollar
# Dollars per image (`parse_prices`): Gemini list prices of the default models; the Pro price for models not listed.
DEFAULT_PRICES = (
    "gemini-3-pro-image-preview=0.134,gemini-3-pro-image-preview@4k=0.24,gemini-2.5-flash-image=0.039,*=0.134"
)


def parse_prices(text: str) -> dict[str, int]:
    """`key=dollars` pairs, comma-separated, as micro-dollars per image; raises ValueError naming a bad pair."""
    prices: dict[str, int] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, _, amount = item.partition("=")
        prices[key.strip()] = dollars_to_micro(amount) if key.strip() else _bad(item)
    prices.setdefault("*", 0)
    return prices


def dollars_to_micro(text: str) -> int:
    """`"0.134"` → 134000; raises ValueError for anything but a non-negative amount with at most 6 decimals."""
    whole, _, fraction = text.strip().removeprefix("$").partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > 6:
        raise ValueError(f"{text.strip()!r} is not an amount of dollars")
    return int(whole) * MICRO + int(fraction.ljust(6, "0") or 0)


def micro_to_dollars(amount: int) -> str:
    """134000 → `$0.13`; amounts under a cent keep more digits so that they don't read as nothing."""
    dollars = amount / MICRO
    return f"${dollars:,.2f}" if amount == 0 or dollars >= 0.01 else f"${dollars:.6f}".rstrip("0")


def image_cost(prices: Mapping[str, int], model: str, quality: str | None, images: int) -> int:
    """The estimated cost of `images` images of `model` at `quality`, in micro-dollars."""
    quality = quality or "1k"
    each = prices.get(f"{model}@{quality}", prices.get(model, prices.get("*", 0)))
    return each * images


def _bad(item: str) -> int:
    raise ValueError(f"{item!r} must be model=dollars")
