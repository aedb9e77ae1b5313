"""Application command validation (as Discord does it on registration) and the per-scope command store."""

from __future__ import annotations

import asyncio
import copy
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from . import permissions as perms
from .errors import ErrorPath, FormErrors
from .snowflakes import SnowflakeGenerator

CHAT_INPUT = 1
USER = 2
MESSAGE = 3
PRIMARY_ENTRY_POINT = 4

SUB_COMMAND = 1
SUB_COMMAND_GROUP = 2
STRING = 3
INTEGER = 4
BOOLEAN = 5
USER_OPTION = 6
CHANNEL = 7
ROLE = 8
MENTIONABLE = 9
NUMBER = 10
ATTACHMENT = 11
VALUE_TYPES = frozenset(range(3, 12))
CHOICE_TYPES = frozenset({STRING, INTEGER, NUMBER})

MAX_NAME = 32
MAX_DESCRIPTION = 100
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_CHOICE_STRING = 100
MAX_STRING_LENGTH = 6000
MAX_COMMAND_SIZE = 8000
MAX_PER_TYPE = {CHAT_INPUT: 100, USER: 15, MESSAGE: 15, PRIMARY_ENTRY_POINT: 1}
MAX_SAFE_INTEGER = 2**53

LOCALES = frozenset(
    {
        "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl", "no", "pl",
        "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th", "zh-CN", "ja", "zh-TW",
        "ko",
    }
)  # fmt: skip

_NAME = re.compile(r"^[-_'\w]{1,32}$")


def _bad_length(errors: FormErrors, path: ErrorPath, low: int, high: int) -> None:
    errors.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")


