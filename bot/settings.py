"""Settings from the environment, validated once at start.

Every setting is documented with its default in `.env.example`. Each default is written once: in the `Settings`
fields, which take the providers' from `ProviderSettings` and `GatewayOptions` and the server limits' from their specs
(`bot.core.limits.LIMITS`); `load_settings` reads them back from there. `load_settings` takes a plain mapping so
that tests can pass a dict; bad values raise one `SettingsError` naming every bad setting.
"""

import dataclasses
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from bot.core.imageapi import DEFAULT_MODEL_MAX_PICTURES, DEFAULT_MODELS, QUALITIES, RESPONSE_FORMATS
from bot.core.inputs import INPUT_MODES
from bot.core.limits import DEFAULT_LIMITS, LIMITS, Kind, LimitValue, OperatorSetting, ServerLimits
from bot.core.pricing import DEFAULT_PRICES, MICRO, dollars_to_micro, parse_prices
from bot.core.providers.base import ProviderSettings
from bot.core.providers.config import ProviderConfig, ProvidersFileError, load_providers
from bot.core.providers.gateway import GatewayOptions
from bot.core.styles import Style, load_styles

MAX_EDIT_OPTIONS = 10  # picture options on /edit; the command's 25-option limit leaves room for the rest
PROMPT_LIMIT_DISCORD_MAX = 6000  # Discord's own max_length for a string option
MAX_MODELS = 25  # Discord's limit on an option's choices
MAX_SHARDS = 4096
LOG_FORMATS = ("text", "json")
DATABASE_FILE = "imagebot.db"  # in DATA_DIR, unless DATABASE_URL says otherwise
_PROVIDER = ProviderSettings(name="", base_url="", api_key="")  # a provider's own defaults
_DATA_DIR = Path("./data")

