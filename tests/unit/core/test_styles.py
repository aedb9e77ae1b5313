import pytest

from bot.core.errors import InvalidChoice, InvalidStyle
from bot.core.request import ImageRequest
from bot.core.styles import MAX_TEMPLATE, Style, apply_style, available, check_style, load_styles


def test_a_style_is_named_as_members_type_it() -> None:
    assert check_style("  Water   Colour ", " soft {prompt} ") == Style("water colour", "soft {prompt}")


@pytest.mark.parametrize(
    ("name", "template", "reason"),
    [
        ("", "{prompt}", "name"),
        ("x" * 33, "{prompt}", "name"),
        ("<@everyone>", "{prompt}", "name"),
        ("Vivid", "{prompt}", "reserved"),
        ("ink", "an ink drawing", "template"),
        ("ink", "{prompt}" + "x" * MAX_TEMPLATE, "template"),
    ],
)
def test_a_style_that_cannot_be_one_is_refused_saying_why(name: str, template: str, reason: str) -> None:
    with pytest.raises(InvalidStyle) as refused:
        check_style(name, template)
    assert refused.value.reason == reason


def test_names_in_other_scripts_are_styles_too() -> None:
    assert check_style("水彩", "{prompt}, 水彩画").name == "水彩"


def test_a_styles_file_gives_its_styles_in_order() -> None:
    text = """
[[styles]]
name = "Noir"
template = "{prompt}, film noir"

[[styles]]
name = "ink"
template = "ink {prompt}"
"""
    assert load_styles(text) == (Style("noir", "{prompt}, film noir"), Style("ink", "ink {prompt}"))
    assert load_styles("") == ()


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[[styles]\n", "not valid TOML"),
        ('styles = "noir"', "array of tables"),
        ('[[styles]]\nname = "noir"', "style 1: `template` must be a string"),
        ('[[styles]]\nname = 3\ntemplate = "{prompt}"', "style 1: `name` must be a string"),
        ('[[styles]]\nname = "noir"\ntemplate = "dark"', "style 1 ('noir')"),
        ('[[styles]]\nname = "a"\ntemplate = "{prompt}"\n[[styles]]\nname = "A"\ntemplate = "{prompt}"', "named twice"),
    ],
)
def test_a_styles_file_problem_names_the_style_and_field(text: str, said: str) -> None:
    with pytest.raises(ValueError) as refused:
        load_styles(text)
    assert said in str(refused.value)


def test_no_style_leaves_the_request_as_it_is() -> None:
    request = ImageRequest(prompt="a fox")
    assert apply_style(request, available((), ())) == (request, None)


def test_the_prompt_goes_wherever_the_template_puts_it_every_time() -> None:
    styles = available((("twice", "{prompt} and again {prompt}"),), ())
    styled, name = apply_style(ImageRequest(prompt="a fox", style="twice"), styles)
    assert (styled.prompt, styled.style, name) == ("a fox and again a fox", None, "twice")


def test_an_unknown_style_lists_the_ones_there_are() -> None:
    with pytest.raises(InvalidChoice) as refused:
        apply_style(ImageRequest(prompt="a fox", style="ugly"), available((), (Style("noir", "{prompt}"),)))
    assert refused.value.allowed == "vivid, natural, noir"
