"""A server's limits: the one table that declares them, how moderators write them, and what a request must satisfy.

Each limit is declared once, in `LIMITS`: its name, its kind of value (which says how moderators write it and how
it is stored) and the operator's setting of its default, if it has one. Every server starts from the operator's
defaults (settings); moderators override single limits, stored as JSON text by name. How a value reads for
people is the Discord layer's business (its catalogue words it in each language). Checks here are pure; counting
usage against quotas happens atomically in storage.
"""

import dataclasses
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeAlias

from bot.core import errors
from bot.core.generation import MAX_COUNT
from bot.core.imageapi import QUALITIES
from bot.core.pricing import dollars_to_micro
from bot.core.storage import Caps

LimitValue: TypeAlias = (
    int | str | bool | tuple[str, ...] | tuple[int, ...] | tuple[tuple[int, int], ...] | tuple[tuple[str, str], ...]
)

QUALITY_RANK = {quality: rank for rank, quality in enumerate(QUALITIES)}
MAX_WORD_PATTERN = 100
MAX_COOLDOWN = 86400  # seconds: a day, the longest cooldown anyone may set
# Letters of other scripts drawn like Latin ones (from Unicode's confusables), the usual disguises of a word:
# Cyrillic a, es, komi de, ie, shha, i, je, ka, palochka, o, er, qa, dze, we, ha, u; Greek alpha, epsilon, iota,
# kappa, nu, omicron, rho, tau, upsilon, chi; dotless i and script g.
LOOKALIKES = str.maketrans(
    "\u0430\u0441\u0501\u0435\u04bb\u0456\u0458\u043a\u04cf\u043e\u0440\u051b\u0455\u051d\u0445\u0443"
    "\u03b1\u03b5\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7\u0131\u0261",
    "acdehijklopqswxyaeikvoptuxig",
)
FLAG_WORDS = {"yes": True, "on": True, "true": True, "1": True, "no": False, "off": False, "false": False, "0": False}


class Kind(Enum):
    """What a limit's value is: how moderators write it, how it is stored and, in the Discord layer, how it reads."""

    COUNT = "count"  # images or jobs; 0 is unlimited
    MONEY = "money"  # micro-dollars; 0 is unlimited
    SECONDS = "seconds"  # 0 is none
    QUALITY = "quality"  # the highest of QUALITIES allowed
    MODELS = "models"  # model names; none is every model
    FLAG = "flag"
    CHANNELS = "channels"  # channel ids; none is every channel
    ROLES = "roles"  # role ids
    ROLE_QUOTAS = "role_quotas"  # (role id, images a day) pairs
    WORDS = "words"  # blocked words or patterns
    STYLES = "styles"  # (name, template) pairs: the server's own styles (see styles.py)


@dataclass(frozen=True, slots=True)
class OperatorSetting:
    """The operator's setting of a limit's default for every server (read by `bot.settings`)."""

    name: str  # the environment variable, e.g. LIMIT_USER_DAILY_IMAGES
    default: LimitValue  # its value when unset
    high: int | None = None  # the largest value the operator may set


@dataclass(frozen=True, slots=True)
class LimitSpec:
    """One limit: everything about it but its wording, which the catalogue holds as `limit.<name>`."""

    name: str  # the ServerLimits field, the stored name and the catalogue's `limit.<name>`
    kind: Kind
    setting: OperatorSetting | None = None  # without one, every server starts from the ServerLimits default
    high: int | None = None  # the largest value moderators may set

    @property
    def written(self) -> bool:
        """Whether moderators write the value as text (`/limits set`); the other kinds have commands of their own."""
        return self.kind in _PARSERS


# How moderators write each kind of value with `/limits set` (the others have commands of their own); each
# raises ValueError or KeyError for text that isn't one. `models` are those the bot offers.
_PARSERS: dict[Kind, Callable[[str, LimitSpec, tuple[str, ...]], LimitValue]] = {
    Kind.COUNT: lambda raw, spec, _: _count(raw, spec.high),
    Kind.SECONDS: lambda raw, spec, _: _count(raw, spec.high),
    Kind.MONEY: lambda raw, _, __: dollars_to_micro(raw),
    Kind.QUALITY: lambda raw, _, __: _one_of(raw.lower(), QUALITIES),
    Kind.MODELS: lambda raw, _, models: _models(raw, models),
    Kind.FLAG: lambda raw, _, __: FLAG_WORDS[raw.lower()],
}
# How a stored (JSON) value of each kind is read back; each raises ValueError, TypeError or KeyError for one
# that isn't.
_LOADERS: dict[Kind, Callable[[Any], LimitValue]] = {
    Kind.COUNT: int,
    Kind.MONEY: int,
    Kind.SECONDS: int,
    Kind.QUALITY: lambda value: _one_of(str(value), QUALITIES),
    Kind.MODELS: lambda value: tuple(str(item) for item in value),
    Kind.FLAG: bool,
    Kind.CHANNELS: lambda value: tuple(int(item) for item in value),
    Kind.ROLES: lambda value: tuple(int(item) for item in value),
    Kind.ROLE_QUOTAS: lambda value: tuple((int(role), int(images)) for role, images in value),
    Kind.WORDS: lambda value: tuple(str(item) for item in value),
    Kind.STYLES: lambda value: tuple((str(name), str(template)) for name, template in value),
}


