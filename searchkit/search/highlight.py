"""Snippets: the part of an article's original text that best shows why it matched, with the matches marked."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from searchkit.search import parse as q
from searchkit.search.questions import runs
from searchkit.text.analysis import (
    Token,
    fold_syllable,
    has_marks,
    normalize_syllable,
    pieces,
    syllable_spans,
    syllable_texts,
    syllables,
)

SNIPPET_SYLLABLES = 40
# An article up to this long is read whole for its snippet: nearly every news article (about
# 2,600 characters on average) and long reports, some 15 ms each.
WHOLE_CHARS = 30_000
# A longer article's snippet is made from windows of it this long (cut after a line break): the
# first holding a match and the next, so it costs what a short article does, whatever the length.
WINDOW_CHARS = 10_000
# How far into a long article a snippet looks for a match (the distinct syllables of each window
# are tested: listing them costs about 0.2 s a million characters); past it, the snippet is the
# article's beginning. Ten hits on the longest articles then scan for under a second.
SCAN_CHARS = 500_000
# Windows read whole in vain (their syllables hold a phrase's, never together) before giving up.
_CHECKED_WINDOWS = 8
_PHRASE_GAP = re.compile(r"[ \t\u00a0]*[,\-–]?[ \t\u00a0]*")
_SENTENCE_ENDS = ".!?\n…"
# Where a snippet may end without an ellipsis: a sentence's end, maybe inside quotes or brackets.
_FULL_STOP = re.compile(r"[.!?…][\"”’»)\]]*$")
_CLOSING = re.compile(r"[.!?…\"”’»)\]]*")
# A paragraph break: the blank line between blocks (a Markdown heading and its paragraph, two paragraphs).
_PARAGRAPH_BREAK = re.compile(r"[ \t\u00a0]*\n[ \t\u00a0]*\n\s*")
# What stands for a paragraph break that no punctuation closes, so that a heading does not run on.
PARAGRAPH_MARK = " · "


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

    A term typed with its marks is marked only where it is spelt so: ``nêu`` marks ``nêu``, not
    ``nếu``, which may match but is a looser match than the spelling typed. Typed bare, a term marks
    every spelling, unless ``readings`` give the spellings accent restoration surely reads it as
    (``nam`` in ``viet nam``: ``nam``, not ``Năm``): alone, it is then marked only so spelt, and
    every spelling only inside one of the ``together`` sequences of words, where all stand together
    (each typed with marks spelt so).
    """

    def __init__(
        self,
        terms: Iterable[str],
        prefixes: Iterable[str] = (),
        phrases: Iterable[Iterable[str]] = (),
        *,
        readings: Mapping[str, Iterable[str]] | None = None,
        together: Iterable[Sequence[str]] = (),
    ):
        terms = set(terms)
        read = {normalize_syllable(t): {normalize_syllable(s) for s in forms} for t, forms in (readings or {}).items()}
        self.terms = {fold_syllable(t) for t in terms}
        self.prefixes = tuple(fold_syllable(p) for p in prefixes)
        # Each phrase as its folded syllables, each with the one spelling it must have (or None).
        self.phrases = {tuple((fold_syllable(s), None) for s in phrase) for phrase in phrases}
        self.phrases |= {tuple((fold_syllable(w), _typed_spelling(w)) for w in words) for words in together}
        free = {fold_syllable(t) for t in terms if not has_marks(t) and normalize_syllable(t) not in read}
        # Folded form -> the spellings it is marked in alone, for the folded forms never typed bare
        # without a sure reading.
        self.spelt: dict[str, set[str]] = {}
        for t in terms:
            if fold_syllable(t) not in free:
                form = normalize_syllable(t)
                self.spelt.setdefault(fold_syllable(t), set()).update({form} if has_marks(t) else read[form])

    def __call__(self, syllable: str) -> bool:
        folded = fold_syllable(syllable)
        if folded in self.spelt:
            return normalize_syllable(syllable) in self.spelt[folded]
        return self._folded(folded)

    def _folded(self, folded: str) -> bool:
        # Spelling aside: what a window's folded syllables are tested with before it is read.
        return folded in self.terms or (bool(self.prefixes) and folded.startswith(self.prefixes))

    def may_mark(self, syllables: Iterable[str]) -> bool:
        """Whether a text holding these syllables may hold a mark: a term, a prefix, or every
        syllable of a phrase (which then has to be found standing together)."""
        folded = {fold_syllable(s) for s in syllables}
        return any(self._folded(form) for form in folded) or any(
            {form for form, _ in p} <= folded for p in self.phrases
        )

    def first_window(self, text: str, window: int = WINDOW_CHARS, scan: int = SCAN_CHARS) -> tuple[int, int] | None:
        """The first piece of ``text`` (of ``window`` characters, within its first ``scan``) holding
        a mark. A piece is read whole only when its distinct syllables may hold one, and at most
        :data:`_CHECKED_WINDOWS` times (a phrase whose words are everywhere, but never together)."""
        checked = 0
        for start, end in pieces(text, window, 0, scan):
            part = text[start:end]
            if self.may_mark(set(syllable_texts(part))):
                if self.marked(part, *syllable_spans(part)):
                    return start, end
                checked += 1
                if checked == _CHECKED_WINDOWS:
                    break
        return None

    def marks(self, text: str, tokens: list[Token]) -> list[Token]:
        """The syllables of ``text`` (its ``tokens``) to mark, in order."""
        found = self.marked(text, [t.text for t in tokens], [(t.start, t.end) for t in tokens])
        return [tokens[i] for i in found]

    def marked(self, text: str, texts: list[str], spans: list[tuple[int, int]]) -> list[int]:
        """Which of the syllables of ``text`` (their ``texts`` and ``spans``) to mark, by index, in order."""
        # An article repeats its syllables: each distinct one is folded and judged once. A syllable whose
        # folded form is no term's (nor begins with a prefix) is never marked alone, as ``self(form)`` says.
        folds = {form: fold_syllable(form) for form in set(texts)}
        terms, prefixes, spelt = self.terms, self.prefixes, self.spelt
        shown = {
            form
            for form, folded in folds.items()
            if (folded in terms or (prefixes and folded.startswith(prefixes)))
            and (folded not in spelt or normalize_syllable(form) in spelt[folded])
        }
        marked = [form in shown for form in texts]
        folded = [folds[form] for form in texts] if self.phrases else []
        for phrase in self.phrases:
            size = len(phrase)
            forms = tuple(form for form, _ in phrase)
            last = len(texts) - size
            for i in [i for i, form in enumerate(folded) if form == forms[0] and i <= last]:
                if (
                    tuple(folded[i : i + size]) == forms
                    and all(
                        spelling is None or normalize_syllable(texts[i + k]) == spelling
                        for k, (_, spelling) in enumerate(phrase)
                    )
                    and all(
                        _PHRASE_GAP.fullmatch(text[a[1] : b[0]])
                        for a, b in zip(spans[i : i + size], spans[i + 1 : i + size], strict=False)
                    )
                ):
                    marked[i : i + size] = [True] * size
        return [i for i, m in enumerate(marked) if m]


