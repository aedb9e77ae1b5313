"""The providers an operator configures in a TOML file (`IMAGE_PROVIDERS_FILE`), read with `tomllib` and checked
field by field; a problem raises ProvidersFileError naming the provider and the field.

    [[providers]]
    name = "openai"                 # how logs, /healthz and /admin providers name it
    kind = "openai"                 # gateway, openai, gemini, openrouter or litellm
    base_url = "https://api.openai.com"
    api_key_env = "OPENAI_API_KEY"  # the environment variable holding its key: keys never sit in the file
    models = { "gpt-image" = "gpt-image-1" }   # the model members see -> this provider's id for it
    priority = 1                    # lower is tried first
    concurrency = 4                 # optional: its own calls at once, across every process on PostgreSQL
    timeout = 120                   # optional: seconds for one attempt at it
    breaker_failures = 3            # optional: failures in a row that open its breaker ...
    breaker_cooloff = 30            # ... for this many seconds
    routes = { "gemini-image" = "gemini" }  # litellm only: the route of a model id at LiteLLM (openai unless named)
"""

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.imageapi.request import QUALITIES, RESPONSE_FORMATS
from bot.core.inputs import INPUT_MODES
from bot.core.providers.gateway import SIZE_FORMATS, GatewayOptions
from bot.core.providers.litellm import OPENAI, ROUTES

KINDS = ("gateway", "openai", "gemini", "openrouter", "litellm")
FIELDS = frozenset(
    {"name", "kind", "base_url", "api_key_env", "models", "priority", "concurrency", "timeout", "max_retries"}
    | {"breaker_failures", "breaker_cooloff", "quality_values", "size_format", "response_format", "edit_input"}
    | {"routes"}
)
GATEWAY_FIELDS = frozenset({"quality_values", "size_format", "response_format", "edit_input"})


class ProvidersFileError(ValueError):
    """The providers file can't be used; the message names the provider and the field."""


Bad = Callable[[str, str], ProvidersFileError]  # (field, problem) -> the error naming the provider


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """One provider as configured."""

    name: str
    kind: str
    base_url: str
    api_key: str = field(repr=False)
    api_key_env: str = ""  # the environment variable the key came from
    models: Mapping[str, str] = field(default_factory=dict)
    priority: int = 0
    concurrency: int | None = None
    timeout: float = 300.0
    max_retries: int = 1  # a short 429 or a blip is retried here once before the next provider is tried
    breaker_failures: int = 3
    breaker_cooloff: float = 30.0
    gateway: GatewayOptions = field(default_factory=GatewayOptions)
    routes: Mapping[str, str] = field(default_factory=dict)  # litellm: each model id's route (every model named)


