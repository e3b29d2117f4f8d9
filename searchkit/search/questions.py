"""Questions: which queries ask (and so rank partial matches), which of their words ask, and a query
tree's runs of plain words.

A question is searched for most of its words rather than all of them (``searchkit.search.ranking``);
the words that ask (``gì``, ``bao nhiêu``, ``ai`` in ``Ai đã …``) count for nothing in its terms, pairs and
passages.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import singledispatch

from searchkit.search import parse as q
from searchkit.text.analysis import fold_syllable, has_marks, normalize_syllable

# A keyword query needs every word, however long; one of more than this many syllables that finds
# nothing that way is searched again as a question (see ``Searcher.search``).
KEYWORD_QUERY_MAX_TERMS = 4

# Typed with their accents, the words and expressions that make a short query a question ("NASUWT
# là gì", "dân số bao nhiêu"). "bao" and "sao" carry no mark themselves, so they count only in an
# expression whose other word shows its accents: "bao ve" (bảo vệ) and "ngôi sao" are no questions.
QUESTION_WORDS = frozenset(
    {
        ("gì",),
        ("nào",),
        ("đâu",),
        ("mấy",),
        ("bao", "nhiêu"),
        ("bao", "giờ"),
        ("bao", "lâu"),
        ("tại", "sao"),
        ("vì", "sao"),
        ("làm", "sao"),
        ("ra", "sao"),
        # "ai" (who) carries no mark: only beside a word that shows its accents.
        ("là", "ai"),
        ("ai", "đã"),
        ("ai", "là"),
        # "Kể tên…" (name a…) asks as a question does.
        ("kể", "tên"),
    }
)
# Typed without any accent, a long query (more than KEYWORD_QUERY_MAX_TERMS syllables) holding one
# of these expressions, or ending with one of the single question words, is a question: in a
# sentence that long, "la gi" or "bao nhieu" is seldom anything else, while a short "bao nhieu"
# may be "bảo nhiều" and "tai sao" a name.
FOLDED_QUESTION_WORDS = frozenset(
    tuple(fold_syllable(w) for w in words)
    for words in QUESTION_WORDS | {("gì",), ("khi", "nào"), ("thế", "nào")}
    if len(words) > 1 or words == ("gì",)
)
FOLDED_QUESTION_ENDS = frozenset({"nao", "ai"})
# Typed without any accent, a query of any length ending so is a question ("decnet la gi"): as a
# keyword query it would need "gi", which the article explaining the word seldom writes.
FOLDED_QUESTION_TAILS = frozenset({("la", "gi")})

# In a question, the syllables of each question expression that ask rather than say: the paragraph
# answering "… được gọi là gì?" does not hold "gì", and an article that does holds it by chance,
# rarer than the question's own words and so weighing more than they do. They are left out of a
# question's terms, pairs and passages (see :func:`asking`); the question's other words stay.
ASKING: dict[tuple[str, ...], tuple[str, ...]] = {words: words for words in QUESTION_WORDS} | {
    ("ra", "sao"): ("sao",),
    ("là", "ai"): ("ai",),
    ("ai", "đã"): ("ai",),
    ("ai", "là"): ("ai",),
}
# Typed without accents, the same but for "dau" and "may", as often "đầu", "dầu", "máy" or "mây".
FOLDED_ASKING: dict[tuple[str, ...], tuple[str, ...]] = {
    tuple(fold_syllable(w) for w in words): tuple(fold_syllable(w) for w in asked)
    for words, asked in ASKING.items()
    if words not in {("đâu",), ("mấy",)}
}

# The expressions asking how many, how long or when: the paragraph answering them writes a number
# ("bao nhiêu người" → "11.713 người", "năm nào" → "năm 1970"). Typed without accents the same folded,
# except "mấy" ("may" is as often "máy" or "mây").
ASKING_NUMBER = frozenset(
    {
        ("bao", "nhiêu"),
        ("mấy",),
        ("bao", "lâu"),
        ("bao", "giờ"),
        ("bao", "xa"),
        ("khi", "nào"),
        ("lúc", "nào"),
        ("năm", "nào"),
        ("ngày", "nào"),
        ("tháng", "nào"),
        ("thế", "kỷ", "nào"),
        ("thế", "kỉ", "nào"),
        ("thập", "kỷ", "nào"),
        ("thập", "kỉ", "nào"),
        ("thời", "gian", "nào"),
        ("thời", "điểm", "nào"),
        ("giai", "đoạn", "nào"),
    }
)
FOLDED_ASKING_NUMBER = frozenset(tuple(fold_syllable(w) for w in words) for words in ASKING_NUMBER - {("mấy",)})


def is_question(text: str, tree: q.Node) -> bool:
    """Whether a query ranks partial matches rather than needing every word.

    A question: a ``?`` at the end, or a question word typed with its accents (``Tesla chết năm
    nào``, ``bao nhiêu``). Unaccented, ``nao``/``bao nhieu`` are too often other words, except in a
    long query (see :data:`FOLDED_QUESTION_WORDS`) or after ``la`` at the end (``decnet la gi``).
    Length alone makes no question: a long query is as often the start of a title.
    """
    if text.rstrip().endswith("?"):
        return True
    longest = max(len(words) for words in QUESTION_WORDS)
    found = runs(tree)
    for run in found:
        spelt = [normalize_syllable(word) for word in run]
        for i in range(len(spelt)):
            if any(tuple(spelt[i : i + size]) in QUESTION_WORDS for size in range(1, longest + 1)):
                return True
    words = [word for run in found for word in run]
    if any(has_marks(word) for word in words):
        return False
    folded = [fold_syllable(word) for word in words]
    if tuple(folded[-2:]) in FOLDED_QUESTION_TAILS:
        return True
    if len(words) <= KEYWORD_QUERY_MAX_TERMS:
        return False
    pairs = zip(folded, folded[1:], strict=False)
    if folded[-1] in FOLDED_QUESTION_ENDS or any((word,) in FOLDED_QUESTION_WORDS for word in folded):
        return True
    return any(pair in FOLDED_QUESTION_WORDS for pair in pairs)


def asking(tree: q.Node) -> frozenset[str]:
    """The syllables of a question that ask (:data:`ASKING`), normalised as typed: ``gì`` in ``… là
    gì?``, ``bao`` and ``nhiêu`` in ``bao nhiêu``, ``ai`` in ``Ai đã …``; typed without accents, the
    same folded (:data:`FOLDED_ASKING`)."""
    found: set[str] = set()
    for words in _spans(tree, max(len(words) for words in ASKING)):
        found.update(ASKING.get(words) or FOLDED_ASKING.get(words) or ())
    return frozenset(found)


def asks_number(tree: q.Node) -> bool:
    """Whether a question asks how many, how long or when (:data:`ASKING_NUMBER`), typed with its accents
    or without (``bao nhieu``, ``nam nao``)."""
    spans = _spans(tree, max(len(words) for words in ASKING_NUMBER))
    return any(words in ASKING_NUMBER or words in FOLDED_ASKING_NUMBER for words in spans)


def _spans(tree: q.Node, longest: int) -> Iterator[tuple[str, ...]]:
    """Every run of up to ``longest`` adjacent syllables of the query's words, normalised as typed."""
    for run in runs(tree):
        spelt = [normalize_syllable(word) for word in run]
        for i in range(len(spelt)):
            for size in range(1, min(longest, len(spelt) - i) + 1):
                yield tuple(spelt[i : i + size])


