"""Typo correction: the syllables a mistyped query most likely meant (``nêu gươg`` → ``nêu gương``).

Vietnamese syllables are a closed set, and the index counts every one the articles write with its
spellings (``searchkit.engines.spellings``). A word the articles never write is almost surely a
typo, and the syllables worth trying for it are few: those one Damerau–Levenshtein edit away on
the folded form (a deletion, an insertion, a substitution or two letters swapped; two edits from
:data:`TWO_EDITS_FROM` letters), and those reached by a spelling Vietnamese writers confuse
(:func:`confusions`: ``s``/``x``, ``tr``/``ch``, ``d``/``gi``/``r``, ``l``/``n``, final
``n``/``ng`` and ``c``/``t``, ``i``/``y``, ``ng``/``ngh``, ``g``/``gh``). Numbers, acronyms and
words the index writes are never edited, except beside other words, where the pairs the articles
write must make the other spelling far more likely: by a confusion (``sử lý`` is ``xử lý`` in an
archive that writes ``xử lý``; ``lịch sử`` stays), and by an edit where the articles write the word
beside the words typed beside it rarely (:data:`RARELY`: ``ngoi dan`` is ``nguoi dan``; ``ngoi nha``
stays). Where it is written beside them at all, the search keeps such a correction only if no article
holds the query as typed as a phrase (:attr:`Correction.unsure`).

The readings are weighed by accent restoration's bigram model (``searchkit.search.restoration``),
so the whole query's most likely reading is chosen at once and accents, keys and typos compose:
``neu guogn`` → ``nêu gương``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from searchkit.engines.spellings import Spellings
from searchkit.search.parse import word_runs
from searchkit.search.restoration import Reading, read_runs, with_case
from searchkit.text.analysis import (
    Token,
    accent_key,
    could_take_accents,
    fold_syllable,
    has_marks,
    nfc,
    normalize_syllable,
)

# How much the typing believes a syllable it did not type, against 1 for the word typed: one
# reached by an ordinary edit, by a confusion Vietnamese writers make, and, for a word the index
# writes, by a confusion (then only the pairs beside it can make the other spelling win).
EDIT = 0.02
CONFUSION = 0.1
KNOWN_CONFUSION = 0.01
# For a query that finds nothing as typed: a word the index writes may be one edit from the word meant
# (``tinh`` for ``sinh`` in ``tuyen tinh``), if the pairs beside it say so (:data:`PAIR_ODDS`).
KNOWN_EDIT = 0.01
# Writers seldom mistype a word's first letter (Meilisearch counts such a typo double): an edit changing it
# is believed this much less (``phon`` is ``phong`` sooner than ``hon``, ``mng`` ``mang`` sooner than ``ong``),
# though not in a query finding nothing as typed (``tuyen tinh``), where some word must be wrong.
FIRST_LETTER = 0.1
# Two letters side by side typed in the wrong order keep every letter meant: such an edit, of a word never
# written, is believed this much more than one dropping or changing a letter (``vagn`` is ``vang`` sooner
# than the more often written ``van``).
SWAPPED = 3.0
# A word the index writes, but rarely beside the words typed beside it (at most this often each: ``ngoi``
# in ``ngoi dan``, a typo of ``nguoi`` making another written word), may be one edit from a word meant that
# the pairs beside it make far more likely (:data:`PAIR_ODDS`). On 254 news titles typed right, 60 of
# their 1,383 written words beside another are so rarely written beside it, 14 of them with such a word one
# edit away; of the same titles with one typo, 28 of the 43 typos making a written word, each with the
# word meant among those. Where the typed word is written beside its neighbours at all, the correction is
# kept only if no article holds the query as typed as a phrase (:attr:`Correction.unsure`): a real rare
# word in its own words (``vang trong nuoc dut da tang``) stays.
RARELY = 5
# Beside other words, whose pairs must then say so, a word rarely written beside them (:data:`RARELY`) or
# never written at all may be one edit from a syllable from this many letters, whatever its shape (``pha`` for
# ``phat``, ``tyt`` for ``tuyt``).
SHORT_EDIT_FROM = 3
# A word the index writes at most this often (in any text field) may be a typo of another.
RARE = 2
# Words this long may be one edit from a syllable (3 letters when they have no syllable's shape:
# ``lcu``, ``đôg``), two edits from this many.
ONE_EDIT_FROM = 4
TWO_EDITS_FROM = 8
# A word the index writes is read as another only where a pair with a word beside it is written this
# many times more often so: a correctly typed query (its pairs written) costs no model at all.
PAIR_ODDS = 10
# Syllables tried for one word, the most written first: bounds the model's work.
MAX_READINGS = 8

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Onsets written alike in some dialect or another, and spellings of one sound.
_ONSETS = (("s", "x"), ("tr", "ch"), ("d", "gi"), ("d", "r"), ("gi", "r"), ("l", "n"), ("ng", "ngh"), ("g", "gh"))
_ONSET = re.compile(r"^(ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdghklmnpqrstvx])?")
_FINALS = (("ng", "n"), ("c", "t"))
_TONES = frozenset("\u0301\u0300\u0309\u0303\u0323")


class Words(Protocol):
    """What correction asks of the index besides its spelling counts."""

    def written(self, word: str) -> float:
        """How often the articles write ``word`` (folded), in any text field."""
        ...


@dataclass(frozen=True)
class Corrected:
    """One word typed and the word read instead (in the typed letter case, with marks if typed with them)."""

    typed: str
    corrected: str

    def to_dict(self) -> dict:
        return {"typed": self.typed, "corrected": self.corrected}


@dataclass(frozen=True)
class Correction:
    """The query with its typos corrected, and which words were."""

    text: str
    words: tuple[Corrected, ...]
    # A word corrected is written beside the words typed beside it, if rarely (:data:`RARELY`): the query
    # as typed may be a phrase some article holds, and then it is not corrected (``searchkit.search.corrected``).
    unsure: bool = False


class Syllables:
    """The folded syllables the articles write and how often: the words a typo is corrected to."""

    def __init__(self, counts: Iterable[tuple[str, int]], others: Iterable[tuple[str, int]] = ()):
        """``counts``: accent-statistics terms of one syllable (``neu|nêu``) and their counts; ``others``:
        the titles' lone words that accent statistics leave out (``honda|Honda``: foreign words, no numbers)."""
        self.counts: dict[str, int] = {}
        for term, n in counts:
            folded = term.split("|", 1)[0]
            self.counts[folded] = self.counts.get(folded, 0) + n
        # Words without Vietnamese spellings, each its own only form (counted in titles alone).
        self.foreign: dict[str, int] = {}
        for term, n in others:
            folded = term.split("|", 1)[0]
            if folded.isascii() and folded.isalpha() and folded not in self.counts:
                self.foreign[folded] = self.foreign.get(folded, 0) + n
        self.counts |= self.foreign

    def __contains__(self, folded: str) -> bool:
        return folded in self.counts

    def neighbours(self, folded: str, *, shortest: int = ONE_EDIT_FROM) -> dict[str, int]:
        """The syllables within the edits allowed for ``folded`` (itself left out), with their edit counts
        (one edit from ``shortest`` letters, see :func:`nearby`)."""
        return nearby(folded, self.counts.__contains__, shortest=shortest)

    def vietnamese(self, folded: str) -> bool:
        """Whether ``folded`` is a syllable the articles write with Vietnamese spellings: only those are
        counted in pairs."""
        return folded in self.counts and folded not in self.foreign


