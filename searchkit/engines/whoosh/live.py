"""Searchers for a long-running server: every request answers from one published generation.

Before each request the index's ``CURRENT`` pointer is read (one small file); when a build has
published a new generation, the next request opens it, and the searchers of the old one are closed
as soon as no request uses them. A Whoosh searcher must not serve two threads at once, so each
generation keeps a pool of searchers, one per request in flight: a slow query never makes another
wait for its searcher.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from searchkit.engines.whoosh import generations
from searchkit.search.searcher import Searcher, Weights


class _Pool:
    """The searchers open on one generation: idle ones, and how many requests hold one."""

    def __init__(self, name: str):
        self.name = name
        self.idle: list[Searcher] = []
        self.busy = 0
        self.retired = False


class LiveIndex:
    """Hands out searchers on the index's current generation, one request at a time each."""

    def __init__(self, index_dir: Path | str, weights: Weights | None = None):
        self.index_dir = Path(index_dir)
        self.weights = weights
        self._lock = threading.Lock()
        self._pool: _Pool | None = None
        self.opened = 0
        self.closed = 0

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """A searcher on the current generation for the length of one request.

        Raises :class:`~searchkit.errors.IndexMissingError` (or its subclass for a damaged index)
        while there is no index to search.
        """
        pool, found = self._take()
        try:
            if found is None:
                found = Searcher(self.index_dir, self.weights)
                with self._lock:
                    self.opened += 1
            yield found
        finally:
            self._give_back(pool, found)

    def open_searchers(self) -> int:
        """How many searchers are open now (idle or in use)."""
        with self._lock:
            return self.opened - self.closed

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            if pool is not None:
                self._retire(pool)

    def _take(self) -> tuple[_Pool | None, Searcher | None]:
        name = generations.pointer(self.index_dir)
        with self._lock:
            if self._pool is None or self._pool.name != name:
                if self._pool is not None:
                    self._retire(self._pool)
                self._pool = _Pool(name) if name is not None else None
            pool = self._pool
            if pool is None:
                return None, None
            pool.busy += 1
            return pool, pool.idle.pop() if pool.idle else None

    def _give_back(self, pool: _Pool | None, searcher: Searcher | None) -> None:
        closing: list[Searcher] = []
        with self._lock:
            if pool is not None:
                pool.busy -= 1
            if searcher is not None:
                # A searcher opened just after a build published belongs to no pool: closed.
                if pool is not None and not pool.retired and searcher.generation.name == pool.name:
                    pool.idle.append(searcher)
                else:
                    closing.append(searcher)
            if pool is not None and pool.retired and pool.busy == 0:
                closing += pool.idle
                pool.idle = []
        for old in closing:
            old.close()
        with self._lock:
            self.closed += len(closing)

    def _retire(self, pool: _Pool) -> None:
        # Called with the lock held: idle searchers close now, busy ones when their request ends.
        pool.retired = True
        idle, pool.idle = pool.idle, []
        for searcher in idle:
            searcher.close()
            self.closed += 1
