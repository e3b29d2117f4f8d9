"""Running queries: from the parsed query to ranked hits with snippets, as plain result objects.

Ranking is BM25F over the folded fields, so a query finds every accent variant, plus optional
clauses that only add score: the same syllables with their accents as typed or, typed without
accents, as accent restoration spells them, weighted by how sure it is (exact-accent boost), the
query's syllables adjacent (phrase/proximity boost), the query's syllables forming one pyvi word
(word boost), and title matches.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial, singledispatch
from pathlib import Path

from whoosh import query as wq
from whoosh import scoring

from searchkit import generations
from searchkit import query as q
from searchkit import schema as f
from searchkit.analysis import compound, fold_syllable, has_marks, normalize_syllable
from searchkit.errors import QueryError
from searchkit.execute import MAX_PREFIX_TERMS, Deadline, Executor
from searchkit.highlight import Matcher, Snippet, highlight, snippet
from searchkit.suggest import MIN_CONFIDENCE, Restoration, restore_query

MAX_LIMIT = 100
MAX_PAGE = 1000
# A query with at most this many syllables is a keyword query: every syllable must match. Longer ones are
# questions: the best partial matches rank first.
KEYWORD_QUERY_MAX_TERMS = 4
MAX_TERMS = 64
# Each prefix (``học*``) stands for up to MAX_PREFIX_TERMS words in each field searched: a query
# may hold this many.
MAX_PREFIXES = 8
# Seconds a query may take before it is stopped (``Searcher.search(..., budget=...)``).
DEFAULT_BUDGET = 2.0
# Below this many articles, how many hold a syllable says little about whether it is a common word.
COMMON_MIN_ARTICLES = 100


@dataclass(frozen=True)
class Weights:
    """How much each signal adds to a document's score, relative to a folded body match.

    The defaults were tuned on half of the XQuAD-vi questions (``tests/bench/tune.py``) with the
    paragraphs indexed alone and beside news articles; see README, "Relevance and speed".
    """

    title: float = 2.0
    # The title's weight in questions, where a title matching a few common words misleads more
    # than it tells (a news title with "bao nhiêu" is not about the question).
    question_title: float = 0.0
    # Questions: each pair of neighbouring syllables found side by side in the title.
    title_pair: float = 2.0
    exact: float = 1.0
    # Typed without accents: the spelling accent restoration gives, times how sure it is.
    restored: float = 0.0
    phrase: float = 1.5
    word: float = 0.5
    # Or-queries: how much matching more of the query's terms is rewarded (Whoosh's coordination scale).
    coord: float = 0.0
    # Questions: each pair of neighbouring syllables found side by side (slop 1) in the body.
    pair: float = 1.0
    # Questions: a syllable in more than this share of the articles ("của", "là", "bao") is left
    # out of the terms that must match; it still counts inside the phrase, pair and word clauses.
    common: float = 0.6
    # BM25's term-frequency saturation and length normalisation.
    k1: float = 2.0
    b: float = 0.9


@dataclass(frozen=True)
class Hit:
    rank: int
    id: str
    path: str
    title: str
    score: float
    snippet: Snippet | None

    def to_dict(self) -> dict:
        return {
            "rank": self.rank,
            "id": self.id,
            "path": self.path,
            "title": self.title,
            "score": round(self.score, 4),
            "snippet": self.snippet.html() if self.snippet else "",
        }


@dataclass
class SearchResults:
    query: str
    total: int
    page: int
    limit: int
    hits: list[Hit] = field(default_factory=list)
    seconds: float = 0.0
    # The accented query most likely meant ("Có phải bạn muốn tìm: …"); None when the query is
    # already its own best form.
    suggestion: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    def to_dict(self) -> dict:
        return {
            "query": self.query,
            "total": self.total,
            "results": [h.to_dict() for h in self.hits],
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True)
class Document:
    """A whole stored article, as the article page shows it."""

    id: str
    path: str
    title: str
    text: str
    date: str | None = None
    source: str | None = None
    url: str | None = None


class Searcher:
    """One generation of the index, open and kept warm across queries.

    Every answer comes from the generation that was current when the searcher opened (or last
    refreshed): builds publish new generations beside it and never change it.
    """

    def __init__(self, index_dir: Path | str, weights: Weights | None = None):
        self.index_dir = Path(index_dir)
        self.weights = weights or Weights()
        self._open()

    def _open(self) -> None:
        self.generation, index = generations.open_current(self.index_dir)
        try:
            self._searcher = index.searcher(weighting=scoring.BM25F(B=self.weights.b, K1=self.weights.k1))
        except Exception as exc:  # a segment Whoosh cannot read
            raise generations.damaged(self.index_dir, f"{type(exc).__name__}: {exc}") from exc
        self._executor = Executor(self._searcher)
        # Spelling counts looked up by accent restoration, valid while the generation is.
        self._spellings: dict = {}

    def close(self) -> None:
        self._searcher.close()

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_current(self) -> bool:
        """Whether this searcher's generation is still the index's current one (one small read)."""
        return generations.pointer(self.index_dir) == self.generation.name

    def refresh(self) -> None:
        """Moves to the index's current generation if a build has published a new one."""
        if not self.is_current():
            old = self._searcher
            self._open()
            old.close()

    def search(
        self,
        text: str,
        *,
        limit: int = 10,
        page: int = 1,
        snippets: bool = True,
        suggest: bool = True,
        budget: float | None = DEFAULT_BUDGET,
    ) -> SearchResults:
        """The ``page``-th page of ``limit`` hits for the query ``text``, best first.

        With ``suggest``, the query's accents are restored: the results carry the suggestion, and
        the words typed without accents rank first the articles that spell them as restored.
        A query still running after ``budget`` seconds (``None``: no limit) is stopped with a
        :class:`QueryError`.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}", code="limit_range", limit=MAX_LIMIT)
        if not 1 <= page <= MAX_PAGE:
            raise QueryError(f"page must be between 1 and {MAX_PAGE}", code="page_range", limit=MAX_PAGE)
        started = time.perf_counter()
        deadline = Deadline.after(budget) if budget is not None else None
        tree = q.parse(text)
        check_cost(tree)
        reader = self._searcher.reader()
        restoration = restore_query(reader, text, self._spellings) if suggest else None
        restored = restored_forms(restoration) if restoration else None
        question = is_question(text, tree)
        matches = self._matches(tree, has_marks(text), restored, question, deadline)
        tier = restored_tier(tree, restored) if restored and not question else None
        first_group = self._executor.run(tier, deadline=deadline) if tier is not None else None
        first = (page - 1) * limit
        matcher = Matcher(q.positive_terms(tree), q.prefixes(tree))
        hits = []
        best = self._executor.top(matches, page * limit, first=first_group)
        for rank, (docnum, score) in enumerate(best[first:], first + 1):
            stored = self._searcher.stored_fields(docnum)
            hits.append(
                Hit(
                    rank=rank,
                    id=stored[f.ID],
                    path=stored[f.ID],
                    title=stored.get(f.TITLE, ""),
                    score=score,
                    snippet=snippet(stored.get(f.BODY, ""), matcher) if snippets else None,
                )
            )
        return SearchResults(
            query=text,
            total=len(matches),
            page=page,
            limit=limit,
            hits=hits,
            seconds=time.perf_counter() - started,
            suggestion=restoration.suggestion if restoration else None,
        )

    def _matches(
        self, tree: q.Node, accents: bool, restored: Respellings | None, question: bool, deadline: Deadline | None
    ):
        common = self._common(tree) if question else frozenset()
        whoosh_query = compile_query(
            tree, self.weights, accents=accents, restored=restored, common=common, question=question
        )
        return self._executor.run(whoosh_query, deadline=deadline)

    def _common(self, tree: q.Node) -> frozenset[str]:
        """The question's folded syllables found in more than ``weights.common`` of the articles."""
        reader = self._searcher.reader()
        if self.weights.common >= 1.0 or reader.doc_count() < COMMON_MIN_ARTICLES:
            return frozenset()
        ceiling = self.weights.common * max(reader.doc_count(), 1)
        folded = {fold_syllable(t) for run in _runs(tree) for t in run}
        return frozenset(t for t in folded if reader.doc_frequency(f.BODY, t) > ceiling)

    def document(self, doc_id: str) -> Document | None:
        stored = self._searcher.document(**{f.ID: doc_id})
        if stored is None:
            return None
        return Document(
            id=stored[f.ID],
            path=stored[f.ID],
            title=stored.get(f.TITLE, ""),
            text=stored.get(f.BODY, ""),
            date=stored.get(f.DATE),
            source=stored.get(f.SOURCE),
            url=stored.get(f.URL),
        )

    def highlighted(self, doc_id: str, text: str) -> tuple[Document, Snippet, Snippet] | None:
        """The article ``doc_id`` with the matches of query ``text`` marked in its title and body."""
        document = self.document(doc_id)
        if document is None:
            return None
        tree = q.parse(text)
        matcher = Matcher(q.positive_terms(tree), q.prefixes(tree))
        return document, highlight(document.title, matcher), highlight(document.text, matcher)


