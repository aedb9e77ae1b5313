from operator import attrgetter
from pathlib import Path

import pytest

from bot.settings import DEFAULT_MODELS, Settings, SettingsError, load_settings

REQUIRED = {"DISCORD_TOKEN": "discord-secret", "IMAGE_API_KEY": "api-secret"}


def test_defaults_with_only_the_secrets() -> None:
    settings = load_settings(REQUIRED)
    assert settings.image_api_base_url == "https://api.gptgod.online"
    assert settings.image_models == DEFAULT_MODELS
    assert settings.image_default_model == "gemini-3-pro-image-preview"
    assert settings.image_api_timeout == 300.0
    assert settings.image_api_concurrency == 4
    assert settings.image_response_format == "b64_json"
    assert settings.prompt_max_length == 1000
    assert settings.data_dir == Path("./data")
    assert settings.dev_guild_ids == ()
    assert settings.owner_ids == frozenset()
    assert settings.log_level == "INFO"


def test_every_value_is_read() -> None:
    settings = load_settings(
        REQUIRED
        | {
            "IMAGE_API_BASE_URL": "http://127.0.0.1:9000/",
            "IMAGE_MODELS": "a, b ,a,",
            "IMAGE_DEFAULT_MODEL": "b",
            "IMAGE_API_TIMEOUT": "12.5",
            "IMAGE_API_CONCURRENCY": "8",
            "IMAGE_RESPONSE_FORMAT": "url",
            "PROMPT_MAX_LENGTH": "500",
            "DATA_DIR": "/var/lib/bot",
            "DEV_GUILD_IDS": "1, 2",
            "OWNER_IDS": "3",
            "LOG_LEVEL": "debug",
            "SYNC_COMMANDS": "false",
        }
    )
    assert settings.image_api_base_url == "http://127.0.0.1:9000"
    assert settings.image_models == ("a", "b")
    assert settings.image_default_model == "b"
    assert settings.image_api_timeout == 12.5
    assert settings.image_api_concurrency == 8
    assert settings.image_response_format == "url"
    assert settings.prompt_max_length == 500
    assert settings.data_dir == Path("/var/lib/bot")
    assert settings.dev_guild_ids == (1, 2)
    assert settings.owner_ids == frozenset({3})
    assert settings.log_level == "DEBUG"
    assert settings.sync_commands is False


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DISCORD_TOKEN": ""}, "DISCORD_TOKEN"),
        ({"IMAGE_API_KEY": "  "}, "IMAGE_API_KEY"),
        ({"IMAGE_API_TIMEOUT": "soon"}, "IMAGE_API_TIMEOUT"),
        ({"IMAGE_API_TIMEOUT": "0"}, "IMAGE_API_TIMEOUT"),
        ({"IMAGE_API_CONCURRENCY": "2.5"}, "IMAGE_API_CONCURRENCY"),
        ({"IMAGE_API_CONCURRENCY": "0"}, "IMAGE_API_CONCURRENCY"),
        ({"IMAGE_API_BASE_URL": "ftp://x"}, "IMAGE_API_BASE_URL"),
        ({"IMAGE_DEFAULT_MODEL": "dall-e-3"}, "IMAGE_DEFAULT_MODEL"),
        ({"IMAGE_MODELS": ",".join(f"m{i}" for i in range(26))}, "IMAGE_MODELS"),
        ({"IMAGE_RESPONSE_FORMAT": "png"}, "IMAGE_RESPONSE_FORMAT"),
        ({"PROMPT_MAX_LENGTH": "7000"}, "PROMPT_MAX_LENGTH"),
        ({"DEV_GUILD_IDS": "123,abc"}, "DEV_GUILD_IDS"),
        ({"OWNER_IDS": "me"}, "OWNER_IDS"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"SYNC_COMMANDS": "maybe"}, "SYNC_COMMANDS"),
        ({"DISCORD_GATEWAY_URL": "http://x"}, "DISCORD_GATEWAY_URL"),
    ],
)
def test_a_bad_setting_is_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(REQUIRED | env)


