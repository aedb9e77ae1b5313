"""Discord's message, embed, component, modal and upload limits, reported in Discord's error shapes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .errors import ErrorPath, FormErrors, entity_too_large
from .state import IS_COMPONENTS_V2

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER_TEXT = 2048
MAX_AUTHOR_NAME = 256
MAX_EMBED_TOTAL = 6000
MAX_FILES = 10
MAX_ACTION_ROWS = 5
MAX_ROW_WIDTH = 5
MAX_V2_COMPONENTS = 40
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_SELECT_OPTIONS = 25
MAX_PLACEHOLDER = 150
MAX_MODAL_TITLE = 45
MAX_MODAL_COMPONENTS = 5
MAX_TEXT_INPUT_LABEL = 45
MAX_TEXT_INPUT_VALUE = 4000

ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
SELECT_TYPES = frozenset({3, 5, 6, 7, 8})
LINK_BUTTON = 5
PREMIUM_BUTTON = 6


def _max_length(errors: FormErrors, path: ErrorPath, value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _required_text(errors: FormErrors, path: ErrorPath, value: Any) -> None:
    if not isinstance(value, str) or not value:
        errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")


def check_content(payload: Mapping[str, Any], errors: FormErrors) -> None:
    """``content`` is a string of at most 2000 characters."""
    content = payload.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(("content",), "BASE_TYPE_STRING", "Could not interpret value as string.")
    _max_length(errors, ("content",), content, MAX_CONTENT)


def embed_size(embed: Mapping[str, Any]) -> int:
    """Characters that count towards the 6000-character total of a message's embeds."""
    total = len(str(embed.get("title") or "")) + len(str(embed.get("description") or ""))
    for field in embed.get("fields") or []:
        if isinstance(field, Mapping):
            total += len(str(field.get("name") or "")) + len(str(field.get("value") or ""))
    footer = embed.get("footer")
    if isinstance(footer, Mapping):
        total += len(str(footer.get("text") or ""))
    author = embed.get("author")
    if isinstance(author, Mapping):
        total += len(str(author.get("name") or ""))
    return total