def check_cost(tree: q.Node) -> None:
    """Refuses a query that would cost more than any search should: too many words or prefixes."""
    if q.term_count(tree) > MAX_TERMS:
        raise QueryError(
            f"the query has too many words (at most {MAX_TERMS})", code="query_too_many_words", limit=MAX_TERMS
        )
    if (count := q.prefix_count(tree)) > MAX_PREFIXES:
        raise QueryError(
            f"the query has too many prefixes ({count} words ending in *; at most {MAX_PREFIXES})",
            code="query_too_costly",
            prefixes=count,
            limit=MAX_PREFIXES,
            terms_per_prefix=MAX_PREFIX_TERMS,
        )


def search(index_dir: Path | str, text: str, *, limit: int = 10, page: int = 1) -> SearchResults:
    """One query against the index in ``index_dir`` (opens and closes it; use :class:`Searcher` for many)."""
    with Searcher(index_dir) as searcher:
        return searcher.search(text, limit=limit, page=page)


# --- from the query tree to a Whoosh query ----------------------------------------------------------------------
#
# Each operation on the tree is one ``singledispatch`` function: a clause kind registers what it
# means there, and clauses that behave alike share one registration (on ``q.Leaf``, ``q.Clauses``
# or the base ``q.Node``).


Respellings = dict[str, tuple[str, float]]
"""Typed syllable -> (restored spelling, its probability), for the syllables typed without accents
that restoration changes."""


