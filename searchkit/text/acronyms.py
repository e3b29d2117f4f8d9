"""Acronyms an article defines: ``công chức, viên chức (CCVC)`` says that CCVC stands for it.

An acronym is defined where its letters are the initials of the syllables just before the
parenthesis (``đ`` as ``Đ``; commas and dashes may stand between them, as in
``cán bộ, đảng viên (CBĐV)``). A build counts the definitions (``searchkit.engines.spellings``);
a query stands for both forms through ``searchkit.search.acronyms``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from searchkit.text.analysis import fold_syllable, normalize, syllables

# An acronym in parentheses: capital letters only, Đ included (``(CBĐV)``, ``(UBND)``).
_DEFINED = re.compile(r"\(\s*([A-ZĐ]{2,10})\s*\)")
# What may separate the syllables of a long form besides spaces: a comma, a dash.
_GAP = re.compile(r"[ \t\u00a0]*[,\-–][ \t\u00a0]*|[ \t\u00a0]+")
# A long form is looked for this far before its parenthesis (ten syllables and their gaps).
_LOOKBACK = 160


@dataclass(frozen=True)
class Acronym:
    """A learnt pair: the acronym as written (``CCVC``) and its long form, normalised."""

    short: str
    long: str

    @property
    def words(self) -> tuple[str, ...]:
        """The long form's syllables (``công``, ``chức``, ``viên``, ``chức``)."""
        return tuple(s.text for s in syllables(self.long))

    def to_dict(self) -> dict[str, str]:
        return {"short": self.short, "long": self.long}


def initial(syllable: str) -> str:
    """The letter a syllable gives an acronym: ``initial("đảng") == "Đ"``, ``initial("Ủy") == "U"``."""
    first = syllable[:1]
    return "Đ" if first in "đĐ" else fold_syllable(first).upper()


def key(short: str) -> str:
    """What an acronym is looked up by, however it is typed: ``key("CBĐV") == key("cbdv") == "cbdv"``."""
    return fold_syllable(short)


def definitions(text: str) -> Iterator[Acronym]:
    """Each acronym ``text`` defines, in order: ``cán bộ, đảng viên (CBĐV)`` gives CBĐV."""
    for found in _DEFINED.finditer(text):
        short = found.group(1)
        window = text[max(0, found.start() - _LOOKBACK) : found.start()]
        tokens = syllables(window)
        if len(tokens) < len(short) or window[tokens[-1].end :].strip(" \t\u00a0"):
            continue  # too few syllables, or something other than spaces before "("
        chosen = tokens[-len(short) :]
        gaps = (window[a.end : b.start] for a, b in zip(chosen, chosen[1:], strict=False))
        if not all(_GAP.fullmatch(gap) for gap in gaps):
            continue
        if "".join(initial(t.text) for t in chosen) != short:
            continue
        if not all(t.text.isalpha() for t in chosen):  # "Nghị định 15 (NĐ)": no digits in a long form
            continue
        written = window[chosen[0].start : chosen[-1].end]
        long = _GAP.sub(_one_gap, written)
        yield Acronym(short, normalize(long))


def _one_gap(found: re.Match[str]) -> str:
    mark = found.group().strip(" \t\u00a0")
    return ", " if mark == "," else f" {mark} " if mark else " "


def terms(text: str) -> list[str]:
    """The acronym terms counted for one article: each pair it defines, once (``CCVC|công chức, viên chức``)."""
    return sorted({f"{a.short}|{a.long}" for a in definitions(text)})


def from_term(term: str) -> Acronym:
    short, _, long = term.partition("|")
    return Acronym(short, long)
