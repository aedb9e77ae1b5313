"""Turning message create/edit request bodies into message records: limits, attachments, embeds, components."""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import limits
from .cdn import AttachmentStore
from .errors import FormErrors, empty_message
from .snowflakes import SnowflakeGenerator
from .state import (
    EPHEMERAL,
    IS_COMPONENTS_V2,
    LOADING,
    SUPPRESS_EMBEDS,
    SUPPRESS_NOTIFICATIONS,
    ChannelRecord,
    FileRecord,
    MessageRecord,
    utcnow,
)
from .uploads import RequestBody, UploadedFile

_SETTABLE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
_MENTION = re.compile(r"<@!?(\d+)>")
_ATTACHMENT_SCHEME = "attachment://"
_BODY_FIELDS = ("content", "embeds", "components", "poll", "sticker_ids")


def assign_component_ids(components: Sequence[Any]) -> list[Any]:
    """Copy a component tree, numbering components without an ``id`` as Discord does."""
    tree = copy.deepcopy(list(components))
    used = {component.get("id") for _, component in limits.iter_components(tree)}
    next_id = 1
    for _, component in limits.iter_components(tree):
        if component.get("id") is None and isinstance(component, dict):
            while next_id in used:
                next_id += 1
            component["id"] = next_id
            used.add(next_id)
    return tree


def _has_body(record: MessageRecord) -> bool:
    return bool(record.content or record.embeds or record.attachments or record.components or record.poll)