def nearby(
    folded: str, known: Callable[[str], bool], *, two: bool = True, shortest: int = ONE_EDIT_FROM
) -> dict[str, int]:
    """The strings ``known`` accepts within the edits allowed for ``folded`` (itself left out), with
    their edit counts: one edit from ``shortest`` letters (three for a word of no syllable's shape), two
    from :data:`TWO_EDITS_FROM` (with ``two``).

    No syllable is longer than seven letters, so two edits from eight letters or more hold a
    deletion: only the edits of the word's deletions are tried (a few thousand strings, not a
    few hundred thousand).
    """
    if len(folded) < shortest and (len(folded) < 3 or could_take_accents(folded)):
        return {}
    found = {w: 1 for w in edits(folded) if w != folded and known(w)}
    if two and len(folded) >= TWO_EDITS_FROM:
        for shorter in {folded[:i] + folded[i + 1 :] for i in range(len(folded))}:
            for w in edits(shorter):
                if w != folded and w not in found and known(w):
                    found[w] = 2
    return found


def edits(word: str) -> set[str]:
    """Every string one Damerau–Levenshtein edit from ``word`` over the folded alphabet."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    found = {a + b[1:] for a, b in splits if b}
    found |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    found |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS if c != b[0]}
    found |= {a + c + b for a, b in splits for c in _LETTERS}
    return found


def confusions(folded: str) -> set[str]:
    """The folded spellings a writer may confuse with ``folded``: ``su`` → ``xu``, ``ngien`` → ``nghien``."""
    onset = _ONSET.match(folded).group()
    rest = folded[len(onset) :]
    found: set[str] = set()
    for a, b in _ONSETS:
        for one, other in ((a, b), (b, a)):
            if onset == one and rest:
                found.add(other + rest)
    for a, b in _FINALS:
        for one, other in ((a, b), (b, a)):
            if rest.endswith(one) and len(rest) > len(one):
                found.add(onset + rest[: -len(one)] + other)
    if onset and rest in ("i", "y"):  # ``ly``/``li``, ``quy``/``qui``
        found.add(onset + ("y" if rest == "i" else "i"))
    found.discard(folded)
    return found


def agrees(typed: str, form: str) -> bool:
    """Whether the spelling ``form`` of another syllable keeps the marks typed (``gươg``: ``gương``, not
    ``gượng``): a word typed with marks is corrected only to spellings with the same tone and letters."""
    return _marks(typed) == _marks(form)


def _marks(syllable: str) -> tuple[str, tuple[str, ...]]:
    parts = unicodedata.normalize("NFD", syllable.lower())
    tone = "".join(c for c in parts if c in _TONES)
    shaped = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
    return tone, tuple(sorted({c for c in shaped if not c.isascii()}))


def correct(
    lexicon: Spellings,
    words: Words,
    syllables: Syllables,
    text: str,
    spellings: dict | None = None,
    *,
    as_typed: bool = False,
    loose: bool = False,
) -> Correction | None:
    """The query ``text`` with its typos corrected; ``None`` when it is read as typed.

    ``lexicon`` is the index's spelling counts (as restoration reads them), ``spellings`` their
    cache (see :func:`searchkit.search.restoration.restore_query`); ``as_typed``: the query was
    typed as Telex or VNI keys; ``loose``: the query finds nothing as typed, so a word the index writes
    may be one edit from the word meant too (:data:`KNOWN_EDIT`).
    """
    text = nfc(text)
    runs = word_runs(text)
    pairs = _Pairs(lexicon, spellings)
    readings = []
    for run in runs:
        folds = [fold_syllable(t.text) for t in run]
        beside = [[(folds[j], j < i) for j in (i - 1, i + 1) if 0 <= j < len(run)] for i in range(len(run))]
        readings.append([_readings(t, words, syllables, pairs, beside[i], loose=loose) for i, t in enumerate(run)])
    if all(len(r) == 1 and r[0][0] == fold_syllable(t.text) for run, rr in zip(runs, readings, strict=True)
           for t, r in zip(run, rr, strict=True)):
        return None  # nothing else to read: the common case costs no model
    restoration = read_runs(lexicon, text, runs, readings, spellings, as_typed=as_typed, agrees=agrees)
    changed: list[tuple[Token, str, bool]] = []  # each word corrected, to what, and whether unsure
    alone = len(restoration.syllables) == 1  # only a query of one word is read on its frequency alone
    chosen = iter(restoration.syllables)
    for run in runs:
        read = [next(chosen) for _ in run]
        folds = [fold_syllable(s.form) for s in read]
        for i, s in enumerate(read):
            if folds[i] == fold_syllable(s.typed.text):
                continue
            # Beside other words, a correction must make a pair the articles write: the evidence a lone
            # word's frequency cannot give (``khanh thanh`` is not ``thanh thanh``). Pairs are counted
            # between Vietnamese syllables only: a foreign word, or one beside none (``13 nguox``), goes without.
            beside = [(folds[j], folds[j + 1]) for j in (i - 1, i) if 0 <= j < len(run) - 1]
            counted = [p for p in beside if all(w in syllables and w not in syllables.foreign for w in p)]
            if not alone and (not beside or (counted and not any(pairs.count(*pair) for pair in counted))):
                continue
            kept = s.form if as_typed or has_marks(s.typed.text) else folds[i]
            typed = fold_syllable(s.typed.text)
            around = [(fold_syllable(run[j].text), j < i) for j in (i - 1, i + 1) if 0 <= j < len(run)]
            heard = pairs.heard(typed, around, syllables) if words.written(s.typed.text) > RARE else None
            # Written beside its neighbours, if rarely: a typo only if the query as typed is no phrase written.
            changed.append((s.typed, with_case(s.typed.text, kept), not loose and bool(heard) and heard <= RARELY))
    if any(not unsure for *_, unsure in changed):
        # Beside another typo, the query as typed is no phrase anyone writes: it cannot tell.
        changed = [c for c in changed if not c[2]]
    if not changed:
        return None
    pieces: list[str] = []
    cursor = 0
    for token, word, _ in changed:
        pieces += [text[cursor : token.start], word]
        cursor = token.end
    pieces.append(text[cursor:])
    words_corrected = tuple(Corrected(t.text, w) for t, w, _ in changed)
    return Correction("".join(pieces), words_corrected, any(unsure for *_, unsure in changed))


def mistyped_keys(
    lexicon: Spellings, syllables: Syllables, word: str, reading: str, beside: list[tuple[str, bool]],
    spellings: dict | None = None,
) -> bool:
    """Whether ``word``, whose letters spell the Telex or VNI keys of ``reading``, is rather a typo of a
    syllable one edit away (``lujng`` in ``lujng linh`` is ``lung``, not ``lụng``; ``thanr pho`` is ``thanh``).

    So it is where the articles write ``reading`` beside a word ``beside`` it (folded, each with whether it
    comes before) rarely (:data:`RARELY`), and a syllable one edit from the word as typed far more often
    (:data:`PAIR_ODDS`): the reading the pairs make likelier wins. Keys typed for the syllable written beside
    its neighbours (``guowng`` beside ``nee``) stay keys, since the folded pair counts the keyed one too.
    """
    if not beside:
        return False
    pairs = _Pairs(lexicon, spellings)
    form = normalize_syllable(reading).lower()
    keyed = max(pairs.spelt(fold_syllable(reading), form, other, before) for other, before in beside)
    if keyed > RARELY:
        return False
    near = syllables.neighbours(fold_syllable(word), shortest=SHORT_EDIT_FROM)
    best = max(
        (pairs.count(other, w) if before else pairs.count(w, other) for w in near if syllables.vietnamese(w)
         for other, before in beside if syllables.vietnamese(other)),
        default=0.0,
    )
    return best > PAIR_ODDS * max(keyed, 1.0)


class _Pairs:
    """How often the articles write two folded syllables side by side, read through restoration's cache."""

    def __init__(self, lexicon: Spellings, cache: dict | None):
        self.lexicon = lexicon
        self.cache = {} if cache is None else cache

    def count(self, first: str, second: str) -> float:
        return sum(self._spellings(first, second).values())

    def _spellings(self, first: str, second: str) -> dict[str, float]:
        # The pair's spellings as read, not read back from the cache: another thread may empty it.
        key = accent_key([first, second])
        found = self.cache.get(key)
        if found is None:
            found = {term[len(key) :]: float(n) for term, n in self.lexicon.spellings(key).items()}
            self.cache[key] = found
        return found

    def spelt(self, folded: str, form: str, other: str, before: bool) -> float:
        """How often the articles write the syllable ``form`` (folded ``folded``) beside ``other`` (folded),
        after it if ``before``."""
        pair = [other, folded] if before else [folded, other]
        side = 1 if before else 0
        return sum(n for term, n in self._spellings(*pair).items() if term.split(" ")[side:side + 1] == [form])

    def supports(self, candidate: str, typed: str, beside: list[tuple[str, bool]]) -> bool:
        """Whether a word beside makes a pair with ``candidate`` written far more often than with ``typed``."""
        for other, before in beside:
            def pair(word: str, other: str = other, before: bool = before) -> float:
                return self.count(other, word) if before else self.count(word, other)

            if pair(candidate) > PAIR_ODDS * max(pair(typed), 1.0):
                return True
        return False

    def heard(self, typed: str, beside: list[tuple[str, bool]], syllables: Syllables) -> float | None:
        """How often the articles write ``typed`` beside a word ``beside`` it, at most; ``None`` where no pair
        is counted (pairs are counted between Vietnamese syllables only)."""
        counted = [(other, before) for other, before in beside if syllables.vietnamese(other)]
        if not counted or not syllables.vietnamese(typed):
            return None
        return max(self.count(other, typed) if before else self.count(typed, other) for other, before in counted)


