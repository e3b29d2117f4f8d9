"""How many malloc arenas a serving process keeps: two, not eight per core.

glibc's malloc gives each new thread an arena of its own, up to eight per core, so that threads
allocating at once do not wait for each other. A worker's eight request threads each build and drop
numpy arrays of posting lists (kilobytes to megabytes, outside Python's own small-object allocator)
and each arena keeps what its thread freed for its own later use: measured on 10,000 news articles
after 3,000 distinct queries, 33 MB of a worker's resident memory (324 MB with one arena per thread,
291 MB with two). Searching holds the interpreter's lock for most of its work, so threads rarely
allocate at the same moment and two arenas cost no throughput. ``MALLOC_ARENA_MAX`` in the
environment, where set, has the last word; other C libraries are left as they are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

# Arenas a serving process keeps (glibc's M_ARENA_MAX, as MALLOC_ARENA_MAX=2 would set it).
SERVING_ARENAS = 2
_M_ARENA_MAX = -8  # from glibc's malloc.h


def limit(arenas: int = SERVING_ARENAS) -> bool:
    """Caps the arenas malloc creates from now on (call it before the server's threads start); whether
    it could. Nothing is changed where ``MALLOC_ARENA_MAX`` is set or the C library is not glibc."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))
