"""Snippets: the part of an article's original text that best shows why it matched, with the matches marked."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from searchkit import query as q
from searchkit.analysis import Token, fold_syllable, syllables

SNIPPET_SYLLABLES = 40
_PHRASE_GAP = re.compile(r"[ \t\u00a0]*[,\-–]?[ \t\u00a0]*")
_SENTENCE_ENDS = ".!?\n…"


@dataclass(frozen=True)
class Snippet:
    """Original text cut into fragments; ``marked`` fragments are the query's matches."""

    fragments: tuple[tuple[str, bool], ...]

    def html(self) -> str:
        """HTML-escaped text with each match wrapped in ``<mark>…</mark>``."""
        return "".join(
            f"<mark>{html.escape(text)}</mark>" if marked else html.escape(text) for text, marked in self.fragments
        )

    def text(self, before: str = "", after: str = "") -> str:
        """Plain text with each match between ``before`` and ``after`` (e.g. ``[`` and ``]``)."""
        return "".join(f"{before}{text}{after}" if marked else text for text, marked in self.fragments)

    @property
    def marked(self) -> list[str]:
        return [text for text, marked in self.fragments if marked]


class Matcher:
    """Decides which syllables of a text are matches: by folded form, so accents never hide a match.

    ``phrases`` are marked only where all their syllables stand in order, with nothing but spaces,
    commas or dashes between them (``công chức, viên chức`` for the acronym CCVC).
    """

    def __init__(self, terms: Iterable[str], prefixes: Iterable[str] = (), phrases: Iterable[Iterable[str]] = ()):
        self.terms = {fold_syllable(t) for t in terms}
        self.prefixes = tuple(fold_syllable(p) for p in prefixes)
        self.phrases = {tuple(fold_syllable(s) for s in phrase) for phrase in phrases}

    def __call__(self, syllable: str) -> bool:
        folded = fold_syllable(syllable)
        return folded in self.terms or (bool(self.prefixes) and folded.startswith(self.prefixes))

    def marks(self, text: str, tokens: list[Token]) -> list[Token]:
        """The syllables of ``text`` (its ``tokens``) to mark, in order."""
        marked = [self(t.text) for t in tokens]
        folded = [fold_syllable(t.text) for t in tokens] if self.phrases else []
        for phrase in self.phrases:
            size = len(phrase)
            for i in range(len(tokens) - size + 1):
                if tuple(folded[i : i + size]) == phrase and all(
                    _PHRASE_GAP.fullmatch(text[a.end : b.start])
                    for a, b in zip(tokens[i : i + size], tokens[i + 1 : i + size], strict=False)
                ):
                    marked[i : i + size] = [True] * size
        return [t for t, m in zip(tokens, marked, strict=True) if m]


def matcher_for(tree: q.Node) -> Matcher:
    """What a query marks: its words and prefixes outside NOT, and whole what an expansion adds."""
    added = [n for e in q.walk(tree, exclusions=False) if isinstance(e, q.Expansion) for n in e.nodes[1:]]
    whole = [n for n in added if isinstance(n, q.Phrase)]
    terms = {word for leaf in q.searched(tree) if not any(leaf is n for n in whole) for word in leaf.words}
    return Matcher(terms, q.prefixes(tree), [n.words for n in whole])


def highlight(text: str, matcher: Matcher) -> Snippet:
    """The whole of ``text`` with every match marked."""
    return _fragments(text, matcher.marks(text, syllables(text)), 0, len(text), flatten=False)


def snippet(text: str, matcher: Matcher, size: int = SNIPPET_SYLLABLES) -> Snippet:
    """About ``size`` syllables of ``text`` around its densest cluster of distinct matches."""
    tokens = syllables(text)
    if not tokens:
        return Snippet(())
    marked = matcher.marks(text, tokens)
    chosen = {t.start for t in marked}
    hits = [i for i, t in enumerate(tokens) if t.start in chosen]
    start = _best_window(tokens, hits, size)
    end = min(len(tokens), start + size)
    # Start at the beginning of the sentence when it is close, so the snippet reads naturally.
    lo = tokens[start].start
    back = max(0, start - 8)
    for i in range(start, back, -1):
        gap = text[tokens[i - 1].end : tokens[i].start]
        if any(ch in _SENTENCE_ENDS for ch in gap):
            lo = tokens[i].start
            break
    hi = tokens[end - 1].end
    if end < len(tokens) and (stop := text.find(".", hi, hi + 40)) != -1:
        hi = stop + 1
    result = _fragments(text, [t for t in marked if lo <= t.start and t.end <= hi], lo, hi)
    prefix = (("…", False),) if lo > tokens[0].start else ()
    suffix = (("…", False),) if hi < tokens[-1].end else ()
    return Snippet(prefix + result.fragments + suffix)


def _best_window(tokens: list, hits: list[int], size: int) -> int:
    """The first syllable of the window covering the most distinct matched words (then the most matches)."""
    if not hits:
        return 0
    best, best_score = hits[0], (-1, -1)
    left = 0
    for right in range(len(hits)):
        while hits[right] - hits[left] >= size:
            left += 1
        window = hits[left : right + 1]
        distinct = len({fold_syllable(tokens[i].text) for i in window})
        score = (distinct, len(window))
        if score > best_score:
            best, best_score = hits[left], score
    # Leave a little context before the first match.
    return max(0, min(best - 4, len(tokens) - size))


def _fragments(text: str, marked: list, lo: int, hi: int, flatten: bool = True) -> Snippet:
    """Fragments of ``text[lo:hi]``; matches separated only by spaces share one mark (``nêu gương``)."""
    fragments: list[tuple[str, bool]] = []
    pos = lo
    for token in marked:
        gap = text[pos : token.start]
        if fragments and fragments[-1][1] and gap.strip(" ") == "":
            fragments[-1] = (fragments[-1][0] + gap + text[token.start : token.end], True)
        else:
            if gap:
                fragments.append((" ".join(gap.split("\n")) if flatten else gap, False))
            fragments.append((text[token.start : token.end], True))
        pos = token.end
    if pos < hi:
        rest = text[pos:hi]
        fragments.append((" ".join(rest.split("\n")) if flatten else rest, False))
    return Snippet(tuple(fragments))
