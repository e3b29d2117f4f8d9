"""The Whoosh index as a :class:`searchkit.engines.backend.Backend`: one generation, open and kept warm.

Every answer comes from the generation that was current when the backend opened: builds publish
new generations beside it and never change it. Queries run on :class:`~searchkit.engines.whoosh.execute.Executor`
(arrays of whole posting lists), filters and facets on :class:`~searchkit.engines.columns.Columns`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from whoosh import scoring

from searchkit.engines import compiled as cq
from searchkit.engines import fields as f
from searchkit.engines.budget import Deadline
from searchkit.engines.columns import Columns
from searchkit.engines.compiled import Levels
from searchkit.engines.filters import RELEVANCE, Facets, Filters
from searchkit.engines.whoosh import cache, generations
from searchkit.engines.whoosh.columns import read_columns
from searchkit.engines.whoosh.execute import Executor
from searchkit.engines.whoosh.matches import Matches, top
from searchkit.errors import IndexDamagedError, SearchkitError


@dataclass(frozen=True)
class WhooshFound:
    """What a query matched: every document, with its score, as arrays."""

    matches: Matches
    facets: Facets | None = None
    exact: bool = True

    @property
    def total(self) -> int:
        return len(self.matches)


class WhooshBackend:
    """One generation of the Whoosh index in ``index_dir``, ranked by BM25F with ``k1`` and ``b``.

    The arrays it reads and its columns are shared with the other backends open on the same generation
    in this process (:mod:`searchkit.engines.whoosh.cache`): its posting cache holds at most ``cache_mb``
    megabytes (by default :data:`~searchkit.engines.whoosh.cache.DEFAULT_CACHE_MB`; 0: none), shared by
    those asking for the same bound.
    """

    def __init__(self, index_dir: Path | str, *, k1: float = 1.2, b: float = 0.75, cache_mb: float | None = None):
        self.index_dir = Path(index_dir)
        self.generation, index = generations.open_current(self.index_dir)
        # What a failed read found, once per backend: a damaged index fails every request, and
        # each must not hash the whole generation again.
        self._verdict: tuple[IndexDamagedError | None] | None = None
        try:
            self.searcher = index.searcher(weighting=scoring.BM25F(B=b, K1=k1))
        except Exception as exc:  # a segment Whoosh cannot read
            raise generations.damaged(self.index_dir, f"{type(exc).__name__}: {exc}") from exc
        self._columns: Columns | None = None
        self.shared: cache.Shared | None = cache.acquire(self.generation.path, k1, b, cache_mb)
        self.executor = Executor(self.searcher, self.shared.postings)
        # What restoration looked up in the spelling counts, shared as they are.
        self.looked_up = self.shared.looked_up
        try:
            with self.reading():
                self.spellings = self.shared.spellings(lambda: generations.open_spellings(self.generation))
        except BaseException:
            self.searcher.close()
            cache.release(self.shared)
            raise

    def version(self) -> str:
        return self.generation.name

    def is_current(self) -> bool:
        """Whether this generation is still the index's current one (one small read)."""
        return generations.pointer(self.index_dir) == self.generation.name

    def close(self) -> None:
        """Closes the searcher; the generation's last backend to close closes its spelling counts."""
        if self.shared is not None:
            cache.release(self.shared)
            self.shared = None
        self.searcher.close()

    def damage(self, exc: Exception) -> IndexDamagedError | None:
        """The damage in this generation that made a read fail with ``exc``; None when its files are
        as their build wrote them (:func:`searchkit.engines.whoosh.generations.explain`)."""
        if self._verdict is None:
            self._verdict = (generations.explain(self.index_dir, self.generation, exc),)
        return self._verdict[0]

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Whatever a damaged file makes the readers raise (a pickle, zlib, struct or SQLite error, a
        key or value Whoosh cannot find...) comes out as one :class:`IndexDamagedError` naming the file;
        a fault of the code is raised as it is."""
        try:
            yield
        except SearchkitError:
            raise
        except Exception as exc:
            damage = self.damage(exc)
            if damage is None:
                raise
            raise damage from exc

    def statistics(self):  # noqa: ANN201 - Whoosh's reader answers as Statistics
        return self.searcher.reader()

    def columns(self) -> Columns:
        """The metadata of every article as arrays, read on first use by one of the generation's
        backends and shared by all of them."""
        if self._columns is None:
            reader = self.searcher.reader()
            self._columns = self.shared.columns(lambda: read_columns(reader)) if self.shared else read_columns(reader)
        return self._columns

    def match(
        self, query: cq.Node | None, *, filters: Filters, facets: bool = False, deadline: Deadline | None = None
    ) -> WhooshFound:
        matches = self.executor.every_document() if query is None else self.executor.run(query, deadline=deadline)
        counted = None
        if filters.active or facets:
            kept, counted = self.columns().narrow(matches.ids, filters, facets=facets)
            matches = matches.subset(kept)
        return WhooshFound(matches, counted)

    def overlaps(self, found: WhooshFound, query: cq.Node, deadline: Deadline | None = None) -> bool:
        return self.executor.holds_any(query, found.matches.ids, deadline=deadline)

    def ranked(
        self,
        found: WhooshFound,
        *,
        sort: str,
        levels: Levels = (),
        rescore=None,  # noqa: ANN001 - (depth, bonuses), see Backend.ranked
        first: int = 0,
        count: int = 10,
        deadline: Deadline | None = None,
    ) -> list[tuple[int, float]]:
        matches = found.matches
        if sort != RELEVANCE:
            order = self.columns().by_date(matches.ids, matches.scores, first + count, sort)
            return [(int(matches.ids[i]), float(matches.scores[i])) for i in order][first:]
        if rescore is not None and len(matches):
            depth, bonuses = rescore
            best = np.argsort(-matches.scores, kind="stable")[:depth]
            gained = bonuses([(int(matches.ids[n]), float(matches.scores[n])) for n in best.tolist()])
            placed = matches.scores.copy()
            placed[best] += gained
            matches = Matches(matches.ids, placed)
        tiers = self.executor.tiers(matches, levels, deadline=deadline, keep=first + count)
        return top(matches, first + count, tiers)[first:]

    def sharing(
        self, terms: Sequence[tuple[str, str]], count: int, deadline: Deadline | None = None
    ) -> list[tuple[int, float, frozenset[int]]]:
        parts = [cq.Term(name, text) for name, text in terms]
        matches = self.executor.run(cq.Or(tuple(parts)), deadline=deadline)
        holders = [self.executor.run(part, deadline=deadline).ids for part in parts]
        return [
            (doc, score, frozenset(i for i, ids in enumerate(holders) if _holds(ids, doc)))
            for doc, score in top(matches, count)
        ]

    def stored(self, doc: int) -> dict:
        return self.searcher.stored_fields(doc)

    def find(self, doc_id: str) -> int | None:
        return self.searcher.document_number(**{f.ID: doc_id})

    def has_dates(self) -> bool:
        days = self.columns().days[self.executor.every_document().ids]
        return bool((days != f.NO_DAY).any())


def _holds(ids: np.ndarray, docnum: int) -> bool:
    """Whether the sorted document numbers ``ids`` hold ``docnum``."""
    at = int(np.searchsorted(ids, docnum))
    return at < len(ids) and int(ids[at]) == docnum