# Typed with their accents, the words and expressions that make a short query a question ("NASUWT
# là gì", "dân số bao nhiêu"). "bao" and "sao" carry no mark themselves, so they count only in an
# expression whose other word shows its accents: "bao ve" (bảo vệ) and "ngôi sao" are no questions.
QUESTION_WORDS = frozenset(
    {
        ("gì",),
        ("nào",),
        ("đâu",),
        ("mấy",),
        ("bao", "nhiêu"),
        ("bao", "giờ"),
        ("bao", "lâu"),
        ("tại", "sao"),
        ("vì", "sao"),
        ("làm", "sao"),
        ("ra", "sao"),
    }
)


def is_question(text: str, tree: q.Node) -> bool:
    """Whether a query ranks partial matches rather than needing every word.

    A question: more than a few words, a ``?`` at the end, or a question word typed with its
    accents (``Tesla chết năm nào``, ``bao nhiêu``). Unaccented, ``nao``/``bao nhieu`` are too
    often other words.
    """
    if q.term_count(tree) > KEYWORD_QUERY_MAX_TERMS or text.rstrip().endswith("?"):
        return True
    longest = max(len(words) for words in QUESTION_WORDS)
    for run in _runs(tree):
        spelt = [normalize_syllable(word) for word in run]
        for i in range(len(spelt)):
            if any(tuple(spelt[i : i + size]) in QUESTION_WORDS for size in range(1, longest + 1)):
                return True
    return False


