"""Building INTERACTION_CREATE payloads for what a user does: slash commands, context menus, clicks, modals."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from . import commands as cmd
from . import limits, payloads
from .cdn import AttachmentStore
from .config import ServerConfig
from .interactions import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    InteractionHandle,
)
from .snowflakes import SnowflakeGenerator
from .state import (
    DEFAULT_ATTACHMENT_SIZE_LIMIT,
    ChannelRecord,
    FileRecord,
    GuildRecord,
    MessageRecord,
    RoleRecord,
    UserRecord,
    id_of,
)
from .world import World

AttachmentInput = Mapping[str, Any] | bytes | tuple[str, bytes] | FileRecord
"""An attachment option value: a payload from ``add_attachment``, raw bytes, ``(filename, bytes)`` or a FileRecord."""

UserRef = UserRecord | int
GuildRef = GuildRecord | int | None
ChannelRef = ChannelRecord | int | None

_MISSING: Any = object()
_TEXT_INPUT = 4
_LABEL = 18
_TEXT_DISPLAY = 10
_FILE_UPLOAD = 19
_RADIO_GROUP = 21
_CHECKBOX_GROUP = 22
_CHECKBOX = 23
_ENTITY_SELECTS = frozenset({5, 6, 7, 8})


@dataclass(slots=True)
class _Place:
    user: UserRecord
    guild: GuildRecord | None
    channel: ChannelRecord


class InteractionFactory:
    """Creates ``InteractionHandle``s with Discord-shaped payloads (not yet dispatched)."""

    def __init__(
        self,
        config: ServerConfig,
        world: World,
        registry: cmd.CommandRegistry,
        cdn: AttachmentStore,
        ids: SnowflakeGenerator,
    ) -> None:
        self._config = config
        self._world = world
        self._commands = registry
        self._cdn = cdn
        self._ids = ids

    # -- entry points ----------------------------------------------------------------------------

    def slash(
        self,
        name: str,
        *,
        user: UserRef,
        guild: GuildRef,
        channel: ChannelRef,
        locale: str,
        options: Mapping[str, Any],
        attachments: Mapping[str, AttachmentInput],
    ) -> InteractionHandle:
        """A chat-input command; ``name`` may be ``"group sub"`` or ``"command sub"`` for nested commands."""
        place = self._place(user, guild, channel)
        parts = name.split()
        if not parts:
            raise ValueError("empty command name")
        command = self._find_command(parts[0], place, cmd.CHAT_INPUT)
        resolved: dict[str, dict[str, Any]] = {}
        values = {**options, **attachments}
        data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": cmd.CHAT_INPUT}
        built = self._nested_options(command, parts, values, resolved, place)
        if built:
            data["options"] = built
        if resolved:
            data["resolved"] = resolved
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        return self._handle(APPLICATION_COMMAND, data, place, locale=locale)

    def autocomplete(
        self,
        name: str,
        *,
        user: UserRef,
        guild: GuildRef,
        channel: ChannelRef,
        locale: str,
        options: Mapping[str, Any],
        focused: str,
    ) -> InteractionHandle:
        """What Discord sends while a member types into an autocomplete option of a top-level command: the string
        options typed so far (required ones may still be missing), ``focused`` marked, its text partial."""
        place = self._place(user, guild, channel)
        command = self._find_command(name, place, cmd.CHAT_INPUT)
        schema = {option["name"]: option for option in command.get("options") or []}
        if not schema.get(focused, {}).get("autocomplete"):
            raise ValueError(f"/{name}: option {focused!r} has no autocomplete")
        unknown = sorted(set(options) - set(schema))
        if unknown:
            raise ValueError(f"/{name} has no option(s) {unknown}")
        built = [
            {"name": option, "type": schema[option]["type"], "value": value}
            | ({"focused": True} if option == focused else {})
            for option, value in options.items()
        ]
        data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": cmd.CHAT_INPUT, "options": built}
        return self._handle(AUTOCOMPLETE, data, place, locale=locale)

    def context_menu(
        self,
        name: str,
        *,
        message: MessageRecord | None,
        target_user: UserRef | None,
        user: UserRef,
        guild: GuildRef,
        channel: ChannelRef,
        locale: str,
    ) -> InteractionHandle:
        """A message command (``message``) or a user command (``target_user``)."""
        if (message is None) == (target_user is None):
            raise ValueError("give exactly one of message= or target_user=")
        if message is not None:
            channel = channel if channel is not None else message.channel_id
            if guild is None and message.guild_id is not None:
                guild = message.guild_id
        place = self._place(user, guild, channel)
        kind = cmd.MESSAGE if message is not None else cmd.USER
        command = self._find_command(name, place, kind)
        data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": kind}
        if message is not None:
            current = self._world.message(message.id)
            data["target_id"] = str(current.id)
            data["resolved"] = {"messages": {str(current.id): payloads.message(self._world, current)}}
        else:
            resolved: dict[str, dict[str, Any]] = {}
            target = self._world.user(id_of(target_user))
            self._resolve_user(target, resolved, place)
            data["target_id"] = str(target.id)
            data["resolved"] = resolved
        if "guild_id" in command:
            data["guild_id"] = command["guild_id"]
        return self._handle(APPLICATION_COMMAND, data, place, locale=locale)

    def component(
        self,
        message: MessageRecord,
        custom_id: str,
        *,
        user: UserRef,
        values: Sequence[Any] | None,
        locale: str,
    ) -> InteractionHandle:
        """A click on a button (or a choice in a select menu) of ``message``'s current state."""
        current = self._world.message(message.id)
        if current.deleted:
            raise LookupError(f"message {current.id} was deleted")
        component = next(
            (item for _, item in limits.iter_components(current.components) if item.get("custom_id") == custom_id),
            None,
        )
        if component is None:
            known = [item.get("custom_id") for _, item in limits.iter_components(current.components)]
            raise LookupError(f"message {current.id} has no component {custom_id!r}; it has {known}")
        if component.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled")
        place = self._place(user, current.guild_id, current.channel_id)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if component.get("id") is not None:
            data["id"] = component["id"]
        if component["type"] in limits.SELECT_TYPES:
            resolved: dict[str, dict[str, Any]] = {}
            data["values"] = self._select_values(component, values or [], resolved, place)
            if resolved:
                data["resolved"] = resolved
        elif values is not None:
            raise ValueError(f"component {custom_id!r} is not a select menu; it takes no values")
        return self._handle(
            MESSAGE_COMPONENT, data, place, locale=locale, message=current, source_message_id=current.id
        )

    def modal_submit(
        self, source: InteractionHandle, values: Mapping[str, Any], *, user: UserRef | None, locale: str | None
    ) -> InteractionHandle:
        """The submission of the modal ``source``'s callback opened, built from the recorded modal."""
        if source.modal is None:
            raise ValueError(f"interaction {source.id} did not open a modal")
        place = self._place(user if user is not None else source.user_id, source.guild_id, source.channel_id)
        known = [
            item["custom_id"] for _, item in limits.iter_components(source.modal["components"]) if item.get("custom_id")
        ]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"modal has no field(s) {unknown}; it has {known}")
        resolved: dict[str, dict[str, Any]] = {}
        remaining = dict(values)
        components = [
            self._submitted(component, remaining, resolved, place) for component in source.modal["components"]
        ]
        data: dict[str, Any] = {"custom_id": source.modal["custom_id"], "components": components}
        if resolved:
            data["resolved"] = resolved
        message = None
        if source.source_message_id is not None:
            message = self._world.message(source.source_message_id)
        return self._handle(
            MODAL_SUBMIT,
            data,
            place,
            locale=locale or source.payload.get("locale", "en-US"),
            message=message,
            source_message_id=message.id if message is not None else None,
        )

    # -- common envelope -------------------------------------------------------------------------

    def _place(self, user: UserRef, guild: GuildRef, channel: ChannelRef) -> _Place:
        user_record = self._world.user(id_of(user))
        channel_record = self._world.channel(id_of(channel)) if channel is not None else None
        guild_record = self._world.guild(id_of(guild)) if guild is not None else None
        if guild_record is None and channel_record is not None and channel_record.guild_id is not None:
            guild_record = self._world.guild(channel_record.guild_id)
        if guild_record is not None:
            if channel_record is None:
                channel_record = guild_record.default_channel
            elif channel_record.guild_id != guild_record.id:
                raise ValueError(f"channel {channel_record.id} is not in guild {guild_record.id}")
            if user_record.id not in guild_record.members:
                raise LookupError(
                    f"user {user_record.name!r} is not a member of guild {guild_record.name!r}; "
                    "use add_user(..., guild_id=...) or add_member()"
                )
        elif channel_record is None:
            channel_record = self._world.dm_channel(user_record.id)
        return _Place(user_record, guild_record, channel_record)

    def _handle(
        self,
        interaction_type: int,
        data: dict[str, Any],
        place: _Place,
        *,
        locale: str,
        message: MessageRecord | None = None,
        source_message_id: int | None = None,
    ) -> InteractionHandle:
        interaction_id = self._ids.next()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(96)
        guild, channel, user = place.guild, place.channel, place.user
        size_limit = guild.attachment_size_limit if guild is not None else DEFAULT_ATTACHMENT_SIZE_LIMIT
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self._config.application_id),
            "type": interaction_type,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "app_permissions": str(self._world.bot_permissions(channel)),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": size_limit,
            "channel_id": str(channel.id),
        }
        if guild is not None:
            permissions = self._world.member_permissions(guild, user.id)
            member = self._world.member(guild.id, user.id)
            payload.update(
                guild_id=str(guild.id),
                guild_locale=guild.preferred_locale,
                guild={"id": str(guild.id), "locale": guild.preferred_locale, "features": list(guild.features)},
                member=payloads.member(self._world, member, permissions=permissions),
                channel=payloads.channel(channel, self._world, permissions=permissions),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            payload.update(self._private_envelope(user, channel))
        if message is not None:
            payload["message"] = payloads.message(self._world, message)
        return InteractionHandle(
            interaction_id=interaction_id,
            token=token,
            interaction_type=interaction_type,
            payload=payload,
            guild_id=guild.id if guild is not None else None,
            channel_id=channel.id,
            user_id=user.id,
            attachment_size_limit=size_limit,
            source_message_id=source_message_id,
        )

    def direct_message_envelope(self, user: UserRef) -> dict[str, Any]:
        """The payload fields of an interaction from ``user``'s direct messages with the bot."""
        record = self._world.user(id_of(user))
        channel = self._world.dm_channel(record.id)
        return {"channel_id": str(channel.id), **self._private_envelope(record, channel)}

    def _private_envelope(self, user: UserRecord, channel: ChannelRecord) -> dict[str, Any]:
        return {
            "user": payloads.user(user),
            "channel": payloads.channel(channel, self._world, permissions=self._world.bot_permissions(channel)),
            "authorizing_integration_owners": {"0": str(user.id)},
            "context": 1,
        }

    def _find_command(self, name: str, place: _Place, kind: int) -> dict[str, Any]:
        guild = place.guild
        command = self._commands.find(name, guild_id=guild.id if guild is not None else None, kind=kind)
        if command is None:
            where = f"guild {guild.id} or globally" if guild is not None else "globally"
            raise LookupError(f"no command {name!r} of type {kind} is registered {where}")
        granted = self._world.member_permissions(guild, place.user.id) if guild is not None else 0
        if not self._commands.usable_by(command, guild.id if guild is not None else None, granted):
            raise PermissionError(
                f"Discord does not offer {name!r} to {place.user.name!r}: they lack its default permissions "
                "(open it to everyone with open_command_to_everyone)"
            )
        return command

    # -- options ---------------------------------------------------------------------------------

    def _nested_options(
        self,
        command: Mapping[str, Any],
        parts: Sequence[str],
        values: Mapping[str, Any],
        resolved: dict[str, dict[str, Any]],
        place: _Place,
    ) -> list[dict[str, Any]]:
        schema: list[dict[str, Any]] = list(command.get("options") or [])
        chain: list[dict[str, Any]] = []
        for part in parts[1:]:
            nested = next(
                (
                    option
                    for option in schema
                    if option.get("name") == part and option.get("type") in (cmd.SUB_COMMAND, cmd.SUB_COMMAND_GROUP)
                ),
                None,
            )
            if nested is None:
                raise ValueError(f"/{' '.join(parts)}: no subcommand {part!r}")
            chain.append(nested)
            schema = list(nested.get("options") or [])
        if any(option.get("type") in (cmd.SUB_COMMAND, cmd.SUB_COMMAND_GROUP) for option in schema):
            names = [option["name"] for option in schema]
            raise ValueError(f"/{' '.join(parts)} needs a subcommand: one of {names}")
        built = self._value_options(schema, values, resolved, place, " ".join(parts))
        for nested in reversed(chain):
            wrapper: dict[str, Any] = {"type": nested["type"], "name": nested["name"]}
            wrapper["options"] = built
            built = [wrapper]
        return built

    def _value_options(
        self,
        schema: Sequence[Mapping[str, Any]],
        values: Mapping[str, Any],
        resolved: dict[str, dict[str, Any]],
        place: _Place,
        path: str,
    ) -> list[dict[str, Any]]:
        known = {option["name"] for option in schema}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"/{path} has no option(s) {unknown}; it has {sorted(known)}")
        built = []
        for option in schema:
            name = option["name"]
            if name not in values:
                if option.get("required"):
                    raise ValueError(f"/{path}: option {name!r} is required")
                continue
            value = self._option_value(option, values[name], resolved, place, path)
            built.append({"name": name, "type": option["type"], "value": value})
        return built

    def _option_value(
        self,
        option: Mapping[str, Any],
        raw: Any,
        resolved: dict[str, dict[str, Any]],
        place: _Place,
        path: str,
    ) -> Any:
        kind = option["type"]
        where = f"/{path} option {option['name']!r}"
        if kind == cmd.STRING:
            if not isinstance(raw, str):
                raise ValueError(f"{where} takes a string, not {raw!r}")
            low, high = option.get("min_length", 0), option.get("max_length", cmd.MAX_STRING_LENGTH)
            if not low <= len(raw) <= high:
                raise ValueError(f"{where}: length {len(raw)} is outside {low}..{high}")
        elif kind in (cmd.INTEGER, cmd.NUMBER):
            number_types = int if kind == cmd.INTEGER else (int, float)
            if isinstance(raw, bool) or not isinstance(raw, number_types):
                raise ValueError(f"{where} takes a number, not {raw!r}")
            if option.get("min_value") is not None and raw < option["min_value"]:
                raise ValueError(f"{where}: {raw} is below {option['min_value']}")
            if option.get("max_value") is not None and raw > option["max_value"]:
                raise ValueError(f"{where}: {raw} is above {option['max_value']}")
        elif kind == cmd.BOOLEAN:
            if not isinstance(raw, bool):
                raise ValueError(f"{where} takes a bool, not {raw!r}")
        elif kind == cmd.ATTACHMENT:
            attachment = self._attachment(raw)
            resolved.setdefault("attachments", {})[attachment["id"]] = attachment
            return attachment["id"]
        elif kind == cmd.USER_OPTION:
            return self._resolve_user(self._world.user(id_of(raw)), resolved, place)
        elif kind == cmd.CHANNEL:
            return self._resolve_channel(self._world.channel(id_of(raw)), resolved, place)
        elif kind == cmd.ROLE:
            return self._resolve_role(id_of(raw), resolved, place)
        elif kind == cmd.MENTIONABLE:
            if isinstance(raw, RoleRecord):
                return self._resolve_role(raw.id, resolved, place)
            return self._resolve_user(self._world.user(id_of(raw)), resolved, place)
        choices = option.get("choices")
        if choices and raw not in [choice["value"] for choice in choices]:
            raise ValueError(f"{where}: {raw!r} is not one of the choices {[c['value'] for c in choices]}")
        return raw

    def attachment_payload(self, raw: AttachmentInput) -> dict[str, Any]:
        """An attachment payload for any ``AttachmentInput`` (bytes are stored on the CDN first)."""
        return self._attachment(raw)

    def _attachment(self, raw: Any) -> dict[str, Any]:
        if isinstance(raw, Mapping):
            return dict(raw)
        if isinstance(raw, FileRecord):
            filename, data, content_type = raw.filename, raw.data, raw.content_type
        elif isinstance(raw, bytes):
            filename, data, content_type = "image.png", raw, None
        elif isinstance(raw, tuple) and len(raw) == 2:
            filename, data, content_type = raw[0], raw[1], None
        else:
            raise ValueError(f"not an attachment: {raw!r}")
        stored = self._cdn.store(
            data, filename, scope=f"ephemeral-attachments/{self._config.application_id}", content_type=content_type
        )
        return self._cdn.payload(stored, ephemeral=True)

    def _resolve_user(self, user: UserRecord, resolved: dict[str, dict[str, Any]], place: _Place) -> str:
        resolved.setdefault("users", {})[str(user.id)] = payloads.user(user)
        if place.guild is not None and user.id in place.guild.members:
            member = payloads.partial_member(place.guild.members[user.id])
            member["permissions"] = str(self._world.member_permissions(place.guild, user.id))
            resolved.setdefault("members", {})[str(user.id)] = member
        return str(user.id)

    def _resolve_channel(self, channel: ChannelRecord, resolved: dict[str, dict[str, Any]], place: _Place) -> str:
        entry: dict[str, Any] = {"id": str(channel.id), "name": channel.name, "type": channel.type, "flags": 0}
        if place.guild is not None:
            entry["permissions"] = str(self._world.member_permissions(place.guild, place.user.id))
        if channel.parent_id is not None:
            entry["parent_id"] = str(channel.parent_id)
        resolved.setdefault("channels", {})[str(channel.id)] = entry
        return str(channel.id)

    def _resolve_role(self, role_id: int, resolved: dict[str, dict[str, Any]], place: _Place) -> str:
        if place.guild is None:
            raise ValueError("role options need a guild")
        role = next((role for role in place.guild.roles if role.id == role_id), None)
        if role is None:
            raise LookupError(f"guild {place.guild.id} has no role {role_id}")
        resolved.setdefault("roles", {})[str(role.id)] = payloads.role(role)
        return str(role.id)

    def _select_values(
        self,
        component: Mapping[str, Any],
        values: Sequence[Any],
        resolved: dict[str, dict[str, Any]],
        place: _Place,
    ) -> list[str]:
        kind = component["type"]
        low, high = component.get("min_values", 1), component.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ValueError(f"select {component.get('custom_id')!r} takes {low}..{high} values, got {len(values)}")
        if kind not in _ENTITY_SELECTS:
            allowed = [option.get("value") for option in component.get("options") or []]
            for value in values:
                if value not in allowed:
                    raise ValueError(f"select {component.get('custom_id')!r} has no option {value!r}; it has {allowed}")
            return [str(value) for value in values]
        chosen = []
        for value in values:
            if isinstance(value, RoleRecord):
                chosen.append(self._resolve_role(value.id, resolved, place))
            elif isinstance(value, ChannelRecord):
                chosen.append(self._resolve_channel(value, resolved, place))
            else:
                chosen.append(self._resolve_user(self._world.user(id_of(value)), resolved, place))
        return chosen

    # -- modal submissions -----------------------------------------------------------------------

    def _submitted(
        self,
        component: Mapping[str, Any],
        remaining: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        place: _Place,
    ) -> dict[str, Any]:
        kind = component.get("type")
        out: dict[str, Any] = {"type": kind}
        if component.get("id") is not None:
            out["id"] = component["id"]
        if kind == limits.ACTION_ROW:
            out["components"] = [
                self._submitted(child, remaining, resolved, place) for child in component.get("components") or []
            ]
            return out
        if kind == _LABEL:
            out["component"] = self._submitted(component["component"], remaining, resolved, place)
            return out
        custom_id = component.get("custom_id")
        if custom_id is None:
            return out
        out["custom_id"] = custom_id
        given = remaining.pop(custom_id, _MISSING)
        if kind == _TEXT_INPUT:
            out["value"] = self._text_value(component, given)
        elif kind in limits.SELECT_TYPES:
            # an untouched select submits the options marked as default, as Discord's client does
            preselected = [option["value"] for option in component.get("options") or [] if option.get("default")]
            chosen = preselected if given is _MISSING else list(given)
            out["values"] = self._select_values(
                {**component, "min_values": component.get("min_values", 0)}, chosen, resolved, place
            )
        elif kind == _FILE_UPLOAD:
            files = [] if given is _MISSING else list(given)
            ids = []
            for item in files:
                attachment = self._attachment(item)
                resolved.setdefault("attachments", {})[attachment["id"]] = attachment
                ids.append(attachment["id"])
            out["values"] = ids
        elif kind == _CHECKBOX:
            out["value"] = bool(given) if given is not _MISSING else False
        elif kind == _CHECKBOX_GROUP:
            out["values"] = [] if given is _MISSING else [str(value) for value in given]
        elif kind == _RADIO_GROUP:
            out["value"] = None if given is _MISSING else str(given)
        elif given is not _MISSING:
            out["value"] = given
        return out

    @staticmethod
    def _text_value(component: Mapping[str, Any], given: Any) -> str:
        custom_id = component.get("custom_id")
        value = (component.get("value") or "") if given is _MISSING else given
        if not isinstance(value, str):
            raise ValueError(f"text input {custom_id!r} takes a string, not {value!r}")
        if component.get("required", True) and not value:
            raise ValueError(f"text input {custom_id!r} is required")
        low, high = component.get("min_length", 0), component.get("max_length", limits.MAX_TEXT_INPUT_VALUE)
        if value and not low <= len(value) <= high:
            raise ValueError(f"text input {custom_id!r}: length {len(value)} is outside {low}..{high}")
        return value
