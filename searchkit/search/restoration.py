"""Accent restoration: the accented query most likely meant by one typed without diacritics.

The index counts, beside its articles (``searchkit.engines.spellings``), every spelling that
each folded syllable and each pair of syllables side by side takes in the articles (``neu|nêu``,
``neu guong|nêu gương``; see :func:`searchkit.text.analysis.accent_terms`). Those counts make a
bigram language model over normalised syllables. Each folded syllable of a query may be any
spelling seen for it; Viterbi finds the most likely sequence, so neighbours decide (``dang vien``
is ``đảng viên``, while ``dang`` alone stays ambiguous), and forward-backward says how sure each
syllable is.

Everything here reads the counts through :class:`searchkit.engines.spellings.Spellings`, so it is
testable without an index.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from searchkit.engines.spellings import Spellings
from searchkit.search.parse import word_runs
from searchkit.text.analysis import (
    Token,
    accent_key,
    clauses,
    fold_syllable,
    has_marks,
    nfc,
    normalize_syllable,
    syllables,
    visible,
)

# How much a pair's evidence counts against the syllable's own frequency (Jelinek-Mercer
# interpolation). Pairs are what tell "đảng viên" from "đang viên"; the rest keeps unseen pairs
# possible.
PAIR_WEIGHT = 0.8
# Added to every count, so a spelling the corpus lacks but the user typed keeps a small chance.
UNSEEN = 0.5
# A syllable typed with diacritics is believed this many times more than any other spelling:
# wrong accents are corrected only when the context makes them very unlikely.
TYPED_ACCENTS = 50.0
# A suggestion respells only the syllables at least this probable; the others stay as typed, so
# a lone ambiguous word ("dang": đang, đảng, đăng…) gets no suggestion.
MIN_CONFIDENCE = 0.6


@dataclass(frozen=True)
class Restored:
    """One typed syllable, its most likely spelling (normalised) and that spelling's probability."""

    typed: Token
    form: str
    confidence: float

    @property
    def changed(self) -> bool:
        return self.form != normalize_syllable(self.typed.text)


@dataclass(frozen=True)
class Restoration:
    """The typed text (NFC) and the restored spelling of each of its words."""

    text: str
    syllables: tuple[Restored, ...]

    def restored_text(self, min_confidence: float = 0.0) -> str:
        """The text with its words respelt, in the typed letter case, where at least that sure."""
        pieces: list[str] = []
        cursor = 0
        for s in self.syllables:
            if s.changed and s.confidence >= min_confidence:
                pieces += [self.text[cursor : s.typed.start], with_case(s.typed.text, s.form)]
                cursor = s.typed.end
        pieces.append(self.text[cursor:])
        return "".join(pieces)

    def readings(self, min_confidence: float = MIN_CONFIDENCE) -> dict[str, set[str]]:
        """Each word typed without marks that restoration reads at least that surely (normalised),
        with the spellings it reads: ``neu guong`` → ``{"neu": {"nêu"}, "guong": {"gương"}}``; a word
        read as typed counts too (``viet nam`` → ``"nam": {"nam"}``, not ``năm``)."""
        found: dict[str, set[str]] = {}
        for s in self.syllables:
            if not has_marks(s.typed.text) and s.confidence >= min_confidence:
                found.setdefault(normalize_syllable(s.typed.text), set()).add(s.form)
        return found

    @property
    def suggestion(self) -> str | None:
        """The query to offer ("Có phải bạn muốn tìm: …"); ``None`` when it is its own best form."""
        if not any(s.changed and s.confidence >= MIN_CONFIDENCE for s in self.syllables):
            return None
        # Offered as a link to follow: nothing in it that shows nothing.
        return visible(self.restored_text(MIN_CONFIDENCE)).strip()


def restore_query(
    lexicon: Spellings, text: str, spellings: dict | None = None, *, as_typed: bool = False
) -> Restoration:
    """The restoration of a query's words; operators, quotes, ``title:`` and prefixes are kept.

    ``spellings``, kept by the caller for as long as the lexicon does not change, caches the
    counts looked up, so later queries sharing syllables skip the term dictionary.

    With ``as_typed``, a word typed without marks is believed as much as one typed with them: the
    query was typed as Telex or VNI keys (``searchkit.search.keystrokes``), so a word without keys was
    meant without marks, and is respelt only where the context makes it very unlikely.
    """
    return _restore(lexicon, nfc(text), word_runs(text), spellings, as_typed)


