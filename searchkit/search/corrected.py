"""Typo correction in a search: the corrected query searched beside the query as typed, and the word
that blocks a query finding nothing.

``searchkit.search.correction`` reads the typos; here is what a search does with them, on either
engine alike. The query as typed and the corrected one run as one compiled query (:func:`searched`):
an article holding the query as typed as a phrase is placed first; the other matches of either follow
by tier, the query as typed's before the corrected one's in the same tier (see :func:`placed`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from searchkit.engines import compiled as cq
from searchkit.engines import fields as f
from searchkit.engines.backend import Backend, Found
from searchkit.engines.budget import Deadline
from searchkit.engines.compiled import Levels
from searchkit.engines.spellings import ACCENTS, PHRASES
from searchkit.search import correction, neighbours
from searchkit.search import parse as q
from searchkit.search.highlight import matcher_for
from searchkit.search.prepared import Prepared, Understood
from searchkit.search.restoration import Restoration
from searchkit.search.vocabulary import IndexVocabulary
from searchkit.text.analysis import Token, fold_syllable, nfc

# More words of one syllable than any index writes: every one of them is read.
_EVERY = 10**9


class Corrector:
    """The typos of queries on one open version of the index; the syllables it writes are read on first use."""

    def __init__(self, backend: Backend, looked_up: dict):
        """``looked_up``: the spelling counts accent restoration has read from this version (shared)."""
        self.backend = backend
        self.looked_up = looked_up
        self._syllables: neighbours.Syllables | None = None

    def correct(self, query: Understood, keyed: bool, *, loose: bool = False) -> correction.Correction | None:
        """The typos of a keyword query corrected (``keyed``: typed as Telex or VNI keys; ``loose``: see
        :func:`searchkit.search.correction.correct`); ``None`` when there are none."""
        spellings = self.backend.spellings
        words = IndexVocabulary(self.backend.statistics(), spellings)
        return correction.correct(
            spellings, words, self.syllables(), query.text, self.looked_up, as_typed=keyed, loose=loose,
            question=query.question,
        )

    def syllables(self) -> neighbours.Syllables:
        """The folded syllables this version writes (read once)."""
        if self._syllables is None:
            spellings = self.backend.spellings
            self._syllables = neighbours.Syllables(
                spellings.prefixed(ACCENTS, "", words=1, limit=_EVERY),
                spellings.prefixed(PHRASES, "", words=1, limit=_EVERY),
            )
        return self._syllables

    def mistyped_keys(self, word: str, reading: str, beside: list[tuple[str, bool]]) -> bool:
        """Whether ``word``, spelling the keys of ``reading``, is rather a typo (see
        :func:`searchkit.search.correction.mistyped_keys`)."""
        return correction.mistyped_keys(self.backend.spellings, self.syllables(), word, reading, beside, self.looked_up)


def searched(
    text: str,
    prepare: Callable[..., Prepared],
    match: Callable[[cq.Node | None], Found],
    overlaps: Callable[[Found, cq.Node, Deadline | None], bool],
    deadline: Deadline | None,
    *,
    retry: bool,
) -> tuple[Prepared, Found]:
    """The query ``text`` prepared (``prepare``: ``Searcher.prepared`` with the search's options) and what it
    matches (``match``: the backend's, under the search's filters; ``overlaps``: the backend's too).

    With ``retry`` (accents and typos read), a query finding nothing as typed or corrected is corrected
    again loosely (its words written may be typos too: ``tuyen tinh``). A long keyword query finding
    nothing is searched as a question, corrected if it was.
    """

    def run(prepared: Prepared) -> tuple[Prepared, Found]:
        if prepared.corrected is None:
            return prepared, match(prepared.compiled)
        assert prepared.compiled is not None and prepared.corrected.compiled is not None
        own, other = prepared.compiled, prepared.corrected.compiled
        if prepared.correction is not None and prepared.correction.unsure:
            # A word corrected is written beside its neighbours, if rarely: an article holding the query as
            # typed as a phrase says it was meant so (a real rare word in its own words), and nothing is read.
            typed, phrases = match(own), exact(prepared.tiers)
            if typed.total and phrases and overlaps(typed, cq.Or(phrases), deadline):
                return prepare(text, correct=False), typed
        if prepared.question:
            # A question ranks partial matches: its other words find what the query as typed finds, and a typo
            # as typed adds nothing to them, so the corrected question is searched in its place.
            fixed = prepared.corrected
            joined = replace(prepared, compiled=other, tiers=fixed.tiers, question_words=fixed.question_words)
            return joined, match(other)
        joined = replace(prepared, compiled=cq.Or((own, cq.AndNot(other, own))), tiers=prepared.corrected.tiers)
        found = match(joined.compiled)
        if overlaps(found, own, deadline):  # the query as typed matches some: first, in its own tiers' order
            joined = replace(joined, tiers=placed(own, prepared.tiers, prepared.corrected.tiers))
        return joined, found

    prepared, found = run(prepare(text))
    if not found.total and retry and prepared.correction is None:  # words written, but not together
        prepared, found = run(prepare(text, correct="loose"))
    if prepared.long_keywords and not found.total:
        asked = prepared.correction.text if prepared.correction else text
        prepared = replace(prepare(asked, question=True), correction=prepared.correction)
        found = match(prepared.compiled)
    return prepared, found


def placed(own: cq.Node, typed: Levels, corrected: Levels) -> Levels:
    """The tiers placing the exact matches of the query as typed (``own``) first, then every other match
    of either query by its best tier (``typed`` for the query as typed's, among its matches; ``corrected``
    for the corrected one's), the query as typed's before the corrected one's in the same tier.

    The exact matches are those holding a run of its words as a phrase (:func:`exact`); a query of one
    word has none but the word itself, and places every match of it first. A match of the words as typed
    scattered over a long article (a typo making another written word: ``ngoi`` for ``nguoi``) so ranks
    below the corrected words as a phrase in a title, and the typed query's own phrase above both; so does
    an article holding both, the typed words scattered and the corrected ones as its title (``thu tong neu 5
    giai phap``: an article on what ``Thủ tướng nêu`` writes ``tổng`` too), by the corrected query's tier.

    The two queries' tiers share levels (the ``i``-th of each in one, a corrected clause counting only for
    the articles the typed ones of its level do not place, so no article counts twice in one level for the
    words both queries share): two levels more than the longer of the two, not a second set (Xapian weighs
    them as powers of one number, whose precision a few more would exhaust).
    """
    phrases = exact(typed)
    first = cq.And((cq.Or(phrases), own)) if phrases else own
    levels: list[tuple[cq.Node, ...]] = [(first,)]
    for i in range(max(len(typed), len(corrected))):
        mine = tuple(cq.And((clause, own)) for clause in (typed[i] if i < len(typed) else ()))
        # A corrected clause counts for an article the typed one of the same tier does not already place.
        held = cq.Or(mine) if len(mine) > 1 else mine[0] if mine else None
        theirs = corrected[i] if i < len(corrected) else ()
        others = tuple(clause if held is None else cq.AndNot(clause, held) for clause in theirs)
        levels.append(mine + others)
    if phrases:
        levels.append((own,))  # as typed, in the same tier: first
    return tuple(levels)


def exact(levels: Levels) -> tuple[cq.Node, ...]:
    """The clauses of a query's tiers ``levels`` that hold a run of its words as a phrase, as typed (the
    words side by side, each spelt as typed where it has marks); none for a query of one word."""
    return tuple(clause for level in levels for clause in level if isinstance(clause, cq.Phrase) and clause.slop <= 1)


def beside(
    typed: Prepared,
    query: Understood,
    fixed: correction.Correction,
    corrected: Prepared,
    understood: Understood,
    restoration: Restoration | None,
) -> Prepared:
    """The query as typed (``typed``) with its correction ``fixed`` (prepared as ``corrected``) beside it,
    both searched by :func:`searched`. The snippets mark the words of both (``query`` as typed and
    ``understood``, the corrected one, with the accents ``restoration`` read), and the suggestion is the
    corrected query.
    """
    readings = restoration.readings() if restoration else None
    return replace(
        typed,
        matcher=matcher_for(q.Any((query.expanded, understood.expanded)), readings),
        suggestion=corrected.suggestion or fixed.text,
        spelling=corrected.spelling,
        correction=fixed,
        corrected=corrected,
    )


def corrected_words(prepared: Prepared) -> list[correction.Corrected]:
    """The words ``prepared`` reads as typos of others (none when it was not corrected)."""
    return list(prepared.correction.words) if prepared.correction is not None else []


def fall_back(
    results: Any,
    prepared: Prepared,
    backend: Backend,
    prepare: Callable[..., Prepared],
    match: Callable[[cq.Node | None], Found],
    search: Callable[[str], Any],
) -> None:
    """For a query of several plain words finding nothing (``results``, ``prepared``: as it was searched),
    the word that blocks it and the results without it (``results.dropped``, ``results.without``, by
    ``search``): the rarest first whose leaving out finds something. ``prepare`` prepares a query (as typed,
    uncorrected) and ``match`` runs it, as the search did."""

    def finds(rest: str) -> bool:
        return bool(match(prepare(rest, correct=False).compiled).total)

    word, rest = blocking(prepared, results.query, backend, finds)
    if word is not None:
        results.dropped, results.without = word, search(rest)


def blocking(prepared: Prepared, text: str, backend: Backend, finds: Callable[[str], bool]) -> tuple[str | None, str]:
    """The word that blocks the query ``text`` finding nothing (the rarest first whose leaving out finds
    something: ``finds(rest)`` says), and the query without it; ``None`` when there is none.

    ``prepared`` is the query ``text`` as it was searched (corrected, if it was).
    """
    asked = prepared.correction.text if prepared.correction else nfc(text)
    words = [token for run in q.word_runs(asked) for token in run]
    nothing = (None, asked)
    tree = q.parse(asked)
    plain = isinstance(tree, q.Group) and all(isinstance(n, q.Term) and not n.prefix for n in tree.nodes)
    if len(words) < 2 or not plain:
        return nothing  # one word, or operators, quotes, fields: what to leave out is not the search's to say
    reader = backend.statistics()

    def held(token: Token) -> int:
        return sum(reader.doc_frequency(name, fold_syllable(token.text)) for name in f.TEXT_FIELDS)

    for token in sorted(words, key=held):
        rest = " ".join((asked[: token.start] + asked[token.end :]).split())
        if finds(rest):
            return token.text, rest
    return nothing
