"""Settings from the environment, validated once at start.

Every setting is documented with its default in `.env.example`. `load_settings` takes a plain
mapping so that tests can pass a dict; bad values raise one `SettingsError` naming every bad setting.
"""

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ParamSpec, TypeVar

from bot.core.pricing import MICRO, dollars_to_micro, parse_prices

DEFAULT_MODELS = ("gemini-3-pro-image-preview", "gemini-2.5-flash-image")
RESPONSE_FORMATS = ("b64_json", "url")
INPUT_MODES = ("data_url", "base64", "link")  # how edit pictures are sent in the API's `image` array
# Input pictures each model accepts; `*` covers models not listed.
DEFAULT_MODEL_MAX_PICTURES = "gemini-3-pro-image-preview=14,gemini-2.5-flash-image=3,*=4"
QUALITIES = ("1k", "2k", "4k")
DEFAULT_PRICES = (
    "gemini-3-pro-image-preview=0.134,gemini-3-pro-image-preview@4k=0.24,gemini-2.5-flash-image=0.039,*=0.134"
)
MAX_EDIT_OPTIONS = 10  # picture options on /edit; the command's 25-option limit leaves room for the rest
PROMPT_LIMIT_DISCORD_MAX = 6000  # Discord's own max_length for a string option
MAX_MODELS = 25  # Discord's limit on an option's choices
MAX_SHARDS = 4096
DEFAULT_GLOBAL_MONTHLY_BUDGET = 50 * MICRO  # $50 per UTC month across the deployment; 0, set explicitly, is no cap

T = TypeVar("T", int, float)
V = TypeVar("V")
P = ParamSpec("P")


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    discord_token: str = field(repr=False)
    image_api_key: str = field(repr=False)
    image_api_base_url: str = "https://api.gptgod.online"
    image_models: tuple[str, ...] = DEFAULT_MODELS
    image_default_model: str = ""  # empty: the first of image_models
    image_api_timeout: float = 300.0
    image_api_connect_timeout: float = 10.0
    image_api_concurrency: int = 4
    image_api_max_retries: int = 3
    image_response_format: str = "b64_json"
    image_download_max_bytes: int = 50 * 1024 * 1024
    image_download_timeout: float = 60.0
    prompt_max_length: int = 1000
    user_hash_salt: str = field(default="", repr=False)
    data_dir: Path = Path("./data")
    database_url: str = field(default="sqlite:///data/imagebot.db", repr=False)
    edit_max_attachments: int = 4
    edit_picture_max_bytes: int = 20 * 1024 * 1024
    edit_picture_max_pixels: int = 40_000_000
    edit_input_mode: str = "data_url"
    model_max_pictures: Mapping[str, int] = field(default_factory=lambda: _max_pictures(DEFAULT_MODEL_MAX_PICTURES))
    limit_user_daily_images: int = 25
    limit_server_daily_images: int = 250
    limit_server_monthly_budget: int = 0  # micro-dollars; 0 is unlimited
    limit_cooldown_seconds: int = 10
    limit_concurrent_jobs: int = 2
    limit_max_count: int = 4  # 0: no cap beyond the command's own
    limit_max_quality: str = "2k"
    # Deployment-wide caps over every server and process; not per-server, and exempt roles count too. 0 is none.
    global_daily_images: int = 0
    global_monthly_budget: int = DEFAULT_GLOBAL_MONTHLY_BUDGET  # micro-dollars
    image_prices: Mapping[str, int] = field(default_factory=lambda: _prices(DEFAULT_PRICES))
    queue_max_per_user: int = 3
    queue_max_per_server: int = 50
    shutdown_grace: float = 5.0
    progress_interval: float = 3.0
    interaction_token_lifetime: float = 900.0
    dev_guild_ids: tuple[int, ...] = ()
    owner_ids: frozenset[int] = frozenset()
    log_level: str = "INFO"
    log_format: str = "text"
    log_prompts: bool = False
    health_host: str = "127.0.0.1"
    health_port: int | None = None
    discord_api_base_url: str = "https://discord.com/api/v10"
    discord_gateway_url: str = "wss://gateway.discord.gg/"
    sync_commands: bool = True
    shard_count: int | None = None  # None: the count Discord recommends
    shard_ids: tuple[int, ...] | None = None  # None: every shard, in this process
    instance_name: str = "main"  # this process among those sharing one database
    instance_timeout: float = 60.0  # seconds of silence after which another process takes over its jobs

    def __post_init__(self) -> None:
        if not self.image_default_model:
            object.__setattr__(self, "image_default_model", self.image_models[0])  # frozen: set once, here


