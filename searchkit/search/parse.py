"""Query syntax: parsing what a person types into a small tree, forgivingly.

Supported: words (AND by default for short queries), ``OR``, ``AND``, ``NOT x``/``-x`` (where ``x``
is a word, a ``"phrase"``, a ``(group)`` or a ``title:`` clause), ``"phrase"``, ``"phrase"~N``
(words within N positions), ``title:word``, ``title:"phrase"`` or ``title:(…)``, parentheses and a
trailing ``*`` for a prefix. Bad syntax degrades instead of failing: an unbalanced quote runs to the
end, a missing parenthesis is closed, a lone operator or an empty field is dropped. A query is
refused only when it is too long, has no word at all, only excludes words, nests deeper than
:data:`MAX_DEPTH`, or gives a phrase a distance that is no whole number (``"nêu gương"~-5``: read
as a word, the ``5`` would silently be required too).

The tree's nodes say what they hold in the same terms (``children``, and ``words``/``prefix`` on
the leaves), so walks that treat every clause alike are written once (:func:`walk`,
:func:`searched`); an operation whose meaning differs by clause dispatches on the node's class
(as :mod:`searchkit.search.searcher` compiles the tree).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from searchkit.errors import QueryError
from searchkit.text.analysis import Token, clauses, nfc, syllables

MAX_QUERY_CHARS = 1000
# Parentheses, negations and fields nest at most this deep. No real query comes near it, and the
# parser and every walk over the tree go one call deeper per level.
MAX_DEPTH = 32
FIELDS = ("title",)


class Node:
    """A clause of the query."""

    # Whether the articles the clause matches are left out rather than looked for (NOT).
    excludes: ClassVar[bool] = False

    @property
    def children(self) -> tuple[Node, ...]:
        """The clauses directly inside this one."""
        return ()

    def negated(self) -> Node:
        """The clause matching the articles this one does not."""
        return Not(self)


class Leaf(Node):
    """A clause that looks for syllables: ``words`` (as typed), ``prefix`` when it ends in ``*``."""

    words: tuple[str, ...]
    prefix: bool


@dataclass(frozen=True)
class Term(Leaf):
    """One syllable as typed; ``prefix`` when it ended in ``*``."""

    text: str
    prefix: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        return (self.text,)


@dataclass(frozen=True)
class Phrase(Leaf):
    """Syllables that must appear in order, at most ``slop`` positions apart."""

    words: tuple[str, ...]
    slop: int = 0
    prefix: ClassVar[bool] = False


@dataclass(frozen=True)
class Not(Node):
    """Leaves out the articles ``node`` matches."""

    node: Node
    excludes: ClassVar[bool] = True

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.node,)

    def negated(self) -> Node:
        return self.node


@dataclass(frozen=True)
class Field(Node):
    """A clause restricted to one field (``title:``)."""

    name: str
    node: Node

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.node,)


@dataclass(frozen=True)
class Clauses(Node):
    """Clauses side by side; the subclass says how they combine."""

    nodes: tuple[Node, ...]

    @property
    def children(self) -> tuple[Node, ...]:
        return self.nodes


@dataclass(frozen=True)
class All(Clauses):
    """Every clause must match (explicit ``AND``)."""


@dataclass(frozen=True)
class Any(Clauses):
    """At least one clause must match (``OR``)."""


@dataclass(frozen=True)
class Group(Clauses):
    """Clauses written side by side: keyword queries need them all, questions rank partial matches."""


@dataclass(frozen=True)
class Expansion(Any):
    """A clause as typed (the first) or what it is known to stand for (the others, each weighted).

    Never parsed: the search adds it for an acronym and its learnt long forms (``searchkit.search.acronyms``).
    """

    weights: tuple[float, ...] = ()

    @property
    def typed(self) -> Node:
        return self.nodes[0]


# --- walks that treat every clause alike --------------------------------------------------------------------------


def walk(node: Node, *, exclusions: bool = True) -> Iterator[Node]:
    """``node`` and every clause inside it, depth first; without ``exclusions``, none inside a NOT."""
    if node.excludes and not exclusions:
        return
    yield node
    for child in node.children:
        yield from walk(child, exclusions=exclusions)


def leaves(node: Node, *, exclusions: bool = True) -> list[Leaf]:
    """The words and phrases in ``node``, in the order written (see :func:`walk`)."""
    return [n for n in walk(node, exclusions=exclusions) if isinstance(n, Leaf)]


def searched(node: Node) -> list[Leaf]:
    """The words and phrases the query looks for: every leaf outside a NOT."""
    return leaves(node, exclusions=False)


def positive_terms(node: Node) -> set[str]:
    """The syllables (as typed) the query looks for, outside any ``NOT``: what snippets mark."""
    return {word for leaf in searched(node) for word in leaf.words}


def prefixes(node: Node) -> set[str]:
    """The prefixes (``học*``) the query looks for outside any ``NOT``."""
    return {leaf.words[0] for leaf in searched(node) if leaf.prefix}


def term_count(node: Node) -> int:
    """How many syllables the query searches for, counting repeats: short queries are keyword queries."""
    return sum(len(leaf.words) for leaf in leaves(node))


def prefix_count(node: Node) -> int:
    """How many prefixes the query expands, excluded ones included: each costs a term lookup per word."""
    return sum(leaf.prefix for leaf in leaves(node))


# --- parsing ------------------------------------------------------------------------------------------------------


def parse(text: str) -> Node:
    """The query tree for ``text``.

    Raises :class:`QueryError` when there is nothing to search for (no word, or only words to leave
    out) or the clauses nest deeper than :data:`MAX_DEPTH`.
    """
    text = nfc(text).strip()
    if not text:
        raise QueryError("the query is empty", code="query_empty")
    if len(text) > MAX_QUERY_CHARS:
        raise too_long(len(text))
    tree = _Parser(_lex(text)).parse()
    if tree is None:
        # Operators or punctuation only ("AND", "-", "title:"): search the words themselves if there are any.
        plain = tuple(Term(s.text) for s in syllables(text))
        if not plain:
            raise QueryError("the query has no word to search for", code="query_no_word")
        tree = Group(plain) if len(plain) > 1 else plain[0]
    if not searched(tree):
        raise QueryError("the query only excludes words; add a word to search for", code="query_only_excludes")
    return tree


def too_long(length: int) -> QueryError:
    return QueryError(
        f"the query is too long ({length} characters; at most {MAX_QUERY_CHARS})",
        code="query_too_long",
        length=length,
        limit=MAX_QUERY_CHARS,
    )


def too_deep() -> QueryError:
    return QueryError(
        f"the query nests too deeply (at most {MAX_DEPTH} levels of parentheses, NOT and title:)",
        code="query_too_deep",
        limit=MAX_DEPTH,
    )


class _Lexeme(NamedTuple):
    """A piece of the query: ``kind`` is phrase, open, close, field, and, or, not or word."""

    kind: str
    text: str
    # Where ``text`` starts in the query (a phrase's text starts after its quote).
    start: int
    slop: int = 0


_TOKEN = re.compile(
    r"""
    (?P<phrase>"(?P<ptext>[^"]*)(?:"|$)(?:~(?P<slop>[^\s()"]*))?)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<minus>-)(?=[^\s)])
  | (?P<field>(?P<fname>[A-Za-z]+):)
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_OPERATORS = {"AND": "and", "OR": "or", "NOT": "not"}


