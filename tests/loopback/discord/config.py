"""Settings shared by the loopback server's parts, and the address it ends up bound to."""

from __future__ import annotations

from dataclasses import dataclass

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"
HEARTBEAT_INTERVAL_MS = 41_250
"""What Discord announces in HELLO."""


@dataclass(slots=True)
class ServerConfig:
    """Token, timing rules and identity of the loopback Discord."""

    token: str
    token_lifetime: float
    ack_deadline: float
    application_id: int
    application_name: str
    application_flags: int
    privileged_intents: int
    heartbeat_interval_ms: int = HEARTBEAT_INTERVAL_MS
    recommended_shards: int = 1  # what GET /gateway/bot tells a client that asks how many shards to run
    origin: str | None = None

    def _require_origin(self) -> str:
        if self.origin is None:
            raise RuntimeError("the server is not started")
        return self.origin

    @property
    def rest_base(self) -> str:
        """``http://127.0.0.1:PORT/api/v10``."""
        return self._require_origin() + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """``ws://127.0.0.1:PORT/gateway``."""
        return self._require_origin().replace("http://", "ws://", 1) + GATEWAY_PATH

    @property
    def cdn_base(self) -> str:
        """``http://127.0.0.1:PORT/cdn``."""
        return self._require_origin() + "/cdn"
