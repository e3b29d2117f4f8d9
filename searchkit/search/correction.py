"""Typo correction: the syllables a mistyped query most likely meant (``nêu gươg`` → ``nêu gương``).

Vietnamese syllables are a closed set, and the index counts every one the articles write with its
spellings (``searchkit.engines.spellings``). A word the articles never write is almost surely a
typo, and the syllables worth trying for it are few (``searchkit.search.neighbours``). Numbers, acronyms and
words the index writes are never edited, except beside other words, where the pairs the articles
write must make the other spelling far more likely: by a confusion (``sử lý`` is ``xử lý`` in an
archive that writes ``xử lý``; ``lịch sử`` stays), and by an edit where the articles write the word
beside the words typed beside it rarely (:data:`RARELY`: ``ngoi dan`` is ``nguoi dan``; ``ngoi nha``
stays). Where it is written beside them at all, the search keeps such a correction only if no article
holds the query as typed as a phrase (:attr:`Correction.unsure`). The titles' runs of words, counted with
their foreign words and acronyms, are evidence too: for a corrected word's pairs (``sea gams``), for the reading
a title writes with the words around it (``si nht dot``), for a typo making a word written beside its
neighbours more often than that (:data:`SELDOM`), and for one at a run's edge making a word written often beside
its one neighbour (``lan dau gio`` for ``lan dau gioi``).

The readings are weighed by accent restoration's bigram model (``searchkit.search.restoration``),
so the whole query's most likely reading is chosen at once and accents, keys and typos compose:
``neu guogn`` → ``nêu gương``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Protocol

from searchkit.engines.spellings import Spellings
from searchkit.search.neighbours import ONE_EDIT_FROM, Syllables, confusions, edits, first_letter, swapped
from searchkit.search.pairs import PAIR_ODDS, TITLE_WINDOW, Pairs
from searchkit.search.parse import word_runs
from searchkit.search.restoration import Reading, read_runs, with_case
from searchkit.text.analysis import (
    Token,
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
# A word the index writes, but rarely beside the words typed beside it (at most this often each: ``ngoi``
# in ``ngoi dan``, a typo of ``nguoi`` making another written word), may be one edit from a word meant that
# the pairs beside it make far more likely (:data:`PAIR_ODDS`). On 254 news titles typed right, 60 of
# their 1,383 written words beside another are so rarely written beside it, 14 of them with such a word one
# edit away; of the same titles with one typo, 28 of the 43 typos making a written word, each with the
# word meant among those. Where the typed word is written beside its neighbours at all, the correction is
# kept only if no article holds the query as typed as a phrase (:attr:`Correction.unsure`): a real rare
# word in its own words (``vang trong nuoc dut da tang``) stays.
RARELY = 5
# A word the index writes beside the words typed beside it more often than :data:`RARELY`, but on some side at
# most this often, may still be a typo making another written word (``kinh hang xe`` for ``kinh hoang xe``:
# ``hang xe`` is written often, ``kinh hang`` seldom), where a word one edit away makes that pair far more
# written (:data:`PAIR_ODDS`); the correction then stands only if no article holds the query as typed as a
# phrase (:attr:`Correction.unsure`), as it must for a right title.
SELDOM = 50
# Beside other words, whose pairs must then say so, a word rarely written beside them (:data:`RARELY`) or
# never written at all may be one edit from a syllable from this many letters, whatever its shape (``pha`` for
# ``phat``, ``tyt`` for ``tuyt``).
SHORT_EDIT_FROM = 3
# A word the index writes at most this often (in any text field) may be a typo of another.
RARE = 2
# Syllables tried for one word, the most written first: bounds the model's work.
MAX_READINGS = 8
# A word of no Vietnamese shape the articles never write, with no syllable or titled word near it, may be
# one edit from a name their bodies write (``Bedigo`` for ``Bendigo``, ``Maastrich`` for ``Maastricht``),
# from this many letters: a shorter one is as likely an abbreviation or a name the archive does not hold.
BODY_EDIT_FROM = 5

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
    question: bool = False,
) -> Correction | None:
    """The query ``text`` with its typos corrected; ``None`` when it is read as typed.

    ``lexicon`` is the index's spelling counts (as restoration reads them), ``spellings`` their
    cache (see :func:`searchkit.search.restoration.restore_query`); ``as_typed``: the query was
    typed as Telex or VNI keys; ``loose``: the query finds nothing as typed, so a word the index writes
    may be one edit from the word meant too (:data:`KNOWN_EDIT`); ``question``: the query is searched as a
    question, where only words the articles never write are read as typos (a question names what an archive
    may not hold, in words it writes rarely beside each other).
    """
    text = nfc(text)
    runs = word_runs(text)
    pairs = Pairs(lexicon, spellings)
    readings = []
    for run in runs:
        folds = [fold_syllable(t.text) for t in run]
        beside = [[(folds[j], j < i) for j in (i - 1, i + 1) if 0 <= j < len(run)] for i in range(len(run))]
        readings.append(
            [
                _readings(t, words, syllables, pairs, beside[i], (folds, i), loose=loose, question=question)
                for i, t in enumerate(run)
            ]
        )
    if all(
        len(r) == 1 and r[0][0] == fold_syllable(t.text)
        for run, rr in zip(runs, readings, strict=True)
        for t, r in zip(run, rr, strict=True)
    ):
        return None  # nothing else to read: the common case costs no model
    restoration = read_runs(lexicon, text, runs, readings, spellings, as_typed=as_typed, agrees=agrees)
    changed: list[tuple[Token, str, bool]] = []  # each word corrected, to what, and whether unsure
    titled: list[Token] = []  # the words written that only a title's words around them read otherwise
    alone = len(restoration.syllables) == 1  # only a query of one word is read on its frequency alone
    chosen = iter(restoration.syllables)
    for run, options in zip(runs, readings, strict=True):
        read = [next(chosen) for _ in run]
        folds = [fold_syllable(s.form) for s in read]
        for i, s in enumerate(read):
            typed = fold_syllable(s.typed.text)
            if folds[i] == typed:
                continue
            form = s.form
            if not alone:
                # Beside other words, a correction must make a pair the articles write: the evidence a lone
                # word's frequency cannot give (``khanh thanh`` is not ``thanh thanh``). The next readings are
                # folded: a word typed with marks or keys keeps the model's reading.
                others = [] if as_typed or has_marks(s.typed.text) else [w for w, _ in options[i] if w != typed]
                found = _written_beside(pairs, syllables, folds, i, others)
                if found is None:
                    continue
                if found != folds[i]:  # the next reading makes a pair written, the model's first none
                    folds[i] = form = found
            kept = form if as_typed or has_marks(s.typed.text) else folds[i]
            around = [(fold_syllable(run[j].text), j < i) for j in (i - 1, i + 1) if 0 <= j < len(run)]
            written = words.written(s.typed.text)
            heard = pairs.heard(typed, around, syllables) if written > RARE else None
            # Written beside its neighbours, if rarely or by an edit: a typo only if the query as typed is no
            # phrase written (a confusion, ``su ly``, reads so anyway).
            doubt = bool(heard) and (heard <= RARELY or folds[i] not in confusions(typed))
            changed.append((s.typed, with_case(s.typed.text, kept), not loose and doubt))
            if heard is not None and heard > RARELY and typed not in (w for w, _ in options[i]):
                titled.append(s.typed)  # read from the titles alone (:data:`SELDOM`), the pairs too weak
    if titled and len(changed) > 1:
        # A written word read from the titles alone (:data:`SELDOM`) is believed only as the query's one typo:
        # beside another, the query as typed is no phrase written whether it was meant or not.
        changed = [c for c in changed if c[0] not in titled]
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


def _written_beside(
    pairs: Pairs, syllables: Syllables, folds: list[str], i: int, options: list[str]
) -> str | None:
    """The reading of the ``i``-th word of a run (read as ``folds``) that makes a pair the articles write
    with a word beside it: the model's own if it does, else the next of ``options`` that does (``ten ve``:
    ``tin`` writes no pair with ``ve``, ``tien`` does); ``None`` if none does. Before them, the next reading
    a title writes with the words around it where none writes the model's so (``si nht dot``: ``nhat``,
    not ``nhu``).

    A pair counts where the articles write it (between Vietnamese syllables) or a title does (beside a
    foreign word or an acronym too: ``sea games``). Beside words of which no pair is counted at all (a
    foreign word in no title's pair, a number, or none: ``13 nguox``), the model's reading goes without.
    """

    def pairs_of(word: str) -> list[tuple[str, str]]:
        return [(folds[j], word) if j < i else (word, folds[j]) for j in (i - 1, i + 1) if 0 <= j < len(folds)]

    def written(word: str) -> bool:
        return any(pairs.written(a, b, syllables) for a, b in pairs_of(word))

    beside = pairs_of(folds[i])
    if not beside:
        return None
    if not pairs.titled_around(folds[i], folds, i):
        # A title writing the words around it with the next reading, and none with the first, reads the next.
        titled = {w: pairs.titled_around(w, folds, i) for w in options if w != folds[i]}
        best = max(titled, key=titled.__getitem__, default=None)
        if best is not None and titled[best]:  # the most titled (``sap``: ``honda``, not ``hong``)
            return best
    foreign = [w for w in options if w != folds[i] and w in syllables.foreign]
    if foreign:
        # The model counts no pair beside a foreign word: it is weighed against the first reading by the pairs
        # both have, the titles' (``ong trumb``: ``Ông Trump`` titled 218 times, ``ông trùm`` 31).
        def titled_beside(word: str) -> float:
            return max(pairs.titled(a, b) for a, b in pairs_of(word))

        best = max(foreign, key=titled_beside)
        if titled_beside(best) > titled_beside(folds[i]):
            return best
    if written(folds[i]):
        return folds[i]
    following = next((w for w in options if w != folds[i] and written(w)), None)
    if following is not None:
        return following
    counted = [p for p in beside if all(syllables.vietnamese(w) for w in p)]
    return None if counted else folds[i]


def mistyped_keys(
    lexicon: Spellings,
    syllables: Syllables,
    word: str,
    reading: str,
    beside: list[tuple[str, bool]],
    spellings: dict | None = None,
) -> bool:
    """Whether ``word``, whose letters spell the Telex or VNI keys of ``reading``, is rather a typo of a
    syllable one edit away (``lujng`` in ``lujng linh`` is ``lung``, not ``lụng``; ``thanr pho`` is ``thanh``).

    So it is where the articles write ``reading`` beside a word ``beside`` it (folded, each with whether it
    comes before) rarely (:data:`RARELY`), and a syllable one edit from the word as typed far more often
    beside that word (:data:`PAIR_ODDS`; beside a foreign word, as the titles write it: ``sea gams`` is
    ``SEA Games``, not ``gám``): the reading the pairs make likelier wins, on either side (``ong caan vi``:
    ``ông cân`` is never written, ``ông cần`` 71 times, though ``cân vì`` is written 7). Keys typed for the
    syllable written beside its neighbours (``guowng`` beside ``nee``) stay keys, since the folded pair counts
    the keyed one too.
    """
    pairs = Pairs(lexicon, spellings)
    form = normalize_syllable(reading).lower()
    near = syllables.neighbours(fold_syllable(word), shortest=SHORT_EDIT_FROM)
    for other, before in beside:
        keyed = pairs.spelt(fold_syllable(reading), form, other, before)
        if keyed > RARELY:
            continue
        best = max(
            (pairs.counted(other, w, syllables) if before else pairs.counted(w, other, syllables) for w in near),
            default=0.0,
        )
        if best > PAIR_ODDS * max(keyed, 1.0):
            return True
    return False


def _readings(
    token: Token,
    words: Words,
    syllables: Syllables,
    pairs: Pairs,
    beside: list[tuple[str, bool]],
    place: tuple[list[str], int],
    *,
    loose: bool,
    question: bool = False,
) -> list[Reading]:
    """The folded syllables ``token`` may stand for, each with the typing's belief in it; ``beside``: the
    folded words typed beside it, each with whether it comes before; ``place``: the folded words of its run
    and its place among them."""
    folded = fold_syllable(token.text)
    own = [(folded, 1.0)]
    if not correctable(token.text):
        return own  # numbers, acronyms and words of other scripts are as typed
    written = words.written(token.text)
    if question and written:
        return own
    weights: dict[str, float] = {}
    if written > RARE:
        heard = pairs.heard(folded, beside, syllables)
        rarely = heard is not None and heard <= RARELY
        if beside and (loose or rarely):
            # Three letters only where the pairs typed are rarely written: a query finding nothing may be
            # words apart (``ngoi sao`` over the seeds), and a short word beside one of them stays.
            near = syllables.neighbours(folded, shortest=SHORT_EDIT_FROM if rarely else ONE_EDIT_FROM)
            weights = {w: KNOWN_EDIT**n * (1.0 if loose else first_letter(folded, w)) for w, n in near.items()}
        elif beside and heard is not None and not question and pairs.least(folded, beside, syllables) <= SELDOM:
            # The pairs alone cannot outweigh a word written this often beside them: a title writing the
            # words around it with another word, and none with it, reads that word instead (its first
            # letter kept: this reading has only the titles for evidence).
            near = syllables.neighbours(folded, shortest=SHORT_EDIT_FROM)
            near = {w: n for w, n in near.items() if w[:1] == folded[:1]}
            if near and not pairs.titled_run(folded, beside):
                titled = [w for w in near if pairs.supports(w, folded, beside) and pairs.titled_run(w, beside)]
                return [(w, KNOWN_EDIT ** near[w]) for w in titled] or own
        elif beside and heard is not None and not question and (edge := _edge_reading(folded, pairs, syllables, place)):
            # At a run's edge, written often beside its one neighbour: the titles alone may read it otherwise.
            return [edge]
        if beside:
            weights |= {w: KNOWN_CONFUSION for w in confusions(folded) if w in syllables}
        tried, weights = weights, {w: weight for w, weight in weights.items() if pairs.supports(w, folded, beside)}
        if rarely and not loose and tried and not pairs.titled_context(folded, *place):
            # As for a word written more often beside them: a title writing the words around it with another
            # word, and none with it, reads that word (``luon bang quang`` is ``lương``, which ``luon bang``
            # written 4 times alone cannot outweigh in the model), the title then evidence enough for a word
            # the pairs beside it favour at all (``hon toai`` for ``hôn trai``: ``hôn trai`` written 5 times).
            titled = {
                w: weight
                for w, weight in tried.items()
                if (w in weights or pairs.supports(w, folded, beside, odds=1.0)) and pairs.titled_context(w, *place)
            }
            if titled:
                weights = titled
                own = []
    else:
        # Three letters shaped as a syllable only if never written, beside words whose pairs then decide.
        near = syllables.neighbours(folded, shortest=SHORT_EDIT_FROM if beside and not written else ONE_EDIT_FROM)
        weights = {w: EDIT**n * first_letter(folded, w) * swapped(folded, w) for w, n in near.items()}
        weights |= {w: CONFUSION for w in confusions(folded) if w in syllables}
        if not weights and not written and len(folded) >= BODY_EDIT_FROM and not could_take_accents(folded):
            return _written_near(folded, words)
    if not weights:
        return own
    best = sorted(weights, key=lambda w: -syllables.counts[w] * weights[w])[:MAX_READINGS]
    # A word without Vietnamese spellings has no counts in the model: its weight carries its own.
    found = [(w, weights[w] * (1 + syllables.foreign[w]) if w in syllables.foreign else weights[w]) for w in best]
    # A word the articles never write is searched as typed anyway: only what it may stand for is read.
    return (own if written else []) + found


def _written_near(folded: str, words: Words) -> list[Reading]:
    """The words of no Vietnamese shape one edit from ``folded`` that the articles write (in their bodies too:
    syllables and titled words are read before), the most written first, each believed as an edit is and as
    often as it is written, as a titled foreign word is."""
    written = {w: words.written(w) for w in edits(folded) if w != folded and not could_take_accents(w)}
    belief = {w: EDIT * first_letter(folded, w) * swapped(folded, w) for w, n in written.items() if n}
    best = sorted(belief, key=lambda w: (-written[w] * belief[w], w))[:MAX_READINGS]
    return [(w, belief[w] * (1 + written[w])) for w in best]


def _edge_reading(folded: str, pairs: Pairs, syllables: Syllables, place: tuple[list[str], int]) -> Reading | None:
    """The reading of a written word at the edge of a run of words (``place``: the run, folded, and its place
    in it) that only the titles can give, or ``None``.

    At a run's edge a word has one neighbour, so its one pair is its least written side too: a typo making a
    word written often beside that neighbour (``lan dau gio`` for ``lan dau gioi``: ``đầu gió`` is written 237
    times, ``đầu giới`` 15) shows no rare side for :data:`SELDOM` to see. There, where no title writes the run
    of three words ending (or starting) with it, and one writes it with a word one edit away (its first letter
    kept), the most titled such word is read, by that run and then by the pair beside it.
    """
    folds, i = place
    if len(folds) < TITLE_WINDOW or 0 < i < len(folds) - 1 or pairs.titled_around(folded, folds, i):
        return None
    near = syllables.neighbours(folded, shortest=SHORT_EDIT_FROM)
    beside = [(folds[1], False)] if i == 0 else [(folds[i - 1], True)]
    # A confusion (``tan``/``tang``) is the pairs' to read, not the titles' alone: its correction is never checked
    # against the query as typed (``searchkit.search.corrected``).
    confused = confusions(folded)
    # The run of three first, the pair beside it next, then the more written word (ties read the same each time).
    titled = {
        w: (pairs.titled_around(w, folds, i), pairs.titled_run(w, beside), syllables.counts[w], w)
        for w, n in near.items()
        if n == 1 and w[:1] == folded[:1] and w not in confused
    }
    best = max(titled.values(), default=None)
    return (best[-1], KNOWN_EDIT) if best is not None and best[0] else None


def correctable(word: str) -> bool:
    """Whether ``word`` may be read as a typo at all: not a number, an acronym or a word of another script."""
    folded = fold_syllable(word)
    return folded.isascii() and folded.isalpha() and not _acronym(word)


def _acronym(word: str) -> bool:
    return len(word) > 1 and word.isupper()