@pytest.mark.parametrize("env", [{}, {"IMAGE_DEFAULT_MODEL": ""}, {"IMAGE_DEFAULT_MODEL": "  "}])
def test_the_default_model_is_the_first_of_image_models_when_unset_or_empty(env: dict[str, str]) -> None:
    settings = load_settings(REQUIRED | {"IMAGE_MODELS": "b, a"} | env)
    assert settings.image_default_model == "b"


def test_the_settings_default_model_follows_their_models() -> None:
    assert Settings(discord_token="t", image_api_key="k").image_default_model == DEFAULT_MODELS[0]
    assert Settings(discord_token="t", image_api_key="k", image_models=("b", "a")).image_default_model == "b"


def test_every_bad_setting_is_reported_at_once() -> None:
    env = {"IMAGE_API_KEY": "", "IMAGE_API_TIMEOUT": "soon", "LIMIT_MAX_COUNT": "11", "LOG_LEVEL": "loud"}
    with pytest.raises(SettingsError) as caught:
        load_settings(REQUIRED | env)
    assert str(caught.value).splitlines() == [
        "4 settings are invalid:",
        "  IMAGE_API_KEY is not set; see .env.example",
        "  IMAGE_API_TIMEOUT='soon' is not a number",
        "  LIMIT_MAX_COUNT='11' must be between 0 and 10",
        "  LOG_LEVEL='LOUD' must be DEBUG, INFO, WARNING, ERROR or CRITICAL",
    ]


def test_one_bad_setting_is_one_line() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(REQUIRED | {"LOG_LEVEL": "loud"})
    assert str(caught.value) == "LOG_LEVEL='LOUD' must be DEBUG, INFO, WARNING, ERROR or CRITICAL"


@pytest.mark.parametrize(
    ("env", "messages"),
    [
        (
            {"IMAGE_MODELS": ",".join(f"m{i}" for i in range(26)), "IMAGE_DEFAULT_MODEL": "x", "LOG_LEVEL": "loud"},
            ["IMAGE_MODELS lists 26 models", "LOG_LEVEL="],
        ),
        (
            {"IMAGE_MODELS": "a,b", "IMAGE_DEFAULT_MODEL": "x", "LOG_LEVEL": "loud"},
            ["IMAGE_DEFAULT_MODEL=", "LOG_LEVEL="],
        ),
        ({"SHARD_COUNT": "0", "SHARD_IDS": "5"}, ["SHARD_COUNT="]),
        ({"SHARD_COUNT": "0", "SHARD_IDS": "one"}, ["SHARD_COUNT=", "SHARD_IDS must be"]),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "5", "LOG_LEVEL": "loud"}, ["LOG_LEVEL=", "SHARD_IDS has 5"]),
    ],
    ids=["models_bad", "models_good", "count_bad", "count_and_ids_bad", "count_good"],
)
def test_a_check_on_another_setting_runs_only_when_that_one_is_valid(env, messages) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(REQUIRED | env)
    lines = [line.strip() for line in str(caught.value).splitlines()]
    reported = lines[1:] if len(lines) > 1 else lines
    assert len(reported) == len(messages), lines
    assert all(line.startswith(start) for line, start in zip(reported, messages, strict=True)), lines


def test_secrets_stay_out_of_repr() -> None:
    text = repr(load_settings(REQUIRED | {"USER_HASH_SALT": "salty"}))
    assert "discord-secret" not in text
    assert "api-secret" not in text
    assert "salty" not in text


