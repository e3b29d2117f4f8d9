"""The Xapian shards as a :class:`searchkit.engines.backend.Backend`: every shard open as one database.

The compiled query is written in Xapian's operators (:mod:`searchkit.engines.xapian.query`);
Xapian weighs it with BM25 over every shard's statistics at once, on the client, and each shard
server returns its best documents. Filters are Xapian's values and terms; facets are counted by
:class:`searchkit.engines.columns.Columns`, as on the embedded index, over the documents' data read
once per version. The version is named by the shards' statistics, which change with every build.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from searchkit.engines import compiled as cq
from searchkit.engines import fields as f
from searchkit.engines.budget import Deadline, check
from searchkit.engines.columns import Columns
from searchkit.engines.compiled import Levels
from searchkit.engines.filters import NEWEST, OLDEST, RELEVANCE, Facets, Filters, value_key
from searchkit.engines.spellings import LookedUp
from searchkit.engines.xapian import statistics
from searchkit.engines.xapian.connection import Shard, guarded, open_one, open_reader, xapian
from searchkit.engines.xapian.query import term, to_xapian
from searchkit.engines.xapian.terms import (
    MAX_TERM_BYTES,
    PREFIX,
    SLOT_DAY,
    SLOT_OLDEST,
    SOURCE_PREFIX,
    TAG_PREFIX,
    id_term,
    read_stored,
)
from searchkit.text.dates import day_number

# Matches counted exactly before Xapian estimates the total.
CHECK_AT_LEAST = 10_000
# The tiers of a keyword query become weights added to its matches: a clause of a level weighs
# TIER_WEIGHT times TIER_BASE to the power of the number of levels below it, which orders the
# levels before any BM25 score while each level counts up to TIER_BASE - 1 clauses.
TIER_WEIGHT = 1e4
TIER_BASE = 16


@dataclass
class XapianFound:
    """What a query matched under the filters: the Xapian query, and its count once a search has run."""

    query: object
    facets: Facets | None = None
    counted: tuple[int, bool] | None = None
    backend: XapianBackend | None = None

    @property
    def total(self) -> int:
        return self._count()[0]

    @property
    def exact(self) -> bool:
        return self._count()[1]

    def _count(self) -> tuple[int, bool]:
        if self.counted is None:
            assert self.backend is not None
            self.counted = _counted(self.backend.enquire(self.query).get_mset(0, 0, CHECK_AT_LEAST))
        return self.counted


class XapianBackend:
    """The ``shards``, open as one database; their summed accent statistics kept in ``cache``."""

    def __init__(self, shards: list[Shard], cache: Path | str, *, k1: float = 1.2, b: float = 0.75):
        self.shards = shards
        self.cache = Path(cache)
        self.k1, self.b = k1, b
        xapian()  # the bindings, or the one-line error saying they are missing
        self._db = open_reader(self.shards)
        singles = [open_one(shard) for shard in self.shards]
        try:
            with guarded(self.shards):
                self.spellings, self._name = statistics.summed(singles, self.cache)
        except BaseException:
            self._db.close()
            raise
        finally:
            for single in singles:
                single.close()
        self._columns: Columns | None = None
        self.looked_up: LookedUp = LookedUp()  # this backend's own, as its summed counts are
        self._ratios: dict[str, float] = {}
        # The data of the documents of the last ranking, read with them.
        self._data: dict[int, dict] = {}

    def version(self) -> str:
        return self._name

    def is_current(self) -> bool:
        """Whether no build has committed to any shard since this backend opened (a round trip to each)."""
        with guarded(self.shards):
            return not self._db.reopen()

    def close(self) -> None:
        self._db.close()
        self.spellings.close()

    def damage(self, exc: Exception) -> None:
        """No damage to name: the shards' files are their servers', whose errors are told apart where
        they are called (``guarded``)."""
        return None

    @contextmanager
    def reading(self) -> Iterator[None]:
        with guarded(self.shards):
            yield

    def idf_ratio(self, text: str) -> float:
        """How much a term's weight is multiplied by for Xapian's BM25 to weigh it with the embedded
        index's idf (Whoosh's ``log(N / (n + 1)) + 1``) instead of its own: with Xapian's, a term in
        most articles weighs almost nothing, and the rarer fields (the title) decide the order."""
        found = self._ratios.get(text)
        if found is None:
            n, total = self._db.get_termfreq(text), self._db.get_doccount()
            found = 1.0
            if n and total:
                ours = math.log(total / (n + 1)) + 1
                # Xapian 1.4's BM25Weight: (N - n + 0.5) / (n + 0.5), raised when below 2.
                odds = (total - n + 0.5) / (n + 0.5)
                theirs = math.log(odds if odds >= 2 else odds * 0.5 + 1)
                found = ours / theirs if theirs > 0 else 1.0
            self._ratios[text] = found
        return found

    def statistics(self) -> _Statistics:
        return _Statistics(self._db)

    def enquire(self, query):  # noqa: ANN001, ANN201
        """A Xapian enquiry for ``query``, ranked by BM25 with this backend's weights."""
        bindings = xapian()
        enquire = bindings.Enquire(self._db)
        enquire.set_weighting_scheme(bindings.BM25Weight(self.k1, 0.0, 0.0, self.b, 0.0))
        enquire.set_query(query)
        return enquire

    def match(
        self, query: cq.Node | None, *, filters: Filters, facets: bool = False, deadline: Deadline | None = None
    ) -> XapianFound:
        Query = xapian().Query
        matched = Query.MatchAll if query is None else to_xapian(query, self.idf_ratio)
        narrowing = _filter(filters)
        narrowed = matched if narrowing is None else Query(Query.OP_FILTER, matched, narrowing)
        found = XapianFound(narrowed, backend=self)
        if facets:
            # Every match under no filter, as document numbers: the facets are counted over them by
            # the same code as the embedded index's, so both count alike.
            everything = Query(Query.OP_SCALE_WEIGHT, matched, 0.0)
            mset = self.enquire(everything).get_mset(0, max(self._db.get_doccount(), 1))
            check(deadline)
            ids = np.sort(np.fromiter((item.docid for item in mset), dtype=np.int64))
            kept, found.facets = self.columns().narrow(ids, filters, facets=True)
            found.counted = (int(kept.sum()), True)
        return found

    def overlaps(self, found: XapianFound, query: cq.Node, deadline: Deadline | None = None) -> bool:
        Query = xapian().Query
        mset = self.enquire(Query(Query.OP_FILTER, found.query, to_xapian(query, self.idf_ratio))).get_mset(0, 1)
        check(deadline)
        return len(mset) > 0

    def ranked(
        self,
        found: XapianFound,
        *,
        sort: str,
        levels: Levels = (),
        rescore=None,  # noqa: ANN001 - (depth, bonuses), see Backend.ranked
        first: int = 0,
        count: int = 10,
        deadline: Deadline | None = None,
    ) -> list[tuple[int, float]]:
        Query = xapian().Query
        query = found.query
        if levels and sort == RELEVANCE:
            query = Query(Query.OP_OR, query, Query(Query.OP_FILTER, self._tier_weights(levels), query))
        depth = rescore[0] if rescore is not None and sort == RELEVANCE and first < rescore[0] else 0
        best = self._mset(query, sort, 0 if depth else first, max(depth, first + count) if depth else count, found)
        check(deadline)
        if not depth:
            return best
        # A question's best matches placed again by their passages, as on the embedded index.
        gained = rescore[1](best[:depth])
        placed = [(doc, score + bonus) for (doc, score), bonus in zip(best[:depth], gained, strict=True)]
        placed = sorted(placed, key=lambda hit: -hit[1]) + best[depth:]
        return placed[first : first + count]

    def _mset(self, query, sort: str, first: int, count: int, found: XapianFound) -> list[tuple[int, float]]:  # noqa: ANN001
        enquire = self.enquire(query)
        if sort == NEWEST:
            enquire.set_sort_by_value_then_relevance(SLOT_DAY, True)
        elif sort == OLDEST:
            enquire.set_sort_by_value_then_relevance(SLOT_OLDEST, False)
        mset = enquire.get_mset(first, count, CHECK_AT_LEAST)
        if found.counted is None:
            found.counted = _counted(mset)
        self._data = {item.docid: read_stored(item.document.get_data()) for item in mset}
        return [(item.docid, item.weight) for item in mset]

    def _tier_weights(self, levels: Levels):  # noqa: ANN202
        """The weights the tiers of a keyword query add (see :data:`TIER_WEIGHT`)."""
        bindings = xapian()
        Query = bindings.Query
        weights = []
        for below, clauses in enumerate(reversed(levels)):
            for clause in clauses:
                marker = Query(bindings.FixedWeightPostingSource(TIER_WEIGHT * TIER_BASE**below))
                weights.append(Query(Query.OP_FILTER, marker, to_xapian(clause, self.idf_ratio)))
        return Query(Query.OP_OR, weights)

    def sharing(
        self, terms: Sequence[tuple[str, str]], count: int, deadline: Deadline | None = None
    ) -> list[tuple[int, float, frozenset[int]]]:
        Query = xapian().Query
        written = [PREFIX[name] + text for name, text in terms]
        enquire = self.enquire(Query(Query.OP_OR, [term(Query, t) for t in written]))
        position = {t: i for i, t in enumerate(written)}
        found = []
        for item in enquire.get_mset(0, count):
            held = {position[t] for t in map(_text, enquire.matching_terms(item)) if t in position}
            found.append((item.docid, item.weight, frozenset(held)))
        check(deadline)
        return found

    def stored(self, doc: int) -> dict:
        if doc in self._data:
            return self._data[doc]
        return read_stored(self._db.get_document(doc).get_data())

    def find(self, doc_id: str) -> int | None:
        for posting in self._db.postlist(id_term(doc_id)):
            if self.stored(posting.docid).get(f.ID) == doc_id:
                return posting.docid
        return None

    def has_dates(self) -> bool:
        return self._db.get_value_freq(SLOT_DAY) > 0

    def columns(self) -> Columns:
        """Every document's day, source and tags, from its data (read once per version)."""
        if self._columns is None:
            size = self._db.get_lastdocid() + 1
            days = np.zeros(size, dtype=np.int32)
            live = np.zeros(size, dtype=bool)
            sources, tags = _Distinct(size), _Distinct(size)
            for posting in self._db.postlist(""):
                doc = posting.docid
                data = self.stored(doc)
                live[doc] = True
                if data.get(f.DATE):
                    days[doc] = day_number(date.fromisoformat(data[f.DATE]))
                sources.add(doc, data.get(f.SOURCE) or "")
                tags.add(doc, f.TAG_SEPARATOR.join(data.get(f.TAGS) or ()))
            self._columns = Columns(days, live, sources.columns(), tags.columns())
        return self._columns


