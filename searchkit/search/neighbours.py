"""The syllables a mistyped word may stand for: its neighbours among the syllables the articles write.

Those one Damerau–Levenshtein edit away on the folded form (a deletion, an insertion, a substitution
or two letters swapped; two edits from :data:`TWO_EDITS_FROM` letters), and those reached by a
spelling Vietnamese writers confuse (:func:`confusions`: ``s``/``x``, ``tr``/``ch``, ``d``/``gi``/``r``,
``l``/``n``, final ``n``/``ng`` and ``c``/``t``, ``i``/``y``, ``ng``/``ngh``, ``g``/``gh``), with how much
an edit of each shape is believed (:func:`first_letter`, :func:`swapped`). Which of them a query means is
``searchkit.search.correction``'s to read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from searchkit.text.analysis import could_take_accents

# Words this long may be one edit from a syllable (3 letters when they have no syllable's shape:
# ``lcu``, ``đôg``), two edits from this many.
ONE_EDIT_FROM = 4
TWO_EDITS_FROM = 8
# Writers seldom mistype a word's first letter (Meilisearch counts such a typo double): an edit changing it
# is believed this much less (``phon`` is ``phong`` sooner than ``hon``, ``mng`` ``mang`` sooner than ``ong``),
# though not in a query finding nothing as typed (``tuyen tinh``), where some word must be wrong.
FIRST_LETTER = 0.1
# Two letters side by side typed in the wrong order keep every letter meant: such an edit, of a word never
# written, is believed this much more than one dropping or changing a letter (``vagn`` is ``vang`` sooner
# than the more often written ``van``).
SWAPPED = 3.0
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Onsets written alike in some dialect or another, and spellings of one sound.
_ONSETS = (("s", "x"), ("tr", "ch"), ("d", "gi"), ("d", "r"), ("gi", "r"), ("l", "n"), ("ng", "ngh"), ("g", "gh"))
_ONSET = re.compile(r"^(ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdghklmnpqrstvx])?")
_FINALS = (("ng", "n"), ("c", "t"))


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


def swapped(typed: str, word: str) -> float:
    """How much more an edit is believed for swapping two letters side by side (:data:`SWAPPED`)."""
    if len(typed) != len(word):
        return 1.0
    differ = [i for i in range(len(typed)) if typed[i] != word[i]]
    return SWAPPED if len(differ) == 2 and differ[1] == differ[0] + 1 and typed[differ[0]] == word[differ[1]] else 1.0


def first_letter(typed: str, word: str) -> float:
    """How much less an edit is believed for changing the first letter (:data:`FIRST_LETTER`)."""
    return FIRST_LETTER if typed[:1] != word[:1] else 1.0
