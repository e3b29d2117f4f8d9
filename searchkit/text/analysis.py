"""Vietnamese text analysis: normalisation, folding, syllables and words, and the Whoosh analyzers built from them.

Everything here is a pure function of its input. Three forms of a syllable matter:

- the *original* text, as stored and shown in snippets (NFC);
- the *normalised* form: lower case, NFC, one canonical tone-mark placement, so ``hoà``/``hòa`` and
  ``uỷ``/``ủy`` are the same term ("exact accent" matching);
- the *folded* form: every mark stripped and ``đ`` → ``d`` (diacritic-insensitive matching).

Tokens always carry character offsets into the original text, so highlighting marks the right characters.

Characters that show nothing (soft hyphens, zero-width spaces and joiners, word joiners, byte order marks, left- and
right-to-left marks) belong to the syllable they stand in and are left out of its text: ``gư\u00adơng`` is the one
syllable ``gương``, spanning all six characters. Fullwidth letters and digits (``ｎｅｕ``, ``２０２４``) are their NFKC
forms in the normalised and folded forms, one character for one. A syllable reads as it shows, in an article and in a
query alike.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from itertools import compress, islice
from typing import NamedTuple

# Characters that show nothing, left out of a syllable's text: soft hyphen, zero-width space, non-joiner and joiner,
# left-to-right and right-to-left marks, word joiner and invisible operators, Mongolian vowel separator, BOM.
_INVISIBLE_CHARS = "\u00ad\u200b-\u200f\u2060-\u2064\u180e\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]")
_LEAVE_OUT_INVISIBLE = dict.fromkeys(ord(ch) for ch in "\u00ad\u180e\ufeff") | dict.fromkeys(
    [*range(0x200B, 0x2010), *range(0x2060, 0x2065)]
)
# A syllable is a run of letters and digits; "_" is excluded because pyvi uses it to join words. In a text holding an
# invisible character, the second pattern takes them inside a syllable too (it is a fifth slower: see _syllables_in).
_SYLLABLE = re.compile(r"[^\W_]+")
_SYLLABLE_ACROSS_INVISIBLE = re.compile(f"[^\\W_]+(?:[{_INVISIBLE_CHARS}]+[^\\W_]+)*")
# Fullwidth ASCII (U+FF01-U+FF5E) as NFKC writes it: one character for one.
_FULLWIDTH = {cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFF01, 0xFF5F)}

# The five Vietnamese tone marks, as combining characters. Vowel modifiers (circumflex, breve, horn) are not tones.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VOWELS = frozenset("aeiouy")


class Token(NamedTuple):
    """A piece of text with its character offsets ``[start, end)`` in the original string."""

    text: str
    start: int
    end: int


def visible(text: str) -> str:
    """``text`` without the characters that show nothing (``visible("nê\u200du") == "nêu"``)."""
    return text.translate(_LEAVE_OUT_INVISIBLE) if _INVISIBLE.search(text) else text


def _syllables_in(text: str) -> re.Pattern[str]:
    """The pattern finding ``text``'s syllables: the plain one unless ``text`` holds an invisible character (the
    usual case, checked once for the whole text)."""
    return _SYLLABLE_ACROSS_INVISIBLE if _INVISIBLE.search(text) else _SYLLABLE


def _texts(found: list[str], pattern: re.Pattern[str]) -> list[str]:
    """The syllables ``pattern`` found as :func:`visible` text (the same list when it is the plain pattern)."""
    return found if pattern is _SYLLABLE else [visible(s) for s in found]


def nfc(text: str) -> str:
    """The NFC form of ``text`` (what pyvi returns and what is stored), cheap when already NFC."""
    if unicodedata.is_normalized("NFC", text):
        return text
    return unicodedata.normalize("NFC", text)


def _place_tone(word: str) -> str:
    """Move the tone mark of one syllable to its canonical vowel (``hoà`` → ``hòa``, ``qúy`` → ``quý``).

    The rule is the one most Vietnamese news text follows today: a modified vowel (ă â ê ô ơ ư, the last of
    ``ươ``) takes the mark; otherwise the last vowel when a consonant closes the syllable, the middle one of three,
    and the first of two in an open syllable (``hòa``, ``thủy``, ``múa``). ``qu`` and ``gi`` count as consonants.
    Anything that is not a single Vietnamese-shaped syllable is returned unchanged.
    """
    letters: list[str] = []
    tone = None
    for ch in unicodedata.normalize("NFD", word):
        if ch in _TONES:
            if tone is not None or not letters:
                return word
            tone = ch
        elif unicodedata.combining(ch):
            if not letters:
                return word
            letters[-1] += ch
        else:
            letters.append(ch)
    if tone is None:
        return word
    vowels = [i for i, letter in enumerate(letters) if letter[0].lower() in _VOWELS]
    if not vowels or vowels[-1] - vowels[0] != len(vowels) - 1:
        return word
    head = "".join(letter[0] for letter in letters[:2]).lower()
    if len(vowels) > 1 and vowels[0] == 1 and head in ("qu", "gi"):
        vowels = vowels[1:]
    modified = [i for i in vowels if len(letters[i]) > 1]
    if modified:
        pos = modified[-1]
    elif len(vowels) == 1:
        pos = vowels[0]
    elif vowels[-1] < len(letters) - 1:
        pos = vowels[-1]
    elif len(vowels) == 3:
        pos = vowels[1]
    else:
        pos = vowels[0]
    letters[pos] += tone
    return unicodedata.normalize("NFC", "".join(letters))


@lru_cache(maxsize=500_000)
def normalize_syllable(syllable: str) -> str:
    """Lower case, NFC, canonical tone placement: the form exact-accent matching compares."""
    return _place_tone(nfc(visible(syllable).translate(_FULLWIDTH)).lower())


@lru_cache(maxsize=500_000)
def fold_syllable(syllable: str) -> str:
    """Lower case with every mark stripped and ``đ`` → ``d``: the form diacritic-insensitive matching compares."""
    decomposed = unicodedata.normalize("NFD", visible(syllable).translate(_FULLWIDTH).lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace("đ", "d")


def normalize(text: str) -> str:
    """``normalize("Thành Uỷ") == "thành ủy"``: every syllable normalised, the rest of the text kept."""
    text = nfc(text)
    return _syllables_in(text).sub(lambda m: normalize_syllable(m.group()), text).lower()


def fold(text: str) -> str:
    """``fold("Đảng viên") == "dang vien"``: every mark stripped, ``đ`` → ``d``, lower case."""
    text = nfc(text)
    return _syllables_in(text).sub(lambda m: fold_syllable(m.group()), text).lower()


def has_marks(text: str) -> bool:
    """Whether ``text`` carries any Vietnamese diacritic (so the writer chose the accents)."""
    return fold(text) != nfc(visible(text).translate(_FULLWIDTH)).lower()


def syllables(text: str) -> list[Token]:
    """The syllables of ``text`` with offsets into it (``text`` should be NFC; see :func:`nfc`), as
    :func:`visible` text."""
    pattern = _syllables_in(text)
    if pattern is not _SYLLABLE:
        return [Token(visible(m.group()), m.start(), m.end()) for m in pattern.finditer(text)]
    return [Token(m.group(), m.start(), m.end()) for m in pattern.finditer(text)]


def syllable_spans(text: str) -> tuple[list[str], list[tuple[int, int]]]:
    """:func:`syllables` as two lists, texts and (start, end) offsets: a third of the time, with no
    token object per syllable (snippets look at every syllable of an article)."""
    pattern = _syllables_in(text)
    found = list(pattern.finditer(text))
    return _texts([m.group() for m in found], pattern), [m.span() for m in found]


def first_syllables(text: str, count: int) -> list[Token]:
    """The first ``count`` syllables of ``text``: reads no further into a long text than they reach."""
    return [Token(m.group(), m.start(), m.end()) for m in islice(_SYLLABLE.finditer(text), count)]


def pieces(text: str, size: int, start: int = 0, stop: int | None = None) -> Iterator[tuple[int, int]]:
    """``text[start:stop]`` as consecutive ``(start, end)`` pieces of at most ``size`` characters.

    Each piece ends after a line break in its second half, or failing one after a space, so a
    paragraph (or at least a syllable) is cut only when it is longer than half a piece: what
    works piece by piece on a long text (word segmentation, snippets) sees whole paragraphs.
    """
    stop = len(text) if stop is None else min(stop, len(text))
    while start < stop:
        end = start + size
        if end < stop:
            cut = text.rfind("\n", start + size // 2, end)
            if cut == -1:
                cut = text.rfind(" ", start + size // 2, end)
            end = cut + 1 if cut != -1 else end
        else:
            end = stop
        yield start, end
        start = end


def syllable_texts(text: str) -> list[str]:
    """The syllables of ``text`` without their offsets: what the index's syllable fields are made of."""
    text = nfc(text)
    pattern = _syllables_in(text)
    return _texts(pattern.findall(text), pattern)