def question_syllables(tree: q.Node) -> list[str]:
    """A question's syllables as typed, in order, less those that ask (:func:`asking`; all of them
    when nothing else is left): what its passages weigh."""
    return [word for run in question_runs(tree) for word in run]


def question_runs(tree: q.Node) -> list[list[str]]:
    """A question's runs of syllables side by side (:func:`runs`), less those that ask."""
    spoken = without_words(tree, frozenset(), asking(tree))
    return runs(spoken or tree)


@singledispatch
def without_words(node: q.Node, common: frozenset[str], asked: frozenset[str] = frozenset()) -> q.Node | None:
    """``node`` without its plain terms in ``common`` (folded) or ``asked`` (as typed, normalised);
    ``None`` when nothing is left.

    Only the words written side by side are pruned; any other clause stays whole.
    """
    return node


@without_words.register(q.Term)
def _without_term(node: q.Term, common: frozenset[str], asked: frozenset[str] = frozenset()) -> q.Node | None:
    if node.prefix:
        return node
    return None if fold_syllable(node.text) in common or normalize_syllable(node.text) in asked else node


@without_words.register(q.Group)
def _without_group(node: q.Group, common: frozenset[str], asked: frozenset[str] = frozenset()) -> q.Node | None:
    kept = [k for k in (without_words(n, common, asked) for n in node.nodes) if k is not None]
    if not any(q.searched(k) for k in kept):
        return None
    return q.Group(tuple(kept)) if len(kept) != len(node.nodes) else node


@singledispatch
def runs(node: q.Node) -> list[list[str]]:
    """Maximal sequences of plain terms (and phrases) written next to each other, outside NOT and fields.

    A clause's runs are those of the clauses inside it, each apart; only words side by side join.
    """
    return [run for child in node.children for run in runs(child)]


@runs.register(q.Leaf)
def _runs_leaf(node: q.Leaf) -> list[list[str]]:
    return [] if node.prefix else [list(node.words)]


def _plain_words(node: q.Node) -> list[str]:
    """The words of a plain word or of a group of them; [] for any other clause."""
    if isinstance(node, q.Leaf):
        return [] if node.prefix else list(node.words)
    if isinstance(node, q.Group) and all(isinstance(n, q.Leaf) and not n.prefix for n in node.nodes):
        return [word for n in node.nodes for word in n.words]  # type: ignore[attr-defined]
    return []


@runs.register(q.Expansion)
def _runs_expansion(node: q.Expansion) -> list[list[str]]:
    # Proximity rewards the words as typed; what they stand for only matches.
    return runs(node.typed)


@runs.register(q.Not)
@runs.register(q.Field)
def _no_runs(node: q.Node) -> list[list[str]]:
    return []


@runs.register(q.Group)
def _runs_group(node: q.Group) -> list[list[str]]:
    found: list[list[str]] = []
    current: list[str] = []
    for child in node.nodes:
        if isinstance(child, q.Leaf) and not child.prefix:
            current += child.words
            continue
        if isinstance(child, q.Expansion) and (typed := _plain_words(child.typed)):
            current += typed  # the words as typed, side by side with the others
            continue
        if current:
            found.append(current)
            current = []
        found.extend(runs(child))
    if current:
        found.append(current)
    return found