def _lex(text: str) -> list[_Lexeme]:
    lexemes: list[_Lexeme] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "phrase":
            lexemes.append(_Lexeme("phrase", m.group("ptext"), m.start("ptext"), _slop(m.group("slop"))))
        elif kind == "minus":
            lexemes.append(_Lexeme("not", "-", m.start()))
        elif kind == "field" and m.group("fname").lower() in FIELDS:
            lexemes.append(_Lexeme("field", m.group("fname").lower(), m.start()))
        elif kind in ("open", "close"):
            lexemes.append(_Lexeme(kind, m.group(), m.start()))
        else:
            # A word, or a name before ":" that is no field ("http:"), searched as a word.
            lexemes.append(_Lexeme(_OPERATORS.get(m.group(), "word"), m.group(), m.start()))
    return lexemes


def _slop(written: str | None) -> int:
    """The distance written after a phrase's ``~``: none (or a bare ``~``) is 0."""
    if not written:
        return 0
    if not written.isdecimal():
        raise QueryError(
            f'a phrase\'s "~" takes a whole number of words, as in "nêu gương"~3, not "~{written}"',
            code="query_phrase_distance",
            value=f"~{written}",
        )
    return int(written)


class _Parser:
    """Recursive descent over the lexemes; every rule returns ``None`` rather than failing.

    query   := or*                      (a stray ")" or operator is skipped)
    or      := and ("OR" and)*
    and     := ("AND" | unary)*         (up to ")" or "OR")
    unary   := ("NOT" | "-")* primary
    primary := "(" or ")"? | field unary | phrase | word
    """

    def __init__(self, lexemes: list[_Lexeme]):
        self.lexemes = lexemes
        self.i = 0
        self.depth = 0

    def peek(self) -> str | None:
        """The kind of the next lexeme (``None`` at the end)."""
        return self.lexemes[self.i].kind if self.i < len(self.lexemes) else None

    @contextmanager
    def nested(self) -> Iterator[None]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise too_deep()
        yield
        self.depth -= 1

    def parse(self) -> Node | None:
        nodes = []
        while self.peek() is not None:
            node = self.parse_or()
            if node is not None:
                nodes.append(node)
            elif self.peek() is not None:
                self.i += 1  # a stray ")" or operator
        return _group(nodes, Group)

    def parse_or(self) -> Node | None:
        nodes = [self.parse_and()]
        while self.peek() == "or":
            self.i += 1
            nodes.append(self.parse_and())
        return _group([n for n in nodes if n is not None], Any)

    def parse_and(self) -> Node | None:
        nodes: list[Node] = []
        explicit = False
        while (kind := self.peek()) not in (None, "close", "or"):
            if kind == "and":
                self.i += 1
                explicit = True
                continue
            node = self.parse_unary()
            if node is not None:
                nodes.append(node)
        return _group(nodes, All if explicit else Group)

    def parse_unary(self) -> Node | None:
        negations = 0
        while self.peek() == "not":
            self.i += 1
            negations += 1
        if not negations % 2:
            return self.parse_primary()
        with self.nested():
            node = self.parse_primary()
        return node.negated() if node is not None else None

    def parse_primary(self) -> Node | None:
        if self.peek() is None:
            return None
        lexeme = self.lexemes[self.i]
        self.i += 1
        if lexeme.kind == "open":
            with self.nested():
                node = self.parse_or()
            if self.peek() == "close":
                self.i += 1
            return node
        if lexeme.kind == "field":
            if self.peek() not in ("word", "phrase", "open", "not"):
                return None
            with self.nested():
                node = self.parse_unary()
            if node is None:
                return None
            # title:-x leaves out the articles with x in the title, as -title:x does.
            return Not(Field(lexeme.text, node.negated())) if node.excludes else Field(lexeme.text, node)
        if lexeme.kind == "phrase":
            words = tuple(s.text for s in syllables(lexeme.text))
            if not words:
                return None
            return Phrase(words, lexeme.slop) if len(words) > 1 else Term(words[0])
        if lexeme.kind == "word":
            return _word(lexeme.text)
        return None  # a stray operator


