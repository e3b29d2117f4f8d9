"""Running queries: from the text typed to ranked hits with snippets, as plain result objects.

How hits are ordered is ``searchkit.search.ranking``'s; how a compiled query is run,
``searchkit.engines.whoosh.execute``'s.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
from whoosh import query as wq
from whoosh import scoring

from searchkit.engines import fields as f
from searchkit.engines.whoosh import generations
from searchkit.engines.whoosh.columns import Columns
from searchkit.engines.whoosh.execute import MAX_PREFIX_TERMS, Deadline, Executor, Matches
from searchkit.errors import IndexDamagedError, QueryError, SearchkitError
from searchkit.search import complete, keystrokes, passages, related
from searchkit.search import parse as q
from searchkit.search.acronyms import Acronym, Glossary
from searchkit.search.acronyms import expand as expand_acronyms
from searchkit.search.filters import RELEVANCE, Facets, Filters, check_sort
from searchkit.search.highlight import Matcher, Snippet, matcher_for, snippet
from searchkit.search.pages import ArticlePage, article_page
from searchkit.search.ranking import (
    KEYWORD_QUERY_MAX_TERMS,
    Levels,
    Respellings,
    Weights,
    compile_query,
    is_question,
    partial_tiers,
    question_syllables,
    restored_forms,
    restored_tier,
    runs,
    tiers,
)
from searchkit.search.restoration import Restoration, restore_query
from searchkit.search.spellings import ACRONYMS, SpellingCounts
from searchkit.search.spellings import FILE as SPELLINGS_FILE
from searchkit.text.analysis import accent_key, fold_syllable, has_marks, nfc, normalize_syllable

MAX_LIMIT = 100
MAX_PAGE = 1000
MAX_TERMS = 64
# Each prefix (``học*``) stands for up to MAX_PREFIX_TERMS words in each field searched: a query
# may hold this many.
MAX_PREFIXES = 8
# Seconds a query may take before it is stopped (``Searcher.search(..., budget=...)``).
DEFAULT_BUDGET = 2.0
# Related articles an article page lists.
RELATED = 5
# Below this many articles, how many hold a syllable says little about whether it is a common word.
COMMON_MIN_ARTICLES = 100


@dataclass(frozen=True)
class Hit:
    rank: int
    id: str
    path: str
    title: str
    score: float
    snippet: Snippet | None
    # The article's metadata: an ISO date ("2024-05-22"), its source and tags as written, its address.
    date: str | None = None
    source: str | None = None
    tags: tuple[str, ...] = ()
    url: str | None = None

    def to_dict(self) -> dict:
        return {
            "rank": self.rank,
            "id": self.id,
            "path": self.path,
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "tags": list(self.tags),
            "url": self.url,
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
    # The order of the hits (one of ``filters.SORTS``), and the counts beside them when asked for.
    sort: str = RELEVANCE
    facets: Facets | None = None
    # The learnt acronyms the query was expanded with (an acronym typed, or a long form).
    acronyms: list[Acronym] = field(default_factory=list)
    # Whether ``total`` is the count of the matches or an estimate (Xapian's, on shards).
    exact: bool = True

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    def to_dict(self) -> dict:
        data = {
            "query": self.query,
            "total": self.total,
            "sort": self.sort,
            "acronyms": [a.to_dict() for a in self.acronyms],
            "results": [h.to_dict() for h in self.hits],
            "suggestion": self.suggestion,
        }
        if self.facets is not None:
            data["facets"] = self.facets.to_dict()
        return data


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
    tags: tuple[str, ...] = ()


_Method = TypeVar("_Method", bound=Callable[..., Any])


def reads_index(method: _Method) -> _Method:
    """Marks a method that reads the index's files: whatever a damaged file makes the readers
    raise (a pickle, zlib, struct or SQLite error, a key or value Whoosh cannot find...) comes out
    as the one :class:`IndexDamagedError`, naming the file; a fault of the code is raised as it is."""

    @functools.wraps(method)
    def reading(self: Searcher, *args: object, **kwargs: object) -> object:
        try:
            return method(self, *args, **kwargs)
        except SearchkitError:
            raise
        except Exception as exc:
            damage = self.damage(exc)
            if damage is None:
                raise
            raise damage from exc

    return cast(_Method, reading)


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
        # What a failed read found, once per searcher: a damaged index fails every request, and
        # each must not hash the whole generation again.
        self._verdict: tuple[IndexDamagedError | None] | None = None
        try:
            self._searcher = index.searcher(weighting=scoring.BM25F(B=self.weights.b, K1=self.weights.k1))
        except Exception as exc:  # a segment Whoosh cannot read
            raise generations.damaged(self.index_dir, f"{type(exc).__name__}: {exc}") from exc
        self._executor = Executor(self._searcher)
        self._columns: Columns | None = None
        try:
            self.spellings = open_spellings(self.generation)
        except SearchkitError:
            self._searcher.close()
            raise
        except Exception as exc:  # not a SQLite file, or not the tables a build writes
            self._searcher.close()
            damage = self.damage(exc)
            if damage is None:
                raise
            raise damage from exc
        # Spelling counts looked up by accent restoration, valid while the generation is.
        self._looked_up: dict = {}
        self._glossary: Glossary | None = None

    def close(self) -> None:
        self._searcher.close()
        self.spellings.close()

    def damage(self, exc: Exception) -> IndexDamagedError | None:
        """The damage in this searcher's generation that made a read fail with ``exc``; None when its
        files are as their build wrote them (:func:`searchkit.engines.whoosh.generations.explain`)."""
        if self._verdict is None:
            self._verdict = (generations.explain(self.index_dir, self.generation, exc),)
        return self._verdict[0]

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
            old, counts = self._searcher, self.spellings
            self._open()
            old.close()
            counts.close()

    @reads_index
    def search(
        self,
        text: str,
        *,
        limit: int = 10,
        page: int = 1,
        snippets: bool = True,
        suggest: bool = True,
        acronyms: bool = True,
        budget: float | None = DEFAULT_BUDGET,
        filters: Filters | None = None,
        sort: str | None = None,
        facets: bool = False,
    ) -> SearchResults:
        """The ``page``-th page of ``limit`` hits for the query ``text``, best first.

        With ``suggest``, the query's accents are restored: the results carry the suggestion, and
        the words typed without accents rank first the articles that spell them as restored; words
        typed as Telex or VNI keys are read as the syllables they type. With ``acronyms``, a learnt
        acronym also finds its long forms, and a long form its acronym.
        A query still running after ``budget`` seconds (``None``: no limit) is stopped with a
        :class:`QueryError`.

        ``filters`` narrow the hits; ``sort`` orders them (``filters.SORTS``: by default the most
        relevant first); ``facets`` counts sources, tags and years beside them. With filters, ``text``
        may be empty: every article they let through is a hit, the newest first.
        """
        check_page(limit, page)
        filters = filters or Filters()
        browsing = filters.active and not text.strip()
        sort = check_sort(sort, browsing=browsing)
        started = time.perf_counter()
        deadline = Deadline.after(budget) if budget is not None else None
        prepared = _NOTHING_TYPED
        if browsing:
            matches = self._executor.every_document()
        else:
            prepared = self.prepared(text, suggest=suggest, acronyms=acronyms)
            matches = self._executor.run(prepared.compiled, deadline=deadline)
            if not len(matches) and prepared.long_keywords:
                prepared = self.prepared(text, suggest=suggest, acronyms=acronyms, question=True)
                matches = self._executor.run(prepared.compiled, deadline=deadline)
        counted = None
        if filters.active or facets:
            kept, counted = self.columns().narrow(matches.ids, filters, facets=facets)
            matches = matches.subset(kept)
        suggestion = prepared.suggestion
        spelling = self._executor.run(prepared.spelling, deadline=deadline) if prepared.spelling is not None else None
        if spelling is not None and not np.isin(spelling.ids, matches.ids).any():
            # No hit under the filters spells the query as suggested ("lua": lựa, where the one
            # article of the source chosen is about lúa): it would lead away from these results.
            suggestion = None
        first = (page - 1) * limit
        if sort == RELEVANCE and prepared.question_words is not None:
            matches = self._by_passages(matches, prepared.question_words, deadline)
        if sort == RELEVANCE:
            placed = self._executor.tiers(matches, prepared.tiers, deadline=deadline)
            best = self._executor.top(matches, page * limit, tiers=placed)
        else:
            order = self.columns().by_date(matches.ids, matches.scores, page * limit, sort)
            best = [(int(matches.ids[i]), float(matches.scores[i])) for i in order]
        hits = []
        for rank, (docnum, score) in enumerate(best[first:], first + 1):
            hits.append(self._hit(rank, docnum, score, prepared.matcher if snippets else None))
            if deadline is not None:  # the budget covers the snippets too
                deadline.check()
        return SearchResults(
            query=text,
            total=len(matches),
            page=page,
            limit=limit,
            hits=hits,
            seconds=time.perf_counter() - started,
            suggestion=suggestion,
            sort=sort,
            facets=counted,
            acronyms=prepared.acronyms,
        )

    @reads_index
    def prepared(
        self, text: str, *, suggest: bool = True, acronyms: bool = True, question: bool | None = None
    ) -> Prepared:
        """The query ``text`` compiled for ranking, with what the results say of it (see :meth:`search`).

        ``question`` decides whether it is searched as a question (by default, :func:`is_question`).
        The same on either backend: ``searchkit.engines.xapian`` runs the compiled query on Xapian.
        """
        query = self._understood(text, keys=suggest, expand=acronyms, question=question)
        keyed = query.text != nfc(text)  # typed as Telex or VNI keys
        restoration = self._restoration(query, keyed) if suggest else None
        restored = restored_forms(restoration) if restoration else None
        common = self._common(query.expanded) if query.question else frozenset()
        accented = has_marks(query.text)
        compiled = compile_query(
            query.expanded,
            self.weights,
            accents=accented,
            restored=restored,
            common=common,
            question=query.question,
        )
        suggestion = restoration.suggestion if restoration else None
        if keyed:  # the query the keys type is the one offered
            suggestion = suggestion or query.text
        return Prepared(
            compiled=compiled,
            tiers=self._tiers(query, question, accented, restored),
            long_keywords=not query.question and q.term_count(query.tree) > KEYWORD_QUERY_MAX_TERMS,
            matcher=matcher_for(query.expanded, restoration.readings() if restoration else None),
            suggestion=suggestion,
            acronyms=query.acronyms,
            spelling=restored_tier(query.tree, restored) if restored and not query.question else None,
            question_words=self._passage_words(query),
        )

    def _passage_words(self, query: _Query) -> passages.Words | None:
        """A question's syllables as its passages weigh them; ``None`` for a keyword query, and in an index
        too small for its syllables' frequencies to tell common words from rare ones (as for ``_common``)."""
        if not query.question or self.weights.passage <= 0:
            return None
        reader = self._statistics()
        typed = question_syllables(query.tree)
        if not typed or reader.doc_count() < COMMON_MIN_ARTICLES:
            return None
        return passages.question_words(typed, reader, loose=self.weights.passage_loose)

    def _by_passages(self, matches: Matches, words: passages.Words, deadline: Deadline | None) -> Matches:
        """``matches`` with the best of them scored again by their passages (see :mod:`searchkit.search.passages`)."""
        w = self.weights
        if not len(matches):
            return matches
        best = np.argsort(-matches.scores, kind="stable")[: w.passage_depth]
        texts = []
        for n in best.tolist():
            texts.append(self._searcher.stored_fields(int(matches.ids[n])).get(f.BODY, ""))
            if deadline is not None:
                deadline.check()
        scores = matches.scores[best].tolist()
        gained = passages.bonuses(scores, texts, words, weight=w.passage, window=w.passage_window)
        placed = matches.scores.copy()
        placed[best] += gained
        return Matches(matches.ids, placed)

    def _tiers(self, query: _Query, asked: bool | None, accented: bool, restored: Respellings | None) -> Levels:
        """What orders the query's matches before their scores: a keyword query's tiers; none for a
        question, but those of its neighbouring pairs for a long keyword query searched as one (``asked``)."""
        if not query.question:
            return tiers(query.tree, self.weights, accents=accented, restored=restored)
        return partial_tiers(query.tree) if asked and not is_question(query.text, query.tree) else ()


    @reads_index
    def columns(self) -> Columns:
        """The metadata of every article as arrays, read on first use and kept with the generation."""
        if self._columns is None:
            self._columns = Columns(self._searcher.reader())
        return self._columns

    @reads_index
    def has_dates(self) -> bool:
        """Whether any article of the index has a date: only then may hits be ordered or narrowed by date."""
        days = self.columns().days[self._executor.every_document().ids]
        return bool((days != f.NO_DAY).any())

    def _hit(self, rank: int, docnum: int, score: float, matcher: Matcher | None) -> Hit:
        return stored_hit(rank, self._searcher.stored_fields(docnum), score, matcher)

    def _understood(self, text: str, *, keys: bool = True, expand: bool = True, question: bool | None = None) -> _Query:
        """The query ``text`` as searched: Telex or VNI keys read (``keys``), acronyms expanded (``expand``),
        a question if ``question`` says so (by default, if :func:`is_question` does).

        Raises :class:`QueryError` for a query that cannot run or costs too much, as typed.
        """
        tree = q.parse(text)
        check_cost(tree)
        understood = nfc(text)
        if keys:
            understood = self.converted(understood)
            if understood != nfc(text):
                tree = q.parse(understood)
        if question is None:
            question = is_question(understood, tree)
        # A question's words match partly anyway: a long form's acronym would only add noise there.
        expanded, used = expand_acronyms(tree, self.glossary(), long_forms=not question) if expand else (tree, [])
        return _Query(understood, tree, question, expanded, list(dict.fromkeys(used)))

    @reads_index
    def converted(self, text: str) -> str:
        """``text`` with the words typed as Telex or VNI keys read as the syllables they type."""
        return keystrokes.converted(text, _Vocabulary(self._statistics(), self.spellings))

    @reads_index
    def glossary(self) -> Glossary:
        """The acronyms this generation has learnt (read once)."""
        if self._glossary is None:
            self._glossary = Glossary.from_terms(self.spellings.all(ACRONYMS))
        return self._glossary

    @reads_index
    def complete(self, text: str, limit: int = complete.MAX_COMPLETIONS) -> list[str]:
        """Completions of the query ``text`` as it is being typed (see :mod:`searchkit.search.complete`)."""
        if len(text) > q.MAX_QUERY_CHARS:
            raise q.too_long(len(text))
        return complete.completions(self.spellings, text, limit)

    def _statistics(self):  # noqa: ANN202 - a Whoosh reader, or what answers as one
        """The index's term statistics: ``doc_count()``, ``doc_frequency(field, term)``, ``frequency(field, term)``."""
        return self._searcher.reader()

    def _common(self, tree: q.Node) -> frozenset[str]:
        """The question's folded syllables found in more than ``weights.common`` of the articles."""
        reader = self._statistics()
        if self.weights.common >= 1.0 or reader.doc_count() < COMMON_MIN_ARTICLES:
            return frozenset()
        ceiling = self.weights.common * max(reader.doc_count(), 1)
        folded = {fold_syllable(t) for run in runs(tree) for t in run}
        return frozenset(t for t in folded if reader.doc_frequency(f.BODY, t) > ceiling)

    @reads_index
    def document(self, doc_id: str) -> Document | None:
        stored = self._searcher.document(**{f.ID: doc_id})
        return stored_document(stored) if stored is not None else None

    @reads_index
    def related(
        self,
        doc_id: str,
        limit: int = RELATED,
        budget: float | None = DEFAULT_BUDGET,
        *,
        document: Document | None = None,
    ) -> list[Hit]:
        """Up to ``limit`` articles on the subject of article ``doc_id``, best first (:mod:`searchkit.search.related`).

        ``document``: the article, when the caller has read it already (a long one costs a read).
        """
        deadline = Deadline.after(budget) if budget is not None else None
        docnum = self._searcher.document_number(**{f.ID: doc_id})
        if docnum is None:
            return []
        if document is None:
            document = stored_document(self._searcher.stored_fields(docnum))
        reader = self._searcher.reader()
        words = related.distinctive(
            document.title,
            document.text,
            reader.doc_frequency,
            reader.doc_count(),
            syllable_field=f.BODY,
            word_field=f.WORDS,
        )
        if not words:
            return []
        query = wq.Or([wq.Term(word.field, word.term) for word in words])
        matches = self._executor.run(query, deadline=deadline)
        holders = [self._executor.run(wq.Term(word.field, word.term), deadline=deadline).ids for word in words]
        best = []
        for n, score in self._executor.top(matches, related.CANDIDATES * limit + 1):
            shared = [word for word, ids in zip(words, holders, strict=True) if _holds(ids, n)]
            if n != docnum and related.alike(shared, words, reader.doc_count()):
                best.append((n, score))
        return [self._hit(rank, n, score, None) for rank, (n, score) in enumerate(best[:limit], 1)]

    @reads_index
    def matcher(self, text: str) -> Matcher:
        """What the query ``text`` marks in an article, as its hits' snippets do (raises
        :class:`QueryError` as a search would)."""
        query = self._understood(text)
        return matcher_for(query.expanded, self._restoration(query, query.text != nfc(text)).readings())

    def _restoration(self, query: _Query, keyed: bool) -> Restoration:
        """The query's accents restored (``keyed``: typed as Telex or VNI keys, see :func:`restore_query`)."""
        return restore_query(self.spellings, query.text, self._looked_up, as_typed=keyed)

    @reads_index
    def article(self, doc_id: str, matcher: Matcher | None = None, page: int | None = None) -> ArticlePage | None:
        """Page ``page`` of the article ``doc_id`` (:mod:`searchkit.search.pages`), marked by ``matcher``;
        by default its first page ``matcher`` marks."""
        document = self.document(doc_id)
        return article_page(document, matcher, page) if document is not None else None

    def highlighted(self, doc_id: str, text: str) -> tuple[Document, Snippet, Snippet] | None:
        """The article ``doc_id`` with the matches of query ``text`` marked in its title and body
        (the body's first page holding one, for an article of several pages)."""
        found = self.article(doc_id, self.matcher(text))
        return (found.document, found.title, found.body) if found is not None else None