T = TypeVar("T", int, float)
V = TypeVar("V")
P = ParamSpec("P")


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it."""


def _sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / DATABASE_FILE}"


@dataclass(frozen=True, slots=True)
class Settings:
    discord_token: str = field(repr=False)
    image_api_key: str = field(repr=False)
    image_providers_file: Path | None = None  # None: one gateway provider from the IMAGE_API_* settings
    styles: tuple[Style, ...] = ()  # the operator's, from STYLES_FILE; each server adds its own
    image_api_base_url: str = "https://api.gptgod.online"
    image_models: tuple[str, ...] = DEFAULT_MODELS
    image_default_model: str = ""  # empty: the first of image_models
    image_api_timeout: float = _PROVIDER.timeout
    image_api_connect_timeout: float = _PROVIDER.connect_timeout
    image_api_concurrency: int = 4  # the queue's slots
    image_api_max_retries: int = 3  # the seed gateway's retries (a providers file sets each provider's own)
    image_response_format: str = GatewayOptions().response_format
    image_download_max_bytes: int = _PROVIDER.download_max_bytes
    image_download_timeout: float = _PROVIDER.download_timeout
    prompt_max_length: int = 1000
    user_hash_salt: str = field(default="", repr=False)  # empty: derived from the token
    data_dir: Path = _DATA_DIR
    database_url: str = field(default=_sqlite_url(_DATA_DIR), repr=False)
    edit_max_attachments: int = 4
    edit_picture_max_bytes: int = 20 * 1024 * 1024
    edit_picture_max_pixels: int = 40_000_000
    edit_input_mode: str = "data_url"
    model_max_pictures: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_MODEL_MAX_PICTURES))
    limit_defaults: ServerLimits = DEFAULT_LIMITS  # every server's limits until its moderators change them
    # Deployment-wide caps over every server and process; not per-server, and exempt roles count too. 0 is none.
    global_daily_images: int = 0
    global_monthly_budget: int = 50 * MICRO  # micro-dollars: $50 per UTC month; 0, set explicitly, is no cap
    image_prices: Mapping[str, int] = field(default_factory=lambda: parse_prices(DEFAULT_PRICES))
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
    discord_gateway_url: str = "wss://gateway.discord.gg"
    sync_commands: bool = True
    shard_count: int | None = None  # None: the count Discord recommends
    shard_ids: tuple[int, ...] | None = None  # None: every shard, in this process
    instance_name: str = "main"  # this process among those sharing one database
    instance_timeout: float = 60.0  # seconds of silence after which another process takes over its jobs
    ledger_retention_days: int = 90  # ledger rows and jobs older go (never this or last month's); 0 keeps all

    providers: tuple[ProviderConfig, ...] = field(default=(), repr=False)  # the image APIs, best first

    def __post_init__(self) -> None:
        if not self.image_default_model:
            object.__setattr__(self, "image_default_model", self.image_models[0])  # frozen: set once, here
        if not self.providers:  # no providers file: one gateway, from the IMAGE_API_* settings
            object.__setattr__(self, "providers", (_seed_gateway(self),))


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
    unset = _DEFAULTS  # each setting's default, as the Settings fields give it
    # a check that needs another setting runs only when that one is valid (a bad one reads as None here)
    values: dict[str, Any] = dict(  # each field's value, None where a setting is bad
        discord_token=check(_required, env, "DISCORD_TOKEN"),
        image_providers_file=(path := _optional_path(env, "IMAGE_PROVIDERS_FILE")),
        providers=(configured := check(_providers_file, env, path) if path is not None else ()),
        # with a providers file, each provider's key comes from the variable it names
        image_api_key=_text(env, "IMAGE_API_KEY", "") if path is not None else check(_required, env, "IMAGE_API_KEY"),
        image_api_base_url=check(_url, env, "IMAGE_API_BASE_URL", unset.image_api_base_url, ("http", "https")),
        styles=check(_styles_file, styles_path) if (styles_path := _optional_path(env, "STYLES_FILE")) else (),
        image_models=(models := check(_models, env, _served(configured))),
        image_default_model=check(_default_model, env, models) if models is not None else None,
        image_api_timeout=check(_number, env, "IMAGE_API_TIMEOUT", unset.image_api_timeout, low=1.0),
        image_api_connect_timeout=check(
            _number, env, "IMAGE_API_CONNECT_TIMEOUT", unset.image_api_connect_timeout, low=0.1
        ),
        image_api_concurrency=check(
            _number, env, "IMAGE_API_CONCURRENCY", unset.image_api_concurrency, low=1, high=256
        ),
        image_api_max_retries=check(_number, env, "IMAGE_API_MAX_RETRIES", unset.image_api_max_retries, low=0, high=10),
        image_response_format=check(
            _choice, env, "IMAGE_RESPONSE_FORMAT", unset.image_response_format, RESPONSE_FORMATS
        ),
        image_download_max_bytes=check(
            _number, env, "IMAGE_DOWNLOAD_MAX_BYTES", unset.image_download_max_bytes, low=1024
        ),
        image_download_timeout=check(_number, env, "IMAGE_DOWNLOAD_TIMEOUT", unset.image_download_timeout, low=1.0),
        prompt_max_length=check(
            _number, env, "PROMPT_MAX_LENGTH", unset.prompt_max_length, low=1, high=PROMPT_LIMIT_DISCORD_MAX
        ),
        user_hash_salt=_text(env, "USER_HASH_SALT", unset.user_hash_salt),
        data_dir=(data_dir := Path(_text(env, "DATA_DIR", str(unset.data_dir)))),
        database_url=check(_database_url, env, data_dir),
        edit_max_attachments=check(
            _number, env, "EDIT_MAX_ATTACHMENTS", unset.edit_max_attachments, low=1, high=MAX_EDIT_OPTIONS
        ),
        edit_picture_max_bytes=check(_number, env, "EDIT_PICTURE_MAX_BYTES", unset.edit_picture_max_bytes, low=1024),
        edit_picture_max_pixels=check(_number, env, "EDIT_PICTURE_MAX_PIXELS", unset.edit_picture_max_pixels, low=4096),
        edit_input_mode=check(_choice, env, "EDIT_INPUT_MODE", unset.edit_input_mode, INPUT_MODES),
        model_max_pictures=check(_max_pictures, env),
        limit_defaults=_limit_defaults(env, check),
        global_daily_images=check(_number, env, "GLOBAL_DAILY_IMAGES", unset.global_daily_images, low=0),
        global_monthly_budget=check(_dollars, env, "GLOBAL_MONTHLY_BUDGET", unset.global_monthly_budget),
        image_prices=check(_prices, env),
        queue_max_per_user=check(_number, env, "QUEUE_MAX_PER_USER", unset.queue_max_per_user, low=0),
        queue_max_per_server=check(_number, env, "QUEUE_MAX_PER_SERVER", unset.queue_max_per_server, low=0),
        shutdown_grace=check(_number, env, "SHUTDOWN_GRACE_SECONDS", unset.shutdown_grace, low=0.0, high=3600.0),
        progress_interval=check(_number, env, "PROGRESS_INTERVAL_SECONDS", unset.progress_interval, low=0.5, high=60.0),
        interaction_token_lifetime=check(
            _number, env, "INTERACTION_TOKEN_LIFETIME", unset.interaction_token_lifetime, low=1.0, high=900.0
        ),
        dev_guild_ids=check(_ids, env, "DEV_GUILD_IDS"),
        owner_ids=frozenset(check(_ids, env, "OWNER_IDS") or ()),
        log_level=check(_log_level, env),
        log_format=check(_choice, env, "LOG_FORMAT", unset.log_format, LOG_FORMATS),
        log_prompts=check(_flag, env, "LOG_PROMPTS", default=unset.log_prompts),
        health_host=_text(env, "HEALTH_HOST", unset.health_host),
        health_port=check(_optional_port, env, "HEALTH_PORT"),
        discord_api_base_url=check(_url, env, "DISCORD_API_BASE_URL", unset.discord_api_base_url, ("http", "https")),
        discord_gateway_url=check(_url, env, "DISCORD_GATEWAY_URL", unset.discord_gateway_url, ("ws", "wss")),
        sync_commands=check(_flag, env, "SYNC_COMMANDS", default=unset.sync_commands),
        shard_count=(count := check(_number, env, "SHARD_COUNT", 0, low=1, high=MAX_SHARDS)) or None,
        shard_ids=(shard_ids := check(_shard_ids, env, count)),  # count: 0 when unset, None when bad
        instance_name=check(_instance_name, env, shard_ids),
        instance_timeout=check(_number, env, "INSTANCE_TIMEOUT_SECONDS", unset.instance_timeout, low=2.0, high=3600.0),
        ledger_retention_days=check(_number, env, "LEDGER_RETENTION_DAYS", unset.ledger_retention_days, low=0),
    )
    check.raise_if_any()
    return Settings(**values)


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


def _required(env: Mapping[str, str], name: str) -> str:
    if not (value := env.get(name, "").strip()):
        raise SettingsError(f"{name} is not set; see .env.example")
    return value


def _number(env: Mapping[str, str], name: str, default: T, *, low: T, high: T | None = None) -> T:
    """A number of the default's type (a whole one for an int default), between `low` and `high`."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    kind = type(default)
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


