"""One logging setup for the whole bot: text or JSON lines, tagged with job ids, with secrets redacted."""

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from bot.core.log_context import JobContextFilter

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
REDACTED = "[redacted]"
JOB_FIELDS = ("job", "guild", "user")


class TextFormatter(logging.Formatter):
    """Human-readable lines; a job's lines end with ` [job=… guild=… user=…]`."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        ids = [f"{name}={value}" for name in JOB_FIELDS if (value := getattr(record, name, None)) is not None]
        line = super().formatMessage(record)
        return f"{line} [{' '.join(ids)}]" if ids else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.message,
        }
        entry |= {name: value for name in JOB_FIELDS if (value := getattr(record, name, None)) is not None}
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)  # cached on the record, as logging does
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)


class RedactSecrets(logging.Filter):
    """Replaces the configured secrets in each record's final message and exception text."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = tuple(secret for secret in secrets if secret)  # an empty secret would match everywhere

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format call: leave it to the handler's own error report
            return True
        if (redacted := self._redact(message)) != message:
            record.msg, record.args = redacted, ()  # the formatted text, so every handler sees the same line
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        return True

    def _redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def setup_logging(level: str, fmt: str = "text", *, secrets: Iterable[str] = (), stream: TextIO | None = None) -> None:
    """Log `fmt` ("text" or "json") lines to stderr; discord.py's chatty HTTP logger at WARNING."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(JobContextFilter())
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("discord.http").setLevel(logging.WARNING)
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, root.level))