class _Distinct:
    """A text column as its distinct texts and, per document, which it holds (the first: none)."""

    def __init__(self, size: int):
        self.numbers: dict[str, int] = {"": 0}
        self.of_doc = np.zeros(size, dtype=np.int64)

    def add(self, doc: int, text: str) -> None:
        self.of_doc[doc] = self.numbers.setdefault(text, len(self.numbers))

    def columns(self) -> tuple[list[str], np.ndarray]:
        return list(self.numbers), self.of_doc


class _Statistics:
    """The combined database's term statistics (see :class:`searchkit.engines.backend.Statistics`)."""

    def __init__(self, db):  # noqa: ANN001
        self.db = db

    def doc_count(self) -> int:
        return self.db.get_doccount()

    def doc_frequency(self, fieldname: str, text: str) -> int:
        term = PREFIX[fieldname] + text
        return self.db.get_termfreq(term) if len(term.encode("utf-8")) <= MAX_TERM_BYTES else 0

    def frequency(self, fieldname: str, text: str) -> float:
        term = PREFIX[fieldname] + text
        return float(self.db.get_collection_freq(term)) if len(term.encode("utf-8")) <= MAX_TERM_BYTES else 0.0


def _counted(mset) -> tuple[int, bool]:  # noqa: ANN001
    """How many documents match (Xapian's estimate past CHECK_AT_LEAST), and whether that is exact."""
    return mset.get_matches_estimated(), mset.get_matches_lower_bound() == mset.get_matches_upper_bound()


def _text(term: str | bytes) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _filter(filters: Filters):  # noqa: ANN202
    """The filters as a Xapian query that only narrows, or None when there are none."""
    if not filters.active:
        return None
    bindings = xapian()
    Query = bindings.Query
    parts = []
    if filters.dated:
        low = bindings.sortable_serialise(day_number(filters.since)) if filters.since else ""
        high = bindings.sortable_serialise(day_number(filters.until)) if filters.until else ""
        if filters.since and filters.until:
            parts.append(Query(Query.OP_VALUE_RANGE, SLOT_DAY, low, high))
        elif filters.since:
            parts.append(Query(Query.OP_VALUE_GE, SLOT_DAY, low))
        else:
            parts.append(Query(Query.OP_VALUE_LE, SLOT_DAY, high))
    for prefix, values in ((SOURCE_PREFIX, filters.sources), (TAG_PREFIX, filters.tags)):
        if values:
            parts.append(Query(Query.OP_OR, [term(Query, prefix + value_key(v)) for v in values]))
    return Query(Query.OP_AND, parts)
