"""Passages: how much of a question a short stretch of an article holds.

A news article is long and holds a question's common words scattered over its length; the
paragraph that answers the question is short and holds them together. BM25 over a whole article
cannot tell the two apart, so a question's best matches are placed again by their best window of
a few dozen syllables: the sum of the inverse document frequencies of the question's syllables
found inside it, each counted once, a syllable typed with marks counting its own spelling's (rarer,
so higher) frequency when spelt so and less when it only folds alike (``nếu`` for ``nêu``). Typed without
marks, a syllable counts so for the spelling accent restoration reads it as (``do`` as ``đỏ`` or ``do``,
``bao`` as ``bảo`` or ``bao``, which folding alone leaves ambiguous), in a question typed with accents
elsewhere too. A question asking how many or when
(``bao nhiêu``, ``năm nào``) also counts a number in the window: its answer is one. In a question
typed with accents, a syllable that forms one word with its neighbour in the question (``phủ quyết``,
as the articles write it) counts less where the text writes it in another word (``chính phủ``).

It reads the stored text, so the embedded index and the Xapian shards place passages alike.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from searchkit.engines import fields as f
from searchkit.search import parse as q
from searchkit.search.questions import asks_number, question_runs, question_syllables
from searchkit.text.analysis import (
    compound,
    could_take_accents,
    fold_syllable,
    has_marks,
    normalize_syllable,
    syllable_texts,
)

if TYPE_CHECKING:
    from searchkit.search.ranking import Weights
    from searchkit.search.restoration import Restoration

# Only this much of an article's text is read for its passages: long articles cost a read per
# question, and their first pages are where a news article says what it is about.
PASSAGE_CHARS = 30_000


class Statistics(Protocol):
    """The term statistics passages weigh by (a Whoosh reader answers so, and the shards')."""

    def doc_count(self) -> int: ...

    def doc_frequency(self, fieldname: str, text: str) -> int: ...


@dataclass(frozen=True)
class Words:
    """A question's syllables as passages weigh them: for each folded syllable, the spelling typed or
    restored (``None`` when typed without marks and not restored: any spelling counts fully), its weight
    spelt so and its weight when only folding alike; and what a number the question does not write weighs
    (0 unless it asks how many or when)."""

    folded: tuple[str, ...]
    spelt: tuple[str | None, ...]
    exact: tuple[float, ...]
    loose: tuple[float, ...]
    number: float = 0.0
    # For each word, the question's words it forms one word with (``phủ`` and ``quyết`` in ``phủ quyết``):
    # the indexes of those before it and after it; found elsewhere (``phủ`` in ``chính phủ``), it keeps
    # ``apart`` of its weight.
    partners: tuple[tuple[frozenset[int], frozenset[int]], ...] = ()
    apart: float = 1.0

    @property
    def total(self) -> float:
        return sum(self.exact) + self.number


def idf(count: int, frequency: int) -> float:
    """BM25's inverse document frequency of a syllable in ``frequency`` of ``count`` articles."""
    return math.log(1 + (count - frequency + 0.5) / (frequency + 0.5))


def question_words(
    typed: Iterable[str],
    statistics: Statistics,
    *,
    loose: float,
    restored: Mapping[str, str] | None = None,
    restored_loose: float = 1.0,
    number: float = 0.0,
) -> Words:
    """The weights of a question's ``typed`` syllables (each once), from the index's statistics.

    ``loose``: the share of its folded weight a syllable typed with marks keeps where it is spelt otherwise.
    ``restored``: for syllables typed without marks (normalised), the spelling restoration reads them as,
    weighed as if typed so but keeping ``restored_loose`` of their folded weight where spelt otherwise.
    ``number``: what a number the question does not write weighs, as a share of its syllables' mean weight.
    """
    count = max(statistics.doc_count(), 1)
    restored = restored or {}
    seen: dict[str, tuple[str | None, float, float]] = {}
    for word in typed:
        folded = fold_syllable(word)
        if not folded or folded in seen:
            continue
        folded_weight = idf(count, statistics.doc_frequency(f.BODY, folded))
        form = normalize_syllable(word)
        spelling, share = (form, loose) if has_marks(word) else (restored.get(form), restored_loose)
        if spelling is not None:
            exact = idf(count, statistics.doc_frequency(f.BODY_EXACT, spelling))
            seen[folded] = (spelling, max(exact, folded_weight), folded_weight * share)
        else:
            seen[folded] = (None, folded_weight, folded_weight)
    folded_words = tuple(seen)
    exact_weights = tuple(seen[w][1] for w in folded_words)
    return Words(
        folded=folded_words,
        spelt=tuple(seen[w][0] for w in folded_words),
        exact=exact_weights,
        loose=tuple(seen[w][2] for w in folded_words),
        number=number * sum(exact_weights) / len(exact_weights) if exact_weights else 0.0,
    )


def restored_spellings(restoration: Restoration, min_confidence: float = 0.0) -> dict[str, str]:
    """Each syllable typed without marks (normalised) with the spelling restoration reads it as, at least
    that surely, unchanged ones too (``do`` read as ``do`` is not ``đỏ``); not names nor numbers."""
    best: dict[str, tuple[str, float]] = {}
    for s in restoration.syllables:
        typed = normalize_syllable(s.typed.text)
        if has_marks(typed) or not could_take_accents(typed) or s.confidence < min_confidence:
            continue
        if s.confidence > best.get(typed, ("", -1.0))[1]:
            best[typed] = (s.form, s.confidence)
    return {typed: form for typed, (form, _) in best.items()}


def for_question(tree: q.Node, statistics: Statistics, weights: Weights, restoration: Restoration | None) -> Words:
    """A question's syllables as its passages weigh them (see :func:`question_words`): less those that ask,
    those typed without marks read as restoration reads them, a number counting where it asks how many or when.

    Restoration reads a question typed with accents too: there it believes the marks typed and reads the bare
    syllables from them, mostly as typed (``ca`` in ``Ai hát quốc ca?`` is ``ca``, not ``cá``)."""
    # A share of 1 turns restoration off: every spelling of the syllable then counts as typed without marks.
    reading = restoration is not None and weights.passage_restored_loose < 1.0
    restored = restored_spellings(restoration) if reading else None  # type: ignore[arg-type]
    syllables = question_syllables(tree)
    words = question_words(
        syllables,
        statistics,
        loose=weights.passage_loose,
        restored=restored,
        restored_loose=weights.passage_restored_loose,
        number=weights.passage_number if asks_number(tree) else 0.0,
    )
    if weights.passage_apart >= 1.0 or not any(has_marks(word) for word in syllables):
        return words
    partners = _partners(word_pairs(tree, statistics), words)
    return dataclasses.replace(words, partners=partners, apart=weights.passage_apart)


def word_pairs(tree: q.Node, statistics: Statistics) -> list[tuple[str, str]]:
    """The question's neighbouring syllables (folded) that the articles write as one word (``phủ quyết``,
    ``quốc ca``: pyvi's words, :data:`fields.WORDS`), less the syllables that ask."""
    pairs = []
    for run in question_runs(tree):
        folded = [fold_syllable(s) for s in run]
        for left, right in itertools.pairwise(folded):
            if left and right and left != right and statistics.doc_frequency(f.WORDS, compound([left, right])):
                pairs.append((left, right))
    return pairs


def _partners(pairs: Iterable[tuple[str, str]], words: Words) -> tuple[tuple[frozenset[int], frozenset[int]], ...]:
    """For each of ``words``, those it forms one word with: (the words before it, the words after it)."""
    index = {w: i for i, w in enumerate(words.folded)}
    before: list[set[int]] = [set() for _ in words.folded]
    after: list[set[int]] = [set() for _ in words.folded]
    for left, right in pairs:
        if left in index and right in index:
            after[index[left]].add(index[right])
            before[index[right]].add(index[left])
    return tuple((frozenset(b), frozenset(a)) for b, a in zip(before, after, strict=True))


def _is_number(syllable: str) -> bool:
    return syllable[:1].isdigit()


def best_window(text: str, words: Words, window: int, read: dict | None = None) -> float:
    """The largest share of the question's weight (0–1) that ``window`` consecutive syllables of ``text`` hold.

    ``read``: what each syllable as written was found to be, kept across the texts of one question.
    """
    if not words.folded or words.total <= 0:
        return 0.0
    return _best(_matches(text, words, read), words, window) / words.total


def _matches(text: str, words: Words, read: dict | None = None) -> list[tuple[int, int, bool, bool]]:
    """Where ``text`` holds the question's words: (position, word, spelt as typed, beside the words it forms
    one word with in the question, or forming none); a number stands for the word after the last."""
    index = {w: i for i, w in enumerate(words.folded)}
    number = len(words.folded)  # a number the question does not write stands for the answer asked
    matches: list[tuple[int, int, bool]] = []  # position, word, spelt as typed
    read = {} if read is None else read
    for position, syllable in enumerate(syllable_texts(text[:PASSAGE_CHARS])):
        found = read.get(syllable, False)
        if found is False:
            i = index.get(fold_syllable(syllable))
            if i is not None:
                found = (i, words.spelt[i] is None or normalize_syllable(syllable) == words.spelt[i])
            else:
                found = (number, True) if words.number and _is_number(syllable) else None
            read[syllable] = found
        if found is not None:
            matches.append((position, *found))
    if not words.partners or words.apart >= 1.0:
        return [(position, i, spelt, True) for position, i, spelt in matches]
    at = {position: i for position, i, _ in matches}
    marked = []
    for position, i, spelt in matches:
        before, after = words.partners[i] if i < len(words.partners) else (frozenset(), frozenset())
        apart = bool(before or after) and at.get(position - 1) not in before and at.get(position + 1) not in after
        marked.append((position, i, spelt, not apart))
    return marked


def _best(matches: Sequence[tuple[int, int, bool, bool]], words: Words, window: int) -> float:
    """The best sum of distinct words' weights among matches within ``window`` positions of each other."""
    size = len(words.folded) + 1  # the last: a number (see :attr:`Words.number`)
    counts = [[0] * size for _ in range(4)]  # spelt / loose, beside its partners / apart
    exact_weights, loose_weights = (*words.exact, words.number), (*words.loose, words.number)
    apart = words.apart
    best = current = 0.0
    left = 0

    def weight(i: int) -> float:
        return max(
            exact_weights[i] if counts[0][i] else 0.0,
            loose_weights[i] if counts[1][i] else 0.0,
            apart * exact_weights[i] if counts[2][i] else 0.0,
            apart * loose_weights[i] if counts[3][i] else 0.0,
        )

    for position, i, spelt, together in matches:
        while matches[left][0] <= position - window:
            _, j, was_spelt, was_together = matches[left]
            before = weight(j)
            counts[(0 if was_spelt else 1) + (0 if was_together else 2)][j] -= 1
            current += weight(j) - before
            left += 1
        before = weight(i)
        counts[(0 if spelt else 1) + (0 if together else 2)][i] += 1
        current += weight(i) - before
        best = max(best, current)
    return best


def bonuses(scores: Sequence[float], texts: Iterable[str], words: Words, *, weight: float, window: int) -> list[float]:
    """What each of a question's best matches (their ``scores`` and stored ``texts``) gains for its best
    window: ``weight`` times the best score times the share of the question's weight it holds."""
    top = max(scores, default=0.0)
    read: dict = {}
    return [weight * top * best_window(text, words, window, read) for text in texts]