LIMITS = (
    LimitSpec("user_daily_images", Kind.COUNT, OperatorSetting("LIMIT_USER_DAILY_IMAGES", 25)),
    LimitSpec("server_daily_images", Kind.COUNT, OperatorSetting("LIMIT_SERVER_DAILY_IMAGES", 250)),
    LimitSpec("monthly_budget", Kind.MONEY, OperatorSetting("LIMIT_SERVER_MONTHLY_BUDGET", 0)),
    LimitSpec(
        "cooldown_seconds",
        Kind.SECONDS,
        OperatorSetting("LIMIT_COOLDOWN_SECONDS", 10, high=MAX_COOLDOWN),
        high=MAX_COOLDOWN,
    ),
    LimitSpec("concurrent_jobs", Kind.COUNT, OperatorSetting("LIMIT_CONCURRENT_JOBS", 2)),
    LimitSpec("max_count", Kind.COUNT, OperatorSetting("LIMIT_MAX_COUNT", 4, high=MAX_COUNT), high=MAX_COUNT),
    LimitSpec("max_quality", Kind.QUALITY, OperatorSetting("LIMIT_MAX_QUALITY", "2k")),
    LimitSpec("models", Kind.MODELS),
    LimitSpec("edit_allowed", Kind.FLAG),
    LimitSpec("private_allowed", Kind.FLAG),
    LimitSpec("channels", Kind.CHANNELS),
    LimitSpec("exempt_roles", Kind.ROLES),
    LimitSpec("role_daily_images", Kind.ROLE_QUOTAS),
    LimitSpec("blocked_words", Kind.WORDS),
    LimitSpec("moderator_roles", Kind.ROLES),
    LimitSpec("styles", Kind.STYLES),
)
SPECS = {spec.name: spec for spec in LIMITS}
LIMIT_NAMES = tuple(SPECS)
SCALAR_LIMITS = tuple(spec.name for spec in LIMITS if spec.written)  # set with one value (`/limits set`)


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """One server's limits, a field for each of `LIMITS` in its order. The field defaults limit nothing (0 and
    empty mean unlimited, or: every model, every channel); servers start from the operator's defaults."""

    user_daily_images: int = 0
    server_daily_images: int = 0
    monthly_budget: int = 0  # micro-dollars
    cooldown_seconds: int = 0
    concurrent_jobs: int = 0  # per member
    max_count: int = 0  # 0: as many as a request may ask (MAX_COUNT)
    max_quality: str = QUALITIES[-1]
    models: tuple[str, ...] = ()
    edit_allowed: bool = True
    private_allowed: bool = True  # whether members may have results shown to them only
    channels: tuple[int, ...] = ()
    exempt_roles: tuple[int, ...] = ()
    role_daily_images: tuple[tuple[int, int], ...] = ()  # (role id, images a day) for roles with their own quota
    blocked_words: tuple[str, ...] = ()
    moderator_roles: tuple[int, ...] = ()
    styles: tuple[tuple[str, str], ...] = ()  # (name, template)


# A server's limits while neither the operator nor its moderators set any: each setting's own default.
_OPERATOR_DEFAULTS: dict[str, Any] = {spec.name: spec.setting.default for spec in LIMITS if spec.setting is not None}
DEFAULT_LIMITS = dataclasses.replace(ServerLimits(), **_OPERATOR_DEFAULTS)


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks, and where: what the checks need to know about a member."""

    user_id: int
    guild_id: int | None
    channel_id: int | None
    role_ids: frozenset[int] = frozenset()
    parent_channel_id: int | None = None  # a thread's channel: allowing a channel allows its threads


def parse_limit(name: str, text: str, models: tuple[str, ...]) -> LimitValue:
    """The value of limit `name` as a moderator wrote it; raises InvalidLimitValue saying what is expected."""
    spec = SPECS.get(name)
    if spec is None or not spec.written:
        raise errors.InvalidChoice("limit", name, SCALAR_LIMITS)
    try:
        return _PARSERS[spec.kind](text.strip(), spec, models)
    except (ValueError, KeyError):
        raise errors.InvalidLimitValue(name, text) from None


def resolve(defaults: ServerLimits, overrides: Mapping[str, str]) -> ServerLimits:
    """The defaults with a server's stored overrides applied; unknown or unreadable entries are skipped."""
    changes: dict[str, Any] = {}  # by field name: replace() checks each against its field
    for name, raw in overrides.items():
        if name in SPECS:
            try:
                changes[name] = decode(name, raw)
            except ValueError:
                continue
    return dataclasses.replace(defaults, **changes)


