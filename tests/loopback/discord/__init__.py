"""A loopback Discord for end-to-end tests of bots built on the unmodified discord.py 2.7 client.

It serves a subset of REST API v10, the gateway websocket and a CDN-like attachment route on 127.0.0.1, and
enforces the Discord rules a bot must live with (3 s acknowledgement deadline, 15 min interaction tokens,
upload, content, embed and component limits, command schema validation) with Discord's status codes and
``{"message", "code", "errors"}`` bodies. Point the client at it before it connects::

    server = DiscordServer(token="loopback-token", ack_deadline=3.0)
    await server.start()
    discord.http.Route.BASE = server.rest_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)

Set-up: ``add_guild``, ``add_channel``, ``add_role``, ``add_user``, ``add_member``, ``add_attachment``,
``expire_attachment``. User actions (each returns an ``InteractionHandle``): ``slash``, ``context_menu``,
``click``, ``submit_modal``; ``post_message`` posts a user's message. Inspection: ``messages``, ``message``,
``message_payload``, ``commands``, ``interactions``, ``requests``, ``status_counts``, ``sessions``,
``identify_count``, ``resume_count``, ``rate_limited``, ``rate_limit_trips``. Faults: ``fail_next``,
``disconnect_sessions``, ``request_reconnect``.

Discord's rate limits are enforced by default (``ratelimits`` has the numbers): 5 requests per 2 s per interaction
token on the interaction webhook, 5 per 5 s per channel for message creation and for edits and deletions, 50 per
second per bot elsewhere; ``DiscordServer(rate_limits=False)`` turns them off, ``rate_limits=RateLimits(...)``
changes them. Refusals are 429s discord.py honours, recorded in ``requests`` with their ``bucket``.

Further details: ``slash`` with neither ``guild`` nor ``channel`` is a DM; a name like ``"group sub"`` reaches
subcommands; options are checked against the registered schema (``ValueError``), unknown commands raise
``LookupError``. ``add_user(guild_id=None)`` joins every existing guild. ``context_menu(target_user=...)``
invokes a user command, ``click(values=...)`` picks values in a select menu, and ``submit_modal`` values may be
strings, lists (selects, checkbox groups), bools (checkboxes) or attachments (file uploads).
``add_attachment(content_type=None)`` yields a payload without ``content_type``. The first follow-up after a
"thinking" defer replaces the placeholder (it appears in both ``edits`` and ``followups``);
``InteractionHandle.final()`` by default returns the first state that is neither that placeholder nor deleted.
``fail_next`` matches ``re.search`` against the path below ``/api/v10`` (CDN paths as they are). The bot's
permissions (``GuildRecord.bot_permissions``, ``ChannelRecord.bot_permissions``) are enforced on channel routes
(403 / 50013) and sent as ``app_permissions``; sessions without the message content intent receive others'
guild messages without content, as Discord does.

``wait_ready`` returns once READY and the GUILD_CREATEs have been written to the socket; the client fires
``on_ready`` ``guild_ready_timeout`` seconds later (2 s by default, pass a smaller value to the client).
discord.py waits 5 s before re-IDENTIFYing after a non-resumable disconnect (``before_identify_hook``).
Close the client before ``stop()``; otherwise it keeps trying to reconnect.
"""

from . import permissions
from .gateway import GatewaySession
from .interactions import InteractionHandle
from .invocations import AttachmentInput
from .ratelimits import Limit, RateLimits
from .server import DiscordServer
from .state import (
    EPHEMERAL,
    IS_COMPONENTS_V2,
    LOADING,
    ChannelRecord,
    FileRecord,
    GuildRecord,
    MemberRecord,
    MessageRecord,
    RequestRecord,
    RoleRecord,
    UserRecord,
)

__all__ = [
    "EPHEMERAL",
    "IS_COMPONENTS_V2",
    "LOADING",
    "AttachmentInput",
    "ChannelRecord",
    "DiscordServer",
    "FileRecord",
    "GatewaySession",
    "GuildRecord",
    "InteractionHandle",
    "Limit",
    "MemberRecord",
    "MessageRecord",
    "RateLimits",
    "RequestRecord",
    "RoleRecord",
    "UserRecord",
    "permissions",
]
