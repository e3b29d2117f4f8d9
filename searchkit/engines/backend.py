"""What a search needs from an engine: one small interface, implemented once per engine.

``searchkit.search.searcher.Searcher`` is written once against :class:`Backend`; the Whoosh index
(``searchkit.engines.whoosh.backend``) and the Xapian shards (``searchkit.engines.xapian.backend``)
are its two implementations, and :func:`open_backend` chooses between them from the options, in
one place. A backend opens one version of the index (a generation, the shards' states) and
answers from it until it is closed; :meth:`Backend.is_current` tells when a newer one is there.
Documents are named by the backend's own numbers, valid while that version is open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from searchkit.engines.budget import Deadline
from searchkit.engines.columns import Columns
from searchkit.engines.compiled import Levels, Node
from searchkit.engines.filters import Facets, Filters
from searchkit.engines.spellings import Spellings
from searchkit.engines.whoosh.backend import WhooshBackend
from searchkit.engines.whoosh.cache import DEFAULT_CACHE_MB, set_default_cache_mb

__all__ = ["DEFAULT_CACHE_MB", "Backend", "Found", "Rescore", "Statistics", "open_backend", "set_default_cache_mb"]

if TYPE_CHECKING:
    from searchkit.engines.xapian.connection import Shard

Rescore = Callable[[list[tuple[int, float]]], list[float]]
"""Given the best (document, score) pairs by score, what each gains (a question's passages)."""


class Statistics(Protocol):
    """Term statistics over the whole index (every shard at once)."""

    def doc_count(self) -> int: ...

    def doc_frequency(self, fieldname: str, text: str) -> int: ...

    def frequency(self, fieldname: str, text: str) -> float: ...


class Found(Protocol):
    """What a query matched under a search's filters: how many (``exact`` when counted, not estimated)
    and, when asked, the facets counted over them (each under the other filters)."""

    @property
    def total(self) -> int: ...

    @property
    def exact(self) -> bool: ...

    @property
    def facets(self) -> Facets | None: ...


class Backend(Protocol):
    """One open version of an index, on either engine."""

    spellings: Spellings
    # What accent restoration and correction have looked up in ``spellings``, kept while the version is
    # open, a bounded number of runs (a ``spellings.LookedUp``; shared by the version's backends where the
    # engine shares its counts).
    looked_up: dict

    def version(self) -> str:
        """The name of the version open (a generation's name, a digest of the shards' states)."""

    def is_current(self) -> bool:
        """Whether no newer version has been published since this one was opened."""

    def close(self) -> None: ...

    def reading(self) -> AbstractContextManager[None]:
        """Around every read: the engine's own failures come out as searchkit's errors (a damaged
        index, an unreachable shard)."""

    def statistics(self) -> Statistics: ...

    def match(
        self, query: Node | None, *, filters: Filters, facets: bool = False, deadline: Deadline | None = None
    ) -> Found:
        """The documents ``query`` matches (``None``: every document) under ``filters``."""

    def overlaps(self, found: Found, query: Node, deadline: Deadline | None = None) -> bool:
        """Whether any of ``found`` also matches ``query``."""

    def ranked(
        self,
        found: Found,
        *,
        sort: str,
        levels: Levels = (),
        rescore: tuple[int, Rescore] | None = None,
        first: int = 0,
        count: int = 10,
        deadline: Deadline | None = None,
    ) -> list[tuple[int, float]]:
        """(document, score) of ``found`` from ``first`` on, ``count`` of them, in the order ``sort``
        says (``filters.SORTS``). By relevance: ``rescore`` (depth, bonuses) scores the ``depth`` best
        again first, then the tiers of ``levels`` order the documents before their scores do."""

    def sharing(
        self, terms: Sequence[tuple[str, str]], count: int, deadline: Deadline | None = None
    ) -> list[tuple[int, float, frozenset[int]]]:
        """The ``count`` best documents holding any of ``terms`` (field, text), each with the positions
        in ``terms`` of those it holds."""

    def stored(self, doc: int) -> dict:
        """A document's stored fields (``fields.ID``, ``TITLE``, ``BODY``...)."""

    def find(self, doc_id: str) -> int | None:
        """The number of the document ``doc_id``, ``None`` when no article has that id."""

    def has_dates(self) -> bool:
        """Whether any document has a date."""

    def columns(self) -> Columns:
        """Every document's day, source and tags as arrays (the collectors of facets and date orders)."""

    def damage(self, exc: Exception) -> Exception | None:
        """The damage to this version's files that made a read fail with ``exc``; ``None`` for none."""


def open_backend(
    index_dir: Path | str | None = None,
    shards: Sequence[Shard] | None = None,
    *,
    cache: Path | str | None = None,
    k1: float = 1.2,
    b: float = 0.75,
    cache_mb: float | None = None,
) -> Backend:
    """The index to search: Xapian ``shards`` when given (their summed statistics kept in ``cache``,
    by default in ``index_dir``), else the Whoosh index in ``index_dir``, its generation's posting
    cache bounded by ``cache_mb`` (:class:`WhooshBackend`); BM25's ``k1`` and ``b``."""
    if shards:
        # Imported here: the Xapian bindings are an optional dependency.
        from searchkit.engines.xapian.backend import XapianBackend
        from searchkit.engines.xapian.statistics import cache_folder

        if cache is None:
            if index_dir is None:
                raise ValueError("the shards' statistics need a cache folder or an index folder")
            cache = cache_folder(index_dir)
        return XapianBackend(list(shards), cache, k1=k1, b=b)
    if index_dir is None:
        raise ValueError("no index to open: give an index folder or shards")
    return WhooshBackend(index_dir, k1=k1, b=b, cache_mb=cache_mb)