def _models(env: Mapping[str, str], served: tuple[str, ...]) -> tuple[str, ...]:
    """IMAGE_MODELS; unset, the models the configured providers serve (or, without a providers file, the seed's)."""
    models = _list(env, "IMAGE_MODELS") or served or _DEFAULTS.image_models
    if served and (unknown := [model for model in models if model not in served]):
        raise SettingsError(
            f"IMAGE_MODELS has {unknown[0]!r}, which no provider of IMAGE_PROVIDERS_FILE serves ({', '.join(served)})"
        )
    if len(models) > MAX_MODELS:
        raise SettingsError(f"IMAGE_MODELS lists {len(models)} models; Discord offers at most {MAX_MODELS} choices")
    return models


def _default_model(env: Mapping[str, str], models: tuple[str, ...]) -> str:
    """IMAGE_DEFAULT_MODEL, one of `models`; unset or empty, the first of them."""
    model = _text(env, "IMAGE_DEFAULT_MODEL", models[0])
    if model not in models:
        raise SettingsError(f"IMAGE_DEFAULT_MODEL={model!r} is not one of IMAGE_MODELS ({', '.join(models)})")
    return model


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    return Path(value) if (value := _text(env, name, "")) else None


def _providers_file(env: Mapping[str, str], path: Path) -> tuple[ProviderConfig, ...]:
    """The providers IMAGE_PROVIDERS_FILE configures, each key read from the variable it names."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(f"IMAGE_PROVIDERS_FILE={str(path)!r} can't be read: {error.strerror}") from None
    try:
        return load_providers(text, env)
    except ProvidersFileError as error:
        raise SettingsError(f"IMAGE_PROVIDERS_FILE {path}: {error}") from None


def _styles_file(path: Path) -> tuple[Style, ...]:
    """The styles STYLES_FILE ships to every server."""
    try:
        return load_styles(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SettingsError(f"STYLES_FILE={str(path)!r} can't be read: {error.strerror}") from None
    except ValueError as error:
        raise SettingsError(f"STYLES_FILE {path}: {error}") from None


def _served(providers: tuple[ProviderConfig, ...] | None) -> tuple[str, ...]:
    """The models some provider serves, the best provider's first."""
    ranked = sorted(providers or (), key=lambda provider: provider.priority)
    return tuple(dict.fromkeys(model for provider in ranked for model in provider.models))


