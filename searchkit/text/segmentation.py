"""Vietnamese word segmentation: pyvi's tokens, model and decisions, computed several times faster.

``pyvi.ViTokenizer.tokenize`` cuts text into tokens with a regular expression, describes every token by a dict of
features of itself and its neighbours, has a CRF label each token ``B_W`` (starts a word) or ``I_W`` (continues one),
and joins tokens with ``_``. Most of its time goes into building those dicts in Python and converting them for
crfsuite, and importing it costs seconds of scikit-learn, which it only uses to unpickle its model.

This module keeps the same regular expression, the same features, the same model file and the same joining rule, but
describes each distinct token once, as the byte strings crfsuite receives, and calls crfsuite's tagger directly.
It reads pyvi's packaged files, so it is tied to pyvi's version (pinned in pyproject.toml); the tests compare it
with pyvi itself on news articles.
"""

from __future__ import annotations

import codecs
import pickle
import re
import string
import unicodedata
from functools import lru_cache
from importlib import resources
from itertools import accumulate, chain
from typing import NamedTuple

import pycrfsuite

# pyvi's tokenizer pattern (``ViTokenizer.sylabelize``), its alternatives in its order: abbreviations, specials (a
# line break is a token), URLs, e-mail addresses, numbers with separators, one non-word character, a run of word
# characters. Its inner groups are made non-capturing, which changes nothing of what it matches.
_PYVI_TOKEN = "|".join(
    [
        r"[A-ZĐ]+\.",
        r"Tp\.",
        r"Mr\.",
        r"Mrs\.",
        r"Ms\.",
        r"Dr\.",
        r"ThS\.",
        r"==>",
        r"->",
        r"\.\.\.",
        r">>",
        "\n",
        r"\w+://[^\s]+",
        r"(?:[a-zA-Z0-9_.+-]+@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z0-9-]+)",
        r"\d+(?:[\.,_]\d+)+",
        r"[^\w\s]",
        r"\w+",
    ]
)
# Every character but white space belongs to a token, and no token starts with white space, so each token with the
# white space before it (a line break excepted) is one match: the lengths of the two groups give the offsets.
_SPACE_AND_TOKEN = re.compile(rf"([^\S\n]*)({_PYVI_TOKEN})")

_CONTINUES = "I_W"
_NONE: frozenset[str] = frozenset()

# Attributes that take no value: crfsuite gives each weight 1.0. pyvi also passes the false ones with weight 0.0;
# those add exactly 0 to every label's score, so they are left out.
_BIAS = b"bias"
_NO_FLAGS: list[bytes] = []
# Indexed by `pair + 2 * triple`.
_LEFT_FLAGS = [[], [b"-1:word.bi_gram()"], [b"-2:word.tri_gram()"], [b"-1:word.bi_gram()", b"-2:word.tri_gram()"]]
_RIGHT_FLAGS = [[], [b"+1:word.bi_gram()"], [b"+2:word.tri_gram()"], [b"+1:word.bi_gram()", b"+2:word.tri_gram()"]]


class _Described(NamedTuple):
    """What the model and the joining rule need to know of one distinct token."""

    lower: str
    pairs: frozenset[str]  # the tokens (lower case) that follow it in a two-syllable word of pyvi's list
    triples: dict[str, frozenset[str]]  # the same for three-syllable words: second token → third tokens
    itself: list[bytes]  # its own attributes, in pyvi's order
    as_previous: list[bytes]  # its attributes as the left neighbour of a token
    as_next: list[bytes]  # its attributes as the right neighbour of a token
    kind: int  # _APART, _LOWER or _TITLE: what pyvi's joining rule looks at


# pyvi joins a token to the one before when the model says I_W, neither is punctuation nor starts with a digit
# (_APART), and the second does not start with a capital unless the first does: _JOINABLE[first][second].
_APART, _LOWER, _TITLE = 0, 1, 2
_JOINABLE = ((False, False, False), (False, True, False), (False, True, True))


class _Model(NamedTuple):
    tagger: pycrfsuite.Tagger
    data: bytes  # the model the tagger reads from memory, kept alive beside it
    pairs: dict[str, frozenset[str]]  # pyvi's two-syllable words: first syllable → second syllables
    triples: dict[str, dict[str, frozenset[str]]]  # its three-syllable words: first → second → third syllables


class _Record:
    """Whatever pyvi's pickle rebuilds (a sklearn_crfsuite estimator, numpy scalars), kept as its raw state."""

    def __init__(self, *args: object) -> None:
        self.args = args

    def __setstate__(self, state: object) -> None:
        self.state = state


class _ModelUnpickler(pickle.Unpickler):
    """Reads pyvi's pickled estimator without importing sklearn_crfsuite (and scikit-learn) to rebuild it.

    Every class it names becomes a :class:`_Record`, so nothing in the file runs code.
    """

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("_codecs", "encode"):  # how protocol 2 spells bytes
            return codecs.encode
        return _Record


