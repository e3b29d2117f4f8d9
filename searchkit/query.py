"""Query syntax: parsing what a person types into a small tree, forgivingly.

Supported: words (AND by default for short queries), ``OR``, ``AND``, ``NOT``/``-word``, ``"phrase"``,
``"phrase"~N`` (words within N positions), ``title:word`` or ``title:"phrase"``, parentheses and a trailing ``*``
for a prefix. Nothing here raises on bad syntax: an unbalanced quote runs to the end, a missing parenthesis is
closed, a lone operator or an empty field is dropped. Only a query left with no word at all is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from searchkit.analysis import Token, nfc, side_by_side, syllables
from searchkit.errors import QueryError

MAX_QUERY_CHARS = 1000
FIELDS = ("title",)


@dataclass(frozen=True)
class Term:
    """One syllable as typed; ``prefix`` when it ended in ``*``."""

    text: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    """Syllables that must appear in order, at most ``slop`` positions apart."""

    words: tuple[str, ...]
    slop: int = 0


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class Field:
    """A clause restricted to one field (``title:``)."""

    name: str
    node: Node


@dataclass(frozen=True)
class All:
    """Every clause must match (explicit ``AND``)."""

    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Any:
    """At least one clause must match (``OR``)."""

    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Group:
    """Clauses written side by side: the default operator decides (see :func:`default_is_and`)."""

    nodes: tuple[Node, ...]


Node = Term | Phrase | Not | Field | All | Any | Group

_TOKEN = re.compile(
    r"""
    (?P<phrase>"(?P<ptext>[^"]*)(?:"|$)(?:~(?P<slop>\d+))?)
  | (?P<open>\()
  | (?P<close>\))
  | (?P<field>(?P<fname>[A-Za-z]+):)
  | (?P<word>[^\s()"]+)
    """,
    re.VERBOSE,
)
_OPERATORS = ("AND", "OR", "NOT")


def parse(text: str) -> Node:
    """The query tree for ``text``; raises :class:`QueryError` when there is nothing to search for."""
    text = nfc(text).strip()
    if not text:
        raise QueryError("the query is empty", code="query_empty")
    if len(text) > MAX_QUERY_CHARS:
        raise too_long(len(text))
    tree = _Parser(_lex(text)).parse()
    if tree is None or not positive_terms(tree):
        # Operators or punctuation only ("AND", "-", "title:"): search the words themselves if there are any.
        plain = tuple(Term(s.text) for s in syllables(text))
        if not plain:
            raise QueryError("the query has no word to search for", code="query_no_word")
        if tree is not None and not positive_terms(Group(plain)) - _negated(tree):
            raise QueryError("the query only excludes words; add a word to search for", code="query_only_excludes")
        tree = Group(plain) if len(plain) > 1 else plain[0]
    return tree


def too_long(length: int) -> QueryError:
    return QueryError(
        f"the query is too long ({length} characters; at most {MAX_QUERY_CHARS})",
        code="query_too_long",
        length=length,
        limit=MAX_QUERY_CHARS,
    )


def _lex(text: str) -> list[tuple[str, str | tuple]]:
    tokens: list[tuple[str, str | tuple]] = []
    for m in _TOKEN.finditer(text):
        if m.group("phrase") is not None:
            tokens.append(("phrase", (m.group("ptext"), int(m.group("slop") or 0))))
        elif m.group("open"):
            tokens.append(("open", "("))
        elif m.group("close"):
            tokens.append(("close", ")"))
        elif m.group("field") and m.group("fname").lower() in FIELDS:
            tokens.append(("field", m.group("fname").lower()))
        else:
            word = m.group(0)
            if word in _OPERATORS:
                tokens.append(("op", word))
            elif word.startswith("-") and len(word) > 1:
                tokens.append(("op", "NOT"))
                tokens.append(("word", word[1:]))
            else:
                tokens.append(("word", word))
    return tokens


class _Parser:
    """Recursive descent over the lexed tokens; every rule returns ``None`` rather than failing."""

    def __init__(self, tokens: list[tuple[str, str | tuple]]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str | tuple] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

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
        while self.peek() == ("op", "OR"):
            self.i += 1
            nodes.append(self.parse_and())
        return _group([n for n in nodes if n is not None], Any)

    def parse_and(self) -> Node | None:
        nodes: list[Node] = []
        explicit = False
        while (tok := self.peek()) is not None and tok[0] != "close" and tok != ("op", "OR"):
            if tok == ("op", "AND"):
                self.i += 1
                explicit = True
                continue
            node = self.parse_unary()
            if node is not None:
                nodes.append(node)
        return _group(nodes, All if explicit else Group)

    def parse_unary(self) -> Node | None:
        tok = self.peek()
        if tok == ("op", "NOT"):
            self.i += 1
            node = self.parse_unary()
            return Not(node) if node is not None else None
        return self.parse_primary()

    def parse_primary(self) -> Node | None:
        tok = self.peek()
        if tok is None:
            return None
        kind, value = tok
        self.i += 1
        if kind == "open":
            node = self.parse_or()
            if self.peek() is not None and self.peek()[0] == "close":
                self.i += 1
            return node
        if kind == "field":
            following = self.peek()
            if following is None or following[0] not in ("word", "phrase", "open"):
                return None
            node = self.parse_primary()
            return Field(value, node) if node is not None else None
        if kind == "phrase":
            ptext, slop = value
            words = tuple(s.text for s in syllables(ptext))
            if not words:
                return None
            return Phrase(words, slop) if len(words) > 1 else Term(words[0])
        if kind == "word":
            return _word(value)
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


def _group(nodes: list[Node], kind: type) -> Node | None:
    if not nodes:
        return None
    if len(nodes) == 1:
        return nodes[0]
    return kind(tuple(nodes))


def positive_terms(node: Node) -> set[str]:
    """The syllables (as typed) the query looks for, outside any ``NOT``: what snippets mark."""
    if isinstance(node, Term):
        return {node.text}
    if isinstance(node, Phrase):
        return set(node.words)
    if isinstance(node, Not):
        return set()
    if isinstance(node, Field):
        return positive_terms(node.node)
    return set().union(*(positive_terms(n) for n in node.nodes))


def prefixes(node: Node) -> set[str]:
    """The prefixes (``học*``) the query looks for outside any ``NOT``."""
    if isinstance(node, Term):
        return {node.text} if node.prefix else set()
    if isinstance(node, Field):
        return prefixes(node.node)
    if isinstance(node, (All, Any, Group)):
        return set().union(*(prefixes(n) for n in node.nodes))
    return set()


def _negated(node: Node) -> set[str]:
    if isinstance(node, Not):
        return positive_terms(node.node)
    if isinstance(node, Field):
        return _negated(node.node)
    if isinstance(node, (All, Any, Group)):
        return set().union(*(_negated(n) for n in node.nodes))
    return set()


def term_count(node: Node) -> int:
    """How many syllables the query searches for, counting repeats: short queries are keyword queries."""
    if isinstance(node, Term):
        return 1
    if isinstance(node, Phrase):
        return len(node.words)
    if isinstance(node, (Not, Field)):
        return term_count(node.node)
    return sum(term_count(n) for n in node.nodes)


def word_runs(text: str) -> list[list[Token]]:
    """The syllables typed as words to search for, in runs written side by side.

    Offsets are into ``nfc(text)``, so a caller can respell the words and keep the rest of the
    query (operators, quotes, ``title:``, ``-``) as typed. Operators, field names and prefixes
    (``học*``) are not words here; a run ends wherever anything but spaces separates two syllables.
    """
    text = nfc(text)
    found: list[Token] = []
    for m in _TOKEN.finditer(text):
        if m.group("phrase") is not None:
            start, part = m.start("ptext"), m.group("ptext")
        elif m.group("word") or (m.group("field") and m.group("fname").lower() not in FIELDS):
            start, part = m.start(), m.group()
            if part in _OPERATORS or part.endswith("*"):
                continue
        else:
            continue
        found += [Token(s.text, start + s.start, start + s.end) for s in syllables(part)]
    runs: list[list[Token]] = []
    for token in found:
        if runs and side_by_side(text, runs[-1][-1], token):
            runs[-1].append(token)
        else:
            runs.append([token])
    return runs