class MessageComposer:
    """Builds new messages and new message states from request payloads, enforcing Discord's limits."""

    def __init__(self, cdn: AttachmentStore, ids: SnowflakeGenerator) -> None:
        self._cdn = cdn
        self._ids = ids

    def compose_new(
        self,
        body: RequestBody,
        *,
        channel: ChannelRecord,
        author_id: int,
        size_limit: int,
        message_type: int = 0,
        allow_ephemeral: bool = False,
        **extra: Any,
    ) -> MessageRecord:
        """A new message; ``extra`` sets further ``MessageRecord`` fields (interaction data, webhook id...)."""
        payload = body.payload
        errors = limits.check_message(payload)
        uploads = self._referenced_uploads(body, errors)
        limits.check_attachment_count(len(uploads), errors)
        errors.raise_if_any()
        limits.check_file_sizes((len(upload.data) for upload, _ in uploads), size_limit)
        if not uploads and not any(payload.get(key) for key in _BODY_FIELDS):
            raise empty_message()
        flags = self._flags(payload, allow_ephemeral=allow_ephemeral)
        files, attachments = self._store_uploads(uploads, channel, ephemeral=bool(flags & EPHEMERAL))
        content = payload.get("content") or ""
        return MessageRecord(
            id=self._ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=author_id,
            content=content,
            embeds=self._embeds(payload.get("embeds") or [], attachments),
            files=files,
            attachments=attachments,
            components=assign_component_ids(payload.get("components") or []),
            flags=flags,
            type=message_type,
            tts=bool(payload.get("tts", False)),
            nonce=None if payload.get("nonce") is None else str(payload["nonce"]),
            mention_ids=[int(match) for match in _MENTION.findall(content)],
            poll=copy.deepcopy(payload.get("poll")),
            **extra,
        )

    def compose_placeholder(
        self, *, channel: ChannelRecord, author_id: int, ephemeral: bool, **extra: Any
    ) -> MessageRecord:
        """The "thinking..." message of a deferred response."""
        return MessageRecord(
            id=self._ids.next(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author_id=author_id,
            flags=LOADING | (EPHEMERAL if ephemeral else 0),
            **extra,
        )

    def compose_edit(
        self, previous: MessageRecord, body: RequestBody, *, channel: ChannelRecord, size_limit: int
    ) -> MessageRecord:
        """The next state of ``previous``: fields absent from the payload are kept; ``attachments`` lists survivors."""
        payload = body.payload
        errors = limits.check_message(payload)
        kept, uploads = self._edited_attachments(previous, body, errors)
        limits.check_attachment_count(len(kept) + len(uploads), errors)
        errors.raise_if_any()
        limits.check_file_sizes((len(upload.data) for upload, _ in uploads), size_limit)
        new_files, new_attachments = self._store_uploads(uploads, channel, ephemeral=previous.ephemeral)
        kept_files = [file for file in previous.files if file.attachment_id in {int(a["id"]) for a in kept}]
        attachments = [*kept, *new_attachments]
        changes: dict[str, Any] = {
            "files": kept_files + new_files,
            "attachments": attachments,
            "flags": self._edited_flags(previous, payload),
            "edited_at": None if previous.loading else utcnow(),
        }
        if "content" in payload:
            changes["content"] = payload["content"] or ""
            changes["mention_ids"] = [int(match) for match in _MENTION.findall(changes["content"])]
        embeds = (payload["embeds"] or []) if "embeds" in payload else previous.embeds
        changes["embeds"] = self._embeds(embeds, attachments)
        if "components" in payload:
            changes["components"] = assign_component_ids(payload["components"] or [])
        record = dataclasses.replace(previous, **changes)
        if not _has_body(record):
            raise empty_message()
        return record

    # -- attachments -----------------------------------------------------------------------------

    def _referenced_uploads(
        self, body: RequestBody, errors: FormErrors
    ) -> list[tuple[UploadedFile, Mapping[str, Any]]]:
        """Uploaded files in the order the payload's ``attachments`` lists them (unlisted ones appended)."""
        listed = body.payload.get("attachments")
        chosen: list[tuple[UploadedFile, Mapping[str, Any]]] = []
        used: set[int] = set()
        if isinstance(listed, list):
            for index, item in enumerate(listed):
                upload = self._upload_for(body, item)
                if upload is None:
                    errors.add(("attachments", index, "id"), "ATTACHMENT_NOT_FOUND", "Unknown attachment id")
                    continue
                chosen.append((upload, item))
                used.add(upload.index)
        chosen += [(upload, {}) for index, upload in sorted(body.files.items()) if index not in used]
        return chosen

    def _edited_attachments(
        self, previous: MessageRecord, body: RequestBody, errors: FormErrors
    ) -> tuple[list[dict[str, Any]], list[tuple[UploadedFile, Mapping[str, Any]]]]:
        """Attachments kept from ``previous`` and new uploads, per the edit payload."""
        listed = body.payload.get("attachments")
        if listed is None and "attachments" not in body.payload:
            uploads = [(upload, {}) for _, upload in sorted(body.files.items())]
            return copy.deepcopy(previous.attachments), uploads
        existing = {int(attachment["id"]): attachment for attachment in previous.attachments}
        kept: list[dict[str, Any]] = []
        uploads: list[tuple[UploadedFile, Mapping[str, Any]]] = []
        used: set[int] = set()
        for index, item in enumerate(listed or []):
            upload = self._upload_for(body, item)
            if upload is not None:
                uploads.append((upload, item))
                used.add(upload.index)
                continue
            attachment_id = _as_int(item.get("id") if isinstance(item, Mapping) else None)
            if attachment_id in existing:
                kept.append(copy.deepcopy(existing[attachment_id]))
            else:
                errors.add(("attachments", index, "id"), "ATTACHMENT_NOT_FOUND", "Unknown attachment id")
        uploads += [(upload, {}) for index, upload in sorted(body.files.items()) if index not in used]
        return kept, uploads

    @staticmethod
    def _upload_for(body: RequestBody, item: Any) -> UploadedFile | None:
        if not isinstance(item, Mapping):
            return None
        index = _as_int(item.get("id"))
        return body.files.get(index) if index is not None else None

    def _store_uploads(
        self, uploads: Sequence[tuple[UploadedFile, Mapping[str, Any]]], channel: ChannelRecord, *, ephemeral: bool
    ) -> tuple[list[FileRecord], list[dict[str, Any]]]:
        scope = f"ephemeral-attachments/{channel.id}" if ephemeral else f"attachments/{channel.id}"
        files: list[FileRecord] = []
        attachments: list[dict[str, Any]] = []
        for upload, item in uploads:
            filename = str(item.get("filename") or upload.filename)
            description = item.get("description")
            stored = self._cdn.store(upload.data, filename, scope=scope)
            attachments.append(self._cdn.payload(stored, description=description, ephemeral=ephemeral))
            files.append(
                FileRecord(
                    filename=filename,
                    data=upload.data,
                    content_type=stored.content_type,
                    description=description,
                    spoiler=filename.startswith("SPOILER_"),
                    attachment_id=stored.id,
                )
            )
        return files, attachments

    # -- embeds and flags ------------------------------------------------------------------------

    @staticmethod
    def _embeds(embeds: Sequence[Any], attachments: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Embeds as served: ``type`` defaults to rich; ``attachment://name`` URLs point at the uploaded file."""
        by_name = {attachment["filename"]: attachment for attachment in attachments}
        served: list[dict[str, Any]] = []
        for embed in embeds:
            item = copy.deepcopy(dict(embed))
            item.setdefault("type", "rich")
            for key in ("image", "thumbnail"):
                media = item.get(key)
                if isinstance(media, dict):
                    attachment = _attachment_for(media.get("url"), by_name)
                    if attachment is not None:
                        media.update(url=attachment["url"], proxy_url=attachment["proxy_url"], flags=0)
                        for dimension in ("width", "height", "content_type"):
                            if dimension in attachment:
                                media[dimension] = attachment[dimension]
            for key in ("author", "footer"):
                part = item.get(key)
                if isinstance(part, dict):
                    attachment = _attachment_for(part.get("icon_url"), by_name)
                    if attachment is not None:
                        part.update(icon_url=attachment["url"], proxy_icon_url=attachment["proxy_url"])
            served.append(item)
        return served

    @staticmethod
    def _flags(payload: Mapping[str, Any], *, allow_ephemeral: bool) -> int:
        requested = _as_int(payload.get("flags")) or 0
        settable = _SETTABLE_FLAGS | (EPHEMERAL if allow_ephemeral else 0)
        return requested & settable

    @staticmethod
    def _edited_flags(previous: MessageRecord, payload: Mapping[str, Any]) -> int:
        flags = previous.flags & ~LOADING
        if "flags" in payload:
            requested = _as_int(payload.get("flags")) or 0
            flags = (flags & ~_SETTABLE_FLAGS) | (requested & _SETTABLE_FLAGS) | (previous.flags & IS_COMPONENTS_V2)
        return flags


def _attachment_for(url: Any, by_name: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Any] | None:
    if isinstance(url, str) and url.startswith(_ATTACHMENT_SCHEME):
        return by_name.get(url[len(_ATTACHMENT_SCHEME) :])
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
