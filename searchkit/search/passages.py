"""Passages: how much of a question a short stretch of an article holds.

A news article is long and holds a question's common words scattered over its length; the
paragraph that answers the question is short and holds them together. BM25 over a whole article
cannot tell the two apart, so a question's best matches are placed again by their best window of
a few dozen syllables: the sum of the inverse document frequencies of the question's syllables
found inside it, each counted once, a syllable typed with marks counting its own spelling's (rarer,
so higher) frequency when spelt so and less when it only folds alike (``nếu`` for ``nêu``).

It reads the stored text, so the embedded index and the Xapian shards place passages alike.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from searchkit.engines import fields as f
from searchkit.text.analysis import fold_syllable, has_marks, normalize_syllable, syllable_texts

# Only this much of an article's text is read for its passages: long articles cost a read per
# question, and their first pages are where a news article says what it is about.
PASSAGE_CHARS = 30_000


class Statistics(Protocol):
    """The term statistics passages weigh by (a Whoosh reader answers so, and the shards')."""

    def doc_count(self) -> int: ...

    def doc_frequency(self, fieldname: str, text: str) -> int: ...


@dataclass(frozen=True)
class Words:
    """A question's syllables as passages weigh them: for each folded syllable, the spelling typed
    (``None`` when typed without marks: any spelling counts fully), its weight spelt so and its weight
    when only folding alike."""

    folded: tuple[str, ...]
    spelt: tuple[str | None, ...]
    exact: tuple[float, ...]
    loose: tuple[float, ...]

    @property
    def total(self) -> float:
        return sum(self.exact)


def idf(count: int, frequency: int) -> float:
    """BM25's inverse document frequency of a syllable in ``frequency`` of ``count`` articles."""
    return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))


def question_words(typed: Iterable[str], statistics: Statistics, *, loose: float) -> Words:
    """The weights of a question's ``typed`` syllables (each once), from the index's statistics.

    ``loose``: the share of its folded weight a syllable typed with marks keeps where it is spelt otherwise.
    """
    count = max(statistics.doc_count(), 1)
    seen: dict[str, tuple[str | None, float, float]] = {}
    for word in typed:
        folded = fold_syllable(word)
        if not folded or folded in seen:
            continue
        folded_weight = idf(count, statistics.doc_frequency(f.BODY, folded))
        if has_marks(word):
            form = normalize_syllable(word)
            exact = idf(count, statistics.doc_frequency(f.BODY_EXACT, form))
            seen[folded] = (form, max(exact, folded_weight), folded_weight * loose)
        else:
            seen[folded] = (None, folded_weight, folded_weight)
    folded_words = tuple(seen)
    return Words(
        folded=folded_words,
        spelt=tuple(seen[w][0] for w in folded_words),
        exact=tuple(seen[w][1] for w in folded_words),
        loose=tuple(seen[w][2] for w in folded_words),
    )


def best_window(text: str, words: Words, window: int, read: dict | None = None) -> float:
    """The largest share of the question's weight (0–1) that ``window`` consecutive syllables of ``text`` hold.

    ``read``: what each syllable as written was found to be, kept across the texts of one question.
    """
    if not words.folded or words.total <= 0:
        return 0.0
    index = {w: i for i, w in enumerate(words.folded)}
    matches: list[tuple[int, int, bool]] = []  # position, word, spelt as typed
    read = {} if read is None else read
    for position, syllable in enumerate(syllable_texts(text[:PASSAGE_CHARS])):
        found = read.get(syllable, False)
        if found is False:
            i = index.get(fold_syllable(syllable))
            found = None if i is None else (i, words.spelt[i] is None or normalize_syllable(syllable) == words.spelt[i])
            read[syllable] = found
        if found is not None:
            matches.append((position, *found))
    return _best(matches, words, window) / words.total


def _best(matches: Sequence[tuple[int, int, bool]], words: Words, window: int) -> float:
    """The best sum of distinct words' weights among matches within ``window`` positions of each other."""
    size = len(words.folded)
    exact, loose = [0] * size, [0] * size
    best = current = 0.0
    left = 0

    def weight(i: int) -> float:
        return words.exact[i] if exact[i] else words.loose[i] if loose[i] else 0.0

    for position, i, spelt in matches:
        while matches[left][0] <= position - window:
            _, j, was_spelt = matches[left]
            before = weight(j)
            (exact if was_spelt else loose)[j] -= 1
            current += weight(j) - before
            left += 1
        before = weight(i)
        (exact if spelt else loose)[i] += 1
        current += weight(i) - before
        best = max(best, current)
    return best


def bonuses(scores: Sequence[float], texts: Iterable[str], words: Words, *, weight: float, window: int) -> list[float]:
    """What each of a question's best matches (their ``scores`` and stored ``texts``) gains for its best
    window: ``weight`` times the best score times the share of the question's weight it holds."""
    top = max(scores, default=0.0)
    read: dict = {}
    return [weight * top * best_window(text, words, window, read) for text in texts]
