"""Running a compiled query on Whoosh's index over arrays.

Whoosh evaluates a query one document at a time through a tree of matchers, in Python: a
question of ten syllables over four fields is some fifty matchers, and each document they touch
costs microseconds in each. Here each leaf of :mod:`searchkit.engines.compiled`'s tree (a term, a
phrase) is read into two arrays — document numbers and BM25F scores, cached while the index
stays the same (:mod:`searchkit.engines.whoosh.postings`) — and its operators become array operations
(:mod:`searchkit.engines.whoosh.matches`): a union sums, an intersection keeps common documents, a
negation drops. The total number of matches falls out for free, where Whoosh counts it with a second pass.

An intersection reads its rarest part whole and its other parts only in the posting blocks that may
hold a document of it; the clauses that re-rank the best matches read terms and positions only in the
blocks holding those: the same matches and scores as reading every posting, fewer blocks decoded.

The scores are Whoosh's own (its BM25F scorer on each posting), so rankings match those of the
matcher tree except for the coordination bonus, which is defined here (see ``matches.union``).
"""

from __future__ import annotations

from functools import singledispatchmethod

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher as WhooshSearcher

from searchkit.engines import compiled as cq
from searchkit.engines.budget import Deadline
from searchkit.engines.compiled import MAX_PREFIX_TERMS, Levels, prefix_budget
from searchkit.engines.whoosh.cache import PostingCache, default_cache_mb
from searchkit.engines.whoosh.matches import (
    EMPTY,
    Matches,
    add_within,
    best_ids,
    contenders,
    from_lists,
    intersection,
    union,
    without,
)
from searchkit.engines.whoosh.phrases import PHRASE_BATCH, phrase_within
from searchkit.engines.whoosh.postings import Postings, drain, kept

# Proximity and word clauses only reorder this many of the best matches on the terms alone: a
# phrase of common syllables is costly to find over the whole index, and cannot lift an article
# from further down into the first pages.
RERANK_DEPTH = 200
# Tiers (see :meth:`Executor.tiers`) are decided among this many of the best matches on their scores.
TIER_DEPTH = 300
# A phrase's spelling is read from the stored text of at most this many of the articles holding it
# folded and every spelling somewhere in the field, the best first; the others, far down the
# results, are taken to spell it so (an article holding the folded phrase spelt otherwise and the
# spelling elsewhere is rare).
SPELT_CHECKS = 64
# Phrases an executor remembers having checked (:meth:`Executor._remembered`): a query's few, a few queries back.
PHRASE_MEMO = 64


