"""Searching the shards as one database: the same query, ranking clauses and snippets as on one machine.

The text typed is understood exactly as :class:`searchkit.search.searcher.Searcher` understands it (keys,
acronyms, accent restoration, the query tree) and compiled by ``searchkit.search.ranking`` into the same
ranking query; :func:`to_xapian` writes that query with Xapian's operators, each field's terms
under its prefix (:mod:`searchkit.engines.xapian.terms`). Xapian weighs it with BM25 over every shard's
statistics at once, on the client, and each shard server returns its best documents.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

from whoosh import query as wq

from searchkit.engines import fields as f
from searchkit.engines.whoosh.execute import SpeltPhrase, prefix_terms
from searchkit.engines.xapian import statistics
from searchkit.engines.xapian.connection import Shard, guarded, open_one, open_reader, xapian
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
from searchkit.search import passages, related
from searchkit.search.filters import NEWEST, OLDEST, RELEVANCE, Filters, check_sort, value_key
from searchkit.search.highlight import Matcher
from searchkit.search.ranking import Levels, Weights
from searchkit.search.searcher import (
    RELATED,
    Document,
    Hit,
    Searcher,
    SearchResults,
    check_page,
    stored_document,
    stored_hit,
)
from searchkit.text.dates import day_number

# Matches counted exactly before Xapian estimates the total.
CHECK_AT_LEAST = 10_000
# The tiers of a keyword query become weights added to its matches: a clause of a level weighs
# TIER_WEIGHT times TIER_BASE to the power of the number of levels below it, which orders the
# levels before any BM25 score while each level counts up to TIER_BASE - 1 clauses.
TIER_WEIGHT = 1e4
TIER_BASE = 16


@dataclass(frozen=True)
class _State:
    """What a searcher has open: named by the shards' statistics, which change with every build."""

    name: str


