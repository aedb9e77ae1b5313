"""REST routes of interactions: the callback, and the interaction webhook (original response and follow-ups)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from aiohttp import web

from . import limits, payloads
from .context import ARRIVAL_KEY, INTERACTION_KEY, ServerContext
from .errors import (
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    already_acknowledged,
    form_error,
    invalid_webhook_token,
    unknown,
    unknown_interaction,
)
from .interactions import (
    ALLOWED_CALLBACKS,
    APPLICATION_COMMAND,
    APPLICATION_COMMAND_AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
    DEFERRED_UPDATE_MESSAGE,
    LAUNCH_ACTIVITY,
    MESSAGE_COMPONENT,
    MODAL,
    UPDATE_MESSAGE,
    InteractionHandle,
)
from .messages import assign_component_ids
from .responses import json_response, no_content
from .state import EPHEMERAL, MessageRecord
from .uploads import RequestBody, read_body

# Message types of interaction responses.
DEFAULT_MESSAGE = 0
CHAT_INPUT_COMMAND_MESSAGE = 20
CONTEXT_MENU_COMMAND_MESSAGE = 23

_TRUE = frozenset({"1", "true", "True"})


class InteractionRoutes:
    """``/interactions/{id}/{token}/callback`` and ``/webhooks/{application}/{token}[/messages/...]``."""

    def __init__(self, ctx: ServerContext) -> None:
        self._ctx = ctx

    def register(self, router: web.UrlDispatcher, prefix: str) -> None:
        """Add the routes below ``prefix``."""
        router.add_post(f"{prefix}/interactions/{{interaction_id:\\d+}}/{{token}}/callback", self.callback)
        webhook = f"{prefix}/webhooks/{{app_id:\\d+}}/{{token}}"
        router.add_post(webhook, self.followup)
        for message in ("/messages/@original", "/messages/{message_id:\\d+}"):
            router.add_get(webhook + message, self.get_message)
            router.add_patch(webhook + message, self.edit_message)
            router.add_delete(webhook + message, self.delete_message)

    # -- callback --------------------------------------------------------------------------------

    async def callback(self, request: web.Request) -> web.Response:
        """Answer an interaction: the first callback within ``ack_deadline`` of dispatch is accepted."""
        arrived = request[ARRIVAL_KEY]
        handle = self._ctx.interactions.by_id(int(request.match_info["interaction_id"]))
        if handle is None or handle.token != request.match_info["token"]:
            raise unknown_interaction()
        request[INTERACTION_KEY] = handle
        handle.note_callback_arrival(arrived)
        body = await read_body(request)
        if handle.acked:
            raise already_acknowledged()
        if handle.dispatched_at is None or arrived - handle.dispatched_at > self._ctx.config.ack_deadline:
            raise unknown_interaction()
        callback_type = body.payload.get("type")
        if callback_type not in ALLOWED_CALLBACKS.get(handle.type, frozenset()):
            raise form_error(
                ("type",),
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Interaction response type {callback_type!r} is not valid for interaction type {handle.type}",
            )
        data = body.payload.get("data") or {}
        message_body = RequestBody(payload=data if isinstance(data, dict) else {}, files=body.files, size=body.size)
        message = self._answer(handle, callback_type, message_body)
        if request.query.get("with_response") not in _TRUE:
            return no_content()
        return json_response(self._callback_payload(handle, callback_type, message))

    def _answer(self, handle: InteractionHandle, callback_type: int, body: RequestBody) -> MessageRecord | None:
        world, composer, events = self._ctx.world, self._ctx.composer, self._ctx.events
        channel = world.channel(handle.channel_id)
        if callback_type == CHANNEL_MESSAGE_WITH_SOURCE:
            record = composer.compose_new(
                body,
                channel=channel,
                author_id=world.bot.id,
                size_limit=handle.attachment_size_limit,
                message_type=self._message_type(handle),
                allow_ephemeral=True,
                **self._authorship(handle),
            )
            world.store_message(record)
            handle.accept_callback(callback_type, ephemeral=record.ephemeral)
            handle.push_original(record)
            events.message_created(record)
            return record
        if callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE:
            flags = body.payload.get("flags")
            ephemeral = isinstance(flags, int) and bool(flags & EPHEMERAL)
            record = composer.compose_placeholder(
                channel=channel,
                author_id=world.bot.id,
                ephemeral=ephemeral,
                type=self._message_type(handle),
                **self._authorship(handle),
            )
            world.store_message(record)
            handle.accept_callback(callback_type, ephemeral=ephemeral)
            handle.push_original(record)
            events.message_created(record)
            return record
        if callback_type in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            return self._update_source(handle, callback_type, body)
        if callback_type == MODAL:
            limits.check_modal(body.payload).raise_if_any()
            handle.modal = {
                "custom_id": body.payload["custom_id"],
                "title": body.payload["title"],
                "components": assign_component_ids(body.payload["components"]),
            }
        elif callback_type == APPLICATION_COMMAND_AUTOCOMPLETE_RESULT:
            choices = body.payload.get("choices") or []
            if len(choices) > limits.MAX_SELECT_OPTIONS:
                raise form_error(("data", "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
            handle.autocomplete_choices = list(choices)
        handle.accept_callback(callback_type)
        return None

    def _update_source(self, handle: InteractionHandle, callback_type: int, body: RequestBody) -> MessageRecord | None:
        world = self._ctx.world
        source = world.message(handle.source_message_id) if handle.source_message_id is not None else None
        if source is None:
            if callback_type == UPDATE_MESSAGE:
                raise form_error(("type",), "INTERACTION_RESPONSE_TYPE_INVALID", "This interaction has no message")
            handle.accept_callback(callback_type)
            return None
        if callback_type == DEFERRED_UPDATE_MESSAGE:
            handle.accept_callback(callback_type, ephemeral=source.ephemeral)
            handle.original_message_id = source.id
            return None
        record = self._ctx.composer.compose_edit(
            source, body, channel=world.channel(source.channel_id), size_limit=handle.attachment_size_limit
        )
        world.store_message(record)
        handle.accept_callback(callback_type, ephemeral=record.ephemeral)
        handle.push_original(record)
        self._ctx.events.message_updated(record)
        return record

    def _callback_payload(
        self, handle: InteractionHandle, callback_type: int, message: MessageRecord | None
    ) -> dict[str, Any]:
        message_id = message.id if message is not None else handle.original_message_id
        payload: dict[str, Any] = {
            "interaction": {
                "id": str(handle.id),
                "type": handle.type,
                "activity_instance_id": None,
                "response_message_id": None if message_id is None else str(message_id),
                "response_message_loading": callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
                "response_message_ephemeral": handle.ephemeral,
            }
        }
        if message is not None:
            payload["resource"] = {"type": callback_type, "message": payloads.message(self._ctx.world, message)}
        elif callback_type == LAUNCH_ACTIVITY:
            activity_id = str(self._ctx.ids.next())
            payload["interaction"]["activity_instance_id"] = activity_id
            payload["resource"] = {"type": callback_type, "activity_instance": {"id": activity_id}}
        return payload

    def _message_type(self, handle: InteractionHandle) -> int:
        if handle.type != APPLICATION_COMMAND:
            return DEFAULT_MESSAGE
        command_type = handle.payload["data"].get("type", 1)
        return CHAT_INPUT_COMMAND_MESSAGE if command_type == 1 else CONTEXT_MENU_COMMAND_MESSAGE

    def _authorship(self, handle: InteractionHandle, *, original_id: int | None = None) -> dict[str, Any]:
        """Fields every message created through an interaction carries."""
        world, app_id = self._ctx.world, self._ctx.config.application_id
        data = handle.payload["data"]
        metadata: dict[str, Any] = {
            "id": str(handle.id),
            "type": handle.type,
            "user": payloads.user(world.user(handle.user_id)),
            "authorizing_integration_owners": handle.payload["authorizing_integration_owners"],
        }
        if handle.type == APPLICATION_COMMAND:
            metadata.update(name=data["name"], command_type=data.get("type", 1))
            if data.get("type") == 3:
                metadata["target_message_id"] = data["target_id"]
            elif data.get("type") == 2:
                metadata["target_user"] = data["resolved"]["users"][data["target_id"]]
        elif handle.type == MESSAGE_COMPONENT and handle.source_message_id is not None:
            metadata["interacted_message_id"] = str(handle.source_message_id)
        if original_id is not None:
            metadata["original_response_message_id"] = str(original_id)
        return {
            "webhook_id": app_id,
            "application_id": app_id,
            "interaction_id": handle.id,
            "interaction_metadata": metadata,
        }

    # -- interaction webhook ---------------------------------------------------------------------

    def _webhook_handle(self, request: web.Request) -> InteractionHandle:
        if int(request.match_info["app_id"]) != self._ctx.config.application_id:
            raise unknown(UNKNOWN_WEBHOOK, "Webhook")
        handle = self._ctx.interactions.by_token(request.match_info["token"])
        if handle is None:
            raise invalid_webhook_token()
        request[INTERACTION_KEY] = handle
        age = asyncio.get_running_loop().time() - (handle.dispatched_at or 0.0)
        if handle.dispatched_at is None or age > self._ctx.config.token_lifetime:
            raise invalid_webhook_token()
        return handle

    def _target(self, request: web.Request, handle: InteractionHandle) -> MessageRecord:
        raw_id = request.match_info.get("message_id")
        message_id = handle.original_message_id if raw_id is None else int(raw_id)
        if message_id is None or not handle.owns_message(message_id):
            raise unknown(UNKNOWN_MESSAGE, "Message")
        record = self._ctx.world.message(message_id)
        if record.deleted:
            raise unknown(UNKNOWN_MESSAGE, "Message")
        return record

    def _push(self, handle: InteractionHandle, record: MessageRecord) -> None:
        if record.id == handle.original_message_id:
            handle.push_original(record)
        if any(existing.id == record.id for existing in handle.followups):
            handle.push_followup(record)

    async def get_message(self, request: web.Request) -> web.Response:
        """GET .../messages/@original or .../messages/{id}."""
        handle = self._webhook_handle(request)
        return json_response(payloads.message(self._ctx.world, self._target(request, handle)))

    async def edit_message(self, request: web.Request) -> web.Response:
        """PATCH .../messages/@original or .../messages/{id} (JSON or multipart)."""
        handle = self._webhook_handle(request)
        previous = self._target(request, handle)
        body = await read_body(request)
        world = self._ctx.world
        record = self._ctx.composer.compose_edit(
            previous, body, channel=world.channel(previous.channel_id), size_limit=handle.attachment_size_limit
        )
        world.store_message(record)
        self._push(handle, record)
        self._ctx.events.message_updated(record)
        return json_response(payloads.message(world, record))

    async def delete_message(self, request: web.Request) -> web.Response:
        """DELETE .../messages/@original or .../messages/{id}."""
        handle = self._webhook_handle(request)
        record = dataclasses.replace(self._target(request, handle), deleted=True)
        self._ctx.world.store_message(record)
        self._push(handle, record)
        self._ctx.events.message_deleted(record)
        return no_content()

    async def followup(self, request: web.Request) -> web.Response:
        """POST /webhooks/{app}/{token}: a follow-up; the first one after a "thinking" defer replaces it."""
        handle = self._webhook_handle(request)
        body = await read_body(request)
        if not handle.acked:
            raise unknown(UNKNOWN_WEBHOOK, "Webhook")
        world, composer = self._ctx.world, self._ctx.composer
        channel = world.channel(handle.channel_id)
        original = world.message(handle.original_message_id) if handle.original_message_id is not None else None
        if (
            handle.callback_type == DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
            and original is not None
            and original.loading
            and not original.deleted
            and not handle.followups
        ):
            record = composer.compose_edit(original, body, channel=channel, size_limit=handle.attachment_size_limit)
            world.store_message(record)
            handle.push_original(record)
            handle.push_followup(record)
            self._ctx.events.message_updated(record)
        else:
            record = composer.compose_new(
                body,
                channel=channel,
                author_id=world.bot.id,
                size_limit=handle.attachment_size_limit,
                allow_ephemeral=True,
                **self._authorship(handle, original_id=handle.original_message_id),
            )
            world.store_message(record)
            handle.push_followup(record)
            self._ctx.events.message_created(record)
        if request.query.get("wait") not in _TRUE:
            return no_content()
        return json_response(payloads.message(world, record))