class _Problems:
    """Reads each setting through `__call__`, keeping its SettingsError, so that one start names every bad one."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, parse: Callable[P, V], *args: P.args, **kwargs: P.kwargs) -> V | None:
        """`parse(*args, **kwargs)`, or None (the error kept) when the setting is bad."""
        try:
            return parse(*args, **kwargs)
        except SettingsError as error:
            self.messages.append(str(error))
            return None

    def raise_if_any(self) -> None:
        """One SettingsError for what was kept: a single message as it is, several listed one per line."""
        if len(self.messages) == 1:
            raise SettingsError(self.messages[0])
        if self.messages:  # one per line: a message may itself hold a semicolon
            raise SettingsError("\n  ".join([f"{len(self.messages)} settings are invalid:", *self.messages]))


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build validated settings from an environment mapping, or raise one SettingsError naming every bad setting."""
    check = _Problems()
    # a check that needs another setting runs only when that one is valid (a bad one reads as None here)
    values = dict(
        discord_token=check(_required, env, "DISCORD_TOKEN"),
        image_api_key=check(_required, env, "IMAGE_API_KEY"),
        image_api_base_url=check(_url, env, "IMAGE_API_BASE_URL", "https://api.gptgod.online", ("http", "https")),
        image_models=(models := check(_models, env)),
        image_default_model=check(_default_model, env, models) if models is not None else None,
        image_api_timeout=check(_number, env, "IMAGE_API_TIMEOUT", 300.0, float, low=1.0),
        image_api_connect_timeout=check(_number, env, "IMAGE_API_CONNECT_TIMEOUT", 10.0, float, low=0.1),
        image_api_concurrency=check(_number, env, "IMAGE_API_CONCURRENCY", 4, int, low=1, high=256),
        image_api_max_retries=check(_number, env, "IMAGE_API_MAX_RETRIES", 3, int, low=0, high=10),
        image_response_format=check(_choice, env, "IMAGE_RESPONSE_FORMAT", "b64_json", RESPONSE_FORMATS),
        image_download_max_bytes=check(_number, env, "IMAGE_DOWNLOAD_MAX_BYTES", 50 * 1024 * 1024, int, low=1024),
        image_download_timeout=check(_number, env, "IMAGE_DOWNLOAD_TIMEOUT", 60.0, float, low=1.0),
        prompt_max_length=check(_number, env, "PROMPT_MAX_LENGTH", 1000, int, low=1, high=PROMPT_LIMIT_DISCORD_MAX),
        user_hash_salt=_text(env, "USER_HASH_SALT", ""),
        data_dir=(data_dir := Path(_text(env, "DATA_DIR", "./data"))),
        database_url=check(_database_url, env, data_dir),
        edit_max_attachments=check(_number, env, "EDIT_MAX_ATTACHMENTS", 4, int, low=1, high=MAX_EDIT_OPTIONS),
        edit_picture_max_bytes=check(_number, env, "EDIT_PICTURE_MAX_BYTES", 20 * 1024 * 1024, int, low=1024),
        edit_picture_max_pixels=check(_number, env, "EDIT_PICTURE_MAX_PIXELS", 40_000_000, int, low=4096),
        edit_input_mode=check(_choice, env, "EDIT_INPUT_MODE", "data_url", INPUT_MODES),
        model_max_pictures=check(_max_pictures, _text(env, "IMAGE_MODEL_MAX_PICTURES", DEFAULT_MODEL_MAX_PICTURES)),
        limit_user_daily_images=check(_number, env, "LIMIT_USER_DAILY_IMAGES", 25, int, low=0),
        limit_server_daily_images=check(_number, env, "LIMIT_SERVER_DAILY_IMAGES", 250, int, low=0),
        limit_server_monthly_budget=check(_dollars, env, "LIMIT_SERVER_MONTHLY_BUDGET"),
        limit_cooldown_seconds=check(_number, env, "LIMIT_COOLDOWN_SECONDS", 10, int, low=0, high=86400),
        limit_concurrent_jobs=check(_number, env, "LIMIT_CONCURRENT_JOBS", 2, int, low=0),
        limit_max_count=check(_number, env, "LIMIT_MAX_COUNT", 4, int, low=0, high=10),
        limit_max_quality=check(_choice, env, "LIMIT_MAX_QUALITY", "2k", QUALITIES),
        global_daily_images=check(_number, env, "GLOBAL_DAILY_IMAGES", 0, int, low=0),
        global_monthly_budget=check(_dollars, env, "GLOBAL_MONTHLY_BUDGET", DEFAULT_GLOBAL_MONTHLY_BUDGET),
        image_prices=check(_prices, _text(env, "IMAGE_PRICES", DEFAULT_PRICES)),
        queue_max_per_user=check(_number, env, "QUEUE_MAX_PER_USER", 3, int, low=0),
        queue_max_per_server=check(_number, env, "QUEUE_MAX_PER_SERVER", 50, int, low=0),
        shutdown_grace=check(_number, env, "SHUTDOWN_GRACE_SECONDS", 5.0, float, low=0.0, high=3600.0),
        progress_interval=check(_number, env, "PROGRESS_INTERVAL_SECONDS", 3.0, float, low=0.5, high=60.0),
        interaction_token_lifetime=check(_number, env, "INTERACTION_TOKEN_LIFETIME", 900.0, float, low=1.0, high=900.0),
        dev_guild_ids=check(_ids, env, "DEV_GUILD_IDS"),
        owner_ids=frozenset(check(_ids, env, "OWNER_IDS") or ()),
        log_level=check(_log_level, env),
        log_format=check(_choice, env, "LOG_FORMAT", "text", ("text", "json")),
        log_prompts=check(_flag, env, "LOG_PROMPTS", default=False),
        health_host=_text(env, "HEALTH_HOST", "127.0.0.1"),
        health_port=check(_optional_port, env, "HEALTH_PORT"),
        discord_api_base_url=check(_url, env, "DISCORD_API_BASE_URL", "https://discord.com/api/v10", ("http", "https")),
        discord_gateway_url=check(_url, env, "DISCORD_GATEWAY_URL", "wss://gateway.discord.gg/", ("ws", "wss")),
        sync_commands=check(_flag, env, "SYNC_COMMANDS", default=True),
        shard_count=(count := check(_number, env, "SHARD_COUNT", 0, int, low=1, high=MAX_SHARDS)) or None,
        shard_ids=(shard_ids := check(_shard_ids, env, count)),  # count: 0 when unset, None when bad
        instance_name=check(_instance_name, env, shard_ids),
        instance_timeout=check(_number, env, "INSTANCE_TIMEOUT_SECONDS", 60.0, float, low=2.0, high=3600.0),
    )
    check.raise_if_any()
    return Settings(**values)


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def _required(env: Mapping[str, str], name: str) -> str:
    if not (value := env.get(name, "").strip()):
        raise SettingsError(f"{name} is not set; see .env.example")
    return value