class ShardSearcher(Searcher):
    """The shards, open as one database and kept open across queries (see :class:`Searcher`)."""

    def __init__(self, shards: list[Shard], cache: Path | str, weights: Weights | None = None):
        self.shards = shards
        self.cache = Path(cache)
        self.weights = weights or Weights()
        self._db = None
        self._open()

    def _open(self) -> None:
        db = open_reader(self.shards)
        singles = [open_one(shard) for shard in self.shards]
        try:
            with guarded(self.shards):
                self.spellings, name = statistics.summed(singles, self.cache)
        finally:
            for single in singles:
                single.close()
        self._db = db
        self.generation = _State(name)
        self._looked_up: dict = {}
        self._glossary = None
        self._syllables = None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self.spellings.close()

    def damage(self, exc: Exception) -> None:
        """No damage to name: the shards' files are their servers', whose errors are told apart where
        they are called (``guarded``)."""
        return None

    def is_current(self) -> bool:
        """Whether no build has committed to any shard since this searcher opened (a round trip to each)."""
        with guarded(self.shards):
            return not self._db.reopen()

    def refresh(self) -> None:
        if not self.is_current():
            old, counts = self._db, self.spellings
            self._open()
            old.close()
            counts.close()

    def _statistics(self) -> _Statistics:
        return _Statistics(self._db)

    def search(
        self,
        text: str,
        *,
        limit: int = 10,
        page: int = 1,
        snippets: bool = True,
        suggest: bool = True,
        acronyms: bool = True,
        budget: float | None = None,
        filters: Filters | None = None,
        sort: str | None = None,
        facets: bool = False,
    ) -> SearchResults:
        """As :meth:`Searcher.search`; ``facets`` are not counted over shards (the results hold none)."""
        check_page(limit, page)
        filters = filters or Filters()
        browsing = filters.active and not text.strip()
        sort = check_sort(sort, browsing=browsing)
        started = time.perf_counter()
        xapian()  # the bindings, or the one-line error saying they are missing
        with guarded(self.shards):
            prepared = None if browsing else self.prepared(text, suggest=suggest, acronyms=acronyms)
            total, exact, best, spelt = self._ranked(prepared, filters, sort, (page - 1) * limit, limit)
            if not total and prepared is not None and prepared.corrected is not None:
                # The statistics are the client's: the query is corrected as on one index; the corrected
                # query is searched when the query as typed finds nothing.
                prepared = replace(prepared.corrected, correction=prepared.correction, suggestion=prepared.suggestion)
                total, exact, best, spelt = self._ranked(prepared, filters, sort, (page - 1) * limit, limit)
            if not total and prepared is not None and prepared.long_keywords:
                prepared = self.prepared(text, suggest=suggest, acronyms=acronyms, question=True)
                total, exact, best, spelt = self._ranked(prepared, filters, sort, (page - 1) * limit, limit)
            matcher = prepared.matcher if prepared is not None and snippets else None
            ranks = enumerate(best, (page - 1) * limit + 1)
            hits = [self._hit(rank, data, score, matcher) for rank, (data, score) in ranks]
        return SearchResults(
            query=text,
            total=total,
            page=page,
            limit=limit,
            hits=hits,
            seconds=time.perf_counter() - started,
            # As on the embedded index: no suggestion that none of the hits spells.
            suggestion=prepared.suggestion if prepared and spelt != 0 else None,
            sort=sort,
            acronyms=prepared.acronyms if prepared else [],
            exact=exact,
            corrected=list(prepared.correction.words) if prepared and prepared.correction else [],
        )

    def _ranked(  # noqa: ANN202
        self, prepared, filters: Filters, sort: str, first: int, count: int  # noqa: ANN001
    ):
        """The total of a prepared query (``None``: browsing), whether it is exact, the ``count`` hits
        from ``first`` on, and whether any match spells the query as restored (None when nothing was)."""
        Query = xapian().Query
        query = Query.MatchAll if prepared is None else self.to_xapian(prepared.compiled)
        narrowing = _filter(filters)
        if narrowing is not None:
            query = Query(Query.OP_FILTER, query, narrowing)
        spelt = None
        if prepared is not None and prepared.spelling is not None:
            _, _, spelling = self._mset(Query(Query.OP_FILTER, query, self.to_xapian(prepared.spelling)), sort, 0, 1)
            spelt = len(spelling)
        if prepared is not None and prepared.tiers and sort == RELEVANCE:
            query = Query(Query.OP_OR, query, Query(Query.OP_FILTER, self._tier_weights(prepared.tiers), query))
        words = prepared.question_words if prepared is not None and sort == RELEVANCE else None
        if words is None or first >= self.weights.passage_depth:
            total, exact, found = self._mset(query, sort, first, count)
            return total, exact, found, spelt
        # A question's best matches placed again by their passages, as on the embedded index.
        w = self.weights
        total, exact, best = self._mset(query, sort, 0, max(w.passage_depth, first + count))
        depth = best[: w.passage_depth]
        scores = [score for _, score in depth]
        texts = [data.get(f.BODY, "") for data, _ in depth]
        gained = passages.bonuses(scores, texts, words, weight=w.passage, window=w.passage_window)
        placed = [(data, score + bonus) for (data, score), bonus in zip(depth, gained, strict=True)]
        placed = sorted(placed, key=lambda hit: -hit[1]) + best[w.passage_depth :]
        return total, exact, placed[first : first + count], spelt

    def _tier_weights(self, levels: Levels):  # noqa: ANN202
        """The weights the tiers of a keyword query add (see :data:`TIER_WEIGHT`)."""
        bindings = xapian()
        Query = bindings.Query
        weights = []
        for below, clauses in enumerate(reversed(levels)):
            for clause in clauses:
                marker = Query(bindings.FixedWeightPostingSource(TIER_WEIGHT * TIER_BASE**below))
                weights.append(Query(Query.OP_FILTER, marker, self.to_xapian(clause)))
        return Query(Query.OP_OR, weights)

    def _mset(self, query, sort: str, first: int, count: int) -> tuple[int, bool, list[tuple[dict, float]]]:  # noqa: ANN001
        """How many documents match (Xapian's estimate past CHECK_AT_LEAST), whether that is exact, and
        the ``count`` best from ``first`` on."""
        enquire = self._enquire(query)
        if sort == NEWEST:
            enquire.set_sort_by_value_then_relevance(SLOT_DAY, True)
        elif sort == OLDEST:
            enquire.set_sort_by_value_then_relevance(SLOT_OLDEST, False)
        mset = enquire.get_mset(first, count, CHECK_AT_LEAST) if count > 0 else enquire.get_mset(0, 0, CHECK_AT_LEAST)
        found = [(read_stored(item.document.get_data()), item.weight) for item in mset] if count > 0 else []
        exact = mset.get_matches_lower_bound() == mset.get_matches_upper_bound()
        return mset.get_matches_estimated(), exact, found

    def _enquire(self, query):  # noqa: ANN001, ANN202
        """A Xapian enquiry for ``query``, ranked by the searcher's BM25 weights."""
        bindings = xapian()
        enquire = bindings.Enquire(self._db)
        w = self.weights
        enquire.set_weighting_scheme(bindings.BM25Weight(w.k1, 0.0, 0.0, w.b, 0.0))
        enquire.set_query(query)
        return enquire

    def to_xapian(self, query: wq.Query):  # noqa: ANN201
        """``query`` (compiled by ``searchkit.search.ranking``) in Xapian's operators."""
        prefixes = {leaf.text for leaf in query.leaves() if isinstance(leaf, wq.Prefix)}
        return _translated(query, xapian().Query, prefix_terms(len(prefixes)))

    def _hit(self, rank: int, data: dict, score: float, matcher: Matcher | None) -> Hit:
        return stored_hit(rank, data, score, matcher)

    def _stored(self, doc_id: str) -> tuple[int, dict] | None:
        with guarded(self.shards):
            for posting in self._db.postlist(id_term(doc_id)):
                data = read_stored(self._db.get_document(posting.docid).get_data())
                if data.get(f.ID) == doc_id:
                    return posting.docid, data
        return None

    def document(self, doc_id: str) -> Document | None:
        found = self._stored(doc_id)
        return stored_document(found[1]) if found is not None else None

    def related(
        self, doc_id: str, limit: int = RELATED, budget: float | None = None, *, document: Document | None = None
    ) -> list[Hit]:
        if document is None:
            found = self._stored(doc_id)
            if found is None:
                return []
            document = stored_document(found[1])
        stats = self._statistics()
        with guarded(self.shards):
            words = related.distinctive(
                document.title,
                document.text,
                stats.doc_frequency,
                stats.doc_count(),
                syllable_field=f.BODY,
                word_field=f.WORDS,
            )
            if not words:
                return []
            Query = xapian().Query
            query = Query(Query.OP_OR, [Query(PREFIX[word.field] + word.term) for word in words])
            query = Query(Query.OP_AND_NOT, query, Query(id_term(doc_id)))
            enquire = self._enquire(query)
            best = []
            # As on the embedded index: only the articles sharing words few would share by chance.
            for item in enquire.get_mset(0, related.CANDIDATES * limit):
                held = {_text(term) for term in enquire.matching_terms(item)}
                shared = [word for word in words if PREFIX[word.field] + word.term in held]
                if related.alike(shared, words, stats.doc_count()):
                    best.append((read_stored(item.document.get_data()), item.weight))
        return [self._hit(rank, found, score, None) for rank, (found, score) in enumerate(best[:limit], 1)]

    def has_dates(self) -> bool:
        with guarded(self.shards):
            return self._db.get_value_freq(SLOT_DAY) > 0

    def columns(self):  # noqa: ANN201
        raise NotImplementedError("columns are the embedded index's; shards filter with Xapian's values")


