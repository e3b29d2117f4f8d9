"""Telex and VNI keystrokes typed with the input method switched off: ``neeu guwowng``, ``ne6u gu7o7ng``.

Vietnamese is typed on a Latin keyboard through an input method that turns letters (Telex) or
digits (VNI) typed after a vowel into its marks. With the input method off, the keys stay in the
text: ``hocj taapj`` for ``học tập``, ``ddangr vieen`` for ``đảng viên``. :func:`telex` and
:func:`vni` read one typed word back as the syllable it was meant to be, following the rules the
usual input methods share (a mark key applies to the nearest vowel before it that can take it; a
tone key may come anywhere after the first vowel). Whether a query was typed so is decided by
what the index knows (:func:`converted`): the syllable typed must be one the articles write, and
the word as typed one they do not, so ``iphone``, ``covid``, ``vtv6`` or plain unaccented
Vietnamese are never read as keys.

:func:`to_telex` and :func:`to_vni` go the other way, mechanically, for tests and benchmarks.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

from searchkit.search.parse import word_runs
from searchkit.text.analysis import Token, could_take_accents, fold_syllable, nfc, normalize_syllable

# A word is read as keys only when the syllable they type is written this many times more often
# than the word as typed: a few articles with a typo (``nguoif``) do not make it a word, while
# ``xoong`` (a pot), written as often as ``xông`` is, stays as typed.
KEYSTROKE_ODDS = 100
# Once a query holds such a word, it was typed as keys, and its other words are read as keys as
# soon as the syllable is the more often written: ``teen`` (English, in a few news articles)
# beside ``hocj`` is ``tên``.
KEYED_QUERY_ODDS = 1

# Combining tone marks, in the order of VNI's digits 1-5.
_SAC, _HUYEN, _HOI, _NGA, _NANG = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
_TONES = (_SAC, _HUYEN, _HOI, _NGA, _NANG)
_TELEX_TONES = {"s": _SAC, "f": _HUYEN, "r": _HOI, "x": _NGA, "j": _NANG}
_VNI_TONES = {str(n): tone for n, tone in enumerate(_TONES, start=1)}

# The marks that make a letter another letter, and the letters they make.
_CIRCUMFLEX, _BREVE, _HORN, _BAR = "^", "(", "+", "-"
_MARKED = {
    ("a", _CIRCUMFLEX): "â",
    ("e", _CIRCUMFLEX): "ê",
    ("o", _CIRCUMFLEX): "ô",
    ("a", _BREVE): "ă",
    ("o", _HORN): "ơ",
    ("u", _HORN): "ư",
    ("d", _BAR): "đ",
}
_UNMARKED = {letter: pair for pair, letter in _MARKED.items()}
_VOWELS = frozenset("aeiouy")
_KEYED_WORD = re.compile(r"[^\W_]+")


class _Letter:
    """One letter being typed: its base, whether it was typed upper case, the mark it took."""

    __slots__ = ("base", "upper", "mark")

    def __init__(self, typed: str):
        self.base = typed.lower()
        self.upper = typed.isupper()
        self.mark: str | None = None

    @property
    def vowel(self) -> bool:
        return self.base in _VOWELS

    def take(self, mark: str) -> bool:
        """Gives the letter ``mark`` if it can take it and has none yet."""
        if self.mark is not None or (self.base, mark) not in _MARKED:
            return False
        self.mark = mark
        return True

    def __str__(self) -> str:
        letter = _MARKED[(self.base, self.mark)] if self.mark else self.base
        return letter.upper() if self.upper else letter


class _Typing:
    """The letters of a word typed so far, the tone chosen, and whether any key was a mark or a tone."""

    def __init__(self) -> None:
        self.letters: list[_Letter] = []
        self.tone: str | None = None
        self.keyed = False

    def vowels(self) -> list[_Letter]:
        """The word's vowels, or [] before the first; the ``u`` of ``qu`` is part of its consonant."""
        return [
            letter
            for i, letter in enumerate(self.letters)
            if letter.vowel and not (letter.base == "u" and i and self.letters[i - 1].base == "q")
        ]

    def set_tone(self, tone: str | None) -> bool:
        # A tone before any vowel, or a second one, is no tone key: the word is not keystrokes.
        if not self.vowels() or self.tone is not None:
            return False
        self.tone, self.keyed = tone, True
        return True

    def mark(self, mark: str, bases: str) -> bool:
        """Gives ``mark`` to the last vowel among ``bases``; ``uo`` takes a horn together (``ươ``)."""
        vowels = [v for v in self.vowels() if v.base in bases]
        if not vowels:
            return False
        last = vowels[-1]
        if mark == _HORN and last.base == "o":
            index = self.letters.index(last)
            before = self.letters[index - 1] if index else None
            if before is not None and before.base == "u" and before.mark is None:
                before.take(_HORN)
        if not last.take(mark):
            return False
        self.keyed = True
        return True

    def bar_d(self) -> bool:
        """``dd``/``d9`` at the start of a word: ``đ``."""
        if len(self.letters) != 1 or self.letters[0].base != "d" or not self.letters[0].take(_BAR):
            return False
        self.keyed = True
        return True

    def syllable(self) -> str | None:
        """The syllable typed, tone placed as :func:`normalize_syllable` places it; None if not one."""
        if not self.keyed or not self.letters:
            return None
        word = "".join(str(letter) for letter in self.letters)
        placed = normalize_syllable(word + (self.tone or ""))
        # One composed letter per typed letter, or the tone found no vowel to sit on.
        if len(placed) != len(self.letters) or any(unicodedata.combining(ch) for ch in placed):
            return None
        if not could_take_accents(placed):
            return None
        cased = "".join(ch.upper() if letter.upper else ch for ch, letter in zip(placed, self.letters, strict=True))
        return cased


