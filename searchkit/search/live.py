"""Searchers for a long-running server: every request answers from one published version of the index.

One pool, whichever the engine: before each request, the searcher it takes asks its backend whether
a newer version has been published (the Whoosh index's ``CURRENT`` pointer, one small read; a round
trip to each shard) and, if so, is closed with every idle searcher of its version, and the request
opens the new one. A searcher of an old version still serving a request is closed as soon as that
request ends. A searcher serves one request at a time (a Whoosh searcher must not serve two threads
at once), so the pool keeps one per request in flight: a slow query never makes another wait. The
searchers of one generation share the arrays they read from it and its columns
(:mod:`searchkit.engines.whoosh.cache`), released with the generation's last searcher.

A searcher whose request failed for another reason than the query (a shard error, say) is dropped,
not reused: its connections may be dead, and the next request opens a fresh one, so queries work
again as soon as the shard server is back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from searchkit.engines.backend import open_backend
from searchkit.errors import QueryError
from searchkit.search.ranking import Weights
from searchkit.search.searcher import Searcher

if TYPE_CHECKING:
    from searchkit.engines.xapian.connection import Shard


class LiveIndex:
    """Hands out searchers on the index's current version (the Whoosh index in ``index_dir``, or the
    ``shards``), one request at a time each."""

    def __init__(
        self,
        index_dir: Path | str | None = None,
        weights: Weights | None = None,
        *,
        shards: Sequence[Shard] | None = None,
        cache: Path | str | None = None,
        cache_mb: float | None = None,
    ):
        self.index_dir = Path(index_dir) if index_dir is not None else None
        # The bound of each generation's posting cache, shared by the pool's searchers of it (None: the default).
        self.cache_mb = cache_mb
        self.weights = weights
        self.shards = list(shards) if shards else None
        self.cache = cache
        self._lock = threading.Lock()
        self._idle: list[Searcher] = []
        # The version of the searcher opened last: one of an older version is not kept once its request ends.
        self._latest: str | None = None
        self.opened = 0
        self.closed = 0

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """A searcher on the current version for the length of one request.

        Raises :class:`~searchkit.errors.IndexMissingError` (or its subclass for a damaged index)
        while there is no index to search, a ``ShardError`` while a shard is unreachable.
        """
        found = self._take()
        try:
            if found is None:
                found = self._open()
                with self._lock:
                    self.opened += 1
                    self._latest = found.generation
            yield found
        except QueryError:
            self._give_back(found)  # the query was at fault, not the searcher
            raise
        except BaseException:
            if found is not None:
                self._close([found])
            raise
        self._give_back(found)

    def _open(self) -> Searcher:
        w = self.weights or Weights()
        backend = open_backend(
            self.index_dir, self.shards, cache=self.cache, k1=w.k1, b=w.b, cache_mb=self.cache_mb
        )
        return Searcher(self.index_dir, self.weights, shards=self.shards, cache=self.cache, backend=backend)

    def open_searchers(self) -> int:
        """How many searchers are open now (idle or in use)."""
        with self._lock:
            return self.opened - self.closed

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        self._close(idle)

    def _take(self) -> Searcher | None:
        with self._lock:
            found = self._idle.pop() if self._idle else None
        if found is None:
            return None
        try:
            current = found.is_current()
        except Exception:  # a shard unreachable: the request opens anew and says why
            current = False
        if current:
            return found
        # A newer version: this searcher and the idle ones (as old, or older) are done with.
        with self._lock:
            idle, self._idle = self._idle, []
        self._close([found, *idle])
        return None

    def _give_back(self, searcher: Searcher | None) -> None:
        if searcher is None:
            return
        with self._lock:
            # A searcher of an older version than the last opened belongs to no request to come.
            if searcher.generation == self._latest:
                self._idle.append(searcher)
                return
        self._close([searcher])

    def _close(self, searchers: list[Searcher]) -> None:
        for searcher in searchers:
            try:
                searcher.close()
            except Exception:  # a connection already broken: nothing left to close
                pass
        with self._lock:
            self.closed += len(searchers)