# pyvi's tagger holds a dozen feature strings per token at once: a long text is segmented a piece
# of this many characters at a time (cut after a line break; see :func:`pieces`), which bounds the
# memory of segmenting one article (about 750 MB for 3 million characters in one piece).
WORDS_PIECE_CHARS = 50_000


def words(text: str) -> list[Token]:
    """The multi-syllable words pyvi finds in ``text`` (``học_tập``, ``Hồ_Chí_Minh``), with offsets into ``text``.

    A text longer than :data:`WORDS_PIECE_CHARS` is segmented piece by piece, cut after line
    breaks, so a word never spans two pieces; shorter texts are segmented whole, as pyvi does.

    They are the words of pyvi's output (``ViTokenizer.tokenize``, computed by
    :mod:`searchkit.text.segmentation`) placed on
    this module's syllables. pyvi's tokens carry their offsets, so a word is placed where its tokens are; only when
    a token cuts a syllable in two (pyvi reads ``1.5km`` as ``1.5`` and ``km``) is the output placed by the text of
    its syllables, looking a few syllables ahead and leaving out what does not match, as it always was.
    """
    text = nfc(text)
    if len(text) <= WORDS_PIECE_CHARS:
        return _words(text)
    found: list[Token] = []
    for start, end in pieces(text, WORDS_PIECE_CHARS):
        found += [Token(word, start + a, start + b) for word, a, b in _words(text[start:end])]
    return found


