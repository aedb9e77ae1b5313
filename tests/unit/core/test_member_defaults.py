import pytest

from bot.core.errors import InvalidChoice
from bot.core.member_defaults import checked_defaults, with_defaults
from bot.core.request import ImageRequest
from bot.core.storage import MemberDefaults

MODELS = ("pro", "flash")
STYLES = {"vivid": None, "natural": None, "ink": object()}
MINE = MemberDefaults(7, model="flash", size="1792x1024", quality="2k", style="ink", private=True)


def test_what_the_member_left_out_comes_from_their_defaults_and_is_named() -> None:
    ask, taken = with_defaults(ImageRequest(prompt="a fox"), MINE, MODELS, STYLES)

    assert (ask.model, ask.size, ask.quality, ask.style, ask.private) == ("flash", "1792x1024", "2k", "ink", True)
    assert taken == {"model", "size", "quality", "style", "private"}


def test_what_the_member_chose_wins() -> None:
    chosen = ImageRequest(prompt="a fox", model="pro", size="1:1", quality="1k", style="vivid", private=False)

    assert with_defaults(chosen, MINE, MODELS, STYLES) == (chosen, frozenset())


def test_a_default_this_server_does_not_offer_is_passed_over() -> None:
    ask, taken = with_defaults(ImageRequest(prompt="a fox"), MINE, ("pro",), {"vivid": None})

    assert (ask.model, ask.style) == (None, None)
    assert taken == {"size", "quality", "private"}


def test_defaults_are_kept_in_their_canonical_form() -> None:
    written = MemberDefaults(7, model="FLASH", size="16:9", quality="2K", style=" Ink ", private=False)

    assert checked_defaults(written, MODELS, STYLES) == MemberDefaults(
        7, model="flash", size="1792x1024", quality="2k", style="ink", private=False
    )


@pytest.mark.parametrize(
    ("option", "value"), [("model", "dall-e"), ("size", "21:9"), ("quality", "8k"), ("style", "sketchy")]
)
def test_a_default_that_is_none_of_the_options_values_is_refused_naming_it(option: str, value: str) -> None:
    with pytest.raises(InvalidChoice) as refused:
        checked_defaults(MemberDefaults(7, **{option: value}), MODELS, STYLES)  # type: ignore[arg-type]
    assert refused.value.option == option