class Executor:
    """Evaluates compiled queries against one Whoosh searcher, keeping the arrays it reads in
    ``cache`` (the generation's, shared with its other searchers: :mod:`searchkit.engines.whoosh.cache`;
    by default one of its own)."""

    def __init__(self, searcher: WhooshSearcher, cache: PostingCache | None = None, *, prune: bool = True):
        self.searcher = searcher
        # Whether an intersection reads its other parts, and re-ranking its terms, only among the
        # documents that can still match (False: every posting, as a check of the same results).
        self.postings = Postings(
            searcher, cache if cache is not None else PostingCache(int(default_cache_mb() * 2**20)), prune=prune
        )
        self._deadline: Deadline | None = None
        self._prefix_terms = MAX_PREFIX_TERMS
        # The phrases checked last, by field, words and slop: the documents checked, those holding the phrase
        # (at boost 1) and where it begins in each (see :meth:`_remembered`).
        self._memo: dict[tuple, tuple[np.ndarray, Matches, dict[int, set[int]]]] = {}
        # While tiers are placed: the documents read.
        self._documents: dict[int, dict] | None = None

    @property
    def cache(self) -> PostingCache:
        return self.postings.cache

    @cache.setter
    def cache(self, cache: PostingCache) -> None:
        self.postings.cache = cache

    @property
    def prune(self) -> bool:
        return self.postings.prune

    @prune.setter
    def prune(self, prune: bool) -> None:
        self.postings.prune = prune

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
            self.postings.done()

    def holds_any(self, query: cq.Node, candidates: np.ndarray, *, deadline: Deadline | None = None) -> bool:
        """Whether any of ``candidates`` (sorted document numbers) matches ``query``: what running it whole
        and looking among them says, read as an intersection's other parts are (:meth:`_among`). A phrase is
        checked a batch of candidates at a time and the first holding it ends the check, where Whoosh's phrase
        matcher walks every article holding its words (a typed query's phrases in thousands of articles took
        a third of a slow query's time); anything else in the first batch, then in the others."""
        self._deadline = deadline
        self._prefix_terms = prefix_budget(query)
        try:
            return self._holds_any(query, candidates)
        finally:
            self._deadline = None
            self.postings.done()

    def _holds_any(self, query: cq.Node, candidates: np.ndarray) -> bool:
        if not len(candidates):
            return False
        if isinstance(query, cq.Or):
            return any(self._holds_any(part, candidates) for part in query.parts)
        if isinstance(query, cq.Phrase):  # spelt or not, as its whole run reads it: by its folded words
            plain = cq.Phrase(query.field, query.words, slop=query.slop)
            size = PHRASE_BATCH
            for start in range(0, len(candidates), size):
                if len(self._remembered(plain, candidates[start : start + size])[0]):
                    return True
            return False
        # The first batch alone first: the spelling suggested is most often in the first articles found.
        head, rest = candidates[:PHRASE_BATCH], candidates[PHRASE_BATCH:]
        return bool(len(self._among(query, head))) or (len(rest) > 0 and bool(len(self._among(query, rest))))

    def _check_time(self) -> None:
        if self._deadline is not None:
            self._deadline.check()

    def tiers(
        self, matches: Matches, levels: Levels, *, deadline: Deadline | None = None, keep: int | None = None
    ) -> list[np.ndarray]:
        """For each level, how many of its clauses each of ``matches`` satisfies (aligned with ``matches.ids``).

        Only the best :data:`TIER_DEPTH` matches by score are placed in tiers; the others count 0. With
        ``keep``, each level is placed only among the documents that can still be among the ``keep`` first
        (:func:`contenders`): the others count 0 from there on, which changes nothing above them.
        """
        if not levels or not len(matches):
            return []
        self._deadline = deadline
        self._documents = {}
        try:
            candidates = best_ids(matches, TIER_DEPTH)
            counts = []
            for clauses in levels:
                count = np.zeros(len(matches), dtype=np.int64)
                for clause in clauses:
                    found = self._within(clause, candidates)
                    count += np.isin(matches.ids, found.ids, assume_unique=True)
                counts.append(count)
                if keep is not None:
                    candidates = contenders(matches.ids, candidates, counts, keep)
            return counts
        finally:
            self._deadline = None
            self._documents = None
            self.postings.done()

    # --- operators: one registration per node type ------------------------------------------

    @singledispatchmethod
    def _eval(self, query: cq.Node) -> Matches:
        raise TypeError(f"no Whoosh run for a {type(query).__name__} node")

    @_eval.register
    def _eval_term(self, query: cq.Term) -> Matches:
        self._check_time()
        return self.postings.term(query.field, query.text).scaled(query.boost)

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
        positive = self._eval(query.positive)
        if not self.prune:
            return without(positive, self._eval(query.negative))
        # What is left out only matters among what the positive part matched.
        return without(positive, self._among(query.negative, positive.ids))

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
        return kept(self._eval(query), candidates)

    @_among.register
    def _among_term(self, query: cq.Term, candidates: np.ndarray) -> Matches:
        self._check_time()
        return self.postings.term_among(query.field, query.text, candidates).scaled(query.boost)

    @_among.register
    def _among_or(self, query: cq.Or, candidates: np.ndarray) -> Matches:
        self._check_time()
        if query.coord:  # a document's share of the parts counts the parts matching anywhere
            return kept(self._eval(query), candidates)
        return union([self._among(part, candidates) for part in query.parts]).scaled(query.boost)

    @_among.register
    def _among_phrase(self, query: cq.Phrase, candidates: np.ndarray) -> Matches:
        # A phrase an acronym or a correction adds beside a word: checked in the candidates' positions,
        # not over the whole index by Whoosh's matcher (the same documents and scores, to rounding).
        self._check_time()
        return self._remembered(query, candidates)[0]

    @_among.register
    def _among_and_not(self, query: cq.AndNot, candidates: np.ndarray) -> Matches:
        self._check_time()
        positive = self._among(query.positive, candidates)
        return without(positive, self._among(query.negative, positive.ids))

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
        return kept(self._eval(query), candidates)

    @_within.register
    def _within_term(self, query: cq.Term, candidates: np.ndarray) -> Matches:
        self._check_time()
        return self.postings.term_among(query.field, query.text, candidates).scaled(query.boost)

    @_within.register
    def _within_or(self, query: cq.Or, candidates: np.ndarray) -> Matches:
        self._check_time()
        return union([self._within(q, candidates) for q in query.parts]).scaled(query.boost)

    @_within.register
    def _within_and(self, query: cq.And, candidates: np.ndarray) -> Matches:
        # A tier of every word spelt as restoration reads it: read among the candidates, not the whole index.
        return self._among_and(query, candidates)

    @_within.register
    def _within_and_not(self, query: cq.AndNot, candidates: np.ndarray) -> Matches:
        return self._among_and_not(query, candidates)

    @_within.register
    def _within_phrase(self, query: cq.Phrase, candidates: np.ndarray) -> Matches:
        self._check_time()
        return self._remembered(query, candidates)[0]

    @_within.register
    def _within_spelt(self, query: cq.SpeltPhrase, candidates: np.ndarray) -> Matches:
        self._check_time()
        return self._spelt_within(query, candidates)

    def _spelt_within(self, query: cq.SpeltPhrase, candidates: np.ndarray) -> Matches:
        """The candidates holding the phrase spelt as asked (see :data:`SPELT_CHECKS`)."""
        folded, starts = self._remembered(query, candidates)
        for form in {form for form in query.spelt if form}:
            spelt = self.postings.term(query.exact_field, form)
            folded = folded.subset(np.isin(folded.ids, spelt.ids, assume_unique=True))
        if not len(folded):
            return folded
        keep = np.ones(len(folded), dtype=bool)
        # No spelling asked (words typed bare that restoration does not read surely): where the folded phrase
        # begins says it all, as the field's syllables are its positions; the stored text is not read.
        spelling = any(query.spelt)
        for n in np.argsort(-folded.scores, kind="stable")[:SPELT_CHECKS].tolist():
            doc = int(folded.ids[n])
            begins = starts.get(doc)
            if not spelling and begins is not None:
                keep[n] = 0 in begins if query.start else bool(begins)
                continue
            text = self._stored_field(doc, query.field)
            keep[n] = query.written_in(text, begins)
        return folded.subset(keep)

    def _stored_field(self, doc: int, fieldname: str) -> str:
        """A field of a document's stored fields, read once while tiers are placed."""
        if self._documents is None:
            return self.searcher.stored_fields(doc).get(fieldname, "")
        if doc not in self._documents:
            self._documents[doc] = self.searcher.stored_fields(doc)
        return self._documents[doc].get(fieldname, "")

    def _remembered(self, query: cq.Phrase, candidates: np.ndarray) -> tuple[Matches, dict[int, set[int]]]:
        """:meth:`_phrase_within` among ``candidates``, and where each match begins, checking only the
        candidates not checked already for the same phrase: a query asks for its phrases when it re-ranks
        its best matches and again, among mostly the same documents, in several of its tiers (spelt
        otherwise, at the start). The last :data:`PHRASE_MEMO` phrases are remembered."""
        key = (query.field, query.words, max(query.slop, 1))
        checked, found, starts = self._memo.pop(key, (candidates[:0], EMPTY, {}))
        missing = np.setdiff1d(candidates, checked, assume_unique=True)
        if len(missing):
            more = self._phrase_within(cq.Phrase(query.field, query.words, slop=query.slop), missing, starts)
            if len(found):
                ids = np.concatenate([found.ids, more.ids])
                order = np.argsort(ids, kind="stable")
                more = Matches(ids[order], np.concatenate([found.scores, more.scores])[order])
            # Apart and each sorted: joined and sorted is their union (np.union1d would import numpy.ma).
            found, checked = more, np.sort(np.concatenate((checked, missing)))
        self._memo[key] = (checked, found, starts)
        while len(self._memo) > PHRASE_MEMO:
            del self._memo[next(iter(self._memo))]
        return kept(found, candidates).scaled(query.boost), starts

    def _phrase_within(
        self, query: cq.Phrase, candidates: np.ndarray, starts: dict[int, set[int]] | None = None
    ) -> Matches:
        return phrase_within(self.searcher, self.postings, query, candidates, starts, self._check_time)

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
            parts.append(self.postings.term(query.field, text))
        return union(parts).scaled(query.boost)

    def every_document(self) -> Matches:
        """Every live document, each scoring 0."""
        key = ("all",)
        found = self.cache.get(key)
        if found is None:
            ids = np.fromiter(self.searcher.reader().all_doc_ids(), dtype=np.int64)
            found = self.cache.put(key, Matches(np.sort(ids), np.zeros(len(ids))))
        return found

    # --- leaves ------------------------------------------------------------------------------

    def _phrase(self, fieldname: str, words: tuple[str, ...], slop: int) -> Matches:
        """A phrase's documents over the whole index, at boost 1: the articles holding all its words (an
        intersection, read as :meth:`_eval_and` reads one) checked in their positions (:meth:`_phrase_within`),
        the same documents and scores as Whoosh's own phrase matcher (which walks each article holding the words
        through a tree of matchers: a quoted query's p95 was twice an unquoted one's); by that matcher where
        ``prune`` is off, or the field keeps no positions."""
        key = ("phrase", fieldname, words, slop)
        found = self.cache.get(key)
        if found is not None:
            return found
        if self.prune and self.searcher.schema[fieldname].format.supports("positions"):
            holding = self._eval_and(cq.And(tuple(cq.Term(fieldname, word) for word in dict.fromkeys(words))))
            found = self._phrase_within(cq.Phrase(fieldname, words, slop=slop), holding.ids)
            return self.cache.put(key, found)
        phrase = wq.Phrase(fieldname, list(words), slop=slop)
        ids: list[int] = []
        scores: list[float] = []
        for sub, offset in self.searcher.subsearchers or [(self.searcher, 0)]:
            drain(phrase.matcher(sub, sub.context()), ids, scores, offset)
        return self.cache.put(key, from_lists(ids, scores))
