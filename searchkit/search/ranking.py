"""Ranking: from the parsed query to the compiled query whose scores order the hits.

Ranking is BM25F over the folded fields, so a query finds every accent variant, plus optional
clauses that only add score: the same syllables with their accents as typed or, typed without
accents, as accent restoration spells them, weighted by how sure it is (exact-accent boost), the
query's syllables adjacent (phrase/proximity boost), the query's syllables forming one pyvi word
(word boost), title matches and, in questions, the names written as one syllable (``Nixon``). The
result is :mod:`searchkit.engines.compiled`'s tree, which either engine runs.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial, singledispatch

from searchkit.engines import compiled as cq
from searchkit.engines import fields as f
from searchkit.engines.compiled import Levels, SpeltPhrase
from searchkit.search import parse as q
from searchkit.search.questions import (
    asking,
    is_question,
    runs,
    without_words,
)
from searchkit.search.restoration import MIN_CONFIDENCE, Restoration
from searchkit.text.analysis import compound, could_take_accents, fold_syllable, has_marks, normalize_syllable


@dataclass(frozen=True)
class Weights:
    """How much each signal adds to a document's score, relative to a folded body match.

    The defaults were tuned on half of the XQuAD-vi questions (``tests/bench/tune.py``) with the
    paragraphs indexed alone and beside news articles; see docs/benchmarks.md.
    """

    title: float = 2.0
    # The title's weight in questions, where a title matching a few common words misleads more
    # than it tells (a news title with "bao nhiêu" is not about the question).
    question_title: float = 0.0
    # Questions: each pair of neighbouring syllables found side by side in the title. 1.0 gained on the
    # tuning half of XQuAD-vi (0.9657 → 0.9663) but lost four known items whose titles are questions
    # (``Vì sao tàu hàng của Philippines``: R@1 over 35,425 news 0.955 / 0.959 → 0.951 / 0.953); 3.0 → 0.9632.
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
    # An acronym's learnt long forms (and a long form's acronym), times each one's share of the
    # definitions: the form typed counts fully, the other is a fallback.
    acronym: float = 0.5
    # BM25's term-frequency saturation and length normalisation.
    k1: float = 2.0
    b: float = 0.9
    # Keyword queries: the tier below the phrases holds the words in order, each within this many
    # syllables of the last (``tư tưởng, đạo đức, phong cách`` for "tư tưởng phong cách").
    window: int = 4
    # Questions: the best matches placed again by their best window of syllables
    # (``searchkit.search.passages``): each of the ``passage_depth`` best gains ``passage`` times the best
    # score times the share of the question's weight its best ``passage_window`` syllables hold; a
    # syllable typed with marks keeps ``passage_loose`` of its weight where only folding alike.
    # Tuned on the tuning half of XQuAD-vi, alone and beside 3,000 news (1.0 against 2.0; windows
    # of 25, 40 and 60). A depth of 30 ranks as 100 did alone and within 0.002 beside news, at a
    # third of the cost. With restoration's readings and numbers below, tuned again on the tuning half
    # alone and beside 1,000 news (mean of both typings): 1.0 → 0.9620, 1.5 → 0.9631, 2.0 → 0.9626.
    passage: float = 1.5
    passage_window: int = 40
    passage_depth: int = 30
    passage_loose: float = 0.3
    # Questions: a syllable typed without marks weighs in passages the spelling restoration reads it as
    # (``do``: ``đỏ`` or ``do``; in ``quốc ca``, ``ca``), keeping this share of its folded weight where
    # spelt otherwise; 1 turns it off. Tuned as ``passage`` (unaccented questions only, ``passage_number``
    # 1): 0.5 → 0.9609, 0.3 → 0.9611, 0.1 → 0.9611 (a tie keeps 0.3); read in questions typed with accents
    # too (their bare syllables: ``ca``, ``bao``) → 0.9620. Both this and numbers off: 0.9568.
    passage_restored_loose: float = 0.3
    # Questions asking how many or when (``questions.asks_number``): a number the question does not write
    # counts in a passage as a word of the question's mean weight, times this: the paragraph answering
    # "bao nhiêu" writes one. Tuned as ``passage``: 0 → 0.9594 (unaccented questions read only), 0.5 →
    # 0.9609, 1 → 0.9620, 2 → 0.9623; with ``passage`` 1.5, 1 and 2 both 0.9631 (a tie keeps 1).
    passage_number: float = 1.0
    # Questions typed with accents: a syllable that forms one word with its neighbour in the question, as
    # the articles write the two (``phủ quyết``, ``quốc ca``; ``passages.word_pairs``), says less alone: in
    # ``chính phủ`` it is another word. Its terms keep ``bound`` of their weight (the pair and word clauses
    # carry the word), and in a passage it keeps ``passage_apart`` where the word it forms is not beside
    # it. Chosen on the tuning half of XQuAD-vi alone and beside 1,000 news (accented / unaccented mean
    # 0.9631): bound 0.7 → 0.9636, 0.5 → 0.9634; passage_apart 0.5 → 0.9636, 0.25 → 0.9641, 0.1 → 0.9640;
    # both (0.7, 0.25) → 0.9645, (0.8, 0.25) 0.9646, (0.7, 0.4) 0.9651, (0.6, 0.4) 0.9651, (0.8, 0.5)
    # 0.9641. The gain was the accented questions' (0.9640 → 0.9679); the unaccented moved by ±0.001, so
    # questions typed without marks keep their weights (a folded pair is a weaker sign of one word).
    bound: float = 0.7
    passage_apart: float = 0.4
    # Questions: each word of one syllable that has no Vietnamese shape (a name, a number, a foreign
    # word: ``Nixon``, ``1564``, ``Lindisfarne``) found in the body, once more. A Vietnamese word of two
    # syllables gains its pair and word clauses besides its terms; a name written as one syllable has
    # nothing but its term, so a question's common two-syllable words ("âm nhạc", "thành lập") outweighed
    # the one name that says what it is about. Tuned on the tuning half of XQuAD-vi, alone and beside
    # 3,000 news (0, 2, 3 and 4: each higher value gained, by less each time). A name of several such
    # syllables side by side (``Doctor Who``, ``Costa Rica``) shares one weight among them: it gains its
    # pair and phrase clauses as a Vietnamese word does, and counted per syllable it outweighed the
    # question's own words (a paragraph writing ``Doctor Who`` three times over the one writing ``Doctor``
    # and ``cháu gái``). Tuning half, mean of both typings alone and beside 1,000 news: 0.9651 → 0.9657
    # shared, 0.9652 with no weight for such names.
    name: float = 4.0


#
# Each operation on the tree is one ``singledispatch`` function: a clause kind registers what it
# means there, and clauses that behave alike share one registration (on ``q.Leaf``, ``q.Clauses``
# or the base ``q.Node``).


Respellings = dict[str, tuple[str, float]]
"""Typed syllable -> (restored spelling, its probability), for the syllables typed without accents
that restoration changes."""


def restored_forms(restoration: Restoration) -> Respellings:
    """Each syllable typed without accents that restoration respells, with its spelling and how sure it is.

    A syllable typed with accents keeps them (see :func:`_spelling`), whatever restoration makes of it.
    """
    forms: Respellings = {}
    for s in restoration.syllables:
        if s.changed and not has_marks(s.typed.text) and s.confidence > forms.get(s.typed.text, ("", 0.0))[1]:
            forms[s.typed.text] = (s.form, s.confidence)
    return forms


def partial_tiers(tree: q.Node) -> Levels:
    """The tiers of a long keyword query that no article holds whole, searched as a question: the
    articles holding most of its neighbouring pairs of words side by side, in the title, then in the body.
    """
    levels: tuple[list[cq.Node], list[cq.Node]] = ([], [])
    for run in runs(tree):
        folded = [fold_syllable(s) for s in run]
        for i in range(len(folded) - 1):
            for level, name in zip(levels, (f.TITLE, f.BODY), strict=True):
                level.append(cq.Phrase(name, tuple(folded[i : i + 2]), slop=1))
    return tuple(tuple(level) for level in levels if level)


def tiers(tree: q.Node, weights: Weights, *, accents: bool, restored: Respellings | None = None) -> Levels:
    """The tiers that order a keyword query's matches before their scores do.

    Words together beat words apart, and typed accents are information. For each run of words
    typed side by side, strongest first:

    0. the title beginning with the run, each syllable typed with marks spelt exactly so (a known
       item: someone typing the start of a title they remember);
    1. the run as a phrase in the title, spelt so;
    2. the same in the body;
    3. (a level of its own, counted) each syllable typed with marks found spelt so anywhere: a word
       that only folds alike (``nếu`` for ``nêu``) may match, never ahead of the spelling typed;
    4. the run as a phrase of folded syllables in the title, 5. in the body;
    6. typed without accents, the phrase spelt as restoration surely reads it (``neu guong`` →
       ``nêu gương`` before ``nếu gương``);
    7. the words in order within a small window (``Weights.window``) in the body;
    8. every word spelt as restoration surely reads it (``con duong``: roads before ``con dương``).

    Questions have none: their words match partly, and proximity only adds to their scores.
    """
    sure = {t: form for t, (form, odds) in (restored or {}).items() if odds >= MIN_CONFIDENCE}
    starts, spelt_title, spelt_body, exact, title, body, restored_phrases, windows = [], [], [], {}, [], [], [], []
    for run in runs(tree):
        folded = [fold_syllable(s) for s in run]
        for word in run:
            if has_marks(word):
                form = normalize_syllable(word)
                exact[form] = cq.Or(tuple(cq.Term(f.EXACT[name], form) for name in f.TEXT_FIELDS))
        if len(run) < 2:
            continue
        typed = [normalize_syllable(w) if has_marks(w) else None for w in run]
        starts.append(_spelt(f.TITLE, folded, typed, f.TITLE_EXACT, start=True))
        if any(typed):
            spelt_title.append(_spelt(f.TITLE, folded, typed, f.TITLE_EXACT))
            spelt_body.append(_spelt(f.BODY, folded, typed, f.BODY_EXACT))
        title.append(cq.Phrase(f.TITLE, tuple(folded), slop=1))
        body.append(cq.Phrase(f.BODY, tuple(folded), slop=1))
        guessed = [sure.get(w) for w in run]
        if not accents and any(guessed):
            restored_phrases += [
                _spelt(name, folded, guessed, f.EXACT[name]) for name in f.TEXT_FIELDS
            ]
        if weights.window > 1:
            windows.append(cq.Phrase(f.BODY, tuple(folded), slop=weights.window))
    spelling = restored_tier(tree, restored) if not accents else None
    levels = [starts, spelt_title, spelt_body, list(exact.values()), title, body, restored_phrases, windows]
    levels.append([spelling] if spelling is not None else [])
    return tuple(tuple(level) for level in levels if level)


def _spelt(
    name: str, folded: list[str], spelt: list[str | None], exact_field: str, *, start: bool = False
) -> SpeltPhrase:
    return SpeltPhrase(name, tuple(folded), slop=1, spelt=tuple(spelt), exact_field=exact_field, start=start)


def restored_tier(tree: q.Node, restored: Respellings | None) -> cq.Node | None:
    """The articles spelling every word of ``tree`` as restoration surely reads it; ``None`` when it
    reads none surely (the last of the :func:`tiers`, and what a suggestion is checked against)."""
    sure = {t: form for t, (form, odds) in (restored or {}).items() if odds >= MIN_CONFIDENCE}
    return _tier(tree, sure, f.TEXT_FIELDS) if sure else None


@singledispatch
def _tier(node: q.Node, sure: dict[str, str], fields: tuple[str, ...]) -> cq.Node | None:
    """The tier of one clause; ``None`` when the clause does not narrow it (a clause it cannot spell)."""
    return None


@_tier.register(q.Leaf)
def _tier_leaf(node: q.Leaf, sure: dict[str, str], fields: tuple[str, ...]) -> cq.Node | None:
    spelt = [tuple(cq.Term(f.EXACT[name], sure[t]) for name in fields) for t in node.words if t in sure]
    return cq.And(tuple(cq.Or(terms) for terms in spelt)) if spelt and not node.prefix else None


@_tier.register(q.Field)
def _tier_field(node: q.Field, sure: dict[str, str], fields: tuple[str, ...]) -> cq.Node | None:
    return _tier(node.node, sure, (node.name,))


@_tier.register(q.Clauses)
def _tier_clauses(node: q.Clauses, sure: dict[str, str], fields: tuple[str, ...]) -> cq.Node | None:
    parts = [part for part in (_tier(n, sure, fields) for n in node.nodes) if part is not None]
    return cq.And(tuple(parts)) if parts else None


@_tier.register(q.Any)
def _tier_any(node: q.Any, sure: dict[str, str], fields: tuple[str, ...]) -> cq.Node | None:
    # One alternative without a restored spelling lets every article into the tier.
    parts = [_tier(n, sure, fields) for n in node.nodes]
    return None if None in parts else cq.Or(tuple(parts))  # type: ignore[arg-type]


def compile_query(
    tree: q.Node,
    weights: Weights,
    *,
    accents: bool,
    restored: Respellings | None = None,
    common: frozenset[str] = frozenset(),
    question: bool | None = None,
    bound: frozenset[str] = frozenset(),
) -> cq.Node:
    """The compiled query for ``tree``: what must match, plus the clauses that order the matches.

    A keyword query (``question`` false) needs all its words; a question ranks partial matches
    (by default, a question is a query of more than ``KEYWORD_QUERY_MAX_TERMS`` syllables).
    ``common`` syllables (see :attr:`Weights.common`) are left out of a question's terms, and the
    syllables that ask (:func:`asking`) out of its terms and proximity clauses, unless nothing
    would be left.

    ``accents`` says whether the query carries any; each syllable's exact-accent clause is then
    decided on its own (see :func:`_spelling`). ``restored`` (see :func:`restored_forms`) gives the
    syllables typed without accents the exact-accent clauses they would have had if typed with
    them. Each sits beside the folded term it respells, which every document it matches also
    matches: they reorder the results, never filter them.
    """
    keyword = not (is_question("", tree) if question is None else question)
    if not keyword:
        weights = dataclasses.replace(weights, title=weights.question_title)
    compiling = _Compiling(weights, keyword, accents, restored or {}, bound=bound)
    asked = asking(tree) if not keyword else frozenset()
    pruned = without_words(tree, common, asked) if common or asked else None
    spoken = without_words(tree, frozenset(), asked) if asked else None
    required = _compile(pruned or tree, compiling)
    boosts = _boosts(spoken or tree, weights, question=not keyword)
    return cq.AndMaybe(required, cq.Or(tuple(boosts))) if boosts else required


@dataclass(frozen=True)
class _Compiling:
    """What compiling a clause depends on besides the clause itself."""

    weights: Weights
    keyword: bool
    accents: bool
    restored: Respellings
    fields: tuple[str, ...] = f.TEXT_FIELDS
    bound: frozenset[str] = frozenset()


@singledispatch
def _compile(node: q.Node, c: _Compiling) -> cq.Node:
    raise TypeError(f"no compiled query for a {type(node).__name__} clause")


@_compile.register(q.Term)
def _compile_term(node: q.Term, c: _Compiling) -> cq.Node:
    w = c.weights
    folded = fold_syllable(node.text)
    if node.prefix:
        return cq.Or(tuple(cq.Prefix(name, folded, boost=_field_boost(name, w)) for name in c.fields))
    share = w.bound if folded in c.bound else 1.0
    clauses: list[cq.Term] = [cq.Term(name, folded, boost=_field_boost(name, w) * share) for name in c.fields]
    spelling = _spelling(node.text, c)
    if spelling is not None:
        form, weight = spelling
        clauses += [cq.Term(f.EXACT[name], form, boost=_field_boost(name, w) * weight * share) for name in c.fields]
    # A weight of 0 turns a signal off; its clauses would only cost time. The terms themselves
    # stay when nothing else is left (a question's title:word with the title weighing 0).
    weighed = [clause for clause in clauses if clause.boost > 0]
    return cq.Or(tuple(weighed or clauses[: len(c.fields)]))


@_compile.register(q.Phrase)
def _compile_phrase(node: q.Phrase, c: _Compiling) -> cq.Node:
    folded = [fold_syllable(s) for s in node.words]
    return cq.Or(
        tuple(
            cq.Phrase(name, tuple(folded), slop=max(1, node.slop + 1), boost=_field_boost(name, c.weights))
            for name in c.fields
        )
    )


@_compile.register(q.Field)
def _compile_field(node: q.Field, c: _Compiling) -> cq.Node:
    return _compile(node.node, dataclasses.replace(c, fields=(node.name,)))


@_compile.register(q.Not)
def _compile_not(node: q.Not, c: _Compiling) -> cq.Node:
    return cq.Not(_compile(node.node, c))


@_compile.register(q.All)
def _compile_all(node: q.All, c: _Compiling) -> cq.Node:
    return _combined(node, c, cq.And)


@_compile.register(q.Any)
def _compile_any(node: q.Any, c: _Compiling) -> cq.Node:
    return _combined(node, c, cq.Or)


@_compile.register(q.Expansion)
def _compile_expansion(node: q.Expansion, c: _Compiling) -> cq.Node:
    alternatives = []
    for i, (child, weight) in enumerate(zip(node.nodes, node.weights, strict=True)):
        alternatives.append(cq.boosted(_compile(child, c), weight * (c.weights.acronym if i else 1.0)))
    return cq.Or(tuple(alternatives))


@_compile.register(q.Group)
def _compile_group(node: q.Group, c: _Compiling) -> cq.Node:
    return _combined(node, c, cq.And if c.keyword else partial(cq.Or, coord=c.weights.coord))


def _combined(node: q.Clauses, c: _Compiling, combine: Callable[[tuple[cq.Node, ...]], cq.Node]) -> cq.Node:
    """The clauses of ``node`` joined by ``combine``, less the articles its exclusions match."""
    children = [_compile(n, c) for n in node.nodes]
    positives = tuple(child for child in children if not isinstance(child, cq.Not))
    negatives = tuple(child.node for child in children if isinstance(child, cq.Not))
    if not positives:
        return cq.Not(cq.Or(negatives))
    combined = combine(positives)
    return cq.AndNot(combined, cq.Or(negatives)) if negatives else combined


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


def _boosts(tree: q.Node, w: Weights, *, question: bool = False) -> list[cq.Node]:
    """Proximity and word clauses for each run of plain syllables typed side by side."""
    clauses: list[cq.Node] = []
    names: dict[str, cq.Term] = {}
    for run in runs(tree):
        folded = [fold_syllable(s) for s in run]
        if question and w.name:
            for s, share in _names(folded):
                if s not in names or names[s].boost < w.name * share:
                    names[s] = cq.Term(f.BODY, s, boost=w.name * share)
        if len(folded) < 2:
            continue
        if w.phrase:
            clauses.append(cq.Phrase(f.BODY, tuple(folded), slop=1, boost=w.phrase))
            if w.title:
                clauses.append(cq.Phrase(f.TITLE, tuple(folded), slop=1, boost=w.phrase * w.title))
        if question and w.pair and len(folded) > 2:
            pairs = [tuple(folded[i : i + 2]) for i in range(len(folded) - 1)]
            clauses += [cq.Phrase(f.BODY, pair, slop=1, boost=w.pair) for pair in pairs]
            # In a question's title, a pair of its words is evidence where a lone word is noise.
            if w.title_pair:
                clauses += [cq.Phrase(f.TITLE, pair, slop=1, boost=w.title_pair) for pair in pairs]
        for size in (2, 3) if w.word else ():
            for i in range(len(folded) - size + 1):
                clauses.append(cq.Term(f.WORDS, compound(folded[i : i + size]), boost=w.word))
    return clauses + list(names.values())


def _names(folded: list[str]) -> list[tuple[str, float]]:
    """A run's syllables with no Vietnamese shape (a name, a number, a foreign word), each with its share of
    the name weight: those side by side share one (``Doctor Who``, ``Super Bowl 50``: a half, a third each),
    as a name of several words gains its pair and phrase clauses like a Vietnamese word of two syllables;
    ``Nixon`` has it all. Numbers beside a name count as its words: keeping them apart (``1973 Nixon``)
    scored 0.9658 on the tuning half against 0.9663 (both with ``title_pair`` 1.0)."""
    found = []
    for vietnamese, group in itertools.groupby(folded, key=could_take_accents):
        if not vietnamese:
            name = list(group)
            found += [(s, 1 / len(name)) for s in name]
    return found
