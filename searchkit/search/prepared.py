"""A query as the searcher understood it and compiled it, ready to run on either engine."""

from __future__ import annotations

from dataclasses import dataclass

from searchkit.engines import compiled as cq
from searchkit.engines.compiled import Levels
from searchkit.search import parse as q
from searchkit.search import passages
from searchkit.search.acronyms import Acronym
from searchkit.search.correction import Correction
from searchkit.search.highlight import Matcher


@dataclass(frozen=True)
class Prepared:
    """A query ready to run: the compiled query, the tiers that order its matches before their scores
    (``searchkit.search.ranking.tiers``), whether it is a long keyword query (searched again as a question if
    it finds nothing), what snippets mark, the suggestion, the acronyms used and the articles spelling
    the query as restored."""

    compiled: cq.Node | None
    tiers: Levels
    long_keywords: bool
    matcher: Matcher
    suggestion: str | None
    acronyms: list[Acronym]
    # The articles spelling the query as restored (``searchkit.search.ranking.restored_tier``): a suggestion
    # none of the results spells is not offered.
    spelling: cq.Node | None = None
    # A question's syllables, by which its best matches are placed again (``searchkit.search.passages``).
    question_words: passages.Words | None = None
    # The query's typos corrected, and the corrected query, searched beside it (its matches after).
    correction: Correction | None = None
    corrected: Prepared | None = None
    # Searched as a question: partial matches ranked, so a corrected word is searched in place of its typo.
    question: bool = False


# Browsing by filters alone: no query, nothing to mark.
NOTHING_TYPED = Prepared(None, (), False, Matcher(set(), set()), None, [])


@dataclass(frozen=True)
class Understood:
    """A query as searched: its text (keys read), its tree, whether it is a question, the tree with
    acronyms expanded, the pairs used."""

    text: str
    tree: q.Node
    question: bool
    expanded: q.Node
    acronyms: list[Acronym]