def _words(text: str) -> list[Token]:
    """:func:`words` of an NFC text, segmented at once."""
    from searchkit.text import (
        segmentation as segment,  # imported here: loading the model takes a moment and queries never need it
    )

    tokens = segment.tokens(text)
    joins = segment.joins(tokens.texts)
    # A token's syllables are pieces of this module's syllables (a token may end inside one, never spans two), so
    # as many of them means the very same syllables.
    written = " ".join(tokens.texts)
    if len(_syllables_in(written).findall(written)) == len(_syllables_in(text).findall(text)):
        return _placed(tokens.texts, tokens.starts, joins, underscores="_" in text)
    return _aligned(text, segment.written(tokens.texts, joins))


# pyvi writes its tokens separated by "_" where it joins them, by a space elsewhere; a line break is a token of its
# own. A word is a piece of that output between white space that holds a "_" and two syllables or more: tokens it
# joined ("Hồ_Chí_Minh"; also "a_" and "_b" around a joined line break), or one token written with "_" ("1_000").


_PLAIN_WORD = re.compile(r"[^\W_]+(?:_[^\W_]+)+")


def _placed(texts: list[str], starts: list[int], joins: list[bool], underscores: bool) -> list[Token]:
    """The words of pyvi's output, by the offsets of its tokens (whose syllables must be this module's)."""
    runs: list[list[int]] = []  # [first, last) tokens joined into one run
    for i in compress(range(len(joins)), joins):
        if runs and runs[-1][1] == i:
            runs[-1][1] = i + 1
        else:
            runs.append([i - 1, i + 1])
    if underscores:
        joined = {i for first, last in runs for i in range(first, last)}
        runs += [[i, i + 1] for i, token in enumerate(texts) if "_" in token and i not in joined]
        runs.sort()
    found: list[Token] = []
    for first, last in runs:
        word = "_".join(texts[first:last])
        if _PLAIN_WORD.fullmatch(word):  # the usual case: tokens that are syllables and nothing else
            found.append(Token(word, starts[first], starts[last - 1] + len(texts[last - 1])))
            continue
        parts: list[str] = []
        start = end = 0
        for token, offset in zip(texts[first:last], starts[first:last], strict=True):
            if token == "\n":  # white space: it ends a piece
                if len(parts) > 1:
                    found.append(Token("_".join(parts), start, end))
                parts = []
                continue
            syllables_ = _token_syllables(token)
            if syllables_.texts:
                if not parts:
                    start = offset + syllables_.start
                parts += syllables_.texts
                end = offset + syllables_.end
        if len(parts) > 1:
            found.append(Token("_".join(parts), start, end))
    return found


