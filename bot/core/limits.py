"""A server's limits: what each one means, how moderators write it, and what a request must satisfy.

Every server starts from the operator's defaults (settings); moderators override single limits, stored as
JSON text by name. Checks here are pure; counting usage against quotas happens atomically in storage.
"""

import dataclasses
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.core import errors
from bot.core.generation import MAX_COUNT
from bot.core.imageapi import QUALITIES
from bot.core.pricing import dollars_to_micro, micro_to_dollars
from bot.core.storage import Caps

QUALITY_RANK = {quality: rank for rank, quality in enumerate(QUALITIES)}
MAX_WORD_PATTERN = 100
# Letters of other scripts drawn like Latin ones (from Unicode's confusables), the usual disguises of a word:
# Cyrillic a, es, komi de, ie, shha, i, je, ka, palochka, o, er, qa, dze, we, ha, u; Greek alpha, epsilon, iota,
# kappa, nu, omicron, rho, tau, upsilon, chi; dotless i and script g.
LOOKALIKES = str.maketrans(
    "\u0430\u0441\u0501\u0435\u04bb\u0456\u0458\u043a\u04cf\u043e\u0440\u051b\u0455\u051d\u0445\u0443"
    "\u03b1\u03b5\u03b9\u03ba\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7\u0131\u0261",
    "acdehijklopqswxyaeikvoptuxig",
)
FLAG_WORDS = {"yes": True, "on": True, "true": True, "1": True, "no": False, "off": False, "false": False, "0": False}


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """One server's limits; 0 and empty mean unlimited (or: every model, every channel)."""

    user_daily_images: int = 0
    server_daily_images: int = 0
    monthly_budget: int = 0  # micro-dollars
    cooldown_seconds: int = 0
    concurrent_jobs: int = 0  # per member
    max_count: int = 0  # 0: as many as a request may ask (MAX_COUNT)
    max_quality: str = QUALITIES[-1]
    models: tuple[str, ...] = ()
    edit_allowed: bool = True
    channels: tuple[int, ...] = ()
    exempt_roles: tuple[int, ...] = ()
    role_daily_images: tuple[tuple[int, int], ...] = ()  # (role id, images a day) for roles with their own quota
    blocked_words: tuple[str, ...] = ()
    moderator_roles: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks, and where: what the checks need to know about a member."""

    user_id: int
    guild_id: int | None
    channel_id: int | None
    role_ids: frozenset[int] = frozenset()
    parent_channel_id: int | None = None  # a thread's channel: allowing a channel allows its threads


# Limits moderators set with one value (`/limits set`); the list-valued ones have commands of their own.
SCALAR_LIMITS = (
    "user_daily_images",
    "server_daily_images",
    "monthly_budget",
    "cooldown_seconds",
    "concurrent_jobs",
    "max_count",
    "max_quality",
    "models",
    "edit_allowed",
)
LIST_LIMITS = ("channels", "exempt_roles", "role_daily_images", "blocked_words", "moderator_roles")
LIMIT_NAMES = SCALAR_LIMITS + LIST_LIMITS


def parse_limit(name: str, text: str, models: tuple[str, ...]) -> Any:
    """The value of limit `name` as a moderator wrote it; raises InvalidLimitValue saying what is expected."""
    parsers: dict[str, Callable[[str], Any]] = {
        "user_daily_images": _count,
        "server_daily_images": _count,
        "cooldown_seconds": _count,
        "concurrent_jobs": _count,
        "monthly_budget": dollars_to_micro,
        "max_count": lambda raw: _bounded(raw, 0, MAX_COUNT),
        "max_quality": lambda raw: _one_of(raw.lower(), QUALITIES),
        "models": lambda raw: _models(raw, models),
        "edit_allowed": lambda raw: FLAG_WORDS[raw.strip().lower()],
    }
    if (parse := parsers.get(name)) is None:
        raise errors.InvalidChoice("limit", name, SCALAR_LIMITS)
    try:
        return parse(text.strip())
    except (ValueError, KeyError):
        raise errors.InvalidLimitValue(name, text) from None


def resolve(defaults: ServerLimits, overrides: Mapping[str, str]) -> ServerLimits:
    """The defaults with a server's stored overrides applied; unknown or unreadable entries are skipped."""
    changes: dict[str, Any] = {}
    for name, raw in overrides.items():
        if name in LIMIT_NAMES:
            try:
                changes[name] = decode(name, raw)
            except ValueError:
                continue
    return dataclasses.replace(defaults, **changes)


def decode(name: str, stored: str) -> Any:
    """A stored value back in its limit's type; raises ValueError when it can't be read."""
    try:
        return _from_json(name, json.loads(stored))
    except (TypeError, KeyError) as error:
        raise ValueError(f"{stored!r} is not a value of {name}") from error


def to_json(name: str, value: Any) -> str:
    """How a limit's value is stored."""
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def display(name: str, value: Any) -> str:
    """A limit's value as moderators read it (ids as mentions, money in dollars, 0 as unlimited)."""
    if name == "monthly_budget":
        return micro_to_dollars(value) if value else "unlimited"
    if name in ("channels",):
        return ", ".join(f"<#{item}>" for item in value) or "all"
    if name in ("exempt_roles", "moderator_roles"):
        return ", ".join(f"<@&{item}>" for item in value) or "none"
    if name == "role_daily_images":
        return ", ".join(f"<@&{role}>: {images}" for role, images in value) or "none"
    if name in ("models", "blocked_words"):
        return ", ".join(f"`{item}`" for item in value) or ("all" if name == "models" else "none")
    if name == "edit_allowed":
        return "yes" if value else "no"
    if name == "cooldown_seconds":
        return f"{value} s" if value else "none"
    if isinstance(value, int):
        return str(value) if value else "unlimited"
    return str(value)


def check_request(
    limits: ServerLimits, requester: Requester, model: str, count: int, quality: str | None, prompt: str, edit: bool
) -> None:
    """Refuse a request that breaks one of the server's rules (checked before anything is counted)."""
    channels = {requester.channel_id, requester.parent_channel_id} - {None}
    if limits.channels and not channels & set(limits.channels):
        raise errors.ChannelNotAllowed(", ".join(f"<#{channel}>" for channel in limits.channels))
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


def _count(raw: str) -> int:
    if not raw.isdigit():
        raise ValueError(raw)
    return int(raw)


def _bounded(raw: str, low: int, high: int) -> int:
    if not low <= (value := _count(raw)) <= high:
        raise ValueError(raw)
    return value


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


def _from_json(name: str, value: Any) -> Any:
    """A stored value back in its field's type."""
    if name == "role_daily_images":
        return tuple((int(role), int(images)) for role, images in value)
    if name in ("channels", "exempt_roles", "moderator_roles"):
        return tuple(int(item) for item in value)
    if name in ("models", "blocked_words"):
        return tuple(str(item) for item in value)
    if name == "edit_allowed":
        return bool(value)
    if name == "max_quality":
        return _one_of(str(value), QUALITIES)
    return int(value)