def restore_text(lexicon: Spellings, text: str, *, as_typed: bool = False) -> Restoration:
    """The restoration of plain text: every syllable, in runs broken by punctuation (``as_typed``: see
    :func:`restore_query`)."""
    text = nfc(text)
    runs = clauses(text, syllables(text))
    return _restore(lexicon, text, runs, as_typed=as_typed)


def suggest(lexicon: Spellings, text: str) -> str | None:
    """The accented query most likely meant by ``text``; ``None`` when it is its own best form."""
    return restore_query(lexicon, text).suggestion


def with_case(typed: str, form: str) -> str:
    """``form`` in the letter case of ``typed``: ``with_case("Dang", "đảng") == "Đảng"``."""
    if len(typed) == len(form):
        return "".join(f.upper() if t.isupper() else f for t, f in zip(typed, form, strict=True))
    if typed.isupper():
        return form.upper()
    return form[:1].upper() + form[1:] if typed[:1].isupper() else form


# --- the model ------------------------------------------------------------------------------


class _Counts:
    """Spelling counts read from the lexicon, each folded run looked up once per restoration."""

    def __init__(self, lexicon: Spellings, cache: dict | None = None):
        self.lexicon = lexicon
        # Pairs are counted in the same field, so this is about twice the number of syllables:
        # a constant factor that PAIR_WEIGHT was chosen with.
        self.total = max(float(lexicon.total()), 1.0)
        self._cache: dict[str, dict[str, float]] = {} if cache is None else cache

    def spellings(self, typed: Sequence[str]) -> dict[str, float]:
        """How often each spelling of the run ``typed`` occurs, by its normalised form."""
        key = accent_key(list(typed))
        found = self._cache.get(key)
        if found is None:
            found = {term[len(key) :]: float(n) for term, n in self.lexicon.spellings(key).items()}
            self._cache[key] = found
        return found


@dataclass
class _Lattice:
    """The spellings possible at each position of a run and the model's probabilities over them.

    ``start[c]``: probability of spelling ``c`` at the first position; ``step[i][p][c]``: of
    spelling ``c`` at ``i`` after ``p`` at ``i - 1`` (``step[0]`` is unused); ``belief[i][c]``:
    how much the typed syllable itself favours ``c``.
    """

    forms: list[list[str]]
    start: list[float]
    step: list[list[list[float]]]
    belief: list[list[float]]

    def best_path(self) -> list[int]:
        """Viterbi: the spelling chosen at each position in the most probable sequence."""
        score = _normalised([s * b for s, b in zip(self.start, self.belief[0], strict=True)])
        back: list[list[int]] = []
        for i in range(1, len(self.forms)):
            new, pointers = [], []
            for c, belief in enumerate(self.belief[i]):
                p = max(range(len(score)), key=lambda p: score[p] * self.step[i][p][c])
                new.append(score[p] * self.step[i][p][c] * belief)
                pointers.append(p)
            score = _normalised(new)
            back.append(pointers)
        path = [max(range(len(score)), key=score.__getitem__)]
        for pointers in reversed(back):
            path.append(pointers[path[-1]])
        return path[::-1]

    def marginals(self) -> list[list[float]]:
        """Forward-backward: each spelling's probability at each position, given the whole run."""
        n = len(self.forms)
        forward = [_normalised([s * b for s, b in zip(self.start, self.belief[0], strict=True)])]
        for i in range(1, n):
            before = forward[-1]
            forward.append(
                _normalised(
                    [
                        belief * sum(before[p] * self.step[i][p][c] for p in range(len(before)))
                        for c, belief in enumerate(self.belief[i])
                    ]
                )
            )
        backward = [[1.0] * len(self.forms[-1])]
        for i in range(n - 1, 0, -1):
            after = [b * a for b, a in zip(self.belief[i], backward[0], strict=True)]
            weighed = [sum(x * a for x, a in zip(row, after, strict=True)) for row in self.step[i]]
            backward.insert(0, _normalised(weighed))
        return [
            _normalised([f * b for f, b in zip(forward[i], backward[i], strict=True)])
            for i in range(n)
        ]


def _restore(
    lexicon: Spellings, text: str, runs: list[list[Token]], spellings: dict | None = None, as_typed: bool = False
) -> Restoration:
    counts = _Counts(lexicon, spellings)
    restored: list[Restored] = []
    for run in runs:
        restored += _best(_lattice(counts, run, as_typed), run)
    return Restoration(text, tuple(restored))