def _holds(ids: np.ndarray, docnum: int) -> bool:
    """Whether the sorted document numbers ``ids`` hold ``docnum``."""
    at = int(np.searchsorted(ids, docnum))
    return at < len(ids) and int(ids[at]) == docnum


def stored_hit(rank: int, stored: dict, score: float, matcher: Matcher | None) -> Hit:
    """A hit from an article's stored fields (by the schema's names), its snippet marked by ``matcher``."""
    return Hit(
        rank=rank,
        id=stored[f.ID],
        path=stored[f.ID],
        title=stored.get(f.TITLE, ""),
        score=score,
        snippet=snippet(stored.get(f.BODY, ""), matcher) if matcher is not None else None,
        date=stored.get(f.DATE),
        source=stored.get(f.SOURCE),
        tags=_tags(stored),
        url=stored.get(f.URL),
    )


def stored_document(stored: dict) -> Document:
    """An article's stored fields as the article page shows them."""
    return Document(
        id=stored[f.ID],
        path=stored[f.ID],
        title=stored.get(f.TITLE, ""),
        text=stored.get(f.BODY, ""),
        date=stored.get(f.DATE),
        source=stored.get(f.SOURCE),
        url=stored.get(f.URL),
        tags=_tags(stored),
    )


def _tags(stored: dict) -> tuple[str, ...]:
    tags = stored.get(f.TAGS) or ()
    # The embedded index stores them as one line each; a shard's document data as a list.
    found = tags.split(f.TAG_SEPARATOR) if isinstance(tags, str) else tags
    return tuple(tag for tag in found if tag)


