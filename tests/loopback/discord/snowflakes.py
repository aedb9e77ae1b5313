"""Discord snowflake ids: milliseconds since the Discord epoch shifted left 22 bits, plus worker/process/increment."""

from __future__ import annotations

import datetime
import time

DISCORD_EPOCH_MS = 1_420_070_400_000
"""2015-01-01T00:00:00Z in Unix milliseconds."""

_INCREMENT_BITS = 12
_PROCESS_SHIFT = 12
_WORKER_SHIFT = 17
_TIMESTAMP_SHIFT = 22


class SnowflakeGenerator:
    """Hands out strictly increasing snowflakes whose timestamp part is the current wall-clock time."""

    def __init__(self, *, worker_id: int = 1, process_id: int = 0) -> None:
        self._worker_bits = (worker_id & 0x1F) << _WORKER_SHIFT
        self._process_bits = (process_id & 0x1F) << _PROCESS_SHIFT
        self._last_ms = 0
        self._increment = 0

    def next(self) -> int:
        """Return a new snowflake for "now"; ids generated in the same millisecond differ by their increment."""
        now_ms = max(int(time.time() * 1000), self._last_ms)
        if now_ms == self._last_ms:
            self._increment += 1
            if self._increment >= 1 << _INCREMENT_BITS:
                now_ms += 1
                self._increment = 0
        else:
            self._increment = 0
        self._last_ms = now_ms
        return (
            ((now_ms - DISCORD_EPOCH_MS) << _TIMESTAMP_SHIFT) | self._worker_bits | self._process_bits | self._increment
        )


def snowflake_time(snowflake: int) -> datetime.datetime:
    """The UTC creation time encoded in a snowflake."""
    millis = (snowflake >> _TIMESTAMP_SHIFT) + DISCORD_EPOCH_MS
    return datetime.datetime.fromtimestamp(millis / 1000, tz=datetime.UTC)


def iso_timestamp(moment: datetime.datetime) -> str:
    """Format a timestamp the way Discord does (ISO 8601 with microseconds and offset)."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")
