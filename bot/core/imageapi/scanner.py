"""Reading a JSON answer as it arrives, in bounded memory.

The scanner copies the answer's JSON text into a small *skeleton*, except strings longer than LONG_STRING. Those
are decoded as they arrive: escapes resolved, then the base64 run (after a `data:...;base64,` header, if any)
decoded a few characters at a time into a Spool. The skeleton keeps the text before and after the run, with a
placeholder where the run was, so each kind's `parse` reads the skeleton as the JSON it always read; decoding the
placeholder (answers.decode_base64_image) gives the spooled image, taken from the answer being parsed.

A long string that holds no base64 run is kept as text, within the skeleton's limit.
"""

import binascii
import contextvars
import json
import re
from collections.abc import Callable
from typing import TypeVar

from bot.core.errors import MalformedAnswer
from bot.core.imageapi.spool import LONG_STRING, SKELETON_LIMIT, Spool

T = TypeVar("T")

_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/=\s]")
_WHITESPACE = b" \t\r\n"
_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_ESCAPES = {b'"': b'"', b"\\": b"\\", b"/": b"/", b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t"}
_HEX = re.compile(rb"[0-9A-Fa-f]{4}")
_HEADER_END = b"base64,"
_HEADER_SEARCH = 4096  # how far into a long string a data URL's header may end
_PLACEHOLDER = "\x00spool:{}\x00"  # NUL never appears in base64 or a URL, so no answer's text is taken for one
_PLACEHOLDER_TEXT = re.compile("\x00spool:([0-9]+)\x00")


class ScannedAnswer:
    """An answer read by the scanner: its skeleton (JSON) and the images spooled out of it."""

    def __init__(self, skeleton: bytes, spools: list[Spool]) -> None:
        self.skeleton = skeleton
        self.spools = spools
        self._claimed: set[int] = set()

    def claim(self, index: int) -> Spool:
        """The spool `index`, now owned by whoever decodes it."""
        if not 0 <= index < len(self.spools):
            raise MalformedAnswer("an image placeholder of the answer names no image", 200)
        self._claimed.add(index)
        return self.spools[index]

    def release_unclaimed(self) -> None:
        """Free every spool no parsed image took."""
        for index, spool in enumerate(self.spools):
            if index not in self._claimed:
                spool.close()


# the answer being parsed, so that each kind's `parse(raw: bytes)` keeps its signature and its base64 decoding
# (answers.decode_base64_image) finds the spools; set only around one synchronous `parse` call
_parsing: contextvars.ContextVar[ScannedAnswer | None] = contextvars.ContextVar("parsing", default=None)


def parse_scanned(parse: Callable[[bytes], T], answer: ScannedAnswer) -> T:
    """`parse(answer.skeleton)`, its placeholders resolving to `answer`'s spools; the spools it did not take are
    freed, and all of them when it raises."""
    token = _parsing.set(answer)
    try:
        parsed = parse(answer.skeleton)
    except BaseException:
        for spool in answer.spools:
            spool.close()
        raise
    finally:
        _parsing.reset(token)
    answer.release_unclaimed()
    return parsed


def spooled(text: str) -> Spool | None:
    """The spool a placeholder names in the answer being parsed, or None when `text` is no placeholder."""
    if (match := _PLACEHOLDER_TEXT.fullmatch(text)) is None:
        return None
    if (answer := _parsing.get()) is None:
        raise MalformedAnswer("the answer holds a NUL-delimited placeholder of no image", 200)
    return answer.claim(int(match[1]))


class _LongString:
    """A string too long to keep: the text before its base64 run, the run decoded into a spool, the text after."""

    def __init__(self, prefix: bytes) -> None:
        self.before = b""
        self.after = bytearray()
        self.spool: Spool | None = None
        self._quad = b""  # base64 characters left over until there are four
        self._in_run = False
        if (header := prefix.find(_HEADER_END, 0, _HEADER_SEARCH)) >= 0:
            start: int | None = header + len(_HEADER_END)
        else:
            start = 0 if _NOT_BASE64.search(prefix) is None else None  # bare base64 throughout, or text
        if start is None:
            self.after += prefix  # no image here: text only
            return
        self.before, self.spool, self._in_run = prefix[:start], Spool(), True
        self.add(prefix[start:])

    @property
    def text_size(self) -> int:
        return len(self.before) + len(self.after)

    def add(self, text: bytes) -> None:
        """Append decoded string content."""
        if not self._in_run:
            self.after += text
        elif not self._decoded(text):  # the run ends in this text (rare: once per string at most)
            if (other := _NOT_BASE64.search(text)) is None:
                raise MalformedAnswer("an image is not valid base64", 200)
            if not self._decoded(text[: other.start()]):
                raise MalformedAnswer("an image is not valid base64", 200)
            self._in_run = False
            self.after += text[other.start() :]

    def _decoded(self, text: bytes) -> bool:
        """Decode `text` into the spool, keeping a partial quad for later; False (nothing written) when it holds
        something besides base64 and whitespace."""
        compact = text.translate(None, _WHITESPACE)
        if compact.translate(None, _ALPHABET):  # something besides base64 characters is left
            return False
        if self._quad:
            compact = self._quad + compact
        whole = len(compact) - len(compact) % 4
        if whole:
            try:
                decoded = binascii.a2b_base64(memoryview(compact)[:whole], strict_mode=True)  # a view: no copy
            except binascii.Error:
                raise MalformedAnswer("an image is not valid base64", 200) from None
            assert self.spool is not None  # noqa: S101 (only a run decodes)
            self.spool.write(decoded)
        self._quad = compact[whole:]
        return True

    def finish(self, index: int) -> bytes:
        """The string as the skeleton holds it: JSON text with the placeholder of spool `index` for the run."""
        if self._quad and (len(self._quad) == 1 or not self._decoded(b"=" * (-len(self._quad) % 4))):
            raise MalformedAnswer("an image is not valid base64", 200)
        middle = _PLACEHOLDER.format(index) if self.spool is not None else ""
        text = self.before.decode("utf-8", "replace") + middle + self.after.decode("utf-8", "replace")
        return json.dumps(text).encode()


class AnswerScanner:
    """Feed it an answer's bytes in chunks of any size, then `finish()` (see the module docstring)."""

    def __init__(self, limit: int) -> None:
        self._limit = limit  # bytes the whole answer may have
        self._read = 0
        self._skeleton = bytearray()
        self._spools: list[Spool] = []
        self._pending = b""  # an escape cut by the chunk's end
        self._in_string = False
        self._raw = bytearray()  # the current string as written, while it is short
        self._text = bytearray()  # the same, decoded
        self._long: _LongString | None = None

    def feed(self, chunk: bytes) -> None:
        """Scan the next bytes of the answer; raises MalformedAnswer when it is too large or cannot be read."""
        self._read += len(chunk)
        if self._read > self._limit:
            raise MalformedAnswer(f"the answer is larger than {self._limit} bytes", 200)
        data = self._pending + chunk if self._pending else chunk
        self._pending = b""
        position = 0
        while position < len(data):
            if self._in_string:
                position = self._scan_string(data, position)
                continue
            quote = data.find(b'"', position)
            self._keep(data[position : len(data) if quote < 0 else quote])
            if quote < 0:
                return
            self._in_string, position = True, quote + 1

    def finish(self) -> ScannedAnswer:
        """The answer read; raises MalformedAnswer when it ended inside a string."""
        if self._in_string or self._pending:
            self.close()
            raise MalformedAnswer("the answer ends inside a string", 200)
        return ScannedAnswer(bytes(self._skeleton), self._spools)

    def close(self) -> None:
        """Free every spool (after a failure)."""
        for spool in self._spools:
            spool.close()
        if self._long is not None and self._long.spool is not None:
            self._long.spool.close()

    def _scan_string(self, data: bytes, position: int) -> int:
        """Read string content from `position`; returns where scanning goes on (past the closing quote, or the end)."""
        while True:
            end = _stop(data, position)
            literal = data[position:end]
            self._add(literal, literal)
            if end == len(data):
                return end
            if data[end] == ord('"'):
                self._end_string()
                return end + 1
            if (escape := _escape(data, end)) is None:
                self._pending = data[end:]  # the rest of the escape is in the next chunk
                return len(data)
            decoded, size = escape
            self._add(data[end : end + size], decoded)
            position = end + size

    def _add(self, raw: bytes, decoded: bytes) -> None:
        if self._long is not None:
            self._long.add(decoded)
            self._check_size(self._long.text_size)
            return
        self._raw += raw
        self._text += decoded
        if len(self._raw) > LONG_STRING:
            self._long = _LongString(bytes(self._text))
            self._raw, self._text = bytearray(), bytearray()

    def _end_string(self) -> None:
        self._in_string = False
        if self._long is None:
            self._keep(b'"' + self._raw + b'"')
            self._raw, self._text = bytearray(), bytearray()
            return
        long, self._long = self._long, None
        if long.spool is not None:
            self._spools.append(long.spool)
        self._keep(long.finish(len(self._spools) - 1))

    def _keep(self, text: bytes) -> None:
        self._skeleton += text
        self._check_size(0)

    def _check_size(self, extra: int) -> None:
        if len(self._skeleton) + extra > SKELETON_LIMIT:
            raise MalformedAnswer(f"the answer holds more than {SKELETON_LIMIT} bytes besides its images", 200)


def _stop(data: bytes, start: int) -> int:
    """Where literal string text from `start` ends: at a quote or a backslash, else at the end of `data`."""
    quote = data.find(b'"', start)
    end = len(data) if quote < 0 else quote
    backslash = data.find(b"\\", start, end)  # both by memchr: far quicker than a regex over a chunk
    return end if backslash < 0 else backslash


def _escape(data: bytes, start: int) -> tuple[bytes, int] | None:
    """The escape at `data[start]` (a backslash), decoded, and its length; None when `data` ends inside it."""
    kind = data[start + 1 : start + 2]
    if not kind:
        return None
    if (simple := _ESCAPES.get(kind)) is not None:
        return simple, 2
    if kind != b"u":
        raise MalformedAnswer("the answer has an invalid escape in a string", 200)
    if len(data) < start + 6:
        return None
    code = _hex(data[start + 2 : start + 6])
    if 0xD800 <= code < 0xDC00:  # the high half of a surrogate pair: the low half follows as \uXXXX
        if len(data) < start + 12:
            return None
        if data[start + 6 : start + 8] != b"\\u":
            raise MalformedAnswer("the answer has an unpaired surrogate in a string", 200)
        if not 0xDC00 <= (low := _hex(data[start + 8 : start + 12])) < 0xE000:
            raise MalformedAnswer("the answer has an unpaired surrogate in a string", 200)
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        return chr(code).encode("utf-8", "replace"), 12
    return chr(code).encode("utf-8", "surrogatepass"), 6


def _hex(digits: bytes) -> int:
    if _HEX.fullmatch(digits) is None:
        raise MalformedAnswer("the answer has an invalid escape in a string", 200)
    return int(digits, 16)