def _best(lattice: _Lattice, run: list[Token]) -> list[Restored]:
    path, marginals = lattice.best_path(), lattice.marginals()
    chosen = enumerate(zip(run, path, strict=True))
    return [Restored(token, lattice.forms[i][c], marginals[i][c]) for i, (token, c) in chosen]


Reading = tuple[str, float]
"""A folded syllable a typed word may stand for and how much the typing believes it (see :func:`read_runs`)."""


def read_runs(
    lexicon: Spellings,
    text: str,
    runs: list[list[Token]],
    readings: list[list[list[Reading]]],
    spellings: dict | None = None,
    *,
    as_typed: bool = False,
    agrees: Callable[[str, str], bool] | None = None,
) -> Restoration:
    """The restoration of ``runs`` where each word may also be read as other folded syllables.

    ``readings[r][i]`` lists the folded syllables word ``i`` of run ``r`` may stand for, each with a
    weight multiplying the model's belief in its spellings (typo correction, ``searchkit.search.correction``);
    the word's own folded form is one of them only if listed. ``agrees(typed, form)`` says whether a
    spelling of another syllable keeps the marks typed, and is then believed as the typed spelling is.
    """
    counts = _Counts(lexicon, spellings)
    restored: list[Restored] = []
    for run, options in zip(runs, readings, strict=True):
        restored += _best(_lattice(counts, run, as_typed, options, agrees), run)
    return Restoration(nfc(text), tuple(restored))


def _lattice(
    counts: _Counts,
    run: list[Token],
    as_typed: bool = False,
    readings: list[list[Reading]] | None = None,
    agrees: Callable[[str, str], bool] | None = None,
) -> _Lattice:
    forms: list[list[str]] = []
    seen: list[list[float]] = []
    belief: list[list[float]] = []
    keys: list[list[str]] = []  # the folded syllable each spelling is one of
    for i, token in enumerate(run):
        typed = normalize_syllable(token.text)
        accented = as_typed or typed != fold_syllable(token.text)
        own = fold_syllable(token.text)
        options = readings[i] if readings is not None else [(own, 1.0)]
        candidates, counted, believed, folded = [], [], [], []
        for key, weight in options:
            spellings = counts.spellings([key])
            found = sorted(spellings, key=lambda f: -spellings[f])
            if key != own and not found:  # a word of no Vietnamese spelling (``honda``): itself
                found = [key]
            if key == own:
                # A word the corpus lacks stays as typed; so does an accented spelling it never saw.
                if typed not in spellings and (accented or not found):
                    found.append(typed)
                marked = [accented and f == typed for f in found]
            elif typed != own and agrees is not None:
                # A word typed with marks stands only for spellings keeping them.
                found = [f for f in found if agrees(typed, f)]
                marked = [True] * len(found)
            else:
                marked = [False] * len(found)
            for f, sure in zip(found, marked, strict=True):
                candidates.append(f)
                counted.append(spellings.get(f, 0.0))
                believed.append(weight * (TYPED_ACCENTS if sure else 1.0))
                folded.append(key)
        if not candidates:  # nothing it may stand for: as typed
            candidates, counted, believed, folded = [typed], [0.0], [1.0], [own]
        forms.append(candidates)
        seen.append(counted)
        belief.append(believed)
        keys.append(folded)

    def unigram(i: int) -> list[float]:
        return [(count + UNSEEN) / counts.total for count in seen[i]]

    step: list[list[list[float]]] = [[]]
    for i in range(1, len(run)):
        pairs: dict[str, float] = {}
        for before in dict.fromkeys(keys[i - 1]):
            for key in dict.fromkeys(keys[i]):
                pairs.update(counts.spellings([before, key]))
        alone = unigram(i)
        step.append(
            [
                [
                    PAIR_WEIGHT * (pairs.get(f"{before} {form}", 0.0) / history if history else 0)
                    + (1 - PAIR_WEIGHT) * alone[c]
                    for c, form in enumerate(forms[i])
                ]
                for before, history in zip(forms[i - 1], seen[i - 1], strict=True)
            ]
        )
    return _Lattice(forms, unigram(0), step, belief)


def _normalised(values: list[float]) -> list[float]:
    # Rescaled at every step so that long runs of small probabilities never underflow.
    total = sum(values)
    return [v / total for v in values] if total > 0 else [1.0 / len(values)] * len(values)