def _number(
    env: Mapping[str, str], name: str, default: T, kind: Callable[[str], T], *, low: T, high: T | None = None
) -> T:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a {'whole ' if kind is int else ''}number") from None
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise SettingsError(f"{name}={raw!r} must be {bounds}")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _text(env, name, default)
    if value not in choices:
        raise SettingsError(f"{name}={value!r} must be one of {', '.join(choices)}")
    return value


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    items = [item.strip() for item in env.get(name, "").split(",")]
    return tuple(dict.fromkeys(item for item in items if item))


def _models(env: Mapping[str, str]) -> tuple[str, ...]:
    models = _list(env, "IMAGE_MODELS") or DEFAULT_MODELS
    if len(models) > MAX_MODELS:
        raise SettingsError(f"IMAGE_MODELS lists {len(models)} models; Discord offers at most {MAX_MODELS} choices")
    return models


def _default_model(env: Mapping[str, str], models: tuple[str, ...]) -> str:
    """IMAGE_DEFAULT_MODEL, one of `models`; unset or empty, the first of them."""
    model = _text(env, "IMAGE_DEFAULT_MODEL", models[0])
    if model not in models:
        raise SettingsError(f"IMAGE_DEFAULT_MODEL={model!r} is not one of IMAGE_MODELS ({', '.join(models)})")
    return model


