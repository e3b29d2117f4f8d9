"""Scoring a compiled query a whole posting list at a time, over arrays.

Whoosh evaluates a query one document at a time through a tree of matchers, in Python: a
question of ten syllables over four fields is some fifty matchers, and each document they touch
costs microseconds in each. Here each leaf (a term, a phrase) is read once into two arrays —
document numbers and BM25F scores, cached while the index stays the same — and the query's
operators become array operations: a union sums, an intersection keeps common documents, a
negation drops. The total number of matches falls out for free, where Whoosh counts it with a
second pass.

The scores are Whoosh's own (its BM25F scorer on each posting), so rankings match those of the
matcher tree except for the coordination bonus, which is defined here (see :func:`_union`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from time import thread_time

import numpy as np
from whoosh import query as wq
from whoosh import scoring
from whoosh.searching import Searcher as WhooshSearcher
from whoosh.util.numeric import byte_to_length

from searchkit.engines.whoosh.codec import reading as codec
from searchkit.errors import QueryError
from searchkit.text.analysis import fold_syllable, normalize_syllable, syllable_texts

# Leaves cached per open index; enough for a few hundred distinct queries' terms.
CACHE_ENTRIES = 4096
# Proximity and word clauses only reorder this many of the best matches on the terms alone: a
# phrase of common syllables is costly to find over the whole index, and cannot lift an article
# from further down into the first pages.
RERANK_DEPTH = 200
# A prefix such as "h*" is expanded to at most this many terms, the most frequent first; all the
# prefixes of one query together to at most MAX_EXPANDED_TERMS (shared out evenly), since each
# word read costs about the same.
MAX_PREFIX_TERMS = 64
MAX_EXPANDED_TERMS = 128
# How many candidates a phrase is checked in between two looks at the clock.
PHRASE_BATCH = 256
# Tiers (see :meth:`Executor.tiers`) are decided among this many of the best matches on their scores.
TIER_DEPTH = 300
# A phrase's spelling is read from the stored text of at most this many of the articles holding it
# folded and every spelling somewhere in the field, the best first; the others, far down the
# results, are taken to spell it so (an article holding the folded phrase spelt otherwise and the
# spelling elsewhere is rare).
SPELT_CHECKS = 64


class SpeltPhrase(wq.Phrase):
    """A phrase of folded syllables whose words must also be written as ``spelt`` says: each word's
    normalised spelling, or ``None`` where any spelling that folds alike will do.

    The exact-accent fields keep no positions; the spelling is read from the stored text of the
    articles where the folded phrase stands (a few among the candidates of a tier).
    """

    def __init__(
        self,
        fieldname: str,
        words: list[str],
        spelt: list[str | None],
        *,
        exact_field: str,
        start: bool = False,
        boost: float = 1.0,
    ):
        super().__init__(fieldname, words, slop=1, boost=boost)
        self.spelt = tuple(spelt)
        # The field of normalised syllables beside ``fieldname``: an article lacking one of the
        # spellings there is never read.
        self.exact_field = exact_field
        # Only at the start of the field (a title beginning with the words).
        self.start = start

    def __eq__(self, other: object) -> bool:
        return super().__eq__(other) and (self.spelt, self.start) == (getattr(other, "spelt", None), other.start)

    def __hash__(self) -> int:
        return hash((super().__hash__(), self.spelt, self.start))

    def __repr__(self) -> str:
        start = ", start=True" if self.start else ""
        return f"{type(self).__name__}({self.fieldname!r}, {self.words!r}, spelt={self.spelt!r}{start})"

    def written_in(self, text: str, starts: Iterable[int] | None = None) -> bool:
        """Whether ``text`` holds the words side by side (at its start, if asked), each spelt as asked;
        only from the syllables ``starts`` (where the folded phrase begins) if given."""
        texts = syllable_texts(text)
        size = len(self.words)
        at = range(len(texts) - size + 1) if starts is None else sorted(starts)
        for i in at:
            if self.start and i:
                return False
            if 0 <= i <= len(texts) - size and all(
                fold_syllable(texts[i + j]) == word and (form is None or normalize_syllable(texts[i + j]) == form)
                for j, (word, form) in enumerate(zip(self.words, self.spelt, strict=True))
            ):
                return True
        return False


@dataclass(frozen=True)
class Deadline:
    """When a query must be done by and the budget it was given, in the thread's CPU time.

    CPU time, not wall time: a query waiting for the interpreter while other requests of a busy
    server run is not charged for the wait, so load alone never turns ordinary queries away.
    ``clock`` reads that time (a test gives one it moves itself).
    """

    at: float
    seconds: float
    clock: Callable[[], float] = field(default=thread_time, repr=False, compare=False)

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] | None = None) -> Deadline:
        clock = clock or thread_time
        return cls(clock() + seconds, seconds, clock)

    def check(self) -> None:
        if self.clock() > self.at:
            raise QueryError(
                f"the query took too long (more than {self.seconds:g} s); make it narrower",
                code="query_timeout",
                limit=self.seconds,
            )


@dataclass(frozen=True)
class Matches:
    """Documents (sorted, unique global numbers) and their scores."""

    ids: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def scaled(self, factor: float) -> Matches:
        return self if factor == 1.0 else Matches(self.ids, self.scores * factor)

    def subset(self, keep: np.ndarray) -> Matches:
        """The matches where the mask ``keep`` is true."""
        return Matches(self.ids[keep], self.scores[keep])


# Whoosh stores a field's length in a document as one byte; a posting's document has length >= 1.
_LENGTH_OF_BYTE = np.array([max(byte_to_length(code), 1) for code in range(256)], dtype=np.float64)

_EMPTY = Matches(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))


class Executor:
    """Evaluates compiled queries against one Whoosh searcher, caching its posting lists."""

    def __init__(self, searcher: WhooshSearcher):
        self.searcher = searcher
        self._cache: OrderedDict[tuple, Matches] = OrderedDict()
        self._lengths_cache: dict[tuple, np.ndarray] = {}
        self._deadline: Deadline | None = None
        self._prefix_terms = MAX_PREFIX_TERMS
        # Phrases found while placing tiers, by field, words and slop (see :meth:`tiers`).
        self._phrases: dict[tuple, Matches] | None = None
        # While tiers are placed: where each phrase's matches begin, and the documents read.
        self._starts: dict[tuple, dict[int, set[int]]] | None = None
        self._documents: dict[int, dict] | None = None

    def run(self, query: wq.Query, *, deadline: Deadline | None = None) -> Matches:
        """Every document ``query`` matches, with its score.

        Past ``deadline`` the run stops with a :class:`QueryError` (``query_timeout``); it is checked
        before each clause, each word a prefix stands for and each batch of phrase candidates.
        """
        self._deadline = deadline
        prefixes = {leaf.text for leaf in query.leaves() if isinstance(leaf, wq.Prefix)}
        self._prefix_terms = prefix_terms(len(prefixes))
        try:
            return self._eval(query)
        finally:
            self._deadline = None

    def _check_time(self) -> None:
        if self._deadline is not None:
            self._deadline.check()

    def top(self, matches: Matches, count: int, tiers: list[np.ndarray] = ()) -> list[tuple[int, float]]:
        """The ``count`` best (document, score) pairs, ties by document order.

        ``tiers`` (see :meth:`tiers`) order the documents before their scores do: the first tier's
        counts first, then the next's.
        """
        if not len(matches) or count <= 0:
            return []
        keys = [matches.ids, -matches.scores] + [-tier for tier in reversed(tiers)]
        order = np.lexsort(keys)[:count]
        return [(int(matches.ids[i]), float(matches.scores[i])) for i in order]

    def tiers(
        self, matches: Matches, levels: tuple[tuple[wq.Query, ...], ...], *, deadline: Deadline | None = None
    ) -> list[np.ndarray]:
        """For each level, how many of its clauses each of ``matches`` satisfies (aligned with ``matches.ids``).

        Only the best :data:`TIER_DEPTH` matches by score are placed in tiers; the others count 0.
        """
        if not levels or not len(matches):
            return []
        self._deadline = deadline
        self._phrases, self._starts, self._documents = {}, {}, {}
        try:
            candidates = _best_ids(matches, TIER_DEPTH)
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

    # --- operators ---------------------------------------------------------------------------

    def _eval(self, query: wq.Query) -> Matches:
        self._check_time()
        if isinstance(query, wq.Term):
            return self._leaf(("term", query.fieldname, query.text), query).scaled(query.boost)
        if isinstance(query, wq.Phrase):
            key = ("phrase", query.fieldname, tuple(query.words), query.slop)
            return self._leaf(key, query).scaled(query.boost)
        if isinstance(query, wq.Prefix):
            return self._prefix(query)
        if isinstance(query, wq.AndMaybe):
            required = self._eval(query.a)
            return _add_within(required, self._within(query.b, _best_ids(required, RERANK_DEPTH)))
        if isinstance(query, wq.AndNot):
            return _without(self._eval(query.a), self._eval(query.b))
        if isinstance(query, wq.Not):
            return _without(self.every_document(), self._eval(query.query)).scaled(0.0)
        if isinstance(query, wq.And):
            return _intersection([self._eval(q) for q in query.subqueries]).scaled(query.boost)
        if isinstance(query, wq.Or):
            parts = [self._eval(q) for q in query.subqueries]
            return _union(parts, coord=query.scale or 0.0).scaled(query.boost)
        if query is wq.NullQuery:
            return _EMPTY
        # Anything else goes through Whoosh's own matcher.
        return self._leaf(("query", repr(query)), query)

    def _within(self, query: wq.Query, candidates: np.ndarray) -> Matches:
        """What an optional clause adds to each of ``candidates`` (sorted document numbers).

        Phrases are checked in those documents only, skipping through the postings, which costs a
        fraction of matching a phrase of common syllables over the whole index.
        """
        self._check_time()
        if isinstance(query, wq.Or):
            return _union([self._within(q, candidates) for q in query.subqueries]).scaled(query.boost)
        if isinstance(query, SpeltPhrase):
            return self._spelt_within(query, candidates)
        if isinstance(query, wq.Phrase):
            return self._phrase_within(query, candidates)
        found = self._eval(query)
        keep = np.isin(found.ids, candidates, assume_unique=True)
        return Matches(found.ids[keep], found.scores[keep])

    def _spelt_within(self, query: SpeltPhrase, candidates: np.ndarray) -> Matches:
        """The candidates holding the phrase spelt as asked (see :data:`SPELT_CHECKS`)."""
        folded = self._phrase_within(query, candidates)
        for form in {form for form in query.spelt if form}:
            spelt = self._leaf(("term", query.exact_field, form), wq.Term(query.exact_field, form))
            folded = folded.subset(np.isin(folded.ids, spelt.ids, assume_unique=True))
        if not len(folded):
            return folded
        starts = (self._starts or {}).get((query.fieldname, tuple(query.words)), {})
        keep = np.ones(len(folded), dtype=bool)
        for n in np.argsort(-folded.scores, kind="stable")[:SPELT_CHECKS].tolist():
            doc = int(folded.ids[n])
            text = self._stored_field(doc, query.fieldname)
            keep[n] = query.written_in(text, starts.get(doc))
        return folded.subset(keep)

    def _stored_field(self, doc: int, fieldname: str) -> str:
        """A field of a document's stored fields, read once while tiers are placed."""
        if self._documents is None:
            return self.searcher.stored_fields(doc).get(fieldname, "")
        if doc not in self._documents:
            self._documents[doc] = self.searcher.stored_fields(doc)
        return self._documents[doc].get(fieldname, "")

    def _phrase_within(self, query: wq.Phrase, candidates: np.ndarray) -> Matches:
        """The candidates holding the phrase's words in order, each within ``slop`` of the last.

        A match scores the sum of its words' BM25F scores, as Whoosh's phrase matcher does. While
        tiers are placed, each phrase is found once among their candidates (several tiers ask for
        the same phrase, spelt otherwise or at the start).
        """
        if self._phrases is not None:
            key = (query.fieldname, tuple(query.words), max(query.slop, 1))
            if key not in self._phrases:
                self._phrases[key] = self._phrase_found(query, candidates).scaled(1 / query.boost)
            return self._phrases[key].scaled(query.boost)
        return self._phrase_found(query, candidates)

    def _phrase_found(self, query: wq.Phrase, candidates: np.ndarray) -> Matches:
        fieldname, words, slop = query.fieldname, list(query.words), max(query.slop, 1)
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
                ends = _ends_in_order([decode(values[at[n]]) for at, values, decode in where], slop)
                if ends:
                    found.append(offset + doc)
                    if starts is not None and slop == 1:
                        starts[offset + doc] = {end - len(words) + 1 for end in ends}
        if not found:
            return _EMPTY
        docs = np.asarray(found, dtype=np.int64)
        total = np.zeros(len(docs))
        for word in words:
            term = self._leaf(("term", fieldname, word), wq.Term(fieldname, word))
            at = np.searchsorted(term.ids, docs)
            at[at == len(term.ids)] = 0
            total += np.where(term.ids[at] == docs, term.scores[at], 0.0)
        return Matches(docs, total * query.boost)

    def _positions(self, reader, fieldname: str, text: str):
        """(document numbers, encoded positions, decoder) of a term in one segment, or None."""
        key = ("positions", id(reader), fieldname, text)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
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
                    entry = (np.concatenate(ids), values, fmt.decoder("positions"))
        self._store(key, (entry,))
        return entry

    def _prefix(self, query: wq.Prefix) -> Matches:
        reader = self.searcher.reader()
        # A walk of each segment's term table gives each word's document frequency beside it;
        # looking each word up again would probe every segment's hash table once per word.
        frequency: dict[bytes, int] = {}
        for leaf, _ in reader.leaf_readers():
            for text, info in leaf.iter_prefix(query.fieldname, query.text):
                frequency[text] = frequency.get(text, 0) + info.doc_frequency()
        terms = sorted(frequency, key=lambda text: (-frequency[text], text))[: self._prefix_terms]
        parts = []
        for term in terms:
            self._check_time()
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            parts.append(self._leaf(("term", query.fieldname, text), wq.Term(query.fieldname, text)))
        return _union(parts).scaled(query.boost)

    def every_document(self) -> Matches:
        """Every live document, each scoring 0."""
        key = ("all",)
        found = self._cache.get(key)
        if found is None:
            ids = np.fromiter(self.searcher.reader().all_doc_ids(), dtype=np.int64)
            found = self._store(key, Matches(np.sort(ids), np.zeros(len(ids))))
        return found

    # --- leaves ------------------------------------------------------------------------------

    def _leaf(self, key: tuple, query: wq.Query) -> Matches:
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        # Scored at boost 1: the boost is applied by the caller, so one entry serves every boost.
        plain = query.copy()
        plain.boost = 1.0
        ids: list[int] = []
        scores: list[float] = []
        if isinstance(plain, wq.Term):
            if (plain.fieldname, plain.text) not in self.searcher.reader():
                return self._store(key, _EMPTY)
            arrays = self._term_arrays(plain.fieldname, plain.text)
            if arrays is not None:
                return self._store(key, arrays)
            _drain(self.searcher.postings(plain.fieldname, plain.text), ids, scores)
        else:
            for sub, offset in self.searcher.subsearchers or [(self.searcher, 0)]:
                _drain(plain.matcher(sub, sub.context()), ids, scores, offset)
        if not ids:
            return self._store(key, _EMPTY)
        order = np.argsort(np.asarray(ids, dtype=np.int64), kind="stable")
        matches = Matches(np.asarray(ids, dtype=np.int64)[order], np.asarray(scores)[order])
        return self._store(key, matches)

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
            return _EMPTY
        ids_all = np.concatenate(id_parts)
        order = np.argsort(ids_all, kind="stable")
        return Matches(ids_all[order], np.concatenate(score_parts)[order])

    def _lengths(self, reader, fieldname: str) -> np.ndarray:
        """Every document's length of ``fieldname`` in one segment, as Whoosh stores it (a byte)."""
        key = ("lengths", id(reader), fieldname)
        found = self._lengths_cache.get(key)
        if found is None:
            found = _LENGTH_OF_BYTE[codec.length_codes(reader, fieldname)]
            self._lengths_cache[key] = found
        return found

    def _store(self, key: tuple, matches: Matches) -> Matches:
        self._cache[key] = matches
        if len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)
        return matches


