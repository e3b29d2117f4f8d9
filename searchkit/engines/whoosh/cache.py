"""What the searchers of one open generation share: its posting arrays, bounded in bytes, and its columns.

A server answers each request thread from a searcher of its own (a Whoosh searcher must not serve
two threads at once), but the arrays they read from the index are the generation's, the same for
all of them: a term's documents and scores, a phrase's matches, a segment's field lengths and
positions, the metadata columns. Kept per searcher, a worker with eight request threads holds each
common syllable's arrays eight times over. Here a generation's searchers share one
:class:`Shared` (one per index folder, generation and BM25 parameters, in this process), which
is dropped when the last of them closes, so a new build's searchers start afresh and the old
generation's arrays are released with its last searcher.

The posting cache evicts the least recently used entries by their size in bytes, not their number:
a common syllable's scores are tens of kilobytes at ten thousand articles and megabytes at a million,
a rare one's a few bytes (cachetools' ``LRUCache`` with ``getsizeof``). An entry's size is what it holds
as Python objects (:func:`entry_size`): its arrays' contents and headers, its tuples, its key and the
cache's bookkeeping, so that a bound of N megabytes is about N megabytes of the worker's memory.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import numpy as np
from cachetools import LRUCache

from searchkit.engines.columns import Columns
from searchkit.engines.spellings import LookedUp, SpellingCounts

# The default bound of a generation's posting cache. After 3,000 distinct title queries over 10,000 news
# articles from 8 clients, a worker held 329 to 331 MB resident with 128 MiB at the processor time a request of
# the code before the memory work (1.02x and 1.05x at 8 clients, which held 875 MB); 96 MiB held 291 MB at
# 1.44x that time (docs/serving.md): 128 keeps the speed, 96 keeps a worker under 300 MB. With the terms'
# scores and the blocks' positions kept compact and the postings read rather than mapped, 128 held 308 MB,
# 112 298 MB in one run on a loaded machine. With documents in two bytes and frequencies in one, and each
# entry counted by what it holds, the 3,000 queries' entries take 95.5 MB, none evicted, and a worker holds
# 279 MB at 128 (docs/serving.md); full, 128 is some 300 to 310 MB a worker (112 keeps it under 300).
DEFAULT_CACHE_MB = 128
# What an entry costs besides its value: its key's tuple (64 to 80 bytes: the kind of entry, a segment, a field,
# a term, a block's number) and cachetools' bookkeeping (its place in the LRU order and in the dicts of entries
# and of sizes, some 160 bytes by tracemalloc as the tables fill between two resizes). The 600 counted before
# undercounted a block (some 750 bytes with its arrays' headers) and overcounted a rare term kept as a Matches.
ENTRY_OVERHEAD = 240
# An array's header (NumPy's own object, whatever its contents).
_ARRAY = sys.getsizeof(np.empty(0))

_default_mb: float = DEFAULT_CACHE_MB


def set_default_cache_mb(megabytes: float) -> None:
    """The bound of the posting caches opened from now on in this process without one of their own
    (``searchkit serve --cache-mb``); 0 turns caching off."""
    global _default_mb
    if megabytes < 0:
        raise ValueError("a cache's bound cannot be negative")
    _default_mb = megabytes


def default_cache_mb() -> float:
    return _default_mb


def size_of(value: Any) -> int:
    """The bytes an entry's value holds: its arrays' contents and headers, its strings, its tuples (a
    block, a term's layout of positions) and a ``Matches``, counted by what Python and NumPy allocate."""
    if value is None:
        return 0  # one object, shared
    if isinstance(value, np.ndarray):
        return _ARRAY + value.nbytes
    if isinstance(value, (bytes, bytearray, str, int, float)):
        return sys.getsizeof(value)
    if isinstance(value, (tuple, list)):
        return sys.getsizeof(value) + sum(size_of(part) for part in value)
    arrays = getattr(value, "ids", None), getattr(value, "scores", None)
    if isinstance(arrays[0], np.ndarray):  # Matches
        return sys.getsizeof(value) + sum(size_of(part) for part in arrays)
    return 0  # a decoder function: shared by every entry of its field


def entry_size(value: Any) -> int:
    """The bytes an entry holds in the cache: its value's (:func:`size_of`) and :data:`ENTRY_OVERHEAD`. The
    strings in a key are other objects' too: the kind of entry and a field's name are the same in every key,
    a segment's name is interned by :mod:`.postings`, and a term's text is the query's analysis's (kept in its
    caches) and shared by the term's keys."""
    return ENTRY_OVERHEAD + size_of(value)


class PostingCache:
    """Entries read from one generation's postings, shared by threads, at most ``max_bytes`` in all
    (:func:`entry_size` each), the least recently used evicted first."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max(int(max_bytes), 0)
        # cachetools sizes a value as it is set: :meth:`put` has sized it already, under the lock, to know
        # whether it fits, and hands that size on (sizing an entry took half the bookkeeping's time).
        self._sizing = 0
        self._entries: LRUCache = LRUCache(maxsize=self.max_bytes, getsizeof=lambda value: self._sizing)
        self._lock = threading.Lock()
        # Entries read from the index rather than found here (what a test of the sharing counts).
        self.reads = 0

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: Hashable, value: Any) -> Any:
        """Keeps ``value`` under ``key`` (evicting the least recently used entries to make room) and
        returns it; a value larger than the whole bound is returned without being kept."""
        with self._lock:
            self.reads += 1
            self._sizing = entry_size(value)
            if self._sizing <= self.max_bytes:
                self._entries[key] = value
        return value

    def discard(self, key: Hashable) -> None:
        """Lets the entry under ``key`` go, if it is held (one kept in another form instead)."""
        with self._lock:
            self._entries.pop(key, None)

    @property
    def size(self) -> int:
        """The bytes held now (by :func:`entry_size`)."""
        with self._lock:
            return int(self._entries.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def keys(self) -> list[Hashable]:
        """The keys held now."""
        with self._lock:
            return list(self._entries.keys())


class Shared:
    """One open generation's posting cache, columns and spelling counts, shared by its searchers in
    this process, with what accent restoration has looked up in those counts."""

    def __init__(self, key: tuple, max_bytes: int):
        self.key = key
        self.postings = PostingCache(max_bytes)
        self.users = 0
        self._columns: Columns | None = None
        self._columns_lock = threading.Lock()
        self.columns_reads = 0
        # One connection to the generation's spelling counts, not one (and its page cache) per searcher.
        self._spellings: SpellingCounts | None = None
        # The counts restoration and correction have read from them (searchkit.search.restoration), bounded.
        self.looked_up: LookedUp = LookedUp()

    def spellings(self, open_counts: Callable[[], SpellingCounts]) -> SpellingCounts:
        """The generation's spelling counts, opened by ``open_counts`` once, closed with the last release."""
        with self._columns_lock:
            if self._spellings is None:
                self._spellings = open_counts()
            return self._spellings

    def close(self) -> None:
        """Closes the spelling counts (the last searcher's release does it)."""
        with self._columns_lock:
            spellings, self._spellings = self._spellings, None
        if spellings is not None:
            spellings.close()

    def columns(self, read: Callable[[], Columns]) -> Columns:
        """The generation's columns, read by ``read`` once, whichever searcher asks first."""
        with self._columns_lock:
            if self._columns is None:
                self._columns = read()
                self.columns_reads += 1
            return self._columns


_lock = threading.Lock()
_open: dict[tuple, Shared] = {}


def acquire(generation_dir: Path, k1: float, b: float, cache_mb: float | None = None) -> Shared:
    """What the searchers of the generation in ``generation_dir`` scored with ``k1`` and ``b`` share,
    opened by the first of them: a posting cache of at most ``cache_mb`` megabytes (by default
    :func:`default_cache_mb`). Each :func:`acquire` is paired with a :func:`release`."""
    max_bytes = int((default_cache_mb() if cache_mb is None else cache_mb) * 2**20)
    # Backends asking for another bound get a cache of their own (a test's tiny one beside a server's).
    key = (str(Path(generation_dir).resolve()), float(k1), float(b), max_bytes)
    with _lock:
        shared = _open.get(key)
        if shared is None:
            shared = _open[key] = Shared(key, max_bytes)
        shared.users += 1
        return shared


def release(shared: Shared) -> None:
    """One searcher done with ``shared``; the last one's release drops it, and its arrays with it, and
    closes its spelling counts."""
    with _lock:
        shared.users -= 1
        last = shared.users <= 0
        if last and _open.get(shared.key) is shared:
            del _open[shared.key]
    if last:
        shared.close()


def open_generations() -> list[Shared]:
    """What is shared now, one per open generation (for tests and the bench)."""
    with _lock:
        return list(_open.values())