@dataclass(frozen=True)
class Prepared:
    """A query ready to run: the compiled query, the tiers that order its matches before their scores
    (``searchkit.search.ranking.tiers``), whether it is a long keyword query (searched again as a question if
    it finds nothing), what snippets mark, the suggestion, the acronyms used and the articles spelling
    the query as restored."""

    compiled: wq.Query
    tiers: Levels
    long_keywords: bool
    matcher: Matcher
    suggestion: str | None
    acronyms: list[Acronym]
    # The articles spelling the query as restored (``searchkit.search.ranking.restored_tier``): a suggestion
    # none of the results spells is not offered.
    spelling: wq.Query | None = None
    # A question's syllables, by which its best matches are placed again (``searchkit.search.passages``).
    question_words: passages.Words | None = None


# Browsing by filters alone: no query, nothing to mark.
_NOTHING_TYPED = Prepared(wq.NullQuery, (), False, Matcher(set(), set()), None, [])


@dataclass(frozen=True)
class _Query:
    """A query as searched: its text (keys read), its tree, whether it is a question, the tree with
    acronyms expanded, the pairs used."""

    text: str
    tree: q.Node
    question: bool
    expanded: q.Node
    acronyms: list[Acronym]


class _Vocabulary:
    """An open generation as :class:`searchkit.search.keystrokes.Vocabulary`."""

    def __init__(self, reader, spellings: SpellingCounts):
        self.reader = reader
        self.spellings = spellings

    def spelt(self, syllable: str) -> float:
        form = normalize_syllable(syllable)
        return self.spellings.frequency("", accent_key([form]) + form)

    def written(self, word: str) -> float:
        folded = fold_syllable(word)
        return sum(self.reader.frequency(name, folded) for name in f.TEXT_FIELDS)


def check_page(limit: int, page: int) -> None:
    """Refuses a page of hits beyond :data:`MAX_LIMIT` hits or :data:`MAX_PAGE` pages."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}", code="limit_range", limit=MAX_LIMIT)
    if not 1 <= page <= MAX_PAGE:
        raise QueryError(f"page must be between 1 and {MAX_PAGE}", code="page_range", limit=MAX_PAGE)


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


def open_spellings(generation: generations.Generation) -> SpellingCounts:
    """The accent statistics of one generation of the index."""
    path = generation.path / SPELLINGS_FILE
    if not path.exists():
        raise generations.damaged(generation.path.parent, f"{generation.name}/{SPELLINGS_FILE} is missing")
    return SpellingCounts(path)


def search(index_dir: Path | str, text: str, *, limit: int = 10, page: int = 1) -> SearchResults:
    """One query against the index in ``index_dir`` (opens and closes it; use :class:`Searcher` for many)."""
    with Searcher(index_dir) as searcher:
        return searcher.search(text, limit=limit, page=page)
