"""Related articles ("Bài liên quan"): an article's most distinctive words, searched for.

An article is best described by the words it uses more than the collection does (tf-idf): its
names and its subject's terms, not ``của`` or ``là``. Words are pyvi's multi-syllable words where
the index knows a pair of the article's neighbouring syllables as one (``nêu_gương``), and single
syllables otherwise; each distinctive one becomes a clause of one OR query, and the articles
sharing most of them, weighted by BM25, are the related ones — if they share enough: on a small
collection every article matches a few of the others' words, by chance (``lua`` is lúa in one and
lựa in another). An article is related only when the words it shares are ones few articles would
hold together by chance (:func:`by_chance`), or are every word that describes it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from typing import NamedTuple

from searchkit.text.analysis import compound, first_syllables, fold_syllable, side_by_side

# Clauses of the query: enough to describe a subject, few enough to stay cheap.
MAX_TERMS = 12
# Only the beginning of a long article is read: its subject is stated there, and it bounds the cost.
MAX_SYLLABLES = 1500
# A word found in more than this share of the articles says nothing about one of them; below
# COMMON_MIN_ARTICLES articles, only a word found in all of them is left out.
MAX_SHARE = 0.1
COMMON_MIN_ARTICLES = 100
# A related article shares words that fewer than this many other articles would hold together by
# chance. Checked on the seeds (the Directive 05 articles sharing several rare words stay, an
# article about rice beside them shares common ones only: 0.4 to 4 articles by chance) and on
# 3,000 news articles (those with related articles: 99.97 % before, 98.5 % after, 4.5 listed on
# average instead of 5; the pairs left out mostly share one word, or two common ones).
MAX_CHANCE = 0.1
# Candidates looked at for each related article listed: the best by BM25 that share too little
# make way for the next.
CANDIDATES = 2


class Distinctive(NamedTuple):
    """A word that describes an article: the field it is looked up in, its term, its tf-idf, and how
    many articles hold it."""

    field: str
    term: str
    weight: float
    held: int


def distinctive(
    title: str,
    text: str,
    frequency: Callable[[str, str], int],
    documents: int,
    *,
    syllable_field: str,
    word_field: str,
    limit: int = MAX_TERMS,
) -> list[Distinctive]:
    """The ``limit`` words of an article with the highest tf-idf, best first.

    ``frequency(field, term)`` is how many articles hold the term; a term held by only one (this
    article) cannot lead to another, and one held by more than :data:`MAX_SHARE` of them is too
    common to tell anything. Only the words of the title and those used twice or more are looked
    up: each look-up costs a probe of every segment's term table.
    """
    in_title = _terms(title, syllable_field, word_field)
    counts = in_title + _terms(text, syllable_field, word_field)
    candidates = {term for term, count in counts.items() if count > 1 or term in in_title}
    ceiling = MAX_SHARE * documents if documents >= COMMON_MIN_ARTICLES else documents - 1
    found: list[Distinctive] = []
    for name, term in candidates:
        count = counts[(name, term)]
        held = frequency(name, term)
        if held < 2 or held > ceiling:
            continue
        found.append(Distinctive(name, term, (1 + math.log(count)) * math.log(documents / held), held))
    found.sort(key=lambda d: (-d.weight, d.term))
    return found[:limit]


def by_chance(shared: Iterable[Distinctive], documents: int) -> float:
    """How many of the other articles would hold all the ``shared`` words of an article if each
    held each word at random, as many of them as do: ``(N - 1) · Π (held - 1) / (N - 1)``."""
    others = max(documents - 1, 1)
    expected = float(others)
    for word in shared:
        expected *= (word.held - 1) / others
    return expected


def alike(shared: list[Distinctive], words: list[Distinctive], documents: int) -> bool:
    """Whether an article sharing ``shared`` of the ``words`` that describe another is related to it:
    it holds them all (the subject is one, however common in the collection), or fewer than
    :data:`MAX_CHANCE` others would share them by chance."""
    return len(shared) == len(words) or by_chance(shared, documents) <= MAX_CHANCE


def _terms(text: str, syllable_field: str, word_field: str) -> Counter[tuple[str, str]]:
    """How often ``text`` holds each syllable, and each pair of neighbouring syllables as a word."""
    tokens = first_syllables(text, MAX_SYLLABLES)  # never the whole of a long article
    folded = [fold_syllable(t.text) for t in tokens]
    counts: Counter[tuple[str, str]] = Counter()
    for i, term in enumerate(folded):
        if not term.isalpha():
            continue
        counts[(syllable_field, term)] += 1
        if i and folded[i - 1].isalpha() and side_by_side(text, tokens[i - 1], tokens[i]):
            counts[(word_field, compound(folded[i - 1 : i + 1]))] += 1
    return counts
