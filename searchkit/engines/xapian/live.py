"""Searchers on the shards for a long-running server, as :class:`searchkit.engines.whoosh.live.LiveIndex` hands out
searchers on the embedded index.

A searcher serves one request at a time. Before each request it asks the shards whether a build
has committed since it opened (one round trip to each) and if so reopens them. A searcher whose
request failed on a shard error is dropped, not reused: its connections may be dead, and the next
request opens fresh ones, so queries work again as soon as the shard server is back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from searchkit.engines.xapian.connection import Shard
from searchkit.engines.xapian.search import ShardSearcher
from searchkit.errors import QueryError
from searchkit.search.ranking import Weights


class ShardLive:
    """Hands out :class:`ShardSearcher` objects on ``shards``, one request at a time each."""

    def __init__(self, shards: list[Shard], cache: Path | str, weights: Weights | None = None):
        self.shards = shards
        self.cache = Path(cache)
        self.weights = weights
        self._lock = threading.Lock()
        self._idle: list[ShardSearcher] = []

    @contextmanager
    def searcher(self) -> Iterator[ShardSearcher]:
        """A searcher on the shards' latest commits; :class:`ShardError` while a shard is unreachable."""
        with self._lock:
            found = self._idle.pop() if self._idle else None
        try:
            if found is None:
                found = ShardSearcher(self.shards, self.cache, self.weights)
            else:
                found.refresh()
            yield found
        except QueryError:
            self._give_back(found)  # the query was at fault, not the connections
            raise
        except BaseException:
            if found is not None:
                _close_quietly(found)
            raise
        self._give_back(found)

    def _give_back(self, searcher: ShardSearcher) -> None:
        with self._lock:
            self._idle.append(searcher)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for searcher in idle:
            _close_quietly(searcher)


def _close_quietly(searcher: ShardSearcher) -> None:
    try:
        searcher.close()
    except Exception:  # a connection already broken: nothing left to close
        pass
