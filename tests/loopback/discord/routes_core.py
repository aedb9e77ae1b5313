"""REST routes for the bot's identity, its application, the gateway address and application commands."""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from . import payloads
from .commands import validate_command, validate_commands
from .context import ServerContext
from .errors import UNKNOWN_APPLICATION_COMMAND, UNKNOWN_GUILD, DiscordHTTPError, unknown
from .responses import json_response, no_content
from .uploads import read_json

UNKNOWN_APPLICATION = 10002


class CoreRoutes:
    """``/users/@me``, ``/oauth2/applications/@me``, ``/gateway[/bot]`` and ``/applications/{app}/...commands``."""

    def __init__(self, ctx: ServerContext) -> None:
        self._ctx = ctx

    def register(self, router: web.UrlDispatcher, prefix: str) -> None:
        """Add the routes below ``prefix``."""
        router.add_get(f"{prefix}/users/@me", self.current_user)
        router.add_get(f"{prefix}/oauth2/applications/@me", self.application)
        router.add_get(f"{prefix}/applications/@me", self.application)
        router.add_get(f"{prefix}/gateway", self.gateway)
        router.add_get(f"{prefix}/gateway/bot", self.gateway_bot)
        for scope in ("/applications/{app_id:\\d+}", "/applications/{app_id:\\d+}/guilds/{guild_id:\\d+}"):
            base = f"{prefix}{scope}/commands"
            router.add_get(base, self.list_commands)
            router.add_put(base, self.overwrite_commands)
            router.add_post(base, self.create_command)
            router.add_get(base + "/{command_id:\\d+}", self.get_command)
            router.add_patch(base + "/{command_id:\\d+}", self.edit_command)
            router.add_delete(base + "/{command_id:\\d+}", self.delete_command)

    # -- identity --------------------------------------------------------------------------------

    async def current_user(self, _: web.Request) -> web.Response:
        """GET /users/@me."""
        return json_response(payloads.current_user(self._ctx.world.bot))

    async def application(self, _: web.Request) -> web.Response:
        """GET /oauth2/applications/@me (what ``Client.application_info`` reads)."""
        config, world = self._ctx.config, self._ctx.world
        verify_key = hashlib.sha256(str(config.application_id).encode()).hexdigest()
        return json_response(
            {
                "id": str(config.application_id),
                "name": config.application_name,
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "rpc_origins": [],
                "bot_public": True,
                "bot_require_code_grant": False,
                "bot": payloads.user(world.bot),
                "terms_of_service_url": None,
                "privacy_policy_url": None,
                "owner": payloads.user(world.owner),
                "verify_key": verify_key,
                "team": None,
                "guild_id": None,
                "flags": config.application_flags,
                "tags": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "approximate_guild_count": len(world.guilds),
                "approximate_user_install_count": 0,
                "integration_types_config": {"0": {}},
            }
        )

    async def gateway(self, _: web.Request) -> web.Response:
        """GET /gateway."""
        return json_response({"url": self._ctx.config.gateway_url})

    async def gateway_bot(self, _: web.Request) -> web.Response:
        """GET /gateway/bot (asked by ``AutoShardedClient``)."""
        return json_response(
            {
                "url": self._ctx.config.gateway_url,
                "shards": self._ctx.config.recommended_shards,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 14_400_000,
                    "max_concurrency": 1,
                },
            }
        )

    # -- application commands --------------------------------------------------------------------

    def _scope(self, request: web.Request) -> int | None:
        if int(request.match_info["app_id"]) != self._ctx.config.application_id:
            raise DiscordHTTPError(404, UNKNOWN_APPLICATION, "Unknown Application")
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return None
        if int(guild_id) not in self._ctx.world.guilds:
            raise unknown(UNKNOWN_GUILD, "Guild")
        return int(guild_id)

    async def list_commands(self, request: web.Request) -> web.Response:
        """GET .../commands."""
        return json_response(self._ctx.commands.list(self._scope(request)))

    async def overwrite_commands(self, request: web.Request) -> web.Response:
        """PUT .../commands: validate the whole list, then replace the scope's commands."""
        scope = self._scope(request)
        body = await read_json(request)
        validate_commands(body).raise_if_any()
        return json_response(self._ctx.commands.overwrite(scope, body))

    async def create_command(self, request: web.Request) -> web.Response:
        """POST .../commands: create (201) or replace (200) one command."""
        scope = self._scope(request)
        body = await read_json(request)
        validate_command(body).raise_if_any()
        command, created = self._ctx.commands.upsert(scope, body)
        return json_response(command, status=201 if created else 200)

    async def get_command(self, request: web.Request) -> web.Response:
        """GET .../commands/{id}."""
        return json_response(self._command(request))

    async def edit_command(self, request: web.Request) -> web.Response:
        """PATCH .../commands/{id}: merge the given fields into the command."""
        scope = self._scope(request)
        current = self._command(request)
        patch = await read_json(request)
        merged: dict[str, Any] = {**current, **(patch if isinstance(patch, dict) else {})}
        for key in ("id", "application_id", "version", "guild_id"):
            merged.pop(key, None)
        validate_command(merged).raise_if_any()
        command = self._ctx.commands.replace(scope, int(current["id"]), merged)
        if command is None:
            raise unknown(UNKNOWN_APPLICATION_COMMAND, "application command")
        return json_response(command)

    async def delete_command(self, request: web.Request) -> web.Response:
        """DELETE .../commands/{id}."""
        if not self._ctx.commands.delete(self._scope(request), int(request.match_info["command_id"])):
            raise unknown(UNKNOWN_APPLICATION_COMMAND, "application command")
        return no_content()

    def _command(self, request: web.Request) -> dict[str, Any]:
        command = self._ctx.commands.get(self._scope(request), int(request.match_info["command_id"]))
        if command is None:
            raise unknown(UNKNOWN_APPLICATION_COMMAND, "application command")
        return command