class _Statistics:
    """The combined database's term statistics, answering as a Whoosh reader does."""

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


def _text(term: str | bytes) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _translated(query: wq.Query, Query, per_prefix: int):  # noqa: ANN001, ANN202, N803
    """Whoosh's query objects, as the ranking builds them, in Xapian's operators."""
    if isinstance(query, wq.Term):
        return _scaled(_term(Query, PREFIX[query.fieldname] + query.text), query.boost, Query)
    if isinstance(query, SpeltPhrase):
        # The exact-accent terms keep no positions: the folded phrase, in an article that also
        # spells each of its words as asked somewhere in the same field (and anywhere in it, for a
        # phrase asked at the field's start).
        phrase = _translated(wq.Phrase(query.fieldname, list(query.words), slop=1), Query, per_prefix)
        spelt = [_term(Query, PREFIX[query.exact_field] + form) for form in query.spelt if form]
        return Query(Query.OP_FILTER, phrase, Query(Query.OP_AND, spelt)) if spelt else phrase
    if isinstance(query, wq.Phrase):
        words = [_term(Query, PREFIX[query.fieldname] + word) for word in query.words]
        # Each word within ``slop`` positions of the last: the whole phrase spans at most this window.
        window = len(words) + (max(query.slop, 1) - 1) * (len(words) - 1)
        return _scaled(Query(Query.OP_PHRASE, words, window), query.boost, Query)
    if isinstance(query, wq.Prefix):
        pattern = PREFIX[query.fieldname] + query.text
        wildcard = Query(Query.OP_WILDCARD, pattern, per_prefix, Query.WILDCARD_LIMIT_MOST_FREQUENT)
        return _scaled(wildcard, query.boost, Query)
    if isinstance(query, wq.AndMaybe):
        # Not OP_AND_MAYBE: with phrases among its optional clauses, the shard servers (Xapian 1.4.22)
        # weigh some documents whose phrases do not match as if they did. The optional clauses,
        # restricted to the required ones' documents, add the same scores and match correctly.
        required = _translated(query.a, Query, per_prefix)
        optional = Query(Query.OP_FILTER, _translated(query.b, Query, per_prefix), required)
        return Query(Query.OP_OR, required, optional)
    if isinstance(query, wq.AndNot):
        return Query(Query.OP_AND_NOT, _translated(query.a, Query, per_prefix), _translated(query.b, Query, per_prefix))
    if isinstance(query, wq.Not):
        left_out = Query(Query.OP_AND_NOT, Query.MatchAll, _translated(query.query, Query, per_prefix))
        return Query(Query.OP_SCALE_WEIGHT, left_out, 0.0)
    if isinstance(query, (wq.And, wq.Or)):
        operator = Query.OP_AND if isinstance(query, wq.And) else Query.OP_OR
        parts = [_translated(sub, Query, per_prefix) for sub in query.subqueries]
        return _scaled(Query(operator, parts), query.boost, Query)
    if query is wq.NullQuery:
        return Query.MatchNothing
    raise TypeError(f"no Xapian query for {type(query).__name__}")


def _term(Query, term: str):  # noqa: ANN001, ANN202, N803
    # A term longer than Xapian allows is in no document.
    return Query(term) if len(term.encode("utf-8")) <= MAX_TERM_BYTES else Query.MatchNothing


def _scaled(query, boost: float, Query):  # noqa: ANN001, ANN202, N803
    return query if boost == 1.0 else Query(Query.OP_SCALE_WEIGHT, query, boost)


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
            parts.append(Query(Query.OP_OR, [_term(Query, prefix + value_key(v)) for v in values]))
    return Query(Query.OP_AND, parts)