def test_edit_settings_have_defaults_and_are_read() -> None:
    defaults = load_settings(REQUIRED)
    assert defaults.edit_max_attachments == 4
    assert defaults.edit_input_mode == "data_url"
    assert defaults.model_max_pictures == {"gemini-3-pro-image-preview": 14, "gemini-2.5-flash-image": 3, "*": 4}
    assert defaults.database_url == "sqlite:///data/imagebot.db"

    settings = load_settings(
        REQUIRED
        | {
            "EDIT_MAX_ATTACHMENTS": "10",
            "EDIT_INPUT_MODE": "link",
            "IMAGE_MODEL_MAX_PICTURES": "a=2, b=16",
            "DATA_DIR": "/srv/bot",
            "EDIT_PICTURE_MAX_BYTES": "1048576",
            "EDIT_PICTURE_MAX_PIXELS": "1000000",
        }
    )
    assert settings.edit_max_attachments == 10
    assert settings.edit_input_mode == "link"
    assert settings.model_max_pictures == {"a": 2, "b": 16, "*": 1}
    assert settings.database_url == "sqlite:////srv/bot/imagebot.db"
    assert (settings.edit_picture_max_bytes, settings.edit_picture_max_pixels) == (1048576, 1000000)
    assert load_settings(REQUIRED | {"DATABASE_URL": "postgresql://u@h/db"}).database_url == "postgresql://u@h/db"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"EDIT_MAX_ATTACHMENTS": "11"}, "EDIT_MAX_ATTACHMENTS"),
        ({"EDIT_INPUT_MODE": "ftp"}, "EDIT_INPUT_MODE"),
        ({"IMAGE_MODEL_MAX_PICTURES": "a=0"}, "IMAGE_MODEL_MAX_PICTURES"),
        ({"IMAGE_MODEL_MAX_PICTURES": "a"}, "IMAGE_MODEL_MAX_PICTURES"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ],
)
def test_bad_edit_and_storage_settings_are_named(env, named) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(REQUIRED | env)


def test_limit_defaults_and_prices_are_read() -> None:
    defaults = load_settings(REQUIRED)
    limits = defaults.limit_defaults
    assert (limits.user_daily_images, limits.server_daily_images) == (25, 250)
    assert (limits.cooldown_seconds, limits.max_count, limits.max_quality) == (10, 4, "2k")
    assert limits.monthly_budget == 0
    assert defaults.image_prices["gemini-3-pro-image-preview@4k"] == 240_000

    settings = load_settings(
        REQUIRED
        | {
            "LIMIT_USER_DAILY_IMAGES": "0",
            "LIMIT_SERVER_MONTHLY_BUDGET": "49.99",
            "LIMIT_MAX_QUALITY": "4k",
            "IMAGE_PRICES": "a=0.5,*=0.1",
        }
    )
    assert settings.limit_defaults.user_daily_images == 0
    assert settings.limit_defaults.monthly_budget == 49_990_000
    assert settings.limit_defaults.max_quality == "4k"
    assert settings.image_prices == {"a": 500_000, "*": 100_000}


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("LIMIT_USER_DAILY_IMAGES", "limit_defaults.user_daily_images"),
        ("LIMIT_SERVER_DAILY_IMAGES", "limit_defaults.server_daily_images"),
        ("LIMIT_SERVER_MONTHLY_BUDGET", "limit_defaults.monthly_budget"),
        ("LIMIT_COOLDOWN_SECONDS", "limit_defaults.cooldown_seconds"),
        ("LIMIT_CONCURRENT_JOBS", "limit_defaults.concurrent_jobs"),
        ("LIMIT_MAX_COUNT", "limit_defaults.max_count"),
        ("GLOBAL_DAILY_IMAGES", "global_daily_images"),
        ("GLOBAL_MONTHLY_BUDGET", "global_monthly_budget"),
        ("QUEUE_MAX_PER_USER", "queue_max_per_user"),
        ("QUEUE_MAX_PER_SERVER", "queue_max_per_server"),
    ],
)
def test_0_is_accepted_wherever_it_means_unlimited(name: str, field: str) -> None:
    assert attrgetter(field)(load_settings(REQUIRED | {name: "0"})) == 0


def test_a_max_count_of_0_reaches_the_server_limits_as_0() -> None:
    assert load_settings(REQUIRED | {"LIMIT_MAX_COUNT": "0"}).limit_defaults.max_count == 0


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LIMIT_MAX_COUNT": "11"}, "LIMIT_MAX_COUNT"),
        ({"LIMIT_MAX_COUNT": "-1"}, "LIMIT_MAX_COUNT"),
        ({"LIMIT_MAX_QUALITY": "8k"}, "LIMIT_MAX_QUALITY"),
        ({"LIMIT_SERVER_MONTHLY_BUDGET": "lots"}, "LIMIT_SERVER_MONTHLY_BUDGET"),
        ({"LIMIT_USER_DAILY_IMAGES": "-3"}, "LIMIT_USER_DAILY_IMAGES"),
        ({"IMAGE_PRICES": "a=cheap"}, "IMAGE_PRICES"),
    ],
)
def test_bad_limit_settings_are_named(env, named) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(REQUIRED | env)