def _readings(
    token: Token, words: Words, syllables: Syllables, pairs: _Pairs, beside: list[tuple[str, bool]], *, loose: bool
) -> list[Reading]:
    """The folded syllables ``token`` may stand for, each with the typing's belief in it; ``beside``: the
    folded words typed beside it, each with whether it comes before."""
    folded = fold_syllable(token.text)
    own = [(folded, 1.0)]
    if not correctable(token.text):
        return own  # numbers, acronyms and words of other scripts are as typed
    written = words.written(token.text)
    weights: dict[str, float] = {}
    if written > RARE:
        heard = pairs.heard(folded, beside, syllables)
        rarely = heard is not None and heard <= RARELY
        if beside and (loose or rarely):
            # Three letters only where the pairs typed are rarely written: a query finding nothing may be
            # words apart (``ngoi sao`` over the seeds), and a short word beside one of them stays.
            near = syllables.neighbours(folded, shortest=SHORT_EDIT_FROM if rarely else ONE_EDIT_FROM)
            weights = {w: KNOWN_EDIT**n * (1.0 if loose else _first(folded, w)) for w, n in near.items()}
        if beside:
            weights |= {w: KNOWN_CONFUSION for w in confusions(folded) if w in syllables}
        weights = {w: weight for w, weight in weights.items() if pairs.supports(w, folded, beside)}
    else:
        # Three letters shaped as a syllable only if never written, beside words whose pairs then decide.
        near = syllables.neighbours(folded, shortest=SHORT_EDIT_FROM if beside and not written else ONE_EDIT_FROM)
        weights = {w: EDIT**n * _first(folded, w) * _swapped(folded, w) for w, n in near.items()}
        weights |= {w: CONFUSION for w in confusions(folded) if w in syllables}
    if not weights:
        return own
    best = sorted(weights, key=lambda w: -syllables.counts[w] * weights[w])[:MAX_READINGS]
    # A word without Vietnamese spellings has no counts in the model: its weight carries its own.
    found = [(w, weights[w] * (1 + syllables.foreign[w]) if w in syllables.foreign else weights[w]) for w in best]
    # A word the articles never write is searched as typed anyway: only what it may stand for is read.
    return (own if written else []) + found


def _swapped(typed: str, word: str) -> float:
    """How much more an edit is believed for swapping two letters side by side (:data:`SWAPPED`)."""
    if len(typed) != len(word):
        return 1.0
    differ = [i for i in range(len(typed)) if typed[i] != word[i]]
    return SWAPPED if len(differ) == 2 and differ[1] == differ[0] + 1 and typed[differ[0]] == word[differ[1]] else 1.0


def _first(typed: str, word: str) -> float:
    """How much less an edit is believed for changing the first letter (:data:`FIRST_LETTER`)."""
    return FIRST_LETTER if typed[:1] != word[:1] else 1.0


def correctable(word: str) -> bool:
    """Whether ``word`` may be read as a typo at all: not a number, an acronym or a word of another script."""
    folded = fold_syllable(word)
    return folded.isascii() and folded.isalpha() and not _acronym(word)


def _acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()