class _TokenSyllables(NamedTuple):
    """The syllables of one of pyvi's tokens: ``1.5`` holds ``1`` and ``5``, ``“`` none."""

    texts: tuple[str, ...]
    start: int  # where the first starts in the token
    end: int  # where the last ends


@lru_cache(maxsize=1 << 15)
def _token_syllables(token: str) -> _TokenSyllables:
    found = syllables(token)
    return _TokenSyllables(tuple(s.text for s in found), found[0].start if found else 0, found[-1].end if found else 0)


def _aligned(text: str, written: str) -> list[Token]:
    """The words of pyvi's output ``written``, placed on the syllables of ``text`` by their text."""
    pattern = _syllables_in(text)
    ours = _texts(pattern.findall(text), pattern)
    spans: list[re.Match[str]] | None = None
    found: list[Token] = []
    cursor = 0
    for piece in written.split():
        parts = _texts(_syllables_in(piece).findall(piece), _syllables_in(piece))
        if not parts:
            continue
        start = _align(ours, cursor, parts)
        if start is None:
            continue
        end = start + len(parts)
        cursor = end
        if "_" in piece and len(parts) > 1:
            if spans is None:
                spans = list(pattern.finditer(text))
            found.append(Token("_".join(parts), spans[start].start(), spans[end - 1].end()))
    return found


def _align(ours: list[str], cursor: int, parts: list[str], window: int = 8) -> int | None:
    """Where the syllables ``parts`` start in ``ours``, looking a few syllables past ``cursor``."""
    for start in range(cursor, min(cursor + window, len(ours) - len(parts) + 1)):
        if ours[start : start + len(parts)] == parts:
            return start
    return None


def word_terms(text: str) -> str:
    """The folded multi-syllable words of ``text`` as one space-separated string, for the index's word field."""
    text = nfc(text)
    return " ".join(
        fold(word.text) for start, end in pieces(text, WORDS_PIECE_CHARS) for word in _words(text[start:end])
    )


def compound(syllables_: list[str]) -> str:
    """The word-field term for a run of folded syllables: ``compound(["hoc", "tap"]) == "hoc_tap"``."""
    return "_".join(syllables_)


def clauses(text: str, tokens: list[Token]) -> list[list[Token]]:
    """``tokens`` (syllables of ``text``, in order) grouped into runs side by side (see :func:`side_by_side`)."""
    runs: list[list[Token]] = []
    for token in tokens:
        if runs and side_by_side(text, runs[-1][-1], token):
            runs[-1].append(token)
        else:
            runs.append([token])
    return runs