def test_global_caps_are_read() -> None:
    settings = load_settings(REQUIRED | {"GLOBAL_DAILY_IMAGES": "5000", "GLOBAL_MONTHLY_BUDGET": "1200.50"})
    assert (settings.global_daily_images, settings.global_monthly_budget) == (5000, 1_200_500_000)


@pytest.mark.parametrize("env", [{}, {"GLOBAL_MONTHLY_BUDGET": ""}], ids=["unset", "empty"])
def test_spending_is_capped_at_50_dollars_a_month_by_default(env: dict[str, str]) -> None:
    settings = load_settings(REQUIRED | env)
    assert settings.global_monthly_budget == 50_000_000  # micro-dollars
    assert settings.global_daily_images == 0
    assert Settings(discord_token="t", image_api_key="k").global_monthly_budget == 50_000_000


def test_a_global_budget_of_0_set_explicitly_is_no_cap() -> None:
    assert load_settings(REQUIRED | {"GLOBAL_MONTHLY_BUDGET": "0"}).global_monthly_budget == 0


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GLOBAL_DAILY_IMAGES": "-1"}, "GLOBAL_DAILY_IMAGES"),
        ({"GLOBAL_DAILY_IMAGES": "many"}, "GLOBAL_DAILY_IMAGES"),
        ({"GLOBAL_MONTHLY_BUDGET": "lots"}, "GLOBAL_MONTHLY_BUDGET"),
        ({"GLOBAL_MONTHLY_BUDGET": "-5"}, "GLOBAL_MONTHLY_BUDGET"),
    ],
)
def test_bad_global_caps_are_named(env, named) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(REQUIRED | env)


def test_one_process_runs_every_shard_by_default() -> None:
    settings = load_settings(REQUIRED)
    assert (settings.shard_count, settings.shard_ids, settings.instance_name) == (None, None, "main")
    assert settings.instance_timeout == 60.0


def test_a_process_runs_the_shards_it_is_given_and_is_named_after_them() -> None:
    settings = load_settings(REQUIRED | {"SHARD_COUNT": "4", "SHARD_IDS": "3, 1", "INSTANCE_TIMEOUT_SECONDS": "20"})
    assert (settings.shard_count, settings.shard_ids, settings.instance_name) == (4, (1, 3), "shards-1-3")
    assert settings.instance_timeout == 20.0
    assert (
        load_settings(REQUIRED | {"SHARD_COUNT": "4", "SHARD_IDS": "0", "INSTANCE_NAME": "eu-1"}).instance_name
        == "eu-1"
    )
    assert load_settings(REQUIRED | {"SHARD_COUNT": "4"}).shard_ids is None  # all four in this process


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SHARD_IDS": "0"}, "SHARD_IDS needs SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, "SHARD_IDS has 2"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "one"}, "SHARD_IDS must be"),
        ({"SHARD_COUNT": "0"}, "SHARD_COUNT"),
        ({"INSTANCE_NAME": "two words"}, "INSTANCE_NAME"),
        ({"INSTANCE_TIMEOUT_SECONDS": "1"}, "INSTANCE_TIMEOUT_SECONDS"),
    ],
)
def test_bad_shard_settings_are_named(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(REQUIRED | env)


def test_styles_file_ships_its_styles_and_a_bad_one_is_named(tmp_path: Path) -> None:
    good = tmp_path / "styles.toml"
    good.write_text('[[styles]]\nname = "Noir"\ntemplate = "{prompt}, film noir"\n', encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text('[[styles]]\nname = "noir"\ntemplate = "film noir"\n', encoding="utf-8")

    assert [style.name for style in load_settings(REQUIRED | {"STYLES_FILE": str(good)}).styles] == ["noir"]
    assert load_settings(REQUIRED).styles == ()
    with pytest.raises(SettingsError, match=r"STYLES_FILE .*bad\.toml: style 1 \('noir'\)"):
        load_settings(REQUIRED | {"STYLES_FILE": str(bad)})
    with pytest.raises(SettingsError, match=r"STYLES_FILE='.*missing\.toml' can't be read"):
        load_settings(REQUIRED | {"STYLES_FILE": str(tmp_path / "missing.toml")})
