"""The Whoosh analyzers: searchkit's text analysis in Whoosh's calling convention.

Whoosh pickles the schema, with these classes, into every table of contents, so an index names them by
this module's path (``generations.SCHEMA_VERSION`` changes when they move). Each is defined at module
level so that it pickles; the analysis itself is :mod:`searchkit.text.analysis`'s.
"""

from __future__ import annotations

from collections.abc import Iterator

from whoosh.analysis import Filter, Tokenizer
from whoosh.analysis import Token as _WhooshToken

from searchkit.text.analysis import fold_syllable, normalize_syllable, syllable_runs


class _SpanTokenizer(Tokenizer):
    """Whoosh's tokenizer calling convention around :meth:`spans`, shared by searchkit's tokenizers."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def spans(self, value: str) -> Iterator[tuple[str, int, int]]:
        """Each term of ``value`` with its start and end offsets."""
        raise NotImplementedError

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[_WhooshToken]:
        token = _WhooshToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for i, (text, start, end) in enumerate(self.spans(value)):
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = token.text
            if positions:
                token.pos = start_pos + i
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


class SyllableTokenizer(_SpanTokenizer):
    """Whoosh tokenizer emitting syllables with positions and offsets into the (NFC) stored text."""

    def spans(self, value: str) -> Iterator[tuple[str, int, int]]:
        return syllable_runs(value)


class NormalizeFilter(Filter):
    """Replaces each token's text by its normalised form (exact-accent field)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __call__(self, tokens: Iterator[_WhooshToken]) -> Iterator[_WhooshToken]:
        for token in tokens:
            token.text = normalize_syllable(token.text)
            yield token


class FoldFilter(Filter):
    """Replaces each token's text by its folded form (diacritic-insensitive field)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __call__(self, tokens: Iterator[_WhooshToken]) -> Iterator[_WhooshToken]:
        for token in tokens:
            token.text = fold_syllable(token.text)
            yield token


def exact_analyzer() -> object:
    """Syllables, normalised: matches the accents as typed, whatever the tone-mark placement."""
    return SyllableTokenizer() | NormalizeFilter()


def folded_analyzer() -> object:
    """Syllables, folded: matches with or without diacritics."""
    return SyllableTokenizer() | FoldFilter()
