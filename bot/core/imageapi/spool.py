"""Bytes written once and read back, held in memory while small and in a temporary file past that.

Images from the API go here as they arrive, so that a 31 MiB picture never sits in the process's memory whole
(and never several times over, as a body, a JSON string and decoded bytes would).
"""

import io
import shutil
import tempfile

IN_MEMORY = 1024 * 1024  # bytes a spool keeps in memory before it moves to a temporary file
LONG_STRING = 64 * 1024  # a JSON string of an answer longer than this is spooled, not kept in the parsed document
SKELETON_LIMIT = 1024 * 1024  # what an answer may hold besides its spooled strings (JSON around them, short texts)
CHUNK = 256 * 1024  # bytes read from the network at a time


class Spool:
    """An image's bytes, written in order, then read back from the start any number of times."""

    def __init__(self) -> None:
        self._file: io.BytesIO | io.BufferedRandom = io.BytesIO()
        self._on_disk = False
        self.size = 0

    def write(self, data: bytes) -> None:
        """Append `data`, moving to a temporary file once past IN_MEMORY bytes."""
        if not self._on_disk and self.size + len(data) > IN_MEMORY:
            memory, self._file = self._file, tempfile.TemporaryFile()  # noqa: SIM115 (closed by close())
            memory.seek(0)
            shutil.copyfileobj(memory, self._file)
            memory.close()
            self._on_disk = True
        self._file.seek(0, io.SEEK_END)
        self._file.write(data)
        self.size += len(data)

    def settled(self) -> "bytes | Spool":
        """The bytes themselves while they are few enough to stay in memory (the spool is then closed), else the
        spool."""
        if self._on_disk:
            return self
        assert isinstance(self._file, io.BytesIO)  # noqa: S101 (in memory means a BytesIO)
        data = self._file.getvalue()
        self.close()
        return data

    def head(self, count: int) -> bytes:
        """The first `count` bytes."""
        self._file.seek(0)
        return self._file.read(count)

    def reader(self) -> io.BytesIO | io.BufferedRandom:
        """The bytes as a file positioned at their start (the same file each time: read one copy at a time)."""
        self._file.seek(0)
        return self._file

    def close(self) -> None:
        """Free the memory or remove the file; idempotent."""
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed


Held = bytes | Spool  # an image's bytes: in memory while few, else spooled (see Spool.settled)


def size_of(data: Held) -> int:
    """Bytes held."""
    return data.size if isinstance(data, Spool) else len(data)


def reader_of(data: Held) -> io.BytesIO | io.BufferedRandom:
    """The bytes as a file at their start (a spool's own file: read one copy at a time)."""
    return data.reader() if isinstance(data, Spool) else io.BytesIO(data)


def head_of(data: Held, count: int) -> bytes:
    """The first `count` bytes (enough for a header)."""
    return data.head(count) if isinstance(data, Spool) else data[:count]


def release(data: Held) -> None:
    """Free a spool as soon as its bytes are no longer needed (bytes go with the last reference)."""
    if isinstance(data, Spool):
        data.close()
