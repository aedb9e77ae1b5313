"""Discord's REST error shapes: ``{"message", "code"}`` plus the nested ``errors`` tree of "Invalid Form Body"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

# Discord JSON error codes used by the loopback server.
GENERAL_ERROR = 0
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_USER = 10013
UNKNOWN_WEBHOOK = 10015
UNKNOWN_APPLICATION_COMMAND = 10063
UNKNOWN_INTERACTION = 10062
ENTITY_TOO_LARGE = 40005
INTERACTION_ALREADY_ACKNOWLEDGED = 40060
CANNOT_EDIT_OTHER_USERS_MESSAGE = 50005
CANNOT_SEND_EMPTY_MESSAGE = 50006
CANNOT_SEND_TO_USER = 50007
MISSING_PERMISSIONS = 50013
INVALID_WEBHOOK_TOKEN = 50027
INVALID_FORM_BODY = 50035
INVALID_JSON = 50109

ErrorPath = tuple[str | int, ...]


@dataclass(eq=False)
class DiscordHTTPError(Exception):
    """A refusal the REST layer turns into Discord's JSON error answer."""

    status: int
    code: int
    message: str
    errors: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(f"{self.status} {self.message} (code {self.code})")

    def body(self) -> dict[str, Any]:
        """The JSON body Discord would send for this error."""
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


class FormErrors:
    """Collects field errors and renders them as Discord's nested ``{"a": {"0": {"_errors": [...]}}}`` tree."""

    def __init__(self) -> None:
        self._items: list[tuple[ErrorPath, str, str]] = []

    def add(self, path: ErrorPath, code: str, message: str) -> None:
        """Record one error at ``path`` (keys and list indices, outermost first)."""
        self._items.append((path, code, message))

    def extend(self, other: FormErrors, prefix: ErrorPath = ()) -> None:
        """Copy ``other``'s errors below ``prefix``."""
        for path, code, message in other:
            self.add(prefix + path, code, message)

    def __iter__(self) -> Iterator[tuple[ErrorPath, str, str]]:
        return iter(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def to_dict(self) -> dict[str, Any]:
        """The nested ``errors`` object."""
        tree: dict[str, Any] = {}
        for path, code, message in self._items:
            node = tree
            for key in path:
                node = node.setdefault(str(key), {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return tree

    def raise_if_any(self) -> None:
        """Raise "400 Invalid Form Body" (50035) if any error was recorded."""
        if self._items:
            raise invalid_form_body(self)


def invalid_form_body(errors: FormErrors) -> DiscordHTTPError:
    """400 / 50035 "Invalid Form Body" carrying ``errors``."""
    return DiscordHTTPError(400, INVALID_FORM_BODY, "Invalid Form Body", errors.to_dict())


def form_error(path: ErrorPath, code: str, message: str) -> DiscordHTTPError:
    """Shortcut for a single-field "Invalid Form Body"."""
    errors = FormErrors()
    errors.add(path, code, message)
    return invalid_form_body(errors)


def unauthorized() -> DiscordHTTPError:
    """401 for a missing or wrong bot token."""
    return DiscordHTTPError(401, GENERAL_ERROR, "401: Unauthorized")


def not_found() -> DiscordHTTPError:
    """404 for a route that does not exist."""
    return DiscordHTTPError(404, GENERAL_ERROR, "404: Not Found")


def method_not_allowed() -> DiscordHTTPError:
    """405 for a known path with an unsupported method."""
    return DiscordHTTPError(405, GENERAL_ERROR, "405: Method Not Allowed")


def unknown(code: int, what: str) -> DiscordHTTPError:
    """404 "Unknown <what>" with the matching Discord code."""
    return DiscordHTTPError(404, code, f"Unknown {what}")


def unknown_interaction() -> DiscordHTTPError:
    """404 / 10062, also what Discord answers to a callback after the 3 s deadline."""
    return DiscordHTTPError(404, UNKNOWN_INTERACTION, "Unknown interaction")


def already_acknowledged() -> DiscordHTTPError:
    """400 / 40060 for a second interaction callback."""
    return DiscordHTTPError(400, INTERACTION_ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")


def invalid_webhook_token() -> DiscordHTTPError:
    """401 / 50027 for an unknown or expired interaction token."""
    return DiscordHTTPError(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")


def entity_too_large() -> DiscordHTTPError:
    """413 / 40005 for an oversize file or request."""
    return DiscordHTTPError(413, ENTITY_TOO_LARGE, "Request entity too large")


def missing_permissions() -> DiscordHTTPError:
    """403 / 50013."""
    return DiscordHTTPError(403, MISSING_PERMISSIONS, "Missing Permissions")


def empty_message() -> DiscordHTTPError:
    """400 / 50006."""
    return DiscordHTTPError(400, CANNOT_SEND_EMPTY_MESSAGE, "Cannot send an empty message")


def invalid_json() -> DiscordHTTPError:
    """400 / 50109."""
    return DiscordHTTPError(400, INVALID_JSON, "The request body contains invalid JSON.")