def load_providers(text: str, env: Mapping[str, str]) -> tuple[ProviderConfig, ...]:
    """The providers a file's text configures, their keys read from `env`; raises ProvidersFileError."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ProvidersFileError(f"not valid TOML: {error}") from None
    tables = document.get("providers")
    if not isinstance(tables, list) or not tables or not all(isinstance(table, dict) for table in tables):
        raise ProvidersFileError("it needs at least one [[providers]] table")
    providers = tuple(_provider(table, number, env) for number, table in enumerate(tables, 1))
    names = [provider.name for provider in providers]
    if duplicate := next((name for name in names if names.count(name) > 1), None):
        raise ProvidersFileError(f"two providers are named {duplicate!r}")
    return providers


def _provider(table: dict[str, Any], number: int, env: Mapping[str, str]) -> ProviderConfig:
    name = table.get("name")
    where = f"provider {name!r}" if isinstance(name, str) and name else f"provider #{number}"

    def bad(field_name: str, problem: str) -> ProvidersFileError:
        return ProvidersFileError(f"{where}: {field_name} {problem}")

    if unknown := sorted(set(table) - FIELDS):
        raise bad(unknown[0], f"is not a field a provider has (it has {', '.join(sorted(FIELDS))})")
    if not isinstance(name, str) or not re.fullmatch(r"[\w.-]{1,40}", name):
        raise bad("name", "must be 1-40 letters, digits, '.', '-' or '_'")
    kind = table.get("kind")
    if kind not in KINDS:
        raise bad("kind", f"must be one of {', '.join(KINDS)}")
    if kind != "gateway" and (extra := sorted(GATEWAY_FIELDS & set(table))):
        raise bad(extra[0], "is for gateway providers only")
    if kind != "litellm" and "routes" in table:
        raise bad("routes", "is for litellm providers only")
    base_url = table.get("base_url")
    if not isinstance(base_url, str) or not re.fullmatch(r"https?://[^\s/]+(?:/\S*)?", base_url):
        raise bad("base_url", "must be an http or https URL")
    key_env = table.get("api_key_env")
    if not isinstance(key_env, str) or not key_env:
        raise bad("api_key_env", "must name the environment variable holding the key")
    if not (key := env.get(key_env, "").strip()):
        raise bad("api_key_env", f"names {key_env}, which is not set")
    models = table.get("models")
    if not isinstance(models, dict) or not models or not all(isinstance(v, str) and v for v in models.values()):
        raise bad("models", "must be a table of at least one model members see = the provider's model id")
    return ProviderConfig(
        name=name,
        kind=kind,
        base_url=base_url.rstrip("/"),
        api_key=key,
        api_key_env=key_env,
        models=dict(models),
        priority=_integer(table, "priority", 0, bad, low=0) or 0,
        concurrency=_integer(table, "concurrency", None, bad, low=1),
        timeout=_seconds(table, "timeout", 300.0, bad),
        max_retries=_integer(table, "max_retries", 1, bad, low=0) or 0,
        breaker_failures=_integer(table, "breaker_failures", 3, bad, low=1) or 3,
        breaker_cooloff=_seconds(table, "breaker_cooloff", 30.0, bad),
        gateway=_gateway(table, bad),
        routes=_routes(table, models, bad) if kind == "litellm" else {},
    )


def _gateway(table: dict[str, Any], bad: Bad) -> GatewayOptions:
    values = table.get("quality_values", {tier: tier for tier in QUALITIES})
    if (
        not isinstance(values, dict)
        or set(values) - set(QUALITIES)
        or not all(isinstance(v, str) for v in values.values())
    ):
        raise bad("quality_values", f"must be a table from {', '.join(QUALITIES)} to the values to send")
    choices = {"size_format": SIZE_FORMATS, "response_format": RESPONSE_FORMATS, "edit_input": INPUT_MODES}
    chosen = {}
    for name, allowed in choices.items():
        value = table.get(name, getattr(GatewayOptions(), name))
        if value not in allowed:
            raise bad(name, f"must be one of {', '.join(allowed)}")
        chosen[name] = value
    return GatewayOptions(quality_values=dict(values), **chosen)


def _routes(table: dict[str, Any], models: dict[str, str], bad: Bad) -> dict[str, str]:
    """The route of each of the provider's model ids (openai unless the `routes` table names another)."""
    routes = table.get("routes", {})
    if not isinstance(routes, dict) or not all(route in ROUTES for route in routes.values()):
        raise bad("routes", f"must be a table from a model id at LiteLLM to {' or '.join(ROUTES)}")
    if stray := sorted(set(routes) - set(models.values())):
        raise bad("routes", f"names {stray[0]!r}, which is not a model id in its models")
    return {model: routes.get(model, OPENAI) for model in models.values()}


def _integer(table: dict[str, Any], name: str, default: int | None, bad: Bad, *, low: int) -> int | None:
    value = table.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise bad(name, f"must be a whole number of at least {low}")
    return value


def _seconds(table: dict[str, Any], name: str, default: float, bad: Bad) -> float:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise bad(name, "must be a number of seconds above 0")
    return float(value)
