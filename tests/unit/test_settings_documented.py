"""Every setting the bot reads is documented, in .env.example and in the README's table."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = sorted(set(re.findall(r'env, "([A-Z][A-Z0-9_]+)"', (ROOT / "bot/settings.py").read_text())))


def test_the_settings_are_found() -> None:
    assert {"DISCORD_TOKEN", "IMAGE_API_KEY", "SHARD_IDS", "GLOBAL_DAILY_IMAGES"} <= set(SETTINGS)


@pytest.mark.parametrize("name", SETTINGS)
def test_each_setting_is_in_env_example_and_the_readme(name: str) -> None:
    assert re.search(rf"^#? ?{name}=", (ROOT / ".env.example").read_text(), re.MULTILINE), f"{name} in .env.example"
    assert f"| `{name}` |" in (ROOT / "README.md").read_text(), f"{name} in the README's settings table"