def decode(name: str, stored: str) -> LimitValue:
    """A stored value back in its limit's type; raises ValueError when it can't be read (or no limit has `name`)."""
    try:
        return _LOADERS[SPECS[name].kind](json.loads(stored))
    except (TypeError, KeyError) as error:
        raise ValueError(f"{stored!r} is not a value of {name}") from error


def to_json(name: str, value: LimitValue) -> str:
    """How a limit's value is stored."""
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def check_request(
    limits: ServerLimits,
    requester: Requester,
    model: str,
    count: int,
    quality: str | None,
    prompt: str,
    edit: bool,
    private: bool = False,
) -> None:
    """Refuse a request that breaks one of the server's rules (checked before anything is counted)."""
    channels = {requester.channel_id, requester.parent_channel_id} - {None}
    if limits.channels and not channels & set(limits.channels):
        raise errors.ChannelNotAllowed(limits.channels)
    if edit and not limits.edit_allowed:
        raise errors.EditDisabled
    if limits.models and model not in limits.models:
        raise errors.ModelNotAllowed(model, limits.models)
    if limits.max_count and count > limits.max_count:
        raise errors.CountAboveLimit(count, limits.max_count)
    # `quality` is canonical (generation.prepare): an unknown value fails here loudly rather than rank as 1k
    if QUALITY_RANK[quality or QUALITIES[0]] > QUALITY_RANK[limits.max_quality]:
        raise errors.QualityAboveLimit(quality or QUALITIES[0], limits.max_quality)
    if (word := blocked_word(limits.blocked_words, prompt)) is not None:
        raise errors.PromptBlocked(word)
    if private and not limits.private_allowed:
        raise errors.PrivateNotAllowed


def caps_for(limits: ServerLimits, role_ids: Iterable[int]) -> Caps:
    """The quotas that count for a member: none for exempt roles, the best role quota where one applies."""
    roles = set(role_ids)
    if roles & set(limits.exempt_roles):
        return Caps()
    role_quotas = [images for role, images in limits.role_daily_images if role in roles]
    user_daily = max(role_quotas) if role_quotas else limits.user_daily_images
    return Caps(
        user_daily_images=user_daily or None,
        server_daily_images=limits.server_daily_images or None,
        server_monthly_budget=limits.monthly_budget or None,
        cooldown_seconds=limits.cooldown_seconds,
        user_concurrent_jobs=limits.concurrent_jobs or None,
    )


def blocked_word(patterns: Iterable[str], prompt: str) -> str | None:
    """The first blocked word or pattern the prompt contains (whole words, any case or disguise; `*` matches
    letters). Both sides are compared in their `matching_form`."""
    if not (patterns := tuple(patterns)):
        return None
    text = matching_form(prompt)
    return next((pattern for pattern in patterns if word_pattern(pattern).search(text)), None)


def word_pattern(pattern: str) -> re.Pattern[str]:
    """A blocked word as a regular expression: no other syntax than `*`, so no pattern can run away."""
    body = r"\w*".join(re.escape(matching_form(part)) for part in pattern.split("*"))
    return re.compile(rf"(?<!\w){body}(?!\w)")


def matching_form(text: str) -> str:
    """Text as blocked words are matched: compatibility forms folded (fullwidth letters are plain ones), invisible
    format characters (zero-width spaces and joiners, soft hyphens) and accents removed, case folded, and letters
    of other scripts that look Latin (Cyrillic es, Greek omicron) read as the Latin ones."""
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(char for char in decomposed if unicodedata.category(char) not in ("Cf", "Mn"))
    return unicodedata.normalize("NFKC", kept).casefold().translate(LOOKALIKES)


def check_word_pattern(pattern: str) -> str:
    """A pattern as stored (trimmed, lower case), or InvalidLimitValue when empty, only `*`, too long, or holding
    a backtick (it is shown in code spans)."""
    cleaned = " ".join(pattern.split()).lower()
    if not cleaned.replace("*", "") or len(cleaned) > MAX_WORD_PATTERN or "`" in cleaned:
        raise errors.InvalidLimitValue("blocked_words", pattern)
    return cleaned


def _count(raw: str, high: int | None) -> int:
    if not raw.isdigit() or (high is not None and int(raw) > high):
        raise ValueError(raw)
    return int(raw)


def _one_of(raw: str, choices: tuple[str, ...]) -> str:
    if raw not in choices:
        raise ValueError(raw)
    return raw


def _models(raw: str, known: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(item.strip() for item in raw.split(",") if item.strip()))
    if raw.strip().lower() in ("", "all"):
        return ()
    if not chosen or any(model not in known for model in chosen):
        raise ValueError(raw)
    return chosen
