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
from searchkit.engines.whoosh.cache import PostingCache, default_cache_mb
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

    def __init__(self, searcher: WhooshSearcher, cache: PostingCache | None = None, *, prune: bool = True):
        self.searcher = searcher
        # Whether an intersection reads its other parts, and re-ranking its terms, only among the
        # documents that can still match (False: every posting, as a check of the same results).
        self.prune = prune
        self.cache = cache if cache is not None else PostingCache(int(default_cache_mb() * 2**20))
        self._deadline: Deadline | None = None
        self._prefix_terms = MAX_PREFIX_TERMS
        # Phrases found while placing tiers, by field, words and slop (see :meth:`tiers`).
        self._phrases: dict[tuple, Matches] | None = None
        # While tiers are placed: where each phrase's matches begin, and the documents read.
        self._starts: dict[tuple, dict[int, set[int]]] | None = None
        self._documents: dict[int, dict] | None = None
        # The posting blocks opened on this searcher's readers during a run, by segment, field and term.
        self._opened: dict[tuple, codec.PostingBlocks] = {}

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
            self._opened.clear()

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
            self._opened.clear()

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
        """The rarest part is read whole; each other part only among the documents every part read so
        far holds (:meth:`_among`), so a common word's blocks holding none of them are never read.
        The parts' scores are summed in their own order, as over the whole index."""
        self._check_time()
        if not self.prune:
            return intersection([self._eval(q) for q in query.parts]).scaled(query.boost)
        order = sorted(range(len(query.parts)), key=lambda i: self._cost(query.parts[i]))
        found: dict[int, Matches] = {order[0]: self._eval(query.parts[order[0]])}
        candidates = found[order[0]].ids
        for i in order[1:]:
            if not len(candidates):
                return EMPTY
            found[i] = self._among(query.parts[i], candidates)
            candidates = np.intersect1d(candidates, found[i].ids, assume_unique=True)
        return intersection([found[i] for i in range(len(query.parts))]).scaled(query.boost)

    @_eval.register
    def _eval_or(self, query: cq.Or) -> Matches:
        self._check_time()
        return union([self._eval(q) for q in query.parts], coord=query.coord).scaled(query.boost)

    @_eval.register
    def _eval_nothing(self, query: cq.Nothing) -> Matches:
        return EMPTY

    # --- among some documents: what an intersection's other parts and the re-ranking read ----------

    @singledispatchmethod
    def _cost(self, query: cq.Node) -> float:
        """About how many documents ``query`` matches, to read an intersection's rarest part first
        (a node not counted here is read last)."""
        return float("inf")

    @_cost.register
    def _cost_term(self, query: cq.Term) -> float:
        return self.searcher.doc_frequency(query.field, query.text)

    @_cost.register
    def _cost_or(self, query: cq.Or) -> float:
        return sum(self._cost(part) for part in query.parts)

    @_cost.register
    def _cost_and(self, query: cq.And) -> float:
        return min((self._cost(part) for part in query.parts), default=0.0)

    @singledispatchmethod
    def _among(self, query: cq.Node, candidates: np.ndarray) -> Matches:
        """The matches of ``query`` among ``candidates`` (sorted document numbers), each scored as over
        the whole index; a node not narrowed here is run whole and its matches kept among them."""
        self._check_time()
        return _kept(self._eval(query), candidates)

    @_among.register
    def _among_term(self, query: cq.Term, candidates: np.ndarray) -> Matches:
        self._check_time()
        return self._term_among(query.field, query.text, candidates).scaled(query.boost)

    @_among.register
    def _among_or(self, query: cq.Or, candidates: np.ndarray) -> Matches:
        self._check_time()
        if query.coord:  # a document's share of the parts counts the parts matching anywhere
            return _kept(self._eval(query), candidates)
        return union([self._among(part, candidates) for part in query.parts]).scaled(query.boost)

    @_among.register
    def _among_and(self, query: cq.And, candidates: np.ndarray) -> Matches:
        self._check_time()
        parts = []
        for part in query.parts:
            parts.append(self._among(part, candidates))
            candidates = np.intersect1d(candidates, parts[-1].ids, assume_unique=True)
        return intersection(parts).scaled(query.boost)

    @singledispatchmethod
    def _within(self, query: cq.Node, candidates: np.ndarray) -> Matches:
        """What an optional clause adds to each of ``candidates`` (sorted document numbers).

        Phrases are checked in those documents only, skipping through the postings, which costs a
        fraction of matching a phrase of common syllables over the whole index.
        """
        self._check_time()
        return _kept(self._eval(query), candidates)

    @_within.register
    def _within_term(self, query: cq.Term, candidates: np.ndarray) -> Matches:
        self._check_time()
        return self._term_among(query.field, query.text, candidates).scaled(query.boost)

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
            postings = []
            for word in words:
                if not len(local):
                    break
                postings.append(self._positions(sub.reader(), fieldname, word, local))
                if postings[-1] is None:
                    break
                local = np.intersect1d(local, postings[-1][0], assume_unique=True)
            if not len(local) or len(postings) < len(words) or postings[-1] is None:
                continue
            # Where each candidate is in each word's postings, found for all candidates at once.
            where = [(values(np.searchsorted(ids, local)), decode) for ids, values, decode in postings]
            for n, doc in enumerate(local.tolist()):
                if not n % PHRASE_BATCH:
                    self._check_time()
                ends = ends_in_order([decode(encoded[n]) for encoded, decode in where], slop)
                if ends:
                    found.append(offset + doc)
                    if starts is not None and slop == 1:
                        starts[offset + doc] = {end - len(words) + 1 for end in ends}
        if not found:
            return EMPTY
        docs = np.asarray(found, dtype=np.int64)
        total = np.zeros(len(docs))
        for word in words:
            term = self._term_among(fieldname, word, docs)
            at = np.searchsorted(term.ids, docs)
            at[at == len(term.ids)] = 0
            total += np.where(term.ids[at] == docs, term.scores[at], 0.0)
        return Matches(docs, total * query.boost)

    def _positions(self, reader, fieldname: str, text: str, local: np.ndarray):  # noqa: ANN001, ANN202
        """(document numbers, the encoded positions of the postings at given places, decoder) of a term
        in one segment, read from the blocks that may hold the segment's documents ``local``; None
        without positions."""
        fmt = reader.schema[fieldname].format
        if not fmt.supports("positions"):
            return None
        read = self._blocks(reader, fieldname, text, local if self.prune else None)
        if read is None:
            return None
        blocks = [block for block in read[0] if block.data is not None]
        if not blocks:
            return None
        ids = np.concatenate([block.ids for block in blocks])
        begins = np.concatenate([block.offsets[:-1] for block in blocks])
        ends = np.concatenate([block.offsets[1:] for block in blocks])
        owner = np.repeat(np.arange(len(blocks)), [len(block.ids) for block in blocks])
        data = [block.data for block in blocks]

        def values(at: np.ndarray) -> list[bytes]:
            return [
                data[n][begin:end]
                for n, begin, end in zip(owner[at].tolist(), begins[at].tolist(), ends[at].tolist(), strict=True)
            ]

        return ids, values, fmt.decoder("positions")

    def _blocks(self, reader, fieldname: str, text: str, local: np.ndarray | None) -> tuple[list, bool] | None:  # noqa: ANN001
        """The decoded posting blocks of a term in one segment that may hold any of ``local`` (sorted
        segment numbers; None: every block), each read once while the generation's cache keeps it,
        and whether they are all of its blocks; None if the codec is not Whoosh 3's (or the term is
        not there).

        The blocks' headers (their directory) are kept with the generation; the term's postings are
        opened on this searcher's reader only when a block is not kept.
        """
        segment = _segment(reader)
        term = (segment, fieldname, text)
        directory_key = ("blocks", *term)
        known = self.cache.get(directory_key)
        if known is None:
            opened = self._opened[term] = codec.posting_blocks(reader, fieldname, text)
            known = self._store(directory_key, (opened.directory if opened is not None else None,))
        directory = known[0]
        if directory is None:
            return None
        numbers = range(len(directory)) if local is None else directory.holding(local).tolist()
        blocks = []
        for n in numbers:
            key = ("block", *term, n)
            block = self.cache.get(key)
            if block is None:
                opened = self._opened.get(term)
                if opened is None:
                    opened = self._opened[term] = codec.posting_blocks(reader, fieldname, text, directory)
                block = self._store(key, opened.read(n))
            blocks.append(block)
        return blocks, len(blocks) == len(directory)

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
            return self._store(key, arrays[0])
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

    def _term_among(self, fieldname: str, text: str, candidates: np.ndarray) -> Matches:
        """A term's matches among ``candidates`` (sorted document numbers) at boost 1, reading only the
        posting blocks that may hold them (the whole term when it is read already)."""
        whole = self.cache.get(("term", fieldname, text)) if self.prune else self._term(fieldname, text)
        if whole is None and (fieldname, text) not in self.searcher.reader():
            whole = EMPTY
        if whole is None:
            found = self._term_arrays(fieldname, text, candidates)
            if found is None:
                whole = self._term(fieldname, text)
            elif found[1]:  # every posting was read: the term is kept whole, as if read so
                whole = self._store(("term", fieldname, text), found[0])
            else:
                whole = found[0]
        return _kept(whole, candidates)

    def _term_arrays(
        self, fieldname: str, text: str, candidates: np.ndarray | None = None
    ) -> tuple[Matches, bool] | None:
        """A term's postings scored by BM25F, a block at a time, and whether they are all of them; None
        if the codec is not Whoosh 3's. With ``candidates`` (sorted document numbers), only the blocks
        that may hold them are read.

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
        id_parts, score_parts, every = [], [], True
        for sub, offset in self.searcher.subsearchers or [(self.searcher, 0)]:
            reader = sub.reader()
            if (fieldname, text) not in reader:
                continue
            local = None
            if candidates is not None:
                local = candidates[(candidates >= offset) & (candidates < offset + reader.doc_count_all())] - offset
                if not len(local):
                    every = False
                    continue
            read = self._blocks(reader, fieldname, text, local)
            if read is None or not codec.has_lengths(reader):
                return None
            blocks, whole = read
            every = every and whole
            if not blocks:
                continue
            docs = np.concatenate([block.ids for block in blocks])
            tf = np.concatenate([block.weights for block in blocks])
            if reader.has_deletions():
                live = ~np.isin(docs, np.fromiter(reader.deleted_docs_set, dtype=np.int64))
                docs, tf = docs[live], tf[live]
            lengths = self._lengths(reader, fieldname)[docs]
            id_parts.append(docs + offset)
            score_parts.append(idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / average)))
        if not id_parts:
            return EMPTY, every
        ids_all = np.concatenate(id_parts)
        order = np.argsort(ids_all, kind="stable")
        return Matches(ids_all[order], np.concatenate(score_parts)[order]), every

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


def _kept(found: Matches, candidates: np.ndarray) -> Matches:
    """The matches among ``candidates`` (sorted document numbers)."""
    return found.subset(np.isin(found.ids, candidates, assume_unique=True))


def _drain(matcher, ids: list[int], scores: list[float], offset: int = 0) -> None:
    while matcher.is_active():
        ids.append(offset + matcher.id())
        scores.append(matcher.score())
        matcher.next()