def restored_forms(restoration: Restoration) -> Respellings:
    """Each syllable typed without accents that restoration respells, with its spelling and how sure it is.

    A syllable typed with accents keeps them (see :func:`_spelling`), whatever restoration makes of it.
    """
    forms: Respellings = {}
    for s in restoration.syllables:
        if s.changed and not has_marks(s.typed.text) and s.confidence > forms.get(s.typed.text, ("", 0.0))[1]:
            forms[s.typed.text] = (s.form, s.confidence)
    return forms


def restored_tier(tree: q.Node, restored: Respellings) -> wq.Query | None:
    """The documents spelling a keyword query as its suggestion does, which rank first.

    Someone who types ``con duong`` and is offered ``con đường`` wants the articles about roads
    before those about ``con dương``, whatever their scores; the others still follow. Question-like
    queries are only boosted: few articles hold every word of a question.
    """
    if q.term_count(tree) > KEYWORD_QUERY_MAX_TERMS:
        return None
    sure = {typed: form for typed, (form, odds) in restored.items() if odds >= MIN_CONFIDENCE}
    return _tier(tree, sure, f.TEXT_FIELDS) if sure else None


@singledispatch
def _tier(node: q.Node, sure: dict[str, str], fields: tuple[str, ...]) -> wq.Query | None:
    """The tier of one clause; ``None`` when the clause does not narrow it (a clause it cannot spell)."""
    return None


@_tier.register(q.Leaf)
def _tier_leaf(node: q.Leaf, sure: dict[str, str], fields: tuple[str, ...]) -> wq.Query | None:
    spelt = [[wq.Term(f.EXACT[name], sure[t]) for name in fields] for t in node.words if t in sure]
    return wq.And([wq.Or(terms) for terms in spelt]) if spelt and not node.prefix else None


@_tier.register(q.Field)
def _tier_field(node: q.Field, sure: dict[str, str], fields: tuple[str, ...]) -> wq.Query | None:
    return _tier(node.node, sure, (node.name,))


@_tier.register(q.Clauses)
def _tier_clauses(node: q.Clauses, sure: dict[str, str], fields: tuple[str, ...]) -> wq.Query | None:
    parts = [part for part in (_tier(n, sure, fields) for n in node.nodes) if part is not None]
    return wq.And(parts) if parts else None


@_tier.register(q.Any)
def _tier_any(node: q.Any, sure: dict[str, str], fields: tuple[str, ...]) -> wq.Query | None:
    # One alternative without a restored spelling lets every article into the tier.
    parts = [_tier(n, sure, fields) for n in node.nodes]
    return None if None in parts else wq.Or(parts)


def compile_query(
    tree: q.Node,
    weights: Weights,
    *,
    accents: bool,
    restored: Respellings | None = None,
    common: frozenset[str] = frozenset(),
    question: bool | None = None,
) -> wq.Query:
    """The Whoosh query for ``tree``: what must match, plus the clauses that order the matches.

    A keyword query (``question`` false) needs all its words; a question ranks partial matches
    (by default, a question is a query of more than ``KEYWORD_QUERY_MAX_TERMS`` syllables).
    ``common`` syllables (see :attr:`Weights.common`) are left out of a question's terms, unless
    nothing would be left.

    ``accents`` says whether the query carries any; each syllable's exact-accent clause is then
    decided on its own (see :func:`_spelling`). ``restored`` (see :func:`restored_forms`) gives the
    syllables typed without accents the exact-accent clauses they would have had if typed with
    them. Each sits beside the folded term it respells, which every document it matches also
    matches: they reorder the results, never filter them.
    """
    keyword = not (is_question("", tree) if question is None else question)
    if not keyword:
        weights = dataclasses.replace(weights, title=weights.question_title)
    compiling = _Compiling(weights, keyword, accents, restored or {})
    pruned = _without(tree, common) if not keyword and common else None
    required = _compile(pruned or tree, compiling)
    boosts = _boosts(tree, weights, question=not keyword)
    return wq.AndMaybe(required, wq.Or(boosts)) if boosts else required