@lru_cache(maxsize=65536)
def telex(word: str) -> str | None:
    """The syllable the Telex keys ``word`` type: ``telex("guwowng") == "gương"``; None if they type none.

    ``aa ee oo`` give ``â ê ô``, ``aw ow uw`` give ``ă ơ ư`` (``uow`` gives ``ươ``), a ``w``
    before any vowel ``ư``, ``dd`` ``đ``, and ``s f r x j`` the five tones.
    """
    typing = _Typing()
    for ch in word:
        key = ch.lower()
        if key in _TELEX_TONES and typing.vowels():
            if not typing.set_tone(_TELEX_TONES[key]):
                return None
        elif key in "aeo" and _doubles(typing, key):
            if not typing.mark(_CIRCUMFLEX, key):
                return None
        elif key == "w":
            if not typing.vowels():
                typing.letters.append(_Letter("U" if ch.isupper() else "u"))
                typing.letters[-1].take(_HORN)
                typing.keyed = True
            else:
                # The last of a, o, u takes it: a breve on a, a horn on the others (quaw: quă).
                targets = [v.base for v in typing.vowels() if v.base in "aou"]
                if not targets or not typing.mark(_BREVE if targets[-1] == "a" else _HORN, targets[-1]):
                    return None
        elif key == "d" and len(typing.letters) == 1 and typing.letters[0].base == "d":
            if not typing.bar_d():
                return None
        elif ch.isalpha() and key.isascii():
            typing.letters.append(_Letter(ch))
        else:
            return None
    return typing.syllable()


def _doubles(typing: _Typing, key: str) -> bool:
    """Whether ``key`` repeats the last vowel (``ee`` in ``vieen``, ``nguyene``), which it then marks."""
    vowels = typing.vowels()
    return bool(vowels) and vowels[-1].base == key and vowels[-1].mark is None


@lru_cache(maxsize=65536)
def vni(word: str) -> str | None:
    """The syllable the VNI keys ``word`` type: ``vni("gu7o7ng") == "gương"``; None if they type none.

    After a vowel, ``1``-``5`` are the tones (sắc, huyền, hỏi, ngã, nặng), ``6`` the circumflex,
    ``7`` the horn, ``8`` the breve; ``9`` after ``d`` is ``đ``.
    """
    typing = _Typing()
    for ch in word:
        if ch in _VNI_TONES:
            if not typing.set_tone(_VNI_TONES[ch]):
                return None
        elif ch == "6":
            if not typing.mark(_CIRCUMFLEX, "aeo"):
                return None
        elif ch == "7":
            if not typing.mark(_HORN, "uo"):
                return None
        elif ch == "8":
            if not typing.mark(_BREVE, "a"):
                return None
        elif ch == "9":
            if not typing.bar_d():
                return None
        elif ch.isalpha() and ch.isascii():
            typing.letters.append(_Letter(ch))
        else:
            return None
    return typing.syllable()


def readings(word: str) -> list[str]:
    """The syllables ``word`` may have been typed for, as Telex or as VNI keys (none, one or two)."""
    found = []
    for reading in (telex(word), vni(word)):
        if reading is not None and reading not in found:
            found.append(reading)
    return found


class Vocabulary(Protocol):
    """What deciding needs from an index: how often it writes a syllable, and a word in any accents."""

    def spelt(self, syllable: str) -> float:
        """How often the articles write ``syllable`` with exactly these accents."""
        ...

    def written(self, word: str) -> float:
        """How often the articles write ``word`` with any accents or none."""
        ...


# Whether a word whose letters spell the keys of a syllable is rather a typo of another, given the word, the
# syllable and the folded words beside it (each with whether it comes before): see
# ``searchkit.search.correction.mistyped_keys``.
Mistyped = Callable[[str, str, list[tuple[str, bool]]], bool]


