"""Every setting the bot reads is documented, in .env.example and in the README's table, and .env.example shows
the default the code uses."""

import re
from pathlib import Path

import pytest

from bot.core.limits import LIMITS
from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = sorted(
    set(re.findall(r'env, "([A-Z][A-Z0-9_]+)"', (ROOT / "bot/settings.py").read_text()))
    | {spec.setting.name for spec in LIMITS if spec.setting is not None}  # read through the limit specs
)
EXAMPLE = dict(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE))
REQUIRED = {"DISCORD_TOKEN": "discord-secret", "IMAGE_API_KEY": "api-secret"}
# Settings .env.example can't show a default of: the secrets, and those whose default is none or follows from
# elsewhere, for which it shows an example.
NO_FIXED_DEFAULT = {
    "DISCORD_TOKEN",  # a secret, required
    "IMAGE_API_KEY",  # a secret, required
    "DATABASE_URL",  # SQLite in DATA_DIR; the example is PostgreSQL
    "HEALTH_PORT",  # off unless set
    "SHARD_COUNT",  # Discord's recommendation
    "SHARD_IDS",  # every shard
    "IMAGE_PROVIDERS_FILE",  # one gateway unless set
    "STYLES_FILE",  # no operator styles unless set
}


def test_the_settings_are_found() -> None:
    assert {"DISCORD_TOKEN", "IMAGE_API_KEY", "SHARD_IDS", "GLOBAL_DAILY_IMAGES", "LIMIT_MAX_COUNT"} <= set(SETTINGS)
    assert set(SETTINGS) >= NO_FIXED_DEFAULT


@pytest.mark.parametrize("name", SETTINGS)
def test_each_setting_is_in_env_example_and_the_readme(name: str) -> None:
    assert re.search(rf"^#? ?{name}=", (ROOT / ".env.example").read_text(), re.MULTILINE), f"{name} in .env.example"
    assert f"| `{name}` |" in (ROOT / "README.md").read_text(), f"{name} in the README's settings table"


@pytest.mark.parametrize("name", sorted(set(SETTINGS) - NO_FIXED_DEFAULT))
def test_env_example_shows_the_default_the_code_uses(name: str) -> None:
    assert load_settings(REQUIRED | {name: EXAMPLE[name]}) == load_settings(REQUIRED), f"{name}={EXAMPLE[name]}"


def test_an_unset_setting_reads_as_the_settings_own_default() -> None:
    assert load_settings(REQUIRED) == Settings(discord_token="discord-secret", image_api_key="api-secret")
