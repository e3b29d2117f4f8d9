"""The compiled query (:mod:`searchkit.engines.compiled`) in Xapian's operators, one registration per node type.

Each field's terms are written under its prefix (:mod:`searchkit.engines.xapian.terms`). Xapian
weighs the result with BM25 over every shard's statistics at once, on the client.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch

from searchkit.engines import compiled as cq
from searchkit.engines.compiled import prefix_budget
from searchkit.engines.xapian.connection import xapian
from searchkit.engines.xapian.terms import MAX_TERM_BYTES, PREFIX


def to_xapian(query: cq.Node, scale: Callable[[str], float] | None = None):  # noqa: ANN201
    """``query`` as a Xapian query, its prefixes sharing the query's budget of words; ``scale`` (a
    term's factor) reweighs each term, and each phrase as the sum of its terms."""
    return _translated(query, _Writing(xapian().Query, prefix_budget(query), scale))


class _Writing:
    """What translating a node depends on besides the node: Xapian's ``Query`` class, each prefix's
    words, each term's factor."""

    def __init__(self, query_class, per_prefix: int, scale: Callable[[str], float] | None):  # noqa: ANN001
        self.Query = query_class
        self.per_prefix = per_prefix
        self.scale = scale

    def term(self, text: str):  # noqa: ANN201
        found = term(self.Query, text)
        return _scaled(found, self.scale(text), self.Query) if self.scale is not None else found


@singledispatch
def _translated(query: cq.Node, w: _Writing):  # noqa: ANN202
    raise TypeError(f"no Xapian query for a {type(query).__name__} node")


@_translated.register
def _term_node(query: cq.Term, w: _Writing):  # noqa: ANN202
    return _scaled(w.term(PREFIX[query.field] + query.text), query.boost, w.Query)


@_translated.register
def _phrase(query: cq.Phrase, w: _Writing):  # noqa: ANN202
    Query = w.Query
    texts = [PREFIX[query.field] + word for word in query.words]
    words = [term(Query, text) for text in texts]
    # Each word within ``slop`` positions of the last: the whole phrase spans at most this window.
    window = len(words) + (max(query.slop, 1) - 1) * (len(words) - 1)
    phrase = Query(Query.OP_PHRASE, words, window)
    if w.scale is not None:
        # Weighed as the sum of its terms, each reweighed (a phrase takes no weighed subqueries).
        phrase = Query(Query.OP_FILTER, Query(Query.OP_AND, [w.term(text) for text in texts]), phrase)
    return _scaled(phrase, query.boost, Query)


@_translated.register
def _spelt_phrase(query: cq.SpeltPhrase, w: _Writing):  # noqa: ANN202
    # The exact-accent terms keep no positions: the folded phrase, in an article that also spells
    # each of its words as asked somewhere in the same field (and anywhere in it, for a phrase
    # asked at the field's start).
    Query = w.Query
    phrase = _phrase(cq.Phrase(query.field, query.words, slop=1), w)
    spelt = [term(Query, PREFIX[query.exact_field] + form) for form in query.spelt if form]
    return Query(Query.OP_FILTER, phrase, Query(Query.OP_AND, spelt)) if spelt else phrase


@_translated.register
def _prefix(query: cq.Prefix, w: _Writing):  # noqa: ANN202
    Query = w.Query
    pattern = PREFIX[query.field] + query.text
    wildcard = Query(Query.OP_WILDCARD, pattern, w.per_prefix, Query.WILDCARD_LIMIT_MOST_FREQUENT)
    return _scaled(wildcard, query.boost, Query)


@_translated.register
def _and_maybe(query: cq.AndMaybe, w: _Writing):  # noqa: ANN202
    # Not OP_AND_MAYBE: with phrases among its optional clauses, the shard servers (Xapian 1.4.22)
    # weigh some documents whose phrases do not match as if they did. The optional clauses,
    # restricted to the required ones' documents, add the same scores and match correctly.
    Query = w.Query
    required = _translated(query.required, w)
    optional = Query(Query.OP_FILTER, _translated(query.optional, w), required)
    return Query(Query.OP_OR, required, optional)


@_translated.register
def _and_not(query: cq.AndNot, w: _Writing):  # noqa: ANN202
    return w.Query(w.Query.OP_AND_NOT, _translated(query.positive, w), _translated(query.negative, w))


@_translated.register
def _not(query: cq.Not, w: _Writing):  # noqa: ANN202
    Query = w.Query
    left_out = Query(Query.OP_AND_NOT, Query.MatchAll, _translated(query.node, w))
    return Query(Query.OP_SCALE_WEIGHT, left_out, 0.0)


@_translated.register
def _and(query: cq.And, w: _Writing):  # noqa: ANN202
    parts = [_translated(sub, w) for sub in query.parts]
    return _scaled(w.Query(w.Query.OP_AND, parts), query.boost, w.Query)


@_translated.register
def _or(query: cq.Or, w: _Writing):  # noqa: ANN202
    parts = [_translated(sub, w) for sub in query.parts]
    return _scaled(w.Query(w.Query.OP_OR, parts), query.boost, w.Query)


@_translated.register
def _nothing(query: cq.Nothing, w: _Writing):  # noqa: ANN202
    return w.Query.MatchNothing


def term(Query, text: str):  # noqa: ANN001, ANN201, N803
    """One term; a term longer than Xapian allows is in no document."""
    return Query(text) if len(text.encode("utf-8")) <= MAX_TERM_BYTES else Query.MatchNothing


def _scaled(query, boost: float, Query):  # noqa: ANN001, ANN202, N803
    return query if boost == 1.0 else Query(Query.OP_SCALE_WEIGHT, query, boost)