def matcher_for(tree: q.Node, readings: Mapping[str, Iterable[str]] | None = None) -> Matcher:
    """What a query marks: its words and prefixes outside NOT, and whole what an expansion adds.

    ``readings`` (``Restoration.readings``) are how accent restoration surely reads the words typed
    bare. A word typed beside others is marked alone only as so read, and in any spelling where the
    words typed beside it stand together (``neu guong``: ``nêu gương``, ``nếu gương``, a lone
    ``nêu``, never a lone ``nếu``); a word typed alone marks every spelling.
    """
    added = [n for e in q.walk(tree, exclusions=False) if isinstance(e, q.Expansion) for n in e.nodes[1:]]
    whole = [n for n in added if isinstance(n, q.Phrase)]
    terms = {word for leaf in q.searched(tree) if not any(leaf is n for n in whole) for word in leaf.words}
    if not readings:
        return Matcher(terms, q.prefixes(tree), [n.words for n in whole])
    read = {normalize_syllable(t): forms for t, forms in readings.items()}
    typed = runs(tree)
    quoted = [list(leaf.words) for leaf in q.searched(tree) if not any(leaf is n for n in added)]
    together = [run for run in typed + quoted if len(run) > 1 and any(normalize_syllable(w) in read for w in run)]
    alone = {normalize_syllable(run[0]) for run in typed if len(run) == 1}
    beside = {normalize_syllable(w) for run in together for w in run if not has_marks(w)} - alone
    kept = {t: read[t] for t in beside if t in read}
    return Matcher(terms, q.prefixes(tree), [n.words for n in whole], readings=kept, together=together)


def _typed_spelling(word: str) -> str | None:
    """The spelling a word typed with marks must have to be marked in a phrase; None typed bare."""
    return normalize_syllable(word) if has_marks(word) else None