def side_by_side(text: str, left: Token, right: Token) -> bool:
    """Whether two syllables of ``text`` belong to the same clause: only spaces between them.

    Punctuation or a line break ends a clause, so accent statistics never pair a title's last
    syllable with the body's first, nor the two sides of ``chính trị - xã hội``.
    """
    return _within_clause(text[left.end : right.start])


# A Vietnamese syllable once folded: an initial consonant, one to three vowels, a final consonant.
_VIETNAMESE_SHAPE = re.compile(
    r"(?:ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(?:ch|ng|nh|[cmnpt])?"
)


def could_take_accents(syllable: str) -> bool:
    """Whether ``syllable`` has the shape of a Vietnamese one (``nguyen``, ``Đường``).

    Numbers, acronyms and most foreign words (``2015``, ``CBĐV``, ``Panthers``) do not: their
    spelling never changes, so accent statistics leave them out and the index stays smaller.
    """
    return _VIETNAMESE_SHAPE.fullmatch(fold_syllable(syllable)) is not None


def accent_key(syllables_: list[str]) -> str:
    """The accent-statistics key under which the spellings of a run of syllables are counted.

    ``accent_key(["nêu", "gương"]) == "neu guong|"``: the folded run and a ``|``, so the lexicon
    lists every spelling of a folded run under one prefix.
    """
    return " ".join(fold_syllable(s) for s in syllables_) + "|"


def accent_terms(text: str) -> list[str]:
    """What accent statistics count in ``text``: each syllable and each pair side by side.

    ``accent_terms("Nêu gương.") == ["neu|nêu", "guong|gương", "neu guong|nêu gương"]``: the
    folded form, ``|``, the normalised form. Restoring accents looks the folded form up and
    weighs the spellings found under it.
    """
    text = nfc(text)
    parts = (_SYLLABLE_ACROSS_INVISIBLE_AND_GAPS if _INVISIBLE.search(text) else _SYLLABLE_AND_GAPS).split(text)
    terms: list[str] = []
    previous: tuple[str, str] | None = None
    for syllable, gap in zip(parts[1::2], parts[2::2], strict=True):
        forms = _accent_forms(syllable)
        if forms is not None:
            terms.append(f"{forms[0]}|{forms[1]}")
            if previous is not None:
                terms.append(f"{previous[0]} {forms[0]}|{previous[1]} {forms[1]}")
        previous = forms if forms is not None and _within_clause(gap) else None
    return terms


# Syllables and what lies between them: split() gives [gap, syllable, gap, ..., syllable, gap].
_SYLLABLE_AND_GAPS = re.compile(f"({_SYLLABLE.pattern})")
_SYLLABLE_ACROSS_INVISIBLE_AND_GAPS = re.compile(f"({_SYLLABLE_ACROSS_INVISIBLE.pattern})")


@lru_cache(maxsize=1 << 16)
def _accent_forms(syllable: str) -> tuple[str, str] | None:
    """The folded and normalised forms accent statistics count ``syllable`` under, if it could take accents."""
    if not could_take_accents(syllable):
        return None
    return fold_syllable(syllable), normalize_syllable(syllable)


def _within_clause(gap: str) -> bool:
    """Whether the text between two syllables keeps them in one clause (see :func:`side_by_side`)."""
    if gap != " " and _INVISIBLE.search(gap):
        gap = visible(gap)
    return gap == " " or (bool(gap) and gap.isspace() and "\n" not in gap and "\r" not in gap)


def syllable_runs(value: str) -> Iterator[tuple[str, int, int]]:
    """Each syllable of ``value`` (NFC) with its start and end offsets: what the index's analyzers emit."""
    value = nfc(value)
    pattern = _syllables_in(value)
    if pattern is not _SYLLABLE:
        return ((visible(m.group()), m.start(), m.end()) for m in pattern.finditer(value))
    return ((m.group(), m.start(), m.end()) for m in pattern.finditer(value))
