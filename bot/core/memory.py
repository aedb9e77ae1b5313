"""Handing memory freed by big images back to the system.

glibc keeps what a thread frees in that thread's heap for reuse; after a 4K picture is decoded and re-encoded, a
process measured ~85 MB larger than before until `malloc_trim(0)` gave it back (with one heap per worker thread, the
kept memory adds up across threads). Where the C library has no `malloc_trim` (musl, macOS), this does nothing.
"""

import ctypes
import functools
import logging
from collections.abc import Callable
from typing import cast

log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(None)  # the C library the process already runs on
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        log.debug("no malloc_trim in this C library: freed memory is returned as it decides")
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return cast(Callable[[int], int], trim)


def release_freed_memory() -> None:
    """Return the C library's free memory to the system, where it can; takes milliseconds, so call it off the loop."""
    if (trim := _malloc_trim()) is not None:
        trim(0)
