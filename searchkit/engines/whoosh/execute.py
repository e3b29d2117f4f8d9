"""Running a compiled query on Whoosh's index a whole posting list at a time, over arrays.

Whoosh evaluates a query one document at a time through a tree of matchers, in Python: a
question of ten syllables over four fields is some fifty matchers, and each document they touch
costs microseconds in each. Here each leaf of :mod:`searchkit.engines.compiled`'s tree (a term, a
phrase) is read once into two arrays — document numbers and BM25F scores, cached while the index
stays the same — and its operators become array operations (:mod:`searchkit.engines.whoosh.matches`):
a union sums, an intersection keeps common documents, a negation drops. The total number of
matches falls out for free, where Whoosh counts it with a second pass.

The scores are Whoosh's own (its BM25F scorer on each posting), so rankings match those of the
matcher tree except for the coordination bonus, which is defined here (see ``matches.union``).
"""

from __future__ import annotations

from functools import singledispatchmethod

import numpy as np
from whoosh import query as wq
from whoosh import scoring
from whoosh.searching import Searcher as WhooshSearcher
from whoosh.util.numeric import byte_to_length

from searchkit.engines import compiled as cq
from searchkit.engines.budget import Deadline
from searchkit.engines.compiled import MAX_PREFIX_TERMS, Levels, prefix_budget
from searchkit.engines.whoosh.cache import PackedBytes, PostingCache, default_cache_mb
from searchkit.engines.whoosh.codec import reading as codec
from searchkit.engines.whoosh.matches import (
    EMPTY,
    Matches,
    add_within,
    best_ids,
    ends_in_order,
    from_lists,
    intersection,
    union,
    without,
)

# Proximity and word clauses only reorder this many of the best matches on the terms alone: a
# phrase of common syllables is costly to find over the whole index, and cannot lift an article
# from further down into the first pages.
RERANK_DEPTH = 200
# How many candidates a phrase is checked in between two looks at the clock.
PHRASE_BATCH = 256
# Tiers (see :meth:`Executor.tiers`) are decided among this many of the best matches on their scores.
TIER_DEPTH = 300
# A phrase's spelling is read from the stored text of at most this many of the articles holding it
# folded and every spelling somewhere in the field, the best first; the others, far down the
# results, are taken to spell it so (an article holding the folded phrase spelt otherwise and the
# spelling elsewhere is rare).
SPELT_CHECKS = 64

# Whoosh stores a field's length in a document as one byte; a posting's document has length >= 1.
_LENGTH_OF_BYTE = np.array([max(byte_to_length(code), 1) for code in range(256)], dtype=np.float64)


