import pytest

from bot.core.errors import InvalidPromptParameter
from bot.core.prompt_params import TypedOptions, asked_request, split_parameters


def test_a_prompt_without_parameters_is_left_exactly_as_written() -> None:
    text = "a fox\n  in the snow -- at dawn, 2--3 birds"
    assert split_parameters(text) == TypedOptions(prompt=text)


def test_parameters_are_taken_out_and_read_as_options() -> None:
    typed = split_parameters("a fox --ar 16:9 --q 2K --n 2 --style Natural in the snow")
    assert typed == TypedOptions(prompt="a fox in the snow", size="1792x1024", quality="2k", count=2, style="Natural")


def test_long_names_and_the_dash_phones_make_of_two_hyphens_work_too() -> None:
    typed = split_parameters("a fox —aspect 9:16 --quality 4k")
    assert (typed.prompt, typed.size, typed.quality) == ("a fox", "1024x1792", "4k")


def test_no_takes_every_word_up_to_the_next_parameter_as_an_instruction() -> None:
    typed = split_parameters("a street at night --no text, watermarks --n 3")
    assert typed.count == 3
    assert typed.prompt == "a street at night\n\nDo not include: text, watermarks."


def test_no_twice_joins_both_lists() -> None:
    assert split_parameters("a cat --no dogs --no birds").prompt == "a cat\n\nDo not include: dogs birds."


def test_a_prompt_of_parameters_only_stays_empty_to_be_refused_as_one() -> None:
    assert split_parameters("--ar 1:1 --no text").prompt == ""


@pytest.mark.parametrize(
    ("text", "parameter", "reason"),
    [
        ("a fox --chaos 50", "--chaos", "unknown"),
        ("a fox --private --private", "--private", "repeated"),
        ("a fox --ar", "--ar", "missing"),
        ("a fox --ar --q 2k", "--ar", "missing"),
        ("a fox --no", "--no", "missing"),
        ("a fox --n 2 --n 3", "--n", "repeated"),
        ("a fox --q 2k --quality 4k", "--quality", "repeated"),
        ("a fox --ar 5:4", "--ar", "value"),
        ("a fox --q 8k", "--q", "value"),
        ("a fox --n 0", "--n", "value"),
        ("a fox --n 11", "--n", "value"),
        ("a fox --n two", "--n", "value"),
    ],
)
def test_a_parameter_that_is_not_one_or_cannot_take_its_value_is_refused_by_name(
    text: str, parameter: str, reason: str
) -> None:
    with pytest.raises(InvalidPromptParameter) as raised:
        split_parameters(text)
    assert (raised.value.parameter, raised.value.reason) == (parameter, reason)


def test_a_refused_value_says_what_it_may_be() -> None:
    with pytest.raises(InvalidPromptParameter) as raised:
        split_parameters("a fox --ar 5:4")
    assert raised.value.value == "5:4"
    assert "16:9" in raised.value.allowed


def test_an_option_the_member_chose_wins_over_the_typed_one() -> None:
    ask = asked_request("a fox --ar 16:9 --q 2k --n 2 --style vivid", count=3, size="1:1", quality="4k")
    assert (ask.prompt, ask.count, ask.size, ask.quality, ask.style) == ("a fox", 3, "1:1", "4k", "vivid")


def test_typed_parameters_fill_what_the_member_left_out_and_count_defaults_to_one() -> None:
    ask = asked_request("a fox --q 2k")
    assert (ask.prompt, ask.count, ask.size, ask.quality, ask.style) == ("a fox", 1, None, "2k", None)


def test_private_is_a_switch_that_takes_no_value() -> None:
    typed = split_parameters("a fox --private in the snow --q 2k")
    assert (typed.prompt, typed.private, typed.quality) == ("a fox in the snow", True, "2k")
    assert asked_request("a fox --private").private
    assert not asked_request("a fox --private", private=False).private  # the option chosen wins
    assert not asked_request("a fox").private