def _word(raw: str) -> Node | None:
    prefix = raw.endswith("*")
    parts = tuple(s.text for s in syllables(raw))
    if not parts:
        return None
    if len(parts) == 1:
        return Term(parts[0], prefix=prefix)
    # "05-CT/TW" or "TP.HCM": the pieces belong together, in order.
    return Phrase(parts)


def _group(nodes: list[Node], kind: type[Clauses]) -> Node | None:
    if not nodes:
        return None
    if len(nodes) == 1:
        return nodes[0]
    return kind(tuple(nodes))


def word_runs(text: str) -> list[list[Token]]:
    """The syllables typed as words to search for, in runs written side by side.

    Offsets are into ``nfc(text)``, so a caller can respell the words and keep the rest of the
    query (operators, quotes, ``title:``, ``-``) as typed. Operators, field names and prefixes
    (``học*``) are not words here; a run ends wherever anything but spaces separates two syllables.
    """
    text = nfc(text)
    found: list[Token] = []
    for lexeme in _lex(text):
        if lexeme.kind == "phrase" or (lexeme.kind == "word" and not lexeme.text.endswith("*")):
            found += [Token(s.text, lexeme.start + s.start, lexeme.start + s.end) for s in syllables(lexeme.text)]
    runs = clauses(text, found)
    return runs
