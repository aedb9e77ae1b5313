import pytest

from bot.core.pricing import dollars_to_micro, image_cost, micro_to_dollars, parse_prices


def test_prices_by_model_and_quality_with_a_fallback() -> None:
    prices = parse_prices("pro=0.134, pro@4k=0.24, flash=0.039, *=0.05")

    assert image_cost(prices, "pro", "1k", 3) == 402_000
    assert image_cost(prices, "pro", None, 1) == 134_000
    assert image_cost(prices, "pro", "4k", 2) == 480_000
    assert image_cost(prices, "flash", "4k", 1) == 39_000
    assert image_cost(prices, "other", "2k", 1) == 50_000


def test_a_model_without_a_price_and_no_fallback_costs_nothing() -> None:
    assert image_cost(parse_prices("pro=1"), "unknown", "1k", 5) == 0


@pytest.mark.parametrize(("text", "micro"), [("0", 0), ("25", 25_000_000), ("12.5", 12_500_000), ("$0.039", 39_000)])
def test_dollar_amounts_become_exact_micro_dollars(text, micro) -> None:
    assert dollars_to_micro(text) == micro


@pytest.mark.parametrize("text", ["", "-1", "1.2.3", "ten", "0.0000001"])
def test_bad_amounts_are_refused(text) -> None:
    with pytest.raises(ValueError, match="dollars"):
        dollars_to_micro(text)


def test_a_bad_price_pair_is_named() -> None:
    with pytest.raises(ValueError, match=r"'=0\.1'"):
        parse_prices("pro=0.1,=0.1")


@pytest.mark.parametrize(
    ("micro", "shown"),
    [(0, "$0.00"), (134_000, "$0.13"), (1_234_560_000, "$1,234.56"), (5_000, "$0.005"), (39, "$0.000039")],
)
def test_amounts_read_as_dollars(micro, shown) -> None:
    assert micro_to_dollars(micro) == shown
