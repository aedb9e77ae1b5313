"""Each limit is declared once, in `bot.core.limits.LIMITS`; this checks that a declared limit is complete everywhere
else it must appear: its name in every language, its wording, the README's limits table and, when the operator
sets its default, .env.example and the README's settings table."""

import re
from pathlib import Path

import pytest

from bot.app.i18n import catalogue
from bot.app.limit_text import display
from bot.core.limits import DEFAULT_LIMITS, LIMITS, Kind, LimitSpec, ServerLimits
from bot.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("en-US", "zh-CN")
OPERATOR_SET = [spec for spec in LIMITS if spec.setting is not None]


def limits_table() -> str:
    """The README's table of the limits moderators set."""
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("### Limits") :].split("\n\n", 2)[2].split("\n\n")[0]


@pytest.mark.parametrize("spec", LIMITS, ids=lambda spec: spec.name)
def test_each_limit_has_a_name_in_every_language(spec: LimitSpec) -> None:
    labels = {locale: catalogue.lookup(locale, f"limit.{spec.name}") for locale in LOCALES}
    assert all(labels.values()), labels
    assert labels["zh-CN"] != labels["en-US"]


@pytest.mark.parametrize("spec", LIMITS, ids=lambda spec: spec.name)
def test_each_limit_reads_in_every_language(spec: LimitSpec) -> None:
    assert all(display(spec.name, getattr(DEFAULT_LIMITS, spec.name), locale) for locale in LOCALES)
    # unset, every limit reads as a word ("unlimited", "none", "all", "yes"), which each language has its own of;
    # only a quality reads as its literal name everywhere
    unset = {locale: display(spec.name, getattr(ServerLimits(), spec.name), locale) for locale in LOCALES}
    assert (unset["zh-CN"] == unset["en-US"]) is (spec.kind is Kind.QUALITY), unset


@pytest.mark.parametrize("spec", LIMITS, ids=lambda spec: spec.name)
def test_each_limit_is_in_the_readmes_limits_table(spec: LimitSpec) -> None:
    assert re.search(rf"^\|.*`{spec.name}`.*\|", limits_table(), re.MULTILINE), f"{spec.name} in README ### Limits"


@pytest.mark.parametrize("spec", OPERATOR_SET, ids=lambda spec: spec.name)
def test_each_operator_setting_is_documented_with_its_default(spec: LimitSpec) -> None:
    assert spec.setting is not None
    name = spec.setting.name
    shown = re.search(rf"^# {name}=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE)
    assert shown, f"{name} in .env.example"
    required = {"DISCORD_TOKEN": "t", "IMAGE_API_KEY": "k"}
    assert getattr(load_settings(required | {name: shown[1]}).limit_defaults, spec.name) == spec.setting.default
    assert f"| `{name}` |" in (ROOT / "README.md").read_text(), f"{name} in the README's settings table"
