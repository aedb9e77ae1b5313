"""Interactions the server dispatched, and what the bot did with them (callback, edits, follow-ups, refusals)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Literal

from .state import MessageRecord

# Interaction types.
PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
AUTOCOMPLETE = 4
MODAL_SUBMIT = 5

# Callback types.
PONG = 1
CHANNEL_MESSAGE_WITH_SOURCE = 4
DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
APPLICATION_COMMAND_AUTOCOMPLETE_RESULT = 8
MODAL = 9
LAUNCH_ACTIVITY = 12

ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    PING: frozenset({PONG}),
    APPLICATION_COMMAND: frozenset(
        {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, MODAL, LAUNCH_ACTIVITY}
    ),
    MESSAGE_COMPONENT: frozenset(
        {
            CHANNEL_MESSAGE_WITH_SOURCE,
            DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE,
            DEFERRED_UPDATE_MESSAGE,
            UPDATE_MESSAGE,
            MODAL,
            LAUNCH_ACTIVITY,
        }
    ),
    AUTOCOMPLETE: frozenset({APPLICATION_COMMAND_AUTOCOMPLETE_RESULT}),
    MODAL_SUBMIT: frozenset(
        {CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE}
    ),
}
"""Which callback types Discord accepts for each interaction type."""

StatePredicate = Callable[[MessageRecord], bool]


def settled(record: MessageRecord) -> bool:
    """The default ``final`` condition: neither the "thinking" placeholder nor deleted."""
    return not record.loading and not record.deleted


class InteractionHandle:
    """What a test holds after triggering an interaction.

    Read by tests: ``id``, ``token``, ``type``, ``payload`` (the INTERACTION_CREATE data), ``guild_id``,
    ``channel_id``, ``user_id``, ``dispatched_at`` (loop time the event reached a socket), ``ack_latency``
    (dispatch to the first callback's arrival, even a refused one), ``callback_type`` (the accepted callback),
    ``ephemeral``, ``modal``, ``autocomplete_choices``, ``original``, ``edits`` (every state of the original
    response: the callback's message, each PATCH, a follow-up replacing the "thinking" message, a deletion),
    ``followups`` (current state of each), ``errors`` (``(status, code, message)`` of every refused request).
    For a component interaction answered with type 6 or 7 the original response is the clicked message.
    The ``note_*``/``push_*``/``accept_*`` methods are the server's side.
    """

    def __init__(
        self,
        *,
        interaction_id: int,
        token: str,
        interaction_type: int,
        payload: dict[str, Any],
        guild_id: int | None,
        channel_id: int,
        user_id: int,
        attachment_size_limit: int,
        source_message_id: int | None = None,
    ) -> None:
        self.id = interaction_id
        self.token = token
        self.type = interaction_type
        self.payload = payload
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.user_id = user_id
        self.attachment_size_limit = attachment_size_limit
        self.source_message_id = source_message_id
        self.dispatched_at: float | None = None
        self.callback_arrived_at: float | None = None
        self.ack_latency: float | None = None
        self.callback_type: int | None = None
        self.ephemeral = False
        self.modal: dict[str, Any] | None = None
        self.autocomplete_choices: list[dict[str, Any]] | None = None
        self.original_message_id: int | None = None
        self.edits: list[MessageRecord] = []
        self.followups: list[MessageRecord] = []
        self.errors: list[tuple[int, int, str]] = []
        self._timeline: list[tuple[Literal["edit", "followup"], int, MessageRecord]] = []
        self._cursor = 0
        self._acked = asyncio.Event()
        self._changed = asyncio.Event()

    def __repr__(self) -> str:
        return (
            f"<InteractionHandle id={self.id} type={self.type} callback_type={self.callback_type} "
            f"edits={len(self.edits)} followups={len(self.followups)} errors={self.errors}>"
        )

    # -- what tests read and await ---------------------------------------------------------------

    @property
    def acked(self) -> bool:
        """Whether a callback has been accepted."""
        return self.callback_type is not None

    @property
    def original(self) -> MessageRecord | None:
        """The current state of the original response (``None`` before one exists)."""
        return self.edits[-1] if self.edits else None

    @property
    def deferred(self) -> bool:
        """Whether the bot answered with a deferral (type 5 or 6)."""
        return self.callback_type in (DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_UPDATE_MESSAGE)

    async def acknowledged(self, within: float = 3.0) -> bool:
        """Wait up to ``within`` seconds for an accepted callback; ``False`` if none came."""
        try:
            async with asyncio.timeout(within):
                await self._acked.wait()
        except TimeoutError:
            return False
        return True

    async def next_edit(self, timeout: float = 15) -> MessageRecord:
        """The next state of the original response after those already returned by ``next_edit``/``final``."""
        try:
            async with asyncio.timeout(timeout):
                while self._cursor >= len(self.edits):
                    await self._wait_change()
        except TimeoutError:
            raise TimeoutError(self._describe(f"no new state of the original response within {timeout}s")) from None
        record = self.edits[self._cursor]
        self._cursor += 1
        return record

    async def final(self, timeout: float = 15, until: StatePredicate | None = None) -> MessageRecord:
        """The first state of the original response, or follow-up, satisfying ``until``.

        States are examined in arrival order. The default condition accepts the first state that is neither the
        deferred "thinking" placeholder nor deleted: the first edit of a deferred response, the message of a type 4
        callback, or the first follow-up.
        """
        predicate = until or settled
        try:
            async with asyncio.timeout(timeout):
                while True:
                    for kind, index, record in self._timeline:
                        if predicate(record):
                            if kind == "edit":
                                self._cursor = max(self._cursor, index + 1)
                            return record
                    await self._wait_change()
        except TimeoutError:
            raise TimeoutError(self._describe(f"no response state satisfied the condition within {timeout}s")) from None

    async def _wait_change(self) -> None:
        await self._changed.wait()

    def _describe(self, problem: str) -> str:
        states = [
            f"{kind}: content={record.content[:80]!r} files={len(record.files)} embeds={len(record.embeds)} "
            f"flags={record.flags} deleted={record.deleted}"
            for kind, _, record in self._timeline
        ]
        return (
            f"interaction {self.id}: {problem}; callback_type={self.callback_type}, "
            f"states={states}, errors={self.errors}"
        )

    # -- the server's side -----------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def note_dispatched(self, at: float) -> None:
        """The INTERACTION_CREATE reached a socket at loop time ``at`` (first socket wins)."""
        if self.dispatched_at is None:
            self.dispatched_at = at
            if self.callback_arrived_at is not None:  # the bot answered before the write was noted
                self.ack_latency = max(0.0, self.callback_arrived_at - at)

    def note_callback_arrival(self, at: float) -> None:
        """A callback request arrived (accepted or not); the first one fixes ``ack_latency``."""
        if self.callback_arrived_at is None:
            self.callback_arrived_at = at
            if self.dispatched_at is not None:
                self.ack_latency = at - self.dispatched_at

    def accept_callback(self, callback_type: int, *, ephemeral: bool = False) -> None:
        """Record the accepted callback."""
        self.callback_type = callback_type
        self.ephemeral = ephemeral
        self._acked.set()
        self._notify()

    def push_original(self, record: MessageRecord) -> None:
        """A new state of the original response."""
        self.original_message_id = record.id
        self.edits.append(record)
        self._timeline.append(("edit", len(self.edits) - 1, record))
        self._notify()

    def push_followup(self, record: MessageRecord) -> None:
        """A new follow-up message, or a new state of one (replaced in ``followups``)."""
        index = next((i for i, existing in enumerate(self.followups) if existing.id == record.id), None)
        if index is None:
            index = len(self.followups)
            self.followups.append(record)
        else:
            self.followups[index] = record
        self._timeline.append(("followup", index, record))
        self._notify()

    def note_error(self, status: int, code: int, message: str) -> None:
        """A request on this interaction was refused."""
        self.errors.append((status, code, message))
        self._notify()

    def owns_message(self, message_id: int) -> bool:
        """Whether the message is this interaction's original response or one of its follow-ups."""
        return message_id == self.original_message_id or any(record.id == message_id for record in self.followups)


class InteractionRegistry:
    """Dispatched interactions by id and by token."""

    def __init__(self) -> None:
        self._by_id: dict[int, InteractionHandle] = {}
        self._by_token: dict[str, InteractionHandle] = {}

    def add(self, handle: InteractionHandle) -> None:
        """Register a new interaction."""
        self._by_id[handle.id] = handle
        self._by_token[handle.token] = handle

    def by_id(self, interaction_id: int) -> InteractionHandle | None:
        """Look up by interaction id."""
        return self._by_id.get(interaction_id)

    def by_token(self, token: str) -> InteractionHandle | None:
        """Look up by interaction token."""
        return self._by_token.get(token)

    def all(self) -> list[InteractionHandle]:
        """Every interaction, oldest first."""
        return list(self._by_id.values())
