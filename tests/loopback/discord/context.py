"""The server's parts, bundled for the REST handlers."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from .cdn import AttachmentStore
from .commands import CommandRegistry
from .config import ServerConfig
from .events import EventPublisher
from .faults import FaultInjector
from .gateway import GatewayHub
from .interactions import InteractionHandle, InteractionRegistry
from .messages import MessageComposer
from .ratelimits import RateLimiter
from .snowflakes import SnowflakeGenerator
from .state import RequestRecord
from .world import World


@dataclass(slots=True)
class ServerContext:
    """Everything a request handler may read or change."""

    config: ServerConfig
    ids: SnowflakeGenerator
    world: World
    cdn: AttachmentStore
    commands: CommandRegistry
    interactions: InteractionRegistry
    hub: GatewayHub
    events: EventPublisher
    composer: MessageComposer
    faults: FaultInjector
    rate_limiter: RateLimiter
    requests: list[RequestRecord] = field(default_factory=list)


INTERACTION_KEY = web.RequestKey("loopback_interaction", InteractionHandle)
"""Request slot where interaction routes put the interaction a request is about (for the error log)."""

ARRIVAL_KEY = web.RequestKey("loopback_arrived_at", float)
"""Request slot with the loop time the request reached the server."""