def _ids(env: Mapping[str, str], name: str) -> tuple[int, ...]:
    ids = []
    for item in _list(env, name):
        if not item.isdigit():
            raise SettingsError(f"{name} must be comma-separated Discord ids; {item!r} is not one")
        ids.append(int(item))
    return tuple(ids)


def _shard_ids(env: Mapping[str, str], count: int | None) -> tuple[int, ...] | None:
    """SHARD_IDS, each below SHARD_COUNT (`count`: 0 when unset, None when itself bad, so not checked against)."""
    ids = []
    for item in _list(env, "SHARD_IDS"):
        if not item.isdigit():
            raise SettingsError(f"SHARD_IDS must be comma-separated shard numbers; {item!r} is not one")
        ids.append(int(item))
    if not ids:
        return None
    if count == 0:
        raise SettingsError("SHARD_IDS needs SHARD_COUNT: the total number of shards across all processes")
    if count is not None and (outside := [shard for shard in ids if shard >= count]):
        raise SettingsError(f"SHARD_IDS has {outside[0]}, but shard ids run from 0 to SHARD_COUNT-1 ({count - 1})")
    return tuple(sorted(ids))


def _instance_name(env: Mapping[str, str], shard_ids: tuple[int, ...] | None) -> str:
    """INSTANCE_NAME, else one that follows from the shards: the same after a restart, unique per process."""
    name = _text(env, "INSTANCE_NAME", "")
    if name and not re.fullmatch(r"[\w.-]{1,64}", name):
        raise SettingsError(f"INSTANCE_NAME={name!r} must be 1-64 letters, digits, '.', '-' or '_'")
    if name:
        return name
    return "main" if shard_ids is None else "shards-" + "-".join(map(str, shard_ids))


def _url(env: Mapping[str, str], name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = _text(env, name, default).rstrip("/")
    if not re.fullmatch(rf"(?:{'|'.join(schemes)})://[^\s/]+(?:/\S*)?", value):
        raise SettingsError(f"{name}={value!r} is not a {' or '.join(schemes)} URL")
    return value


def _flag(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} must be true or false")


def _database_url(env: Mapping[str, str], data_dir: Path) -> str:
    url = _text(env, "DATABASE_URL", f"sqlite:///{data_dir / 'imagebot.db'}")
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError("DATABASE_URL must start with sqlite:/// or postgresql://")
    return url


def _max_pictures(raw: str) -> dict[str, int]:
    """`model=count` pairs; `*` is the count for models not listed."""
    limits: dict[str, int] = {}
    for item in _list({"IMAGE_MODEL_MAX_PICTURES": raw}, "IMAGE_MODEL_MAX_PICTURES"):
        model, _, count = item.partition("=")
        if not model.strip() or not count.strip().isdigit() or not 1 <= int(count) <= 16:
            raise SettingsError(f"IMAGE_MODEL_MAX_PICTURES: {item!r} must be model=count with a count of 1 to 16")
        limits[model.strip()] = int(count)
    limits.setdefault("*", 1)
    return limits


def _dollars(env: Mapping[str, str], name: str, default: int = 0) -> int:
    """Dollars as micro-dollars; `default` (micro-dollars) when unset or empty."""
    if not (raw := env.get(name, "").strip()):
        return default
    try:
        return dollars_to_micro(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} must be an amount of dollars, e.g. 25 or 12.50") from None


def _prices(raw: str) -> dict[str, int]:
    try:
        return parse_prices(raw)
    except ValueError as error:
        raise SettingsError(f"IMAGE_PRICES: {error}") from None


def _optional_port(env: Mapping[str, str], name: str) -> int | None:
    """A TCP port, or None (the feature off) when unset."""
    return _number(env, name, 0, int, low=1, high=65535) if env.get(name, "").strip() else None


def _log_level(env: Mapping[str, str]) -> str:
    level = _text(env, "LOG_LEVEL", "INFO").upper()
    if not isinstance(logging.getLevelName(level), int):
        raise SettingsError(f"LOG_LEVEL={level!r} must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level
