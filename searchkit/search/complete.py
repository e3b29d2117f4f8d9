"""Autocompletion: the last words of a query completed from the articles' own words and titles.

``neu g`` → ``nêu gương``: the word being typed is completed, and the words typed just before it
are respelt with it, diacritic-insensitively and as the articles spell them, from two counts kept
beside the index (``searchkit.engines.spellings``): how often each syllable and each pair of syllables is
written (the accent statistics), and the runs of up to three words found in titles
(:func:`title_phrases`), which also hold numbers and foreign words (``chỉ thị 05``, ``iphone``)
and may run one word past the one being typed.

Completions covering more of the typed words come first, then the more frequent.
"""

from __future__ import annotations

from dataclasses import dataclass

from searchkit.engines import spellings
from searchkit.engines.spellings import PHRASE_WORDS, title_phrases  # noqa: F401 - counted at build, named here too
from searchkit.search import correction, neighbours
from searchkit.search.keystrokes import readings
from searchkit.search.restoration import with_case
from searchkit.text.analysis import (
    Token,
    fold_syllable,
    has_marks,
    nfc,
    normalize_syllable,
    side_by_side,
    syllables,
)

MAX_COMPLETIONS = 10
# Rows read per lookup: more than are shown, since completions repeating another are dropped.
_ROWS = 3 * MAX_COMPLETIONS


@dataclass(frozen=True)
class _Typed:
    """The query cut where completion works: the words typed before the one being typed, and that one."""

    text: str
    context: list[Token]  # up to PHRASE_WORDS - 1 words side by side before the one being typed
    partial: Token | None  # the word being typed; None after a space (the next word is completed)


def completions(store: spellings.Spellings, text: str, limit: int = MAX_COMPLETIONS) -> list[str]:
    """Up to ``limit`` completions of the query ``text``, best first; [] when nothing fits.

    Only the completions covering the most typed words are given: once ``neu g`` is known as
    ``nêu gương``, completing ``g`` alone (``neu giá``) would only offer phrases never written.
    """
    typed = _cut(store, nfc(text))
    if typed is None:
        return []
    partial = [typed.partial] if typed.partial is not None else []
    for used in range(len(typed.context), -1, -1):
        spelt = typed.context[len(typed.context) - used :] + partial
        if not spelt:
            continue
        # After a space, the next word is completed: the prefix ends with the space.
        prefix = " ".join(fold_syllable(t.text) for t in spelt) + ("" if partial else " ")
        size = len(spelt) + (not partial)  # words in the phrases looked up, at least
        rows: list[tuple[str, int]] = []
        if size <= 2:
            rows += store.prefixed(spellings.ACCENTS, prefix, words=size, limit=_ROWS)
        # A lone word being typed is completed from the titles' lone words only: their runs
        # starting with a letter or two would be most of them.
        rows += store.prefixed(spellings.PHRASES, prefix, words=size, limit=_ROWS)
        # Completions differing only in letter case (iPhone, Iphone) are one, counted together and
        # written as most often.
        found: dict[str, dict[str, int]] = {}
        for term, count in rows:
            completion = _completion(typed, spelt, term)
            if completion is not None and completion.strip() != text.strip():
                cased = found.setdefault(completion.casefold(), {})
                cased[completion] = max(count, cased.get(completion, 0))
        if found:
            ranked = sorted(found.values(), key=lambda cased: (-sum(cased.values()), min(cased)))
            return [max(cased, key=lambda c: (cased[c], c)) for cased in ranked[:limit]]
    return []


def _cut(store: spellings.Spellings, text: str) -> _Typed | None:
    tokens = syllables(text)
    if not tokens:
        return None
    partial = tokens[-1] if tokens[-1].end == len(text) else None
    before = tokens[:-1] if partial is not None else tokens
    if partial is None and text[tokens[-1].end :].strip():
        return None  # the query ends with an operator, a quote or a bracket: nothing to complete
    context: list[Token] = []
    following = partial
    for token in reversed(before):
        if len(context) == PHRASE_WORDS - 1:
            break
        if following is not None and not side_by_side(text, token, following):
            break
        context.insert(0, _read(store, token))
        following = token
    if partial is None and not context:
        return None
    return _Typed(text, context, partial)


def _read(store: spellings.Spellings, token: Token) -> Token:
    """A word typed before the one being completed, read as Telex or VNI keys if the articles never write
    it, or else as the syllable one typo away they write most (``searchkit.search.correction``)."""
    if store.prefixed(spellings.ACCENTS, fold_syllable(token.text) + "|", words=1, limit=1):
        return token
    found = readings(token.text)
    if found:
        return Token(found[0], token.start, token.end)
    fixed = _corrected(store, token.text)
    return Token(fixed, token.start, token.end) if fixed is not None else token


def _corrected(store: spellings.Spellings, word: str) -> str | None:
    """The syllable the articles write most among those one typo from ``word`` (spelt with the marks
    typed, if it is so spelt, else folded); None when there is none. One edit only: each syllable
    tried is a lookup."""
    if not correction.correctable(word):
        return None
    folded = fold_syllable(word)
    spelt: dict[str, list[tuple[str, int]]] = {}

    def written(candidate: str) -> bool:
        rows = store.prefixed(spellings.ACCENTS, candidate + "|", words=1, limit=_ROWS)
        if rows:
            spelt[candidate] = rows
        return bool(rows)

    weights = {w: correction.EDIT**n for w, n in neighbours.nearby(folded, written, two=False).items()}
    weights |= {w: correction.CONFUSION for w in neighbours.confusions(folded) if written(w)}
    if not weights:
        return None
    best = max(weights, key=lambda w: (weights[w] * sum(n for _, n in spelt[w]), w))
    if has_marks(word):
        forms = [term.partition("|")[2] for term, _ in spelt[best]]
        return next((form for form in forms if correction.agrees(word, form)), best)
    return best


def _completion(typed: _Typed, spelt: list[Token], term: str) -> str | None:
    """The query with ``spelt`` (its last typed words) replaced by the phrase ``term`` spells, or None.

    None when the phrase contradicts a word typed with its accents (``nêu`` is not ``nếu``).
    """
    forms = term.partition("|")[2].split(" ")
    for i, token in enumerate(spelt):
        form = forms[i]
        if has_marks(token.text):
            wanted = normalize_syllable(token.text)
            whole = typed.partial is None or token is not typed.partial
            if (form != wanted) if whole else not form.startswith(nfc(token.text).lower()):
                return None
    respelt = [with_case(t.text, form) for t, form in zip(spelt, forms, strict=False)]
    rest = forms[len(spelt) :]
    return typed.text[: spelt[0].start] + " ".join(respelt + rest)
