"""Acronyms the articles define: ``công chức, viên chức (CCVC)`` teaches that CCVC stands for it.

News writes a long name once with its acronym in parentheses and the acronym alone afterwards, so
a reader searching either form wants the articles written with the other. An acronym is learnt
where its letters are the initials of the syllables just before the parenthesis (``đ`` as ``Đ``;
commas and dashes may stand between them, as in ``cán bộ, đảng viên (CBĐV)``). What was learnt
is counted beside the accent statistics (``searchkit.engines.spellings``), so every update keeps it
current; a query then stands for both forms (:func:`expand`): ``CCVC`` also finds
``công chức, viên chức``, and ``ủy ban nhân dân`` finds an article that only writes ``UBND``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import singledispatch

from searchkit.search import parse as q
from searchkit.text.acronyms import Acronym, definitions, from_term, initial, key, terms
from searchkit.text.analysis import could_take_accents, fold_syllable

__all__ = ["Acronym", "Glossary", "definitions", "expand", "from_term", "initial", "key", "terms"]

# --- a query standing for both forms ----------------------------------------------------------

# Long forms an acronym expands to, at most: the most often defined.
MAX_MEANINGS = 4


class Glossary:
    """The acronyms an index has learnt, each with how many articles define it so."""

    def __init__(self, learnt: Iterable[tuple[Acronym, int]]):
        self.by_short: dict[str, list[tuple[Acronym, int]]] = {}
        self.by_long: dict[tuple[str, ...], list[tuple[Acronym, int]]] = {}
        # A long form written with other accents, or none ("hoc sinh (HS)"), is the same meaning:
        # counted together, under the spelling written most often.
        spellings: dict[tuple[str, tuple[str, ...]], list[tuple[Acronym, int]]] = {}
        for acronym, count in learnt:
            spellings.setdefault((acronym.short, _folded(acronym.words)), []).append((acronym, count))
        for (_, folded), same in spellings.items():  # folded once: a cold query on the news folds 600 of them
            acronym = max(same, key=lambda pair: (pair[1], pair[0].long))[0]
            count = sum(n for _, n in same)
            self.by_short.setdefault(key(acronym.short), []).append((acronym, count))
            self.by_long.setdefault(folded, []).append((acronym, count))
        for meanings in (*self.by_short.values(), *self.by_long.values()):
            meanings.sort(key=lambda pair: (-pair[1], pair[0].long))
        self.longest = max((len(words) for words in self.by_long), default=0)

    @classmethod
    def from_terms(cls, rows: Iterable[tuple[str, int]]) -> Glossary:
        """From the counted terms (``CCVC|công chức, viên chức``) of the statistics file."""
        return cls((from_term(term), count) for term, count in rows)

    def __len__(self) -> int:
        return sum(len(meanings) for meanings in self.by_short.values())

    def acronyms_only(self) -> Glossary:
        """The same acronyms, with no long form standing for its acronym."""
        view = Glossary([])
        view.by_short = self.by_short
        return view

    def meanings(self, typed: str) -> list[tuple[Acronym, float]]:
        """The long forms an acronym typed so stands for, each with its share of the definitions."""
        if not (typed.isupper() or not could_take_accents(typed)):
            return []  # "ba", "ta": a Vietnamese word typed in lower case is that word
        return _shares(self.by_short.get(key(typed), []))

    def shorts(self, words: tuple[str, ...]) -> list[tuple[Acronym, float]]:
        """The acronyms a long form (its syllables, as typed) is defined by, each with its share."""
        return _shares(self.by_long.get(_folded(words), []))


def _folded(words: Iterable[str]) -> tuple[str, ...]:
    return tuple(fold_syllable(w) for w in words)


def _shares(meanings: list[tuple[Acronym, int]]) -> list[tuple[Acronym, float]]:
    chosen = meanings[:MAX_MEANINGS]
    total = sum(count for _, count in chosen)
    return [(acronym, count / total) for acronym, count in chosen] if total else []


def expand(tree: q.Node, glossary: Glossary, *, long_forms: bool = True) -> tuple[q.Node, list[Acronym]]:
    """``tree`` with each learnt acronym also standing for its long forms and each long form for its acronym.

    Returns the new tree and the pairs used, in the order met. ``CCVC`` becomes ``CCVC`` or
    ``"công chức viên chức"``; ``ủy ban nhân dân`` (the words side by side, or as a phrase)
    becomes those words or ``UBND``, unless ``long_forms`` is false. Prefixes are left alone.
    """
    used: list[Acronym] = []
    if not len(glossary):
        return tree, used
    if not long_forms:
        glossary = glossary.acronyms_only()
    return _expand(tree, glossary, used), used


@singledispatch
def _expand(node: q.Node, glossary: Glossary, used: list[Acronym]) -> q.Node:
    return node


@_expand.register(q.Term)
def _expand_term(node: q.Term, glossary: Glossary, used: list[Acronym]) -> q.Node:
    meanings = [] if node.prefix else glossary.meanings(node.text)
    if not meanings:
        return node
    used += [acronym for acronym, _ in meanings]
    phrases = [q.Phrase(acronym.words) for acronym, _ in meanings]
    return q.Expansion((node, *phrases), weights=(1.0, *(share for _, share in meanings)))


@_expand.register(q.Phrase)
def _expand_phrase(node: q.Phrase, glossary: Glossary, used: list[Acronym]) -> q.Node:
    return _by_short(node, node.words, glossary, used) or node


@_expand.register(q.Not)
def _expand_not(node: q.Not, glossary: Glossary, used: list[Acronym]) -> q.Node:
    return q.Not(_expand(node.node, glossary, used))


@_expand.register(q.Field)
def _expand_field(node: q.Field, glossary: Glossary, used: list[Acronym]) -> q.Node:
    return q.Field(node.name, _expand(node.node, glossary, used))


@_expand.register(q.Clauses)
def _expand_clauses(node: q.Clauses, glossary: Glossary, used: list[Acronym]) -> q.Node:
    nodes: list[q.Node] = []
    i = 0
    while i < len(node.nodes):
        # The longest run of plain words from here that is a learnt long form, if any.
        for size in range(min(glossary.longest, len(node.nodes) - i), 1, -1):
            run = node.nodes[i : i + size]
            if all(isinstance(n, q.Term) and not n.prefix for n in run):
                words = tuple(n.text for n in run)  # type: ignore[attr-defined]
                expanded = _by_short(type(node)(run), words, glossary, used)
                if expanded is not None:
                    nodes.append(expanded)
                    i += size
                    break
        else:
            nodes.append(_expand(node.nodes[i], glossary, used))
            i += 1
    return type(node)(tuple(nodes)) if len(nodes) > 1 else nodes[0]


def _by_short(node: q.Node, words: tuple[str, ...], glossary: Glossary, used: list[Acronym]) -> q.Node | None:
    shorts = glossary.shorts(words)
    if not shorts:
        return None
    used += [acronym for acronym, _ in shorts]
    terms = [q.Term(acronym.short) for acronym, _ in shorts]
    return q.Expansion((node, *terms), weights=(1.0, *(share for _, share in shorts)))