def check_embeds(payload: Mapping[str, Any], errors: FormErrors) -> None:
    """At most 10 embeds, each within Discord's per-field limits, 6000 characters in all."""
    embeds = payload.get("embeds")
    if embeds is None:
        return
    if not isinstance(embeds, list):
        errors.add(("embeds",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    if len(embeds) > MAX_EMBEDS:
        errors.add(("embeds",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBEDS} or fewer in length.")
    for index, embed in enumerate(embeds):
        if not isinstance(embed, Mapping):
            errors.add(("embeds", index), "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        _check_embed(embed, errors, ("embeds", index))
    if sum(embed_size(embed) for embed in embeds if isinstance(embed, Mapping)) > MAX_EMBED_TOTAL:
        errors.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}")


def _check_embed(embed: Mapping[str, Any], errors: FormErrors, path: ErrorPath) -> None:
    _max_length(errors, (*path, "title"), embed.get("title"), MAX_EMBED_TITLE)
    _max_length(errors, (*path, "description"), embed.get("description"), MAX_EMBED_DESCRIPTION)
    fields = embed.get("fields") or []
    if len(fields) > MAX_EMBED_FIELDS:
        errors.add((*path, "fields"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_EMBED_FIELDS} or fewer in length.")
    for index, field in enumerate(fields):
        field_path = (*path, "fields", index)
        if not isinstance(field, Mapping):
            errors.add(field_path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
            continue
        _required_text(errors, (*field_path, "name"), field.get("name"))
        _required_text(errors, (*field_path, "value"), field.get("value"))
        _max_length(errors, (*field_path, "name"), field.get("name"), MAX_FIELD_NAME)
        _max_length(errors, (*field_path, "value"), field.get("value"), MAX_FIELD_VALUE)
    footer = embed.get("footer")
    if isinstance(footer, Mapping):
        _max_length(errors, (*path, "footer", "text"), footer.get("text"), MAX_FOOTER_TEXT)
    author = embed.get("author")
    if isinstance(author, Mapping):
        _max_length(errors, (*path, "author", "name"), author.get("name"), MAX_AUTHOR_NAME)


def iter_components(
    components: Iterable[Any], path: ErrorPath = ("components",)
) -> Iterator[tuple[ErrorPath, Mapping[str, Any]]]:
    """Every component in a tree (action rows, containers, sections, labels), depth first, with its error path."""
    for index, component in enumerate(components):
        if not isinstance(component, Mapping):
            continue
        here = (*path, index)
        yield here, component
        children = component.get("components")
        if isinstance(children, list):
            yield from iter_components(children, (*here, "components"))
        for key in ("component", "accessory"):
            child = component.get(key)
            if isinstance(child, Mapping):
                yield (*here, key), child
                nested = child.get("components")
                if isinstance(nested, list):
                    yield from iter_components(nested, (*here, key, "components"))


def check_components(payload: Mapping[str, Any], errors: FormErrors) -> None:
    """Action-row layout (or the components-v2 budget), custom ids, buttons and selects."""
    components = payload.get("components")
    if components is None:
        return
    if not isinstance(components, list):
        errors.add(("components",), "BASE_TYPE_ARRAY", "Must be an array.")
        return
    flags = payload.get("flags")
    v2 = isinstance(flags, int) and bool(flags & IS_COMPONENTS_V2)
    if v2:
        total = sum(1 for _ in iter_components(components))
        if total > MAX_V2_COMPONENTS:
            errors.add(
                ("components",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_V2_COMPONENTS} or fewer components in total."
            )
    else:
        _check_action_rows(components, errors)
    _check_items(iter_components(components), errors)


def _check_action_rows(rows: Sequence[Any], errors: FormErrors) -> None:
    if len(rows) > MAX_ACTION_ROWS:
        errors.add(("components",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_ACTION_ROWS} or fewer in length.")
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping) or row.get("type") != ACTION_ROW:
            errors.add(
                ("components", index, "type"),
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,) without the components v2 flag.',
            )
            continue
        children = row.get("components") or []
        width = sum(
            MAX_ROW_WIDTH if isinstance(child, Mapping) and child.get("type") in SELECT_TYPES else 1
            for child in children
        )
        if not children:
            errors.add(("components", index, "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
        elif width > MAX_ROW_WIDTH:
            errors.add(
                ("components", index, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )


def _check_items(items: Iterable[tuple[ErrorPath, Mapping[str, Any]]], errors: FormErrors) -> None:
    seen: set[str] = set()
    for path, component in items:
        kind = component.get("type")
        custom_id = component.get("custom_id")
        if custom_id is not None:
            _max_length(errors, (*path, "custom_id"), custom_id, MAX_CUSTOM_ID)
            if custom_id in seen:
                errors.add(
                    (*path, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                )
            seen.add(custom_id)
        if kind == BUTTON:
            _check_button(component, errors, path)
        elif kind in SELECT_TYPES:
            _check_select(component, errors, path)


def _check_button(button: Mapping[str, Any], errors: FormErrors, path: ErrorPath) -> None:
    _max_length(errors, (*path, "label"), button.get("label"), MAX_BUTTON_LABEL)
    style = button.get("style")
    if style == LINK_BUTTON:
        if not button.get("url"):
            errors.add((*path, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
        if button.get("custom_id") is not None:
            errors.add(
                (*path, "custom_id"), "BUTTON_COMPONENT_INVALID_CUSTOM_ID", "A custom id cannot be used with a link"
            )
    elif style != PREMIUM_BUTTON and not button.get("custom_id"):
        errors.add((*path, "custom_id"), "BUTTON_COMPONENT_CUSTOM_ID_REQUIRED", "A custom id required")


def _check_select(select: Mapping[str, Any], errors: FormErrors, path: ErrorPath) -> None:
    if not select.get("custom_id"):
        errors.add((*path, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
    _max_length(errors, (*path, "placeholder"), select.get("placeholder"), MAX_PLACEHOLDER)
    if select.get("type") == STRING_SELECT:
        options = select.get("options") or []
        if not options:
            errors.add((*path, "options"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
        if len(options) > MAX_SELECT_OPTIONS:
            errors.add((*path, "options"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_SELECT_OPTIONS} or fewer in length.")


def check_message(payload: Mapping[str, Any]) -> FormErrors:
    """Content, embed and component limits of a message payload."""
    errors = FormErrors()
    check_content(payload, errors)
    check_embeds(payload, errors)
    check_components(payload, errors)
    return errors


def check_attachment_count(count: int, errors: FormErrors) -> None:
    """At most 10 attachments per message."""
    if count > MAX_FILES:
        errors.add(("attachments",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_FILES} or fewer in length.")


def check_file_sizes(sizes: Iterable[int], limit: int) -> None:
    """Refuse with 413 / 40005 if any file exceeds the per-file upload limit."""
    if any(size > limit for size in sizes):
        raise entity_too_large()


def check_modal(data: Mapping[str, Any]) -> FormErrors:
    """A modal callback: custom id, title, 1-5 components, text input labels and lengths."""
    errors = FormErrors()
    path: ErrorPath = ("data",)
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        errors.add((*path, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required")
    _max_length(errors, (*path, "custom_id"), custom_id, MAX_CUSTOM_ID)
    title = data.get("title")
    _required_text(errors, (*path, "title"), title)
    _max_length(errors, (*path, "title"), title, MAX_MODAL_TITLE)
    components = data.get("components")
    if not isinstance(components, list) or not components:
        errors.add((*path, "components"), "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
        return errors
    if len(components) > MAX_MODAL_COMPONENTS:
        errors.add((*path, "components"), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_MODAL_COMPONENTS} or fewer in length.")
    items = list(iter_components(components, (*path, "components")))
    _check_items(items, errors)
    for item_path, component in items:
        if component.get("type") == TEXT_INPUT:
            _max_length(errors, (*item_path, "label"), component.get("label"), MAX_TEXT_INPUT_LABEL)
            _max_length(errors, (*item_path, "value"), component.get("value"), MAX_TEXT_INPUT_VALUE)
            max_length = component.get("max_length")
            if isinstance(max_length, int) and not 1 <= max_length <= MAX_TEXT_INPUT_VALUE:
                errors.add(
                    (*item_path, "max_length"),
                    "NUMBER_TYPE_MAX",
                    f"int value should be less than or equal to {MAX_TEXT_INPUT_VALUE}.",
                )
    return errors
