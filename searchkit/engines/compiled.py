"""The compiled query: searchkit's own small tree of what an engine runs, whichever engine it is.

``searchkit.search.ranking`` compiles a parsed query into these nodes; each engine interprets them
once, one dispatch per node type (``searchkit.engines.whoosh.execute``, ``searchkit.engines.xapian.query``).
Scores add up: a union sums its parts' scores, an intersection too, ``boost`` multiplies a node's.
The fields are those of :mod:`searchkit.engines.fields`; terms are written as the index holds them
(folded syllables in ``BODY``/``TITLE``, normalised ones in the exact-accent fields).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from searchkit.text.analysis import fold_syllable, normalize_syllable, syllable_texts

# A prefix such as "h*" is expanded to at most this many terms, the most frequent first; all the
# prefixes of one query together to at most MAX_EXPANDED_TERMS (shared out evenly), since each
# word read costs about the same.
MAX_PREFIX_TERMS = 64
MAX_EXPANDED_TERMS = 128


class Node:
    """A node of the compiled tree."""

    @property
    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Term(Node):
    """Documents holding ``text`` in ``field``, scored by BM25."""

    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Prefix(Node):
    """The union of the terms of ``field`` beginning with ``text``: the most frequent ones, as many
    as the query's budget allows (:func:`prefix_terms`)."""

    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase(Node):
    """``words`` in order in ``field``, each within ``slop`` positions of the last (1: side by side);
    scored as the sum of its words' scores."""

    field: str
    words: tuple[str, ...]
    slop: int = 1
    boost: float = 1.0


@dataclass(frozen=True)
class SpeltPhrase(Phrase):
    """A phrase of folded syllables (side by side) whose words must also be written as ``spelt`` says:
    each word's normalised spelling, or ``None`` where any spelling that folds alike will do.

    The exact-accent fields keep no positions: ``exact_field`` (beside ``field``) tells which articles
    hold every spelling somewhere, and the spelling in place is read from the stored text.
    """

    spelt: tuple[str | None, ...] = ()
    exact_field: str = ""
    # Only at the start of the field (a title beginning with the words).
    start: bool = False

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
class And(Node):
    """Documents matching every part, their scores summed."""

    parts: tuple[Node, ...]
    boost: float = 1.0

    @property
    def children(self) -> tuple[Node, ...]:
        return self.parts


@dataclass(frozen=True)
class Or(Node):
    """Documents matching any part, their scores summed; with ``coord`` (0–1) a document matching
    ``m`` of the ``n`` parts keeps ``(m / n) ** coord`` of its score."""

    parts: tuple[Node, ...]
    boost: float = 1.0
    coord: float = 0.0

    @property
    def children(self) -> tuple[Node, ...]:
        return self.parts


@dataclass(frozen=True)
class AndNot(Node):
    """The documents of ``positive`` that ``negative`` does not match, scored by ``positive``."""

    positive: Node
    negative: Node

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.positive, self.negative)


@dataclass(frozen=True)
class Not(Node):
    """Every document ``node`` does not match, each scoring 0."""

    node: Node

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.node,)


@dataclass(frozen=True)
class AndMaybe(Node):
    """The documents of ``required``, each also scored by what ``optional`` adds to it.

    An engine may score ``optional`` only among the best of ``required`` (proximity cannot lift an
    article from far down into the first pages).
    """

    required: Node
    optional: Node

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.required, self.optional)


@dataclass(frozen=True)
class Nothing(Node):
    """No document."""


NOTHING = Nothing()

Levels = tuple[tuple[Node, ...], ...]
"""The tiers of a keyword query, strongest first: each a few clauses, and an article's place in the
level is how many of them it satisfies (``searchkit.search.ranking.tiers``)."""


def boosted(node: Node, factor: float) -> Node:
    """``node`` with its score multiplied by ``factor``; a node without a boost of its own (a
    negation, an optional clause) keeps its scores."""
    if factor == 1.0 or not hasattr(node, "boost"):
        return node
    return dataclasses.replace(node, boost=node.boost * factor)  # type: ignore[attr-defined]


def walk(node: Node) -> Iterator[Node]:
    """``node`` and every node below it, parents first."""
    yield node
    for child in node.children:
        yield from walk(child)


def terms(node: Node) -> set[tuple[str, str]]:
    """Every (field, text) a term or a phrase of ``node`` reads."""
    found: set[tuple[str, str]] = set()
    for leaf in walk(node):
        if isinstance(leaf, Term):
            found.add((leaf.field, leaf.text))
        elif isinstance(leaf, Phrase):
            found.update((leaf.field, word) for word in leaf.words)
    return found


def prefix_terms(prefixes: int) -> int:
    """How many words each of a query's ``prefixes`` distinct prefixes is expanded to."""
    return min(MAX_PREFIX_TERMS, MAX_EXPANDED_TERMS // max(prefixes, 1))


def prefix_budget(node: Node) -> int:
    """How many words each prefix of ``node`` is expanded to, its distinct prefixes sharing the budget."""
    return prefix_terms(len({leaf.text for leaf in walk(node) if isinstance(leaf, Prefix)}))