def _seed_gateway(settings: Settings) -> ProviderConfig:
    """The one gateway the IMAGE_API_* settings describe, serving every model of IMAGE_MODELS."""
    return ProviderConfig(
        name="gateway",
        kind="gateway",
        base_url=settings.image_api_base_url,
        api_key=settings.image_api_key,
        api_key_env="IMAGE_API_KEY",
        models={model: model for model in settings.image_models},
        timeout=settings.image_api_timeout,
        max_retries=settings.image_api_max_retries,
        gateway=GatewayOptions(response_format=settings.image_response_format, edit_input=settings.edit_input_mode),
    )


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
    return _DEFAULTS.instance_name if shard_ids is None else "shards-" + "-".join(map(str, shard_ids))


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
    url = _text(env, "DATABASE_URL", _sqlite_url(data_dir))
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise SettingsError("DATABASE_URL must start with sqlite:/// or postgresql://")
    return url


def _max_pictures(env: Mapping[str, str]) -> dict[str, int]:
    """`model=count` pairs; `*` is the count for models not listed."""
    if not (items := _list(env, "IMAGE_MODEL_MAX_PICTURES")):
        return dict(_DEFAULTS.model_max_pictures)
    limits: dict[str, int] = {}
    for item in items:
        model, _, count = item.partition("=")
        if not model.strip() or not count.strip().isdigit() or not 1 <= int(count) <= 16:
            raise SettingsError(f"IMAGE_MODEL_MAX_PICTURES: {item!r} must be model=count with a count of 1 to 16")
        limits[model.strip()] = int(count)
    limits.setdefault("*", 1)
    return limits


def _dollars(env: Mapping[str, str], name: str, default: int) -> int:
    """Dollars as micro-dollars; `default` (micro-dollars) when unset or empty."""
    if not (raw := env.get(name, "").strip()):
        return default
    try:
        return dollars_to_micro(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} must be an amount of dollars, e.g. 25 or 12.50") from None


def _limit_defaults(env: Mapping[str, str], check: _Problems) -> ServerLimits | None:
    """Every server's limits until its moderators change them: the operator's setting of each limit that has one,
    read as its spec says; None when one is bad (each bad one kept by `check`)."""
    values: dict[str, Any] = {
        spec.name: check(_limit_setting, env, spec.kind, spec.setting) for spec in LIMITS if spec.setting
    }
    if any(value is None for value in values.values()):
        return None
    return dataclasses.replace(DEFAULT_LIMITS, **values)


def _limit_setting(env: Mapping[str, str], kind: Kind, setting: OperatorSetting) -> LimitValue:
    """The operator's setting of one limit's default, checked as that kind of limit is."""
    match kind, setting.default:
        case Kind.COUNT | Kind.SECONDS, int(count):
            return _number(env, setting.name, count, low=0, high=setting.high)
        case Kind.MONEY, int(micro_dollars):
            return _dollars(env, setting.name, micro_dollars)
        case Kind.QUALITY, str(quality):
            return _choice(env, setting.name, quality, QUALITIES)
    raise TypeError(f"{setting.name}: no operator setting reads a {kind.value} limit")


def _prices(env: Mapping[str, str]) -> dict[str, int]:
    try:
        return parse_prices(_text(env, "IMAGE_PRICES", DEFAULT_PRICES))
    except ValueError as error:
        raise SettingsError(f"IMAGE_PRICES: {error}") from None


def _optional_port(env: Mapping[str, str], name: str) -> int | None:
    """A TCP port, or None (the feature off) when unset."""
    return _number(env, name, 0, low=1, high=65535) if env.get(name, "").strip() else None


def _log_level(env: Mapping[str, str]) -> str:
    level = _text(env, "LOG_LEVEL", _DEFAULTS.log_level).upper()
    if not isinstance(logging.getLevelName(level), int):
        raise SettingsError(f"LOG_LEVEL={level!r} must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


_DEFAULTS = Settings(discord_token="", image_api_key="")  # what load_settings gives a setting left unset
