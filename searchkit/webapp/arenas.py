"""How many malloc arenas a serving process keeps: two, not eight per core.

glibc's malloc gives each new thread an arena of its own, up to eight per core, so that threads
allocating at once do not wait for each other. A worker's eight request threads each build and drop
numpy arrays of posting lists (kilobytes to megabytes, outside Python's own small-object allocator)
and each arena keeps what its thread freed for its own later use: measured on 10,000 news articles
after 3,000 distinct queries, 33 MB of a worker's resident memory (324 MB with one arena per thread,
291 MB with two). Searching holds the interpreter's lock for most of its work, so threads rarely
allocate at the same moment and two arenas cost no throughput. ``MALLOC_ARENA_MAX`` in the
environment, where set, has the last word; other C libraries are left as they are.

What the arenas keep of freed memory stays resident until malloc reuses it: :class:`Trimming` hands
it back to the system (``malloc_trim(0)``) every :data:`TRIM_EVERY` requests.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

# Arenas a serving process keeps (glibc's M_ARENA_MAX, as MALLOC_ARENA_MAX=2 would set it).
SERVING_ARENAS = 2
_M_ARENA_MAX = -8  # from glibc's malloc.h
# Requests between two trims. A trim walks the heaps holding their locks: 16 to 100 ms here after 125 MB
# of arrays were freed, so one every 200 requests (about every 13 s at 15 requests/s) costs a worker under
# 1 % of its time, and what it frees between two trims is reused or returned soon.
TRIM_EVERY = 200


def _libc() -> Any | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def limit(arenas: int = SERVING_ARENAS) -> bool:
    """Caps the arenas malloc creates from now on (call it before the server's threads start); whether
    it could. Nothing is changed where ``MALLOC_ARENA_MAX`` is set or the C library is not glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:  # not glibc (musl, macOS, Windows)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))


def trim() -> bool:
    """Returns the free memory at the top of malloc's heaps and its whole free pages to the system
    (glibc's ``malloc_trim(0)``); whether any was. False where the C library is not glibc."""
    malloc_trim = getattr(_libc(), "malloc_trim", None)
    if malloc_trim is None:
        return False
    malloc_trim.argtypes = (ctypes.c_size_t,)
    malloc_trim.restype = ctypes.c_int
    return bool(malloc_trim(0))


class Trimming:
    """A WSGI app that calls :func:`trim` after every ``every`` requests it answered (by default
    :data:`TRIM_EVERY`)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], every: int | None = None):
        every = TRIM_EVERY if every is None else every
        if every < 1:
            raise ValueError("every must be at least 1")
        self.app = app
        self.every = every
        self._answered = 0
        self._lock = threading.Lock()

    def __call__(self, environ: dict, start_response: Callable[..., Any]) -> Iterable[bytes]:
        try:
            return self.app(environ, start_response)
        finally:
            with self._lock:
                self._answered += 1
                due = self._answered % self.every == 0
            if due:
                trim()