@dataclass(frozen=True)
class _Compiling:
    """What compiling a clause depends on besides the clause itself."""

    weights: Weights
    keyword: bool
    accents: bool
    restored: Respellings
    fields: tuple[str, ...] = f.TEXT_FIELDS


@singledispatch
def _compile(node: q.Node, c: _Compiling) -> wq.Query:
    raise TypeError(f"no Whoosh query for a {type(node).__name__} clause")


@_compile.register(q.Term)
def _compile_term(node: q.Term, c: _Compiling) -> wq.Query:
    w = c.weights
    folded = fold_syllable(node.text)
    if node.prefix:
        return wq.Or([wq.Prefix(name, folded, boost=_field_boost(name, w)) for name in c.fields])
    clauses: list[wq.Query] = [wq.Term(name, folded, boost=_field_boost(name, w)) for name in c.fields]
    spelling = _spelling(node.text, c)
    if spelling is not None:
        form, weight = spelling
        clauses += [wq.Term(f.EXACT[name], form, boost=_field_boost(name, w) * weight) for name in c.fields]
    # A weight of 0 turns a signal off; its clauses would only cost time. The terms themselves
    # stay when nothing else is left (a question's title:word with the title weighing 0).
    weighed = [clause for clause in clauses if clause.boost > 0]
    return wq.Or(weighed or clauses[: len(c.fields)])


@_compile.register(q.Phrase)
def _compile_phrase(node: q.Phrase, c: _Compiling) -> wq.Query:
    folded = [fold_syllable(s) for s in node.words]
    return wq.Or(
        [wq.Phrase(name, folded, slop=max(1, node.slop + 1), boost=_field_boost(name, c.weights)) for name in c.fields]
    )


@_compile.register(q.Field)
def _compile_field(node: q.Field, c: _Compiling) -> wq.Query:
    return _compile(node.node, dataclasses.replace(c, fields=(node.name,)))


@_compile.register(q.Not)
def _compile_not(node: q.Not, c: _Compiling) -> wq.Query:
    return wq.Not(_compile(node.node, c))


@_compile.register(q.All)
def _compile_all(node: q.All, c: _Compiling) -> wq.Query:
    return _combined(node, c, wq.And)


@_compile.register(q.Any)
def _compile_any(node: q.Any, c: _Compiling) -> wq.Query:
    return _combined(node, c, wq.Or)


@_compile.register(q.Group)
def _compile_group(node: q.Group, c: _Compiling) -> wq.Query:
    return _combined(node, c, wq.And if c.keyword else partial(wq.Or, scale=c.weights.coord))


def _combined(node: q.Clauses, c: _Compiling, combine: Callable[[list[wq.Query]], wq.Query]) -> wq.Query:
    """The clauses of ``node`` joined by ``combine``, less the articles its exclusions match."""
    children = [_compile(n, c) for n in node.nodes]
    positives = [child for child in children if not isinstance(child, wq.Not)]
    negatives = [child.query for child in children if isinstance(child, wq.Not)]
    if not positives:
        return wq.Not(wq.Or(negatives))
    combined = combine(positives)
    return wq.AndNot(combined, wq.Or(negatives)) if negatives else combined


