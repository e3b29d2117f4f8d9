"""Pages of results kept per index generation, so that a query asked again is answered without running it.

A generation never changes once published (builds write new ones beside it), so a page computed on it
stays right for as long as it is open: the cache belongs to the generation's shared reads (the Whoosh
engine's ``backend.shared``, one per generation and BM25 parameters in this process), is shared by its
searchers, and goes with it: a searcher moved to a new generation starts from an empty cache. Xapian
shards have no such generation (a shard may take documents while it is searched), so searches over them
are never cached.

A page is keyed by every argument of :meth:`Searcher.search` (the query as typed, filters, page, limit,
sort, snippets, suggestions and acronyms on or off, the budget and its clock, ...) and the searcher's
ranking weights. Callers get a copy: what one of them does to its results never reaches the next.

The bound is counted in hits, not pages: at most :data:`MAX_PAGES` pages of ten hits (a page of a
hundred counts as ten). A hit with its snippet holds about 2 KB of text and tuples, so 1,024 pages of
ten add about 20 MB to a server's worker (tests/test_result_cache.py measures it).
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from cachetools import LRUCache

if TYPE_CHECKING:
    from searchkit.search.results import SearchResults

# Pages of ten hits a generation keeps.
MAX_PAGES = 1024
# What one page counts for, per this many hits.
HITS_PER_PAGE = 10

_Method = TypeVar("_Method", bound=Callable[..., Any])


class Searcher(Protocol):
    """What the cache reads of :class:`searchkit.search.searcher.Searcher` (which imports this module)."""

    backend: Any
    weights: Hashable


def weight(results: SearchResults) -> int:
    """How many pages of :data:`HITS_PER_PAGE` hits ``results`` counts for (at least one)."""
    hits = len(results.hits) + (len(results.without.hits) if results.without is not None else 0)
    return max(1, -(-hits // HITS_PER_PAGE))


def copied(results: SearchResults) -> SearchResults:
    """A copy of ``results`` whose lists a caller may change without changing the cached page.

    Hits, snippets, acronyms and corrections are frozen, and so shared; the lists and facets are new."""
    facets = results.facets
    if facets is not None:
        facets = dataclasses.replace(facets, source=list(facets.source), tags=list(facets.tags), year=list(facets.year))
    return dataclasses.replace(
        results,
        hits=list(results.hits),
        facets=facets,
        acronyms=list(results.acronyms),
        corrected=list(results.corrected),
        without=copied(results.without) if results.without is not None else None,
    )


class ResultCache:
    """The pages of one generation, least recently used evicted first, at most ``max_pages`` in all."""

    def __init__(self, max_pages: int = MAX_PAGES):
        self._pages: LRUCache = LRUCache(maxsize=max(int(max_pages), 0), getsizeof=weight)
        self._lock = threading.Lock()
        self.hits = 0

    def get(self, key: Hashable) -> SearchResults | None:
        """A copy of the page kept under ``key``, or None."""
        with self._lock:
            found = self._pages.get(key)
            self.hits += found is not None
        return copied(found) if found is not None else None

    def put(self, key: Hashable, results: SearchResults) -> None:
        """Keeps a copy of ``results`` (a page larger than the whole bound is not kept)."""
        kept = copied(results)
        with self._lock:
            if weight(kept) <= self._pages.maxsize:
                self._pages[key] = kept

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()

    @property
    def size(self) -> int:
        """The pages of ten hits held now."""
        with self._lock:
            return int(self._pages.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pages)


_lock = threading.Lock()
# One cache per generation's shared reads, dropped with them (the last searcher of the generation closed).
_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def of(searcher: Searcher) -> ResultCache | None:
    """The result cache of the generation ``searcher`` has open; None over an engine without generations."""
    shared = getattr(searcher.backend, "shared", None)
    if shared is None:
        return None
    with _lock:
        cache = _caches.get(shared)
        if cache is None:
            cache = _caches[shared] = ResultCache()
        return cache


def cached(search: _Method) -> _Method:
    """``Searcher.search`` answering a page asked before on the same generation from its cache."""
    signature = inspect.signature(search)

    @functools.wraps(search)
    def searching(self: Searcher, *args: object, **kwargs: object) -> SearchResults:
        cache = of(self)
        if cache is None:
            return search(self, *args, **kwargs)
        started = time.perf_counter()
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        key = (self.weights, *((name, value) for name, value in bound.arguments.items() if name != "self"))
        try:
            hash(key)
        except TypeError:  # an argument no key can hold (a clock that is a bound method of a list, say)
            return search(self, *args, **kwargs)
        found = cache.get(key)
        if found is not None:
            found.seconds = time.perf_counter() - started
            return found
        results = search(self, *args, **kwargs)
        cache.put(key, results)
        return results

    return cast(_Method, searching)