def highlight(text: str, matcher: Matcher) -> Snippet:
    """The whole of ``text`` with every match marked."""
    return _fragments(text, matcher.marks(text, syllables(text)), 0, len(text), flatten=False)


def snippet(text: str, matcher: Matcher, size: int = SNIPPET_SYLLABLES) -> Snippet:
    """About ``size`` syllables of ``text`` around its densest cluster of distinct matches.

    An article longer than :data:`WHOLE_CHARS` is read in windows: the snippet comes from the
    first window that holds a match (and the one after it, so the cluster may run on), or from its
    beginning when none does within :data:`SCAN_CHARS`.
    """
    if len(text) <= WHOLE_CHARS:
        return _snippet(text, matcher, size)
    found = matcher.first_window(text)
    start = found[0] if found is not None else 0
    cuts = pieces(text, WINDOW_CHARS, start)
    next(cuts)
    end = next(cuts, (0, len(text)))[1]
    # The text either side of the window is there, unread: the snippet says so.
    return _snippet(text[start:end], matcher, size, before=start > 0, after=end < len(text))


def _snippet(text: str, matcher: Matcher, size: int, *, before: bool = False, after: bool = False) -> Snippet:
    texts, spans = syllable_spans(text)
    if not texts:
        return Snippet(())
    hits = matcher.marked(text, texts, spans)
    start = _best_window(texts, hits, size)
    end = min(len(texts), start + size)
    # Start at the beginning of the sentence when it is close, so the snippet reads naturally.
    lo = spans[start][0]
    back = max(0, start - 8)
    for i in range(start, back, -1):
        gap = text[spans[i - 1][1] : spans[i][0]]
        if any(ch in _SENTENCE_ENDS for ch in gap):
            lo = spans[i][0]
            break
    hi = spans[end - 1][1]
    if end < len(texts) and (stop := text.find(".", hi, hi + 40)) != -1:
        hi = stop + 1
    elif end == len(texts):  # the last syllable: keep the full stop after it
        hi = _CLOSING.match(text, hi).end()
    marked = [Token(texts[i], *spans[i]) for i in hits if lo <= spans[i][0] and spans[i][1] <= hi]
    result = _fragments(text, marked, lo, hi)
    prefix = (("…", False),) if before or lo > spans[0][0] else ()
    ended = _FULL_STOP.search(text, max(lo, hi - 4), hi) is not None
    suffix = (("…", False),) if (after or hi < spans[-1][1]) and not ended else ()
    return Snippet(prefix + result.fragments + suffix)


def _best_window(texts: list[str], hits: list[int], size: int) -> int:
    """The first syllable of the window covering the most distinct matched words, then the most of
    them side by side (the query's words together: ``nêu gương`` rather than ``nêu cao`` beside a
    lone ``gương``), then the most matches; moved on to its first words together when they would
    otherwise stand in its last third, read last or cut short."""
    if not hits:
        return 0
    folded = {i: fold_syllable(texts[i]) for i in hits}
    # The matches followed at once by a match of another word.
    paired = {i for i in hits if i + 1 in folded and folded[i + 1] != folded[i]}
    best: list[int] = []
    best_score = (-1, -1, -1)
    left = 0
    for right in range(len(hits)):
        while hits[right] - hits[left] >= size:
            left += 1
        window = hits[left : right + 1]
        together = sum(1 for i in window[:-1] if i in paired)
        score = (len({folded[i] for i in window}), together, len(window))
        if score > best_score:
            best, best_score = window, score

    def opening(first: int) -> int:
        # Leave a little context before the first match.
        return max(0, min(first - 4, len(texts) - size))

    start = opening(best[0])
    pairs = [i for i in best[:-1] if i in paired]
    if pairs and pairs[0] - start >= 2 * size // 3:
        start = opening(pairs[0])
    return start


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
                fragments.append((_one_line(text, pos, token.start) if flatten else gap, False))
            fragments.append((text[token.start : token.end], True))
        pos = token.end
    if pos < hi:
        fragments.append((_one_line(text, pos, hi) if flatten else text[pos:hi], False))
    return Snippet(tuple(fragments))


def _one_line(text: str, start: int, end: int) -> str:
    """``text[start:end]`` on one line: a paragraph break after a line its punctuation does not end
    (a heading) becomes :data:`PARAGRAPH_MARK`, every other line break a space."""

    def joined(found: re.Match) -> str:
        at = start + found.start()
        return " " if at > 0 and text[at - 1] in _SENTENCE_ENDS + ":;" else PARAGRAPH_MARK

    return " ".join(_PARAGRAPH_BREAK.sub(joined, text[start:end]).split("\n"))
