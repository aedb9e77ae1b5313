"""The providers file: every field read and checked, each problem named with its provider and field."""

from pathlib import Path

import pytest

from bot.core.providers.config import ProvidersFileError, load_providers
from bot.core.providers.gateway import GatewayOptions
from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[4]
ENV = {"OPENAI_KEY": "sk-o", "GEMINI_KEY": "g-k", "GATEWAY_KEY": "gw-k"}
FULL = """
[[providers]]
name = "primary"
kind = "gateway"
base_url = "https://gw.invalid/v1"
api_key_env = "GATEWAY_KEY"
models = { "nano" = "gemini-2.5-flash-image" }
priority = 2
concurrency = 3
timeout = 90
breaker_failures = 5
breaker_cooloff = 12.5
quality_values = { "1k" = "1K", "2k" = "2K", "4k" = "4K" }
size_format = "ratio"
response_format = "url"
edit_input = "base64"

[[providers]]
name = "openai"
kind = "openai"
base_url = "https://api.openai.com"
api_key_env = "OPENAI_KEY"
models = { "gpt" = "gpt-image-1" }
"""


def test_every_field_is_read() -> None:
    gateway, openai = load_providers(FULL, ENV)

    assert (gateway.name, gateway.kind, gateway.base_url, gateway.api_key) == (
        "primary",
        "gateway",
        "https://gw.invalid/v1",
        "gw-k",
    )
    assert (gateway.models, gateway.priority, gateway.concurrency, gateway.timeout) == (
        {"nano": "gemini-2.5-flash-image"},
        2,
        3,
        90.0,
    )
    assert (gateway.breaker_failures, gateway.breaker_cooloff, gateway.api_key_env) == (5, 12.5, "GATEWAY_KEY")
    assert gateway.gateway == GatewayOptions({"1k": "1K", "2k": "2K", "4k": "4K"}, "ratio", "url", "base64")
    assert (openai.priority, openai.concurrency, openai.timeout, openai.breaker_failures, openai.breaker_cooloff) == (
        0,
        None,
        300.0,
        3,
        30.0,
    )
    assert "sk-o" not in repr(openai)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('kind = "openai"', 'kind = "dalle"'),
            "provider 'openai': kind must be one of gateway, openai, gemini, openrouter",
        ),
        (
            ('api_key_env = "OPENAI_KEY"', 'api_key_env = "MISSING_KEY"'),
            "provider 'openai': api_key_env names MISSING_KEY, which is not set",
        ),
        (
            ('base_url = "https://api.openai.com"', 'base_url = "api.openai.com"'),
            "provider 'openai': base_url must be an http or https URL",
        ),
        (('models = { "gpt" = "gpt-image-1" }', "models = {}"), "provider 'openai': models must be a table"),
        (("priority = 2", "priority = -1"), "provider 'primary': priority must be a whole number of at least 0"),
        (
            ("concurrency = 3", 'concurrency = "lots"'),
            "provider 'primary': concurrency must be a whole number of at least 1",
        ),
        (("timeout = 90", "timeout = 0"), "provider 'primary': timeout must be a number of seconds above 0"),
        (
            ('size_format = "ratio"', 'size_format = "inches"'),
            "provider 'primary': size_format must be one of pixels, ratio",
        ),
        (('edit_input = "base64"', 'edit_input = "fax"'), "provider 'primary': edit_input must be one of"),
        (('"2k" = "2K"', '"8k" = "8K"'), "provider 'primary': quality_values must be a table from 1k, 2k, 4k"),
        (
            ('models = { "gpt" = "gpt-image-1" }', 'models = { "gpt" = "gpt-image-1" }\nsize_format = "ratio"'),
            "provider 'openai': size_format is for gateway providers only",
        ),
        (('name = "openai"', 'name = "primary"'), "two providers are named 'primary'"),
        (
            ('models = { "gpt" = "gpt-image-1" }', 'models = { "gpt" = "gpt-image-1" }\ncolour = "blue"'),
            "provider 'openai': colour is not a field",
        ),
    ],
)
def test_each_problem_names_the_provider_and_the_field(change: tuple[str, str], message: str) -> None:
    with pytest.raises(ProvidersFileError) as refused:
        load_providers(FULL.replace(*change), ENV)

    assert str(refused.value).startswith(message)


def test_a_file_without_providers_or_not_toml_is_refused() -> None:
    with pytest.raises(ProvidersFileError, match="at least one"):
        load_providers("title = 'none here'", ENV)
    with pytest.raises(ProvidersFileError, match="not valid TOML"):
        load_providers("[[providers]\nname=", ENV)


def test_the_example_file_configures_every_kind() -> None:
    example = (ROOT / "providers.example.toml").read_text()
    names = ("GATEWAY_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "OPENROUTER_API_KEY", "LITELLM_API_KEY")
    keys = {name: "k" for name in names}

    assert {provider.kind for provider in load_providers(example, keys)} == {
        "gateway",
        "openai",
        "gemini",
        "openrouter",
        "litellm",
    }


def settings(tmp_path: Path, text: str, **env: str) -> object:
    path = tmp_path / "providers.toml"
    path.write_text(text)
    return load_settings({"DISCORD_TOKEN": "t", "IMAGE_PROVIDERS_FILE": str(path)} | ENV | env)


def test_with_a_file_the_models_are_those_the_providers_serve_best_first(tmp_path: Path) -> None:
    loaded = settings(tmp_path, FULL)

    assert loaded.image_models == ("gpt", "nano")  # openai has priority 0, before the gateway's 2
    assert loaded.image_default_model == "gpt"
    assert [provider.name for provider in loaded.providers] == ["primary", "openai"]


def test_image_models_picks_and_orders_the_served_models(tmp_path: Path) -> None:
    loaded = settings(tmp_path, FULL, IMAGE_MODELS="nano,gpt")

    assert (loaded.image_models, loaded.image_default_model) == (("nano", "gpt"), "nano")
    with pytest.raises(SettingsError, match="IMAGE_MODELS has 'dall-e', which no provider"):
        settings(tmp_path, FULL, IMAGE_MODELS="dall-e")


def test_a_bad_file_is_one_line_naming_the_file_provider_and_field(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as refused:
        settings(tmp_path, FULL.replace("timeout = 90", "timeout = -3"))

    where = f"IMAGE_PROVIDERS_FILE {tmp_path / 'providers.toml'}"
    assert str(refused.value) == f"{where}: provider 'primary': timeout must be a number of seconds above 0"
    with pytest.raises(SettingsError, match="can't be read"):
        load_settings({"DISCORD_TOKEN": "t", "IMAGE_PROVIDERS_FILE": str(tmp_path / "missing.toml")})


def test_without_a_file_the_image_api_settings_make_one_gateway() -> None:
    loaded = load_settings({"DISCORD_TOKEN": "t", "IMAGE_API_KEY": "k", "IMAGE_API_BASE_URL": "https://gw.invalid"})

    (gateway,) = loaded.providers
    assert (gateway.kind, gateway.base_url, gateway.api_key, gateway.api_key_env) == (
        "gateway",
        "https://gw.invalid",
        "k",
        "IMAGE_API_KEY",
    )
    assert dict(gateway.models) == {model: model for model in loaded.image_models}
    assert gateway.max_retries == loaded.image_api_max_retries