@lru_cache(maxsize=1)
def _model() -> _Model:
    models = resources.files("pyvi") / "models"
    # As pyvi reads it: lines of two or three space-separated syllables are the word lists its features look up,
    # as `" ".join([a, b]).lower() in bi_grams`. No token holds white space, and lower-casing never looks across a
    # space (only a final Σ looks at its neighbours), so that is `b.lower() in pairs[a.lower()]`.
    pairs: dict[str, set[str]] = {}
    triples: dict[str, dict[str, set[str]]] = {}
    for line in (models / "words.txt").read_bytes().decode("utf-8").split("\n"):
        syllables = line.split(" ")
        if len(syllables) == 2:
            pairs.setdefault(syllables[0], set()).add(syllables[1])
        elif len(syllables) == 3:
            triples.setdefault(syllables[0], {}).setdefault(syllables[1], set()).add(syllables[2])
    with (models / "pyvi3.pkl").open("rb") as file:
        estimator = _ModelUnpickler(file).load()
    # sklearn_crfsuite pickles the crfsuite model file's bytes inside the estimator's file resource.
    data = estimator.state["modelfile"].state["__FILE_RESOURCE_DATA__"]
    tagger = pycrfsuite.Tagger()
    tagger.open_inmemory(data)
    return _Model(
        tagger,
        data,
        {first: frozenset(seconds) for first, seconds in pairs.items()},
        {first: {second: frozenset(thirds) for second, thirds in rest.items()} for first, rest in triples.items()},
    )


@lru_cache(maxsize=1 << 15)
def _describe(token: str) -> _Described:
    """pyvi's ``word2features`` for one token, split into the parts that do not depend on its neighbours."""
    lower = token.lower()
    encoded = lower.encode("utf-8")
    upper, title = token.isupper(), token.istitle()
    itself = [_BIAS, b"word.lower():" + encoded]
    itself += [b"word.isupper()"] * upper + [b"word.istitle()"] * title + [b"word.isdigit()"] * token.isdigit()
    as_previous = [b"-1:word.lower():" + encoded] + [b"-1:word.istitle()"] * title + [b"-1:word.isupper()"] * upper
    as_next = [b"+1:word.lower():" + encoded] + [b"+1:word.istitle()"] * title + [b"+1:word.isupper()"] * upper
    # pyvi's `token in string.punctuation` is a substring test: its multi-character specials ("...", "->") pass it
    # as words do, and so do punctuation marks outside ASCII (“ – …).
    if token in string.punctuation or token[0].isdigit():
        kind = _APART
    else:
        kind = _TITLE if token[0].istitle() else _LOWER
    model = _model()
    pairs = model.pairs.get(lower, _NONE)
    triples = model.triples.get(lower, {})
    return _Described(lower, pairs, triples, itself, as_previous, as_next, kind)


class Tokens(NamedTuple):
    """pyvi's tokens of a text and where each starts in it."""

    texts: list[str]
    starts: list[int]


def tokens(text: str) -> Tokens:
    """pyvi's tokens of ``text`` (which must be NFC), with their start offsets: ``TP.HCM`` → ``TP.``, ``HCM``."""
    spaced = list(chain.from_iterable(_SPACE_AND_TOKEN.findall(text)))  # space, token, space, token…
    return Tokens(spaced[1::2], list(accumulate(map(len, spaced)))[::2])


def joins(texts: list[str]) -> list[bool]:
    """For each token, whether pyvi writes ``_`` rather than a space before it (never before the first)."""
    if not texts:
        return []
    described = [_describe(token) for token in texts]
    lowers = [token.lower for token in described]
    # pyvi's features of token i, in its order: its own; its left neighbour's, whether the two make a word of
    # pyvi's list, whether the two before it and itself do; its right neighbour's, the same two tests to the right.
    pairs = [b in token.pairs for token, b in zip(described[:-1], lowers[1:], strict=True)]
    triples = [
        c in token.triples.get(b, _NONE) for token, b, c in zip(described[:-2], lowers[1:-1], lowers[2:], strict=True)
    ]
    left = [_NO_FLAGS] + [_LEFT_FLAGS[pair] for pair in pairs[:1]]
    left += [_LEFT_FLAGS[pair + 2 * triple] for pair, triple in zip(pairs[1:], triples, strict=True)]
    right = [_RIGHT_FLAGS[pair + 2 * triple] for pair, triple in zip(pairs[:-1], triples, strict=True)]
    right += [_RIGHT_FLAGS[pair] for pair in pairs[-1:]] + [_NO_FLAGS]
    previous = [_NO_FLAGS] + [token.as_previous for token in described[:-1]]
    following = [token.as_next for token in described[1:]] + [_NO_FLAGS]
    items = [
        [*token.itself, *before, *left_flags, *after, *right_flags]
        for token, before, left_flags, after, right_flags in zip(
            described, previous, left, following, right, strict=True
        )
    ]
    labels = _model().tagger.tag(items)
    kinds = [token.kind for token in described]
    joined = [
        label == _CONTINUES and _JOINABLE[first][second]
        for label, first, second in zip(labels[1:], kinds[:-1], kinds[1:], strict=True)
    ]
    return [False, *joined]


def written(texts: list[str], joins: list[bool]) -> str:
    """pyvi's output for its tokens ``texts``: separated by ``_`` where it joins them, by a space elsewhere."""
    separators = ["_" if join else " " for join in joins]  # the first is a space (nothing joins the first token)
    return "".join(separator + token for separator, token in zip(separators, texts, strict=True))[1:]


def tokenize(text: str) -> str:
    """What ``pyvi.ViTokenizer.tokenize(text)`` returns: tokens spaced, the syllables of a word joined by ``_``."""
    found = tokens(unicodedata.normalize("NFC", text)).texts
    return written(found, joins(found)) if found else text