def _spelling(typed: str, c: _Compiling) -> tuple[str, float] | None:
    """The accented spelling a typed syllable ranks first, and its weight; ``None`` for none.

    Decided syllable by syllable: typed with accents, its own spelling. Typed without, the
    spelling restoration gives it (weighed by how sure it is), as in a query typed without
    accents, so ``nêu guong`` ranks ``gương`` first, not the bare ``guong``; in a query with
    accents elsewhere, a syllable restoration leaves alone keeps its bare spelling (``Chi bộ``:
    the writer chose ``chi``).
    """
    w = c.weights
    if has_marks(typed):
        return normalize_syllable(typed), w.exact
    if typed in c.restored:
        form, confidence = c.restored[typed]
        return form, w.restored * confidence
    if c.accents:
        return normalize_syllable(typed), w.exact
    return None


def _field_boost(field_name: str, w: Weights) -> float:
    return w.title if field_name == f.TITLE else 1.0


@singledispatch
def _without(node: q.Node, common: frozenset[str]) -> q.Node | None:
    """``node`` without its plain terms in ``common``; ``None`` when nothing is left.

    Only the words written side by side are pruned; any other clause stays whole.
    """
    return node


@_without.register(q.Term)
def _without_term(node: q.Term, common: frozenset[str]) -> q.Node | None:
    return None if not node.prefix and fold_syllable(node.text) in common else node


@_without.register(q.Group)
def _without_group(node: q.Group, common: frozenset[str]) -> q.Node | None:
    kept = [k for k in (_without(n, common) for n in node.nodes) if k is not None]
    if not any(q.searched(k) for k in kept):
        return None
    return q.Group(tuple(kept)) if len(kept) != len(node.nodes) else node


def _boosts(tree: q.Node, w: Weights, *, question: bool = False) -> list[wq.Query]:
    """Proximity and word clauses for each run of plain syllables typed side by side."""
    clauses: list[wq.Query] = []
    for run in _runs(tree):
        folded = [fold_syllable(s) for s in run]
        if len(folded) < 2:
            continue
        if w.phrase:
            clauses.append(wq.Phrase(f.BODY, folded, slop=1, boost=w.phrase))
            if w.title:
                clauses.append(wq.Phrase(f.TITLE, folded, slop=1, boost=w.phrase * w.title))
        if question and w.pair and len(folded) > 2:
            clauses += [wq.Phrase(f.BODY, folded[i : i + 2], slop=1, boost=w.pair) for i in range(len(folded) - 1)]
            # In a question's title, a pair of its words is evidence where a lone word is noise.
            if w.title_pair:
                clauses += [
                    wq.Phrase(f.TITLE, folded[i : i + 2], slop=1, boost=w.title_pair) for i in range(len(folded) - 1)
                ]
        for size in (2, 3) if w.word else ():
            for i in range(len(folded) - size + 1):
                clauses.append(wq.Term(f.WORDS, compound(folded[i : i + size]), boost=w.word))
    return clauses


@singledispatch
def _runs(node: q.Node) -> list[list[str]]:
    """Maximal sequences of plain terms (and phrases) written next to each other, outside NOT and fields.

    A clause's runs are those of the clauses inside it, each apart; only words side by side join.
    """
    return [run for child in node.children for run in _runs(child)]


@_runs.register(q.Leaf)
def _runs_leaf(node: q.Leaf) -> list[list[str]]:
    return [] if node.prefix else [list(node.words)]


@_runs.register(q.Not)
@_runs.register(q.Field)
def _no_runs(node: q.Node) -> list[list[str]]:
    return []


@_runs.register(q.Group)
def _runs_group(node: q.Group) -> list[list[str]]:
    runs: list[list[str]] = []
    current: list[str] = []
    for child in node.nodes:
        if isinstance(child, q.Leaf) and not child.prefix:
            current += child.words
            continue
        if current:
            runs.append(current)
            current = []
        runs.extend(_runs(child))
    if current:
        runs.append(current)
    return runs