def _check_slash_name(value: Any, errors: FormErrors, path: ErrorPath) -> None:
    if not isinstance(value, str) or not _NAME.fullmatch(value) or value != value.lower():
        errors.add(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _check_text(value: Any, errors: FormErrors, path: ErrorPath, low: int, high: int) -> None:
    if not isinstance(value, str):
        errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
    elif not low <= len(value) <= high:
        _bad_length(errors, path, low, high)


def _check_localizations(
    value: Any, errors: FormErrors, path: ErrorPath, check: Any, *, slash_name: bool = False
) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return
    for locale, text in value.items():
        if locale not in LOCALES:
            errors.add((*path, locale), "LOCALE_INVALID", f"Invalid locale {locale!r}")
        elif slash_name:
            _check_slash_name(text, errors, (*path, locale))
        else:
            check(text, errors, (*path, locale))


def _command_size(command: Mapping[str, Any]) -> int:
    total = len(str(command.get("name") or "")) + len(str(command.get("description") or ""))
    for option in command.get("options") or []:
        if isinstance(option, Mapping):
            total += _command_size(option)
            for choice in option.get("choices") or []:
                if isinstance(choice, Mapping):
                    total += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
    return total


def validate_commands(payload: Any) -> FormErrors:
    """Validate a bulk-overwrite body (a list of commands) like Discord; errors are keyed by list index."""
    errors = FormErrors()
    if not isinstance(payload, list):
        errors.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        return errors
    seen: set[tuple[int, str]] = set()
    per_type: dict[int, int] = {}
    for index, command in enumerate(payload):
        errors.extend(validate_command(command), (index,))
        if not isinstance(command, Mapping):
            continue
        kind = command.get("type", CHAT_INPUT)
        key = (kind, str(command.get("name")))
        if key in seen:
            errors.add(
                (index, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique"
            )
        seen.add(key)
        per_type[kind] = per_type.get(kind, 0) + 1
    for kind, count in per_type.items():
        limit = MAX_PER_TYPE.get(kind)
        if limit is not None and count > limit:
            errors.add((), "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer commands of type {kind}.")
    return errors


def validate_command(command: Any) -> FormErrors:
    """Validate one command payload."""
    errors = FormErrors()
    if not isinstance(command, Mapping):
        errors.add((), "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return errors
    kind = command.get("type", CHAT_INPUT)
    if kind not in MAX_PER_TYPE:
        errors.add(("type",), "BASE_TYPE_CHOICES", f"Value must be one of {sorted(MAX_PER_TYPE)}.")
        return errors
    name = command.get("name")
    description = command.get("description")
    if kind == CHAT_INPUT:
        _check_slash_name(name, errors, ("name",))
        _check_text(description, errors, ("description",), 1, MAX_DESCRIPTION)
        _check_localizations(command.get("name_localizations"), errors, ("name_localizations",), None, slash_name=True)
        _check_localizations(
            command.get("description_localizations"),
            errors,
            ("description_localizations",),
            lambda text, e, p: _check_text(text, e, p, 1, MAX_DESCRIPTION),
        )
        options = command.get("options")
        if options is not None:
            _check_options(options, errors, ("options",), depth=0)
    else:
        _check_text(name, errors, ("name",), 1, MAX_NAME)
        _check_localizations(
            command.get("name_localizations"),
            errors,
            ("name_localizations",),
            lambda text, e, p: _check_text(text, e, p, 1, MAX_NAME),
        )
        if description:
            errors.add(
                ("description",), "APPLICATION_COMMAND_INVALID_DESCRIPTION", "Context menu commands have no description"
            )
        if command.get("options"):
            errors.add(("options",), "APPLICATION_COMMAND_OPTIONS_INVALID", "Context menu commands take no options")
    permissions = command.get("default_member_permissions")
    if permissions is not None and not (
        (isinstance(permissions, int) and not isinstance(permissions, bool) and permissions >= 0)
        or (isinstance(permissions, str) and permissions.isdigit())
    ):
        errors.add(("default_member_permissions",), "BASE_TYPE_INVALID", "Must be a permission integer string.")
    if _command_size(command) > MAX_COMMAND_SIZE:
        errors.add((), "APPLICATION_COMMAND_TOO_LARGE", f"Command exceeds maximum size ({MAX_COMMAND_SIZE})")
    return errors


def _check_options(options: Any, errors: FormErrors, path: ErrorPath, *, depth: int) -> None:
    if not isinstance(options, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(options) > MAX_OPTIONS:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_OPTIONS} or fewer in length.")
    kinds = [option.get("type") for option in options if isinstance(option, Mapping)]
    nested = [kind for kind in kinds if kind in (SUB_COMMAND, SUB_COMMAND_GROUP)]
    if nested and len(nested) != len(kinds):
        errors.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-command and sub-command group option types are mutually exclusive to all other types",
        )
    seen_optional = False
    names: set[str] = set()
    for index, option in enumerate(options):
        here = (*path, index)
        if not isinstance(option, Mapping):
            errors.add(here, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        kind = option.get("type")
        allowed = _allowed_option_types(depth)
        if kind not in allowed:
            errors.add((*here, "type"), "BASE_TYPE_CHOICES", f"Value must be one of {sorted(allowed)}.")
            continue
        name = option.get("name")
        _check_slash_name(name, errors, (*here, "name"))
        if name in names:
            errors.add((*here, "name"), "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", "Option names must be unique")
        names.add(str(name))
        _check_text(option.get("description"), errors, (*here, "description"), 1, MAX_DESCRIPTION)
        _check_localizations(
            option.get("name_localizations"), errors, (*here, "name_localizations"), None, slash_name=True
        )
        _check_localizations(
            option.get("description_localizations"),
            errors,
            (*here, "description_localizations"),
            lambda text, e, p: _check_text(text, e, p, 1, MAX_DESCRIPTION),
        )
        if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
            _check_options(
                option.get("options") or [], errors, (*here, "options"), depth=depth + 1 + (kind == SUB_COMMAND)
            )
            continue
        if option.get("required"):
            if seen_optional:
                errors.add(
                    (*here, "required"),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        _check_value_option(option, errors, here)


def _allowed_option_types(depth: int) -> frozenset[int]:
    if depth == 0:
        return frozenset({SUB_COMMAND, SUB_COMMAND_GROUP}) | VALUE_TYPES
    if depth == 1:
        return frozenset({SUB_COMMAND})
    return VALUE_TYPES


def _check_value_option(option: Mapping[str, Any], errors: FormErrors, path: ErrorPath) -> None:
    kind = option["type"]
    choices = option.get("choices")
    if choices:
        if kind not in CHOICE_TYPES:
            errors.add((*path, "choices"), "APPLICATION_COMMAND_OPTION_CHOICES_INVALID", "Choices are not allowed")
        if option.get("autocomplete"):
            errors.add(
                (*path, "autocomplete"),
                "APPLICATION_COMMAND_AUTOCOMPLETE_CHOICES_EXCLUSIVE",
                "Autocomplete and choices are mutually exclusive",
            )
        if len(choices) > MAX_CHOICES:
            errors.add((*path, "choices"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CHOICES} or fewer in length.")
        for index, choice in enumerate(choices):
            _check_choice(kind, choice, errors, (*path, "choices", index))
    if kind == STRING:
        for key, low in (("min_length", 0), ("max_length", 1)):
            value = option.get(key)
            if value is not None and (not isinstance(value, int) or not low <= value <= MAX_STRING_LENGTH):
                errors.add(
                    (*path, key),
                    "NUMBER_TYPE_MAX",
                    f"int value should be between {low} and {MAX_STRING_LENGTH}.",
                )
    if kind in (INTEGER, NUMBER):
        low, high = option.get("min_value"), option.get("max_value")
        for key, value in (("min_value", low), ("max_value", high)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                errors.add((*path, key), "NUMBER_TYPE_COERCE", "Value is not a number.")
        if isinstance(low, int | float) and isinstance(high, int | float) and low > high:
            errors.add((*path, "min_value"), "NUMBER_TYPE_MAX", "min_value must not exceed max_value.")


def _check_choice(kind: int, choice: Any, errors: FormErrors, path: ErrorPath) -> None:
    if not isinstance(choice, Mapping):
        errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return
    _check_text(choice.get("name"), errors, (*path, "name"), 1, MAX_CHOICE_NAME)
    value = choice.get("value")
    if kind == STRING:
        _check_text(value, errors, (*path, "value"), 1, MAX_CHOICE_STRING)
    elif kind == INTEGER:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > MAX_SAFE_INTEGER:
            errors.add((*path, "value"), "NUMBER_TYPE_COERCE", "Value is not int.")
    elif kind == NUMBER and (isinstance(value, bool) or not isinstance(value, int | float)):
        errors.add((*path, "value"), "NUMBER_TYPE_COERCE", "Value is not a number.")


class CommandRegistry:
    """Registered commands per scope (``None`` = global, else a guild id), as Discord stores and returns them."""

    def __init__(self, application_id: int, ids: SnowflakeGenerator) -> None:
        self._application_id = application_id
        self._ids = ids
        self._scopes: dict[int | None, list[dict[str, Any]]] = {}
        self._registered = asyncio.Event()
        self._opened: set[tuple[int, str]] = set()  # (guild, command name) a server opened to every member
        self.overwrites: Counter[int | None] = Counter()  # bulk overwrites (syncs) per scope

    @property
    def registered(self) -> asyncio.Event:
        """Set once any command set has been stored."""
        return self._registered

    def list(self, guild_id: int | None) -> list[dict[str, Any]]:
        """The stored commands of a scope (copies)."""
        return copy.deepcopy(self._scopes.get(guild_id, []))

    def overwrite(self, guild_id: int | None, payloads: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Replace a scope's commands (already validated); commands keep their id when name and type match."""
        previous = {(command["type"], command["name"]): command["id"] for command in self._scopes.get(guild_id, [])}
        stored = [
            self._store(guild_id, payload, previous.get((payload.get("type", CHAT_INPUT), payload["name"])))
            for payload in payloads
        ]
        self._scopes[guild_id] = stored
        self.overwrites[guild_id] += 1
        self._registered.set()
        return copy.deepcopy(stored)

    def upsert(self, guild_id: int | None, payload: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
        """Create or replace one command (matched by name and type); returns it and whether it is new."""
        commands = self._scopes.setdefault(guild_id, [])
        kind = payload.get("type", CHAT_INPUT)
        for index, command in enumerate(commands):
            if command["type"] == kind and command["name"] == payload["name"]:
                commands[index] = self._store(guild_id, payload, command["id"])
                self._registered.set()
                return copy.deepcopy(commands[index]), False
        command = self._store(guild_id, payload, None)
        commands.append(command)
        self._registered.set()
        return copy.deepcopy(command), True

    def replace(self, guild_id: int | None, command_id: int, payload: Mapping[str, Any]) -> dict[str, Any] | None:
        """Replace one command's definition, keeping its id; ``None`` if there is no such command."""
        commands = self._scopes.get(guild_id, [])
        for index, command in enumerate(commands):
            if int(command["id"]) == command_id:
                commands[index] = self._store(guild_id, payload, command["id"])
                self._registered.set()
                return copy.deepcopy(commands[index])
        return None

    def get(self, guild_id: int | None, command_id: int) -> dict[str, Any] | None:
        """One stored command by id."""
        for command in self._scopes.get(guild_id, []):
            if int(command["id"]) == command_id:
                return copy.deepcopy(command)
        return None

    def delete(self, guild_id: int | None, command_id: int) -> bool:
        """Remove one command; returns whether it existed."""
        commands = self._scopes.get(guild_id, [])
        for index, command in enumerate(commands):
            if int(command["id"]) == command_id:
                del commands[index]
                return True
        return False

    def open_to_everyone(self, guild_id: int, name: str) -> None:
        """What a server admin does in Server Settings → Integrations: every member may use the command."""
        self._opened.add((guild_id, name))

    def usable_by(self, command: Mapping[str, Any], guild_id: int | None, permissions: int) -> bool:
        """Whether Discord offers the command to a member with `permissions` (its default permissions, unless the
        server opened it to everyone); outside servers every command is offered."""
        required = command.get("default_member_permissions")
        if guild_id is None or required is None or (guild_id, command["name"]) in self._opened:
            return True
        return perms.has(permissions, int(required))

    def find(self, name: str, *, guild_id: int | None, kind: int = CHAT_INPUT) -> dict[str, Any] | None:
        """The command a user would invoke by name in a guild: the guild's own first, then the global one.

        The stored command itself (no copy: invoking happens per interaction), so callers only read it.
        """
        scopes = [guild_id, None] if guild_id is not None else [None]
        for scope in scopes:
            for command in self._scopes.get(scope, []):
                if command["type"] == kind and command["name"] == name:
                    return command
        return None

    def _store(self, guild_id: int | None, payload: Mapping[str, Any], command_id: str | None) -> dict[str, Any]:
        kind = payload.get("type", CHAT_INPUT)
        permissions = payload.get("default_member_permissions")
        stored: dict[str, Any] = {
            "id": command_id or str(self._ids.next()),
            "application_id": str(self._application_id),
            "version": str(self._ids.next()),
            "default_member_permissions": None if permissions is None else str(permissions),
            "type": kind,
            "name": payload["name"],
            "name_localizations": copy.deepcopy(payload.get("name_localizations")),
            "description": payload.get("description") or "",
            "description_localizations": copy.deepcopy(payload.get("description_localizations")),
            "contexts": copy.deepcopy(payload.get("contexts")),
            "integration_types": copy.deepcopy(payload.get("integration_types")) or [0],
            "nsfw": bool(payload.get("nsfw", False)),
        }
        if guild_id is None:
            stored["dm_permission"] = payload.get("dm_permission") is not False
        else:
            stored["guild_id"] = str(guild_id)
        if payload.get("options"):
            stored["options"] = copy.deepcopy(list(payload["options"]))
        return stored