def prefix_terms(prefixes: int) -> int:
    """How many words each of a query's ``prefixes`` distinct prefixes is expanded to."""
    return min(MAX_PREFIX_TERMS, MAX_EXPANDED_TERMS // max(prefixes, 1))


def _drain(matcher, ids: list[int], scores: list[float], offset: int = 0) -> None:
    while matcher.is_active():
        ids.append(offset + matcher.id())
        scores.append(matcher.score())
        matcher.next()


def _in_order(positions: list[list[int]], slop: int) -> bool:
    """Whether one position from each list follows the previous one by 1 to ``slop``."""
    return bool(_ends_in_order(positions, slop))


def _ends_in_order(positions: list[list[int]], slop: int) -> set[int]:
    """The positions of the last list that end a run, one position from each list following the
    previous one by 1 to ``slop``; empty when there is none."""
    reachable = set(positions[0])
    for following in positions[1:]:
        if slop == 1:  # the ranking's phrases and pairs: each word right after the last
            reachable = {r + 1 for r in reachable}.intersection(following)
        else:
            reachable = {p for p in following if any(0 < p - r <= slop for r in reachable)}
        if not reachable:
            return reachable
    return reachable


def _best_ids(matches: Matches, count: int) -> np.ndarray:
    """The sorted document numbers of the ``count`` best-scored matches (all, if fewer)."""
    if len(matches) <= count:
        return matches.ids
    best = np.argpartition(-matches.scores, count - 1)[:count]
    return np.sort(matches.ids[best])


def _union(parts: list[Matches], coord: float = 0.0) -> Matches:
    """Documents matching any part, scores summed.

    With ``coord`` (0–1), a document matching ``m`` of the ``n`` parts keeps ``(m / n) ** coord``
    of its score: matching more of a question's words counts for more than matching one often.
    """
    parts = [p for p in parts if len(p)]
    if not parts:
        return _EMPTY
    if len(parts) == 1 and not coord:
        return parts[0]
    ids = np.concatenate([p.ids for p in parts])
    scores = np.concatenate([p.scores for p in parts])
    unique, inverse = np.unique(ids, return_inverse=True)
    summed = np.bincount(inverse, weights=scores, minlength=len(unique))
    if coord:
        matched = np.bincount(inverse, minlength=len(unique))
        summed = summed * (matched / len(parts)) ** coord
    return Matches(unique, summed)


def _intersection(parts: list[Matches]) -> Matches:
    """Documents matching every part, scores summed."""
    if not parts or any(not len(p) for p in parts):
        return _EMPTY
    common = parts[0].ids
    for p in parts[1:]:
        common = np.intersect1d(common, p.ids, assume_unique=True)
    total = np.zeros(len(common))
    for p in parts:
        total += p.scores[np.searchsorted(p.ids, common)]
    return Matches(common, total)


def _without(kept: Matches, dropped: Matches) -> Matches:
    if not len(dropped) or not len(kept):
        return kept
    mask = ~np.isin(kept.ids, dropped.ids, assume_unique=True)
    return Matches(kept.ids[mask], kept.scores[mask])


def _add_within(base: Matches, extra: Matches) -> Matches:
    """``base`` with the scores ``extra`` gives the same documents added."""
    if not len(extra) or not len(base):
        return base
    positions = np.searchsorted(extra.ids, base.ids)
    positions[positions == len(extra.ids)] = 0
    hit = extra.ids[positions] == base.ids
    return Matches(base.ids, base.scores + np.where(hit, extra.scores[positions], 0.0))
