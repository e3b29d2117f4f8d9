"""Running queries: from the text typed to ranked hits with snippets, as plain result objects.

Written once over :class:`searchkit.engines.backend.Backend`, for either engine. How hits are
ordered is ``searchkit.search.ranking``'s; how a compiled query is run, the backend's.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from searchkit.engines import fields as f
from searchkit.engines.backend import Backend, Rescore, Statistics, open_backend
from searchkit.engines.budget import Deadline, check
from searchkit.engines.compiled import Levels
from searchkit.engines.spellings import ACRONYMS
from searchkit.search import complete, corrected, keystrokes, passages, result_cache
from searchkit.search import parse as q
from searchkit.search.acronyms import Glossary
from searchkit.search.acronyms import expand as expand_acronyms
from searchkit.search.filters import RELEVANCE, Filters, check_sort
from searchkit.search.highlight import Matcher, Snippet, matcher_for
from searchkit.search.limits import MAX_LIMIT, MAX_PAGE, MAX_PREFIXES, MAX_TERMS, check_cost, check_page
from searchkit.search.prepared import NOTHING_TYPED, Prepared, Understood
from searchkit.search.questions import KEYWORD_QUERY_MAX_TERMS, is_question, question_syllables, runs
from searchkit.search.ranking import (
    Respellings,
    Weights,
    compile_query,
    partial_tiers,
    restored_forms,
    restored_tier,
    tiers,
)
from searchkit.search.restoration import Restoration, restore_query
from searchkit.search.results import Document, Hit, SearchResults, stored_document, stored_hit
from searchkit.search.vocabulary import IndexVocabulary
from searchkit.text.analysis import fold_syllable, has_marks, nfc

if TYPE_CHECKING:
    from searchkit.engines.columns import Columns
    from searchkit.engines.xapian.connection import Shard
    from searchkit.search.pages import ArticlePage

__all__ = [
    "MAX_LIMIT", "MAX_PAGE", "MAX_PREFIXES", "MAX_TERMS", "Document", "Hit", "SearchResults", "Searcher",
    "check_cost", "check_page", "search", "stored_document", "stored_hit",
]

# Seconds a query may take before it is stopped (``Searcher.search(..., budget=...)``).
DEFAULT_BUDGET = 2.0
# Related articles an article page lists.
RELATED = 5
# Below this many articles, how many hold a syllable says little about whether it is a common word.
COMMON_MIN_ARTICLES = 100

_Method = TypeVar("_Method", bound=Callable[..., Any])


def reads_index(method: _Method) -> _Method:
    """Marks a method that reads the index: what the engine raises comes out as searchkit's errors
    (``Backend.reading``: a damaged file as the one ``IndexDamagedError`` naming it, an unreachable
    shard as a ``ShardError``); a fault of the code is raised as it is."""

    @functools.wraps(method)
    def reading(self: Searcher, *args: object, **kwargs: object) -> object:
        with self.backend.reading():
            return method(self, *args, **kwargs)

    return cast(_Method, reading)


class Searcher:
    """One version of the index (a generation, the shards' states), open and kept warm across queries.

    Every answer comes from the version that was current when the searcher opened (or last
    refreshed): builds publish new versions beside it and never change it. The index is the Whoosh
    one in ``index_dir``, or the Xapian ``shards`` (``cache``: where their summed statistics are
    kept), or an open ``backend`` (:func:`searchkit.engines.backend.open_backend`).
    """

    def __init__(
        self,
        index_dir: Path | str | None = None,
        weights: Weights | None = None,
        *,
        shards: Sequence[Shard] | None = None,
        cache: Path | str | None = None,
        backend: Backend | None = None,
    ):
        self.index_dir = Path(index_dir) if index_dir is not None else None
        self.weights = weights or Weights()
        self._where = (index_dir, list(shards) if shards else None, cache)
        self._open(backend)

    def _open(self, backend: Backend | None = None) -> None:
        index_dir, shards, cache = self._where
        w = self.weights
        self.backend = backend or open_backend(index_dir, shards, cache=cache, k1=w.k1, b=w.b)
        self.spellings = self.backend.spellings
        # Spelling counts looked up by restoration, the backend's (shared by a generation's searchers).
        self._looked_up: dict = self.backend.looked_up
        self._glossary: Glossary | None = None
        self._corrector = corrected.Corrector(self.backend, self._looked_up)

    @property
    def generation(self) -> str:
        """The name of the version open."""
        return self.backend.version()

    def close(self) -> None:
        self.backend.close()

    def damage(self, exc: Exception) -> Exception | None:
        """The damage to the version open that made a read fail with ``exc`` (``Backend.damage``)."""
        return self.backend.damage(exc)

    def __enter__(self) -> Searcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_current(self) -> bool:
        """Whether the version open is still the index's current one."""
        return self.backend.is_current()

    def refresh(self) -> None:
        """Moves to the index's current version if a build has published a new one."""
        if not self.is_current():
            old = self.backend
            self._open()
            old.close()

    @reads_index
    @result_cache.cached
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
        clock: Callable[[], float] | None = None,
        drop: bool = True,
    ) -> SearchResults:
        """The ``page``-th page of ``limit`` hits for the query ``text``, best first.

        With ``suggest``, the query's accents are restored: the results carry the suggestion, and
        the words typed without accents rank first the articles that spell them as restored; words
        typed as Telex or VNI keys are read as the syllables they type. With ``acronyms``, a learnt
        acronym also finds its long forms, and a long form its acronym.
        A query still running after ``budget`` seconds (``None``: no limit) is stopped with a
        :class:`QueryError`; ``clock`` is what measures them (by default the thread's processor time).

        ``filters`` narrow the hits; ``sort`` orders them (``filters.SORTS``: by default the most
        relevant first); ``facets`` counts sources, tags and years beside them. With filters, ``text``
        may be empty: every article they let through is a hit, the newest first. Typos: ``searchkit.search.corrected``
        (``drop``: a query of several words finding nothing carries the results without the word blocking it).
        """
        check_page(limit, page)
        filters = filters or Filters()
        browsing = filters.active and not text.strip()
        sort = check_sort(sort, browsing=browsing)
        started = time.perf_counter()
        deadline = Deadline.after(budget, clock) if budget is not None else None
        backend = self.backend
        prepare = functools.partial(self.prepared, suggest=suggest, acronyms=acronyms)
        match = functools.partial(backend.match, filters=filters, facets=facets, deadline=deadline)
        if browsing:
            prepared, found = NOTHING_TYPED, match(None)
        else:
            prepared, found = corrected.searched(text, prepare, match, backend.overlaps, deadline, retry=suggest)
        suggestion = prepared.suggestion
        if prepared.spelling is not None and not backend.overlaps(found, prepared.spelling, deadline):
            # No hit under the filters spells the query as suggested ("lua": lựa, where the one
            # article of the source chosen is about lúa): it would lead away from these results.
            suggestion = None
        relevance = sort == RELEVANCE
        words = prepared.question_words if relevance else None
        first = (page - 1) * limit
        best = backend.ranked(
            found,
            sort=sort,
            levels=prepared.tiers if relevance else (),
            rescore=(self.weights.passage_depth, self._passage_bonuses(words, deadline)) if words else None,
            first=first,
            count=limit,
            deadline=deadline,
        )
        hits = []
        for rank, (docnum, score) in enumerate(best, first + 1):
            hits.append(self._hit(rank, docnum, score, prepared.matcher if snippets else None))
            check(deadline)  # the budget covers the snippets too
        results = SearchResults(
            query=text,
            total=found.total,
            page=page,
            limit=limit,
            hits=hits,
            seconds=time.perf_counter() - started,
            suggestion=suggestion,
            sort=sort,
            facets=found.facets,
            acronyms=prepared.acronyms,
            exact=found.exact,
            corrected=corrected.corrected_words(prepared),
        )
        if drop and not found.total and not filters.active:  # under filters, they may be what blocks it
            again = functools.partial(self.search, limit=limit, page=page, snippets=snippets, suggest=suggest,
                                      acronyms=acronyms, budget=budget, sort=sort, facets=facets, clock=clock)
            corrected.fall_back(results, prepared, backend, prepare, match, functools.partial(again, drop=False))
        return results

    @reads_index
    def prepared(
        self, text: str, *, suggest: bool = True, acronyms: bool = True, question: bool | None = None,
        correct: bool | str = True,
    ) -> Prepared:
        """The query ``text`` compiled for ranking, with what the results say of it (see :meth:`search`).

        ``question`` decides whether it is searched as a question (by default, :func:`is_question`).
        ``correct`` (with ``suggest``): its typos corrected, searched beside it (``corrected.beside``; ``"loose"``).
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
            bound=self._bound(query) if accented else frozenset(),
        )
        suggestion = restoration.suggestion if restoration else None
        if keyed:  # the query the keys type is the one offered
            suggestion = suggestion or query.text
        prepared = Prepared(
            compiled=compiled,
            tiers=self._tiers(query, question, accented, restored),
            long_keywords=not query.question and q.term_count(query.tree) > KEYWORD_QUERY_MAX_TERMS,
            matcher=matcher_for(query.expanded, restoration.readings() if restoration else None),
            suggestion=suggestion,
            acronyms=query.acronyms,
            spelling=restored_tier(query.tree, restored) if restored and not query.question else None,
            question_words=self._passage_words(query, restoration), question=query.question,
        )
        fixed = self._corrector.correct(query, keyed, loose=correct == "loose") if suggest and correct else None
        if fixed is None:
            return prepared
        again = self.prepared(fixed.text, acronyms=acronyms, question=question, correct=False)
        understood = self._understood(fixed.text, keys=False, expand=acronyms)
        return corrected.beside(prepared, query, fixed, again, understood, restoration)

    def _passage_words(self, query: Understood, restoration: Restoration | None) -> passages.Words | None:
        """A question's syllables as its passages weigh them; ``None`` for a keyword query, and in an index
        too small for its syllables' frequencies to tell common words from rare ones (as for ``_common``)."""
        if not query.question or self.weights.passage <= 0:
            return None
        reader = self._statistics()
        if not question_syllables(query.tree) or reader.doc_count() < COMMON_MIN_ARTICLES:
            return None
        return passages.for_question(query.tree, reader, self.weights, restoration)

    def _passage_bonuses(self, words: passages.Words, deadline: Deadline | None) -> Rescore:
        """What each of a question's best matches gains by its passages (:mod:`searchkit.search.passages`)."""
        w = self.weights

        def bonuses(best: list[tuple[int, float]]) -> list[float]:
            texts = []
            for doc, _ in best:
                texts.append(self.backend.stored(doc).get(f.BODY, ""))
                check(deadline)
            scores = [score for _, score in best]
            return passages.bonuses(scores, texts, words, weight=w.passage, window=w.passage_window)

        return bonuses

    def _tiers(self, query: Understood, asked: bool | None, accented: bool, restored: Respellings | None) -> Levels:
        """What orders the query's matches before their scores: a keyword query's tiers; none for a
        question, but those of its neighbouring pairs for a long keyword query searched as one (``asked``)."""
        if not query.question:
            return tiers(query.tree, self.weights, accents=accented, restored=restored)
        return partial_tiers(query.tree) if asked and not is_question(query.text, query.tree) else ()

    @reads_index
    def columns(self) -> Columns:
        """The metadata of every article as arrays, read on first use and kept with the version."""
        return self.backend.columns()

    @reads_index
    def has_dates(self) -> bool:
        """Whether any article of the index has a date: only then may hits be ordered or narrowed by date."""
        return self.backend.has_dates()

    def _hit(self, rank: int, docnum: int, score: float, matcher: Matcher | None) -> Hit:
        return stored_hit(rank, self.backend.stored(docnum), score, matcher)

    def _understood(
        self, text: str, *, keys: bool = True, expand: bool = True, question: bool | None = None
    ) -> Understood:
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
        return Understood(understood, tree, question, expanded, list(dict.fromkeys(used)))

    @reads_index
    def converted(self, text: str) -> str:
        """``text`` with the words typed as Telex or VNI keys read as their syllables (not a typo: ``lujng linh``)."""
        vocabulary = IndexVocabulary(self._statistics(), self.spellings)
        return keystrokes.converted(text, vocabulary, self._corrector.mistyped_keys)

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

    def _statistics(self) -> Statistics:
        """The index's term statistics: ``doc_count()``, ``doc_frequency(field, term)``, ``frequency(field, term)``."""
        return self.backend.statistics()

    def _common(self, tree: q.Node) -> frozenset[str]:
        """The question's folded syllables found in more than ``weights.common`` of the articles."""
        reader = self._statistics()
        if self.weights.common >= 1.0 or reader.doc_count() < COMMON_MIN_ARTICLES:
            return frozenset()
        ceiling = self.weights.common * max(reader.doc_count(), 1)
        folded = {fold_syllable(t) for run in runs(tree) for t in run}
        return frozenset(t for t in folded if reader.doc_frequency(f.BODY, t) > ceiling)

    def _bound(self, query: Understood) -> frozenset[str]:
        """A question's folded syllables that form one word with a neighbour (see :attr:`Weights.bound`)."""
        if not query.question or self.weights.bound >= 1.0:
            return frozenset()
        reader = self._statistics()
        if reader.doc_count() < COMMON_MIN_ARTICLES:
            return frozenset()
        return frozenset(s for pair in passages.word_pairs(query.expanded, reader) for s in pair)

    @reads_index
    def document(self, doc_id: str) -> Document | None:
        docnum = self.backend.find(doc_id)
        return stored_document(self.backend.stored(docnum)) if docnum is not None else None

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
        docnum = self.backend.find(doc_id)
        if docnum is None:
            return []
        if document is None:
            document = stored_document(self.backend.stored(docnum))
        from searchkit.search import related  # here: a query's start does not pay for the related articles
        stats = self._statistics()
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
        terms = [(word.field, word.term) for word in words]
        best = []
        for n, score, held in self.backend.sharing(terms, related.CANDIDATES * limit + 1, deadline):
            # Only the articles sharing words few would share by chance.
            shared = [words[i] for i in sorted(held)]
            if n != docnum and related.alike(shared, words, stats.doc_count()):
                best.append((n, score))
        return [self._hit(rank, n, score, None) for rank, (n, score) in enumerate(best[:limit], 1)]

    @reads_index
    def matcher(self, text: str) -> Matcher:
        """What the query ``text`` marks in an article, as its hits' snippets do (raises
        :class:`QueryError` as a search would)."""
        return self.prepared(text).matcher  # the corrected words are marked too, as in the hits' snippets

    def _restoration(self, query: Understood, keyed: bool) -> Restoration:
        """The query's accents restored (``keyed``: typed as Telex or VNI keys, see :func:`restore_query`)."""
        return restore_query(self.spellings, query.text, self._looked_up, as_typed=keyed)

    @reads_index
    def article(self, doc_id: str, matcher: Matcher | None = None, page: int | None = None) -> ArticlePage | None:
        """Page ``page`` of the article ``doc_id`` (:mod:`searchkit.search.pages`), marked by ``matcher``;
        by default its first page ``matcher`` marks."""
        from searchkit.search.pages import article_page  # here: a query's start does not pay for article pages
        document = self.document(doc_id)
        return article_page(document, matcher, page) if document is not None else None

    def highlighted(self, doc_id: str, text: str) -> tuple[Document, Snippet, Snippet] | None:
        """The article ``doc_id`` with the matches of query ``text`` marked in its title and body
        (the body's first page holding one, for an article of several pages)."""
        found = self.article(doc_id, self.matcher(text))
        return (found.document, found.title, found.body) if found is not None else None


def search(index_dir: Path | str, text: str, *, limit: int = 10, page: int = 1) -> SearchResults:
    """One query against the index in ``index_dir`` (opens and closes it; use :class:`Searcher` for many)."""
    with Searcher(index_dir) as searcher:
        return searcher.search(text, limit=limit, page=page)