class Executor:
    """Evaluates compiled queries against one Whoosh searcher, keeping the arrays it reads in
    ``cache`` (the generation's, shared with its other searchers: :mod:`searchkit.engines.whoosh.cache`;
    by default one of its own)."""

    def __init__(self, searcher: WhooshSearcher, cache: PostingCache | None = None):
        self.searcher = searcher
        self.cache = cache if cache is not None else PostingCache(int(default_cache_mb() * 2**20))
        self._deadline: Deadline | None = None
        self._prefix_terms = MAX_PREFIX_TERMS
        # Phrases found while placing tiers, by field, words and slop (see :meth:`tiers`).
        self._phrases: dict[tuple, Matches] | None = None
        # While tiers are placed: where each phrase's matches begin, and the documents read.
        self._starts: dict[tuple, dict[int, set[int]]] | None = None
        self._documents: dict[int, dict] | None = None

    def run(self, query: cq.Node, *, deadline: Deadline | None = None) -> Matches:
        """Every document ``query`` matches, with its score.

        Past ``deadline`` the run stops with a :class:`QueryError` (``query_timeout``); it is checked
        before each clause, each word a prefix stands for and each batch of phrase candidates.
        """
        self._deadline = deadline
        self._prefix_terms = prefix_budget(query)
        try:
            return self._eval(query)
        finally:
            self._deadline = None

    def _check_time(self) -> None:
        if self._deadline is not None:
            self._deadline.check()

    def tiers(self, matches: Matches, levels: Levels, *, deadline: Deadline | None = None) -> list[np.ndarray]:
        """For each level, how many of its clauses each of ``matches`` satisfies (aligned with ``matches.ids``).

        Only the best :data:`TIER_DEPTH` matches by score are placed in tiers; the others count 0.
        """
        if not levels or not len(matches):
            return []
        self._deadline = deadline
        self._phrases, self._starts, self._documents = {}, {}, {}
        try:
            candidates = best_ids(matches, TIER_DEPTH)
            counts = []
            for clauses in levels:
                count = np.zeros(len(matches), dtype=np.int64)
                for clause in clauses:
                    found = self._within(clause, candidates)
                    count += np.isin(matches.ids, found.ids, assume_unique=True)
                counts.append(count)
            return counts
        finally:
            self._deadline = None
            self._phrases = self._starts = self._documents = None

    # --- operators: one registration per node type ------------------------------------------

    @singledispatchmethod
    def _eval(self, query: cq.Node) -> Matches:
        raise TypeError(f"no Whoosh run for a {type(query).__name__} node")

    @_eval.register
    def _eval_term(self, query: cq.Term) -> Matches:
        self._check_time()
        return self._term(query.field, query.text).scaled(query.boost)

    @_eval.register
    def _eval_phrase(self, query: cq.Phrase) -> Matches:
        self._check_time()
        return self._phrase(query.field, query.words, query.slop).scaled(query.boost)

    @_eval.register
    def _eval_prefix(self, query: cq.Prefix) -> Matches:
        self._check_time()
        return self._prefix(query)

    @_eval.register
    def _eval_and_maybe(self, query: cq.AndMaybe) -> Matches:
        self._check_time()
        required = self._eval(query.required)
        return add_within(required, self._within(query.optional, best_ids(required, RERANK_DEPTH)))

    @_eval.register
    def _eval_and_not(self, query: cq.AndNot) -> Matches:
        self._check_time()
        return without(self._eval(query.positive), self._eval(query.negative))

    @_eval.register
    def _eval_not(self, query: cq.Not) -> Matches:
        self._check_time()
        return without(self.every_document(), self._eval(query.node)).scaled(0.0)

    @_eval.register
    def _eval_and(self, query: cq.And) -> Matches:
        self._check_time()
        return intersection([self._eval(q) for q in query.parts]).scaled(query.boost)

    @_eval.register
    def _eval_or(self, query: cq.Or) -> Matches:
        self._check_time()
        return union([self._eval(q) for q in query.parts], coord=query.coord).scaled(query.boost)

    @_eval.register
    def _eval_nothing(self, query: cq.Nothing) -> Matches:
        return EMPTY

    @singledispatchmethod
    def _within(self, query: cq.Node, candidates: np.ndarray) -> Matches:
        """What an optional clause adds to each of ``candidates`` (sorted document numbers).

        Phrases are checked in those documents only, skipping through the postings, which costs a
        fraction of matching a phrase of common syllables over the whole index.
        """
        self._check_time()
        found = self._eval(query)
        keep = np.isin(found.ids, candidates, assume_unique=True)
        return Matches(found.ids[keep], found.scores[keep])

    @_within.register
    def _within_or(self, query: cq.Or, candidates: np.ndarray) -> Matches:
        self._check_time()
        return union([self._within(q, candidates) for q in query.parts]).scaled(query.boost)

    @_within.register
    def _within_phrase(self, query: cq.Phrase, candidates: np.ndarray) -> Matches:
        self._check_time()
        return self._phrase_within(query, candidates)

    @_within.register
    def _within_spelt(self, query: cq.SpeltPhrase, candidates: np.ndarray) -> Matches:
        self._check_time()
        return self._spelt_within(query, candidates)

    def _spelt_within(self, query: cq.SpeltPhrase, candidates: np.ndarray) -> Matches:
        """The candidates holding the phrase spelt as asked (see :data:`SPELT_CHECKS`)."""
        folded = self._phrase_within(query, candidates)
        for form in {form for form in query.spelt if form}:
            spelt = self._term(query.exact_field, form)
            folded = folded.subset(np.isin(folded.ids, spelt.ids, assume_unique=True))
        if not len(folded):
            return folded
        starts = (self._starts or {}).get((query.field, query.words), {})
        keep = np.ones(len(folded), dtype=bool)
        for n in np.argsort(-folded.scores, kind="stable")[:SPELT_CHECKS].tolist():
            doc = int(folded.ids[n])
            text = self._stored_field(doc, query.field)
            keep[n] = query.written_in(text, starts.get(doc))
        return folded.subset(keep)

    def _stored_field(self, doc: int, fieldname: str) -> str:
        """A field of a document's stored fields, read once while tiers are placed."""
        if self._documents is None:
            return self.searcher.stored_fields(doc).get(fieldname, "")
        if doc not in self._documents:
            self._documents[doc] = self.searcher.stored_fields(doc)
        return self._documents[doc].get(fieldname, "")

    def _phrase_within(self, query: cq.Phrase, candidates: np.ndarray) -> Matches:
        """The candidates holding the phrase's words in order, each within ``slop`` of the last.

        A match scores the sum of its words' BM25F scores, as Whoosh's phrase matcher does. While
        tiers are placed, each phrase is found once among their candidates (several tiers ask for
        the same phrase, spelt otherwise or at the start).
        """
        if self._phrases is not None:
            key = (query.field, query.words, max(query.slop, 1))
            if key not in self._phrases:
                self._phrases[key] = self._phrase_found(query, candidates).scaled(1 / query.boost)
            return self._phrases[key].scaled(query.boost)
        return self._phrase_found(query, candidates)

    def _phrase_found(self, query: cq.Phrase, candidates: np.ndarray) -> Matches:
        fieldname, words, slop = query.field, list(query.words), max(query.slop, 1)
        found: list[int] = []
        # Where each match begins, for the spelling checks of tiers (phrases of adjacent words).
        starts = self._starts.setdefault((fieldname, tuple(words)), {}) if self._starts is not None else None
        for sub, offset in self.searcher.subsearchers or [(self.searcher, 0)]:
            local = candidates[(candidates >= offset) & (candidates < offset + sub.doc_count_all())] - offset
            postings = [self._positions(sub.reader(), fieldname, word) for word in words]
            if not len(local) or any(p is None for p in postings):
                continue
            for ids, _values, _decode in postings:
                local = np.intersect1d(local, ids, assume_unique=True)
            # Where each candidate is in each word's postings, found for all candidates at once.
            where = [(np.searchsorted(ids, local).tolist(), values, decode) for ids, values, decode in postings]
            for n, doc in enumerate(local.tolist()):
                if not n % PHRASE_BATCH:
                    self._check_time()
                ends = ends_in_order([decode(values[at[n]]) for at, values, decode in where], slop)
                if ends:
                    found.append(offset + doc)
                    if starts is not None and slop == 1:
                        starts[offset + doc] = {end - len(words) + 1 for end in ends}
        if not found:
            return EMPTY
        docs = np.asarray(found, dtype=np.int64)
        total = np.zeros(len(docs))
        for word in words:
            term = self._term(fieldname, word)
            at = np.searchsorted(term.ids, docs)
            at[at == len(term.ids)] = 0
            total += np.where(term.ids[at] == docs, term.scores[at], 0.0)
        return Matches(docs, total * query.boost)

    def _positions(self, reader, fieldname: str, text: str):
        """(document numbers, encoded positions, decoder) of a term in one segment, or None."""
        key = ("positions", _segment(reader), fieldname, text)
        found = self.cache.get(key)
        if found is not None:
            return found[0]
        entry = None
        fmt = reader.schema[fieldname].format
        if (fieldname, text) in reader and fmt.supports("positions"):
            blocks = codec.raw_blocks(reader, fieldname, text)
            if blocks is not None:
                ids, values = [], []
                for block, data in blocks:
                    ids.append(block)
                    values.extend(data[2])
                if ids:
                    entry = (np.concatenate(ids), PackedBytes(values), fmt.decoder("positions"))
        self._store(key, (entry,))
        return entry

    def _prefix(self, query: cq.Prefix) -> Matches:
        reader = self.searcher.reader()
        # A walk of each segment's term table gives each word's document frequency beside it;
        # looking each word up again would probe every segment's hash table once per word.
        frequency: dict[bytes, int] = {}
        for leaf, _ in reader.leaf_readers():
            for text, info in leaf.iter_prefix(query.field, query.text):
                frequency[text] = frequency.get(text, 0) + info.doc_frequency()
        terms = sorted(frequency, key=lambda text: (-frequency[text], text))[: self._prefix_terms]
        parts = []
        for term in terms:
            self._check_time()
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            parts.append(self._term(query.field, text))
        return union(parts).scaled(query.boost)

    def every_document(self) -> Matches:
        """Every live document, each scoring 0."""
        key = ("all",)
        found = self.cache.get(key)
        if found is None:
            ids = np.fromiter(self.searcher.reader().all_doc_ids(), dtype=np.int64)
            found = self._store(key, Matches(np.sort(ids), np.zeros(len(ids))))
        return found

    # --- leaves ------------------------------------------------------------------------------

    def _term(self, fieldname: str, text: str) -> Matches:
        """A term's documents scored at boost 1 (the caller applies the boost: one entry serves every boost)."""
        key = ("term", fieldname, text)
        found = self.cache.get(key)
        if found is not None:
            return found
        if (fieldname, text) not in self.searcher.reader():
            return self._store(key, EMPTY)
        arrays = self._term_arrays(fieldname, text)
        if arrays is not None:
            return self._store(key, arrays)
        ids: list[int] = []
        scores: list[float] = []
        _drain(self.searcher.postings(fieldname, text), ids, scores)
        return self._store(key, from_lists(ids, scores))

    def _phrase(self, fieldname: str, words: tuple[str, ...], slop: int) -> Matches:
        """A phrase's documents over the whole index, by Whoosh's own phrase matcher, at boost 1."""
        key = ("phrase", fieldname, words, slop)
        found = self.cache.get(key)
        if found is not None:
            return found
        phrase = wq.Phrase(fieldname, list(words), slop=slop)
        ids: list[int] = []
        scores: list[float] = []
        for sub, offset in self.searcher.subsearchers or [(self.searcher, 0)]:
            _drain(phrase.matcher(sub, sub.context()), ids, scores, offset)
        return self._store(key, from_lists(ids, scores))

    def _term_arrays(self, fieldname: str, text: str) -> Matches | None:
        """A term's postings scored by BM25F, a block at a time; None if the codec is not Whoosh 3's.

        The same formula and global statistics as Whoosh's ``BM25FScorer``, applied to a block's
        document numbers, frequencies and the field lengths as arrays.
        """
        weighting = self.searcher.weighting
        if type(weighting) is not scoring.BM25F:
            return None
        b = codec.field_b(weighting, fieldname)
        k1 = weighting.K1
        idf = self.searcher.idf(fieldname, text)
        average = self.searcher.avg_field_length(fieldname) or 1
        id_parts, score_parts = [], []
        for sub, offset in self.searcher.subsearchers or [(self.searcher, 0)]:
            reader = sub.reader()
            if (fieldname, text) not in reader:
                continue
            blocks = codec.raw_blocks(reader, fieldname, text)
            if blocks is None or not codec.has_lengths(reader):
                return None
            ids, frequencies = [], []
            for block, data in blocks:
                ids.append(block)
                weights = data[1]
                if weights is None or isinstance(weights, float):
                    frequencies.append(np.full(len(block), weights or 1.0))
                else:
                    frequencies.append(np.asarray(weights, dtype=np.float64))
            if not ids:
                continue
            docs = np.concatenate(ids)
            tf = np.concatenate(frequencies)
            if reader.has_deletions():
                live = ~np.isin(docs, np.fromiter(reader.deleted_docs_set, dtype=np.int64))
                docs, tf = docs[live], tf[live]
            lengths = self._lengths(reader, fieldname)[docs]
            id_parts.append(docs + offset)
            score_parts.append(idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / average)))
        if not id_parts:
            return EMPTY
        ids_all = np.concatenate(id_parts)
        order = np.argsort(ids_all, kind="stable")
        return Matches(ids_all[order], np.concatenate(score_parts)[order])

    def _lengths(self, reader, fieldname: str) -> np.ndarray:
        """Every document's length of ``fieldname`` in one segment, as Whoosh stores it (a byte)."""
        key = ("lengths", _segment(reader), fieldname)
        found = self.cache.get(key)
        if found is None:
            found = self.cache.put(key, _LENGTH_OF_BYTE[codec.length_codes(reader, fieldname)])
        return found

    def _store(self, key: tuple, matches):  # noqa: ANN001, ANN202 - Matches, or a segment's positions
        return self.cache.put(key, matches)


def _segment(reader) -> str:  # noqa: ANN001 - one segment's reader
    """What names a segment within its generation (the cache's keys outlive any one reader)."""
    return reader.segment().segment_id()


def _drain(matcher, ids: list[int], scores: list[float], offset: int = 0) -> None:
    while matcher.is_active():
        ids.append(offset + matcher.id())
        scores.append(matcher.score())
        matcher.next()
