"""Slots shared by several processes, so that a concurrency cap (the image API queue's, or a provider's own) holds
across all of them."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Lease:
    """One holding of a slot; the token tells this holding from later ones of the same slot."""

    slot: int
    token: str


class SlotGate(Protocol):
    async def acquire(self) -> Lease:
        """Wait until a slot is free everywhere, and hold it."""

    async def release(self, lease: Lease) -> None:
        """Free the slot; never raises (a lease that can't be freed expires on its own)."""