def converted(text: str, vocabulary: Vocabulary, mistyped: Mistyped | None = None) -> str:
    """The query ``text`` with each word typed as keys replaced by its syllable (``neeu guwowng`` → ``nêu gương``).

    A word is replaced when a reading of it is written by the articles far more often than the
    word itself (:data:`KEYSTROKE_ODDS`), and in a query holding such a word, whenever the reading
    is the more often written (:data:`KEYED_QUERY_ODDS`); operators, quotes, ``title:`` and
    prefixes are kept. With ``mistyped``, a word it says is a typo rather than keys (``lujng linh``:
    ``lụng`` is never written beside ``linh``, ``lung`` is) is left as typed, for correction to read.
    """
    text = nfc(text)
    found: list[tuple[Token, str, float]] = []  # each word with a reading: the likeliest, its odds
    runs = []
    for run in word_runs(text):
        seen = []  # each word of the run as it is likely read, folded
        for token in run:
            options = readings(token.text)
            reading, odds = None, 0.0
            if options:
                counts = [vocabulary.spelt(reading) for reading in options]
                best = max(range(len(options)), key=counts.__getitem__)
                typed = vocabulary.written(token.text)
                reading = options[best]
                odds = counts[best] / typed if typed else (math.inf if counts[best] else 0.0)
                found.append((token, reading, odds))
            seen.append(fold_syllable(reading if reading is not None and odds > KEYSTROKE_ODDS else token.text))
        runs.append((run, seen))
    if mistyped is not None:
        surely = [token for token, _, odds in found if odds > KEYSTROKE_ODDS]
        typos = set()
        for run, seen in runs:
            for i, token in enumerate(run):
                keyed = next((f for f in found if f[0] is token and f[2] > KEYED_QUERY_ODDS), None)
                # Keys plainly typed stay keys: a mark (``guowng``, ``vieetj``), or another word of the query
                # surely typed as keys (``ddax thuaf``); only one letter more, a lone tone letter or a vowel
                # doubled, may be a letter mistyped.
                if keyed is None or not _one_letter_key(token.text, keyed[1]) or any(t is not token for t in surely):
                    continue
                beside = [(seen[j], j < i) for j in (i - 1, i + 1) if 0 <= j < len(run)]
                if mistyped(token.text, keyed[1], beside):
                    typos.add(id(token))
        found = [f for f in found if id(f[0]) not in typos]
    keyed = any(odds > KEYSTROKE_ODDS for _, _, odds in found)
    pieces: list[str] = []
    cursor = 0
    for token, reading, odds in found:
        if odds > (KEYED_QUERY_ODDS if keyed else KEYSTROKE_ODDS):
            pieces += [text[cursor : token.start], reading]
            cursor = token.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def _one_letter_key(word: str, reading: str) -> bool:
    """Whether the only key in ``word`` is one letter more than the syllable's: a Telex tone letter (``lujng``
    for ``lụng``) or a vowel doubled for its circumflex (``caan`` for ``cân``), as a letter hit by mistake or
    a key pressed twice types it; not ``guowng`` or ``ddang``."""
    folded, typed = fold_syllable(reading), word.lower()
    return len(typed) == len(folded) + 1 and any(
        (typed[i] in _TELEX_TONES or (typed[i] in "aeo" and typed[i - 1 : i] == typed[i]))
        and typed[:i] + typed[i + 1 :] == folded
        for i in range(len(typed))
    )


# --- typing accented text as keys, mechanically -------------------------------------------------


def _keys(syllable: str, marks: dict[str, str], tones: dict[str, str]) -> str:
    letters: list[str] = []
    tone = ""
    for ch in unicodedata.normalize("NFC", syllable):
        parts = unicodedata.normalize("NFD", ch)
        found = [p for p in parts[1:] if p in _TONES]
        tone = tones[found[0]] if found else tone
        bare = unicodedata.normalize("NFC", "".join(p for p in parts if p not in _TONES))
        pair = _UNMARKED.get(bare.lower())
        if pair is None:
            letters.append(bare)
            continue
        base = pair[0].upper() if bare.isupper() else pair[0]
        letters.append(base + marks[pair[1]].replace("*", base))
    return "".join(letters) + tone


_TELEX_MARKS = {_CIRCUMFLEX: "*", _BREVE: "w", _HORN: "w", _BAR: "d"}
_TELEX_KEYS = {tone: key for key, tone in _TELEX_TONES.items()}
_VNI_MARKS = {_CIRCUMFLEX: "6", _BREVE: "8", _HORN: "7", _BAR: "9"}
_VNI_KEYS = {tone: key for key, tone in _VNI_TONES.items()}


def to_telex(text: str) -> str:
    """``text`` as typed in Telex with the input method off: ``to_telex("Đảng viên") == "Ddangr vieen"``.

    Each mark right after its letter, the tone at the end of the syllable.
    """
    return _KEYED_WORD.sub(lambda m: _keys(m.group(), _TELEX_MARKS, _TELEX_KEYS), text)


def to_vni(text: str) -> str:
    """``text`` as typed in VNI with the input method off: ``to_vni("nêu gương") == "ne6u gu7o7ng"``."""
    return _KEYED_WORD.sub(lambda m: _keys(m.group(), _VNI_MARKS, _VNI_KEYS), text)
