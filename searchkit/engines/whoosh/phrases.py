"""Checking phrases in positions: which of some candidate articles hold a phrase's words in order.

A phrase is checked only among candidates (the best matches being re-ranked, the articles holding
all its words): each word's positions are read for those candidates alone
(:meth:`searchkit.engines.whoosh.postings.Postings.positions`), then each candidate's lists are
walked in Python (:func:`searchkit.engines.whoosh.matches.ends_in_order`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from whoosh.searching import Searcher as WhooshSearcher

from searchkit.engines import compiled as cq
from searchkit.engines.whoosh.matches import EMPTY, Matches, ends_in_order
from searchkit.engines.whoosh.postings import Postings

# How many candidates a phrase is checked in between two looks at the clock.
PHRASE_BATCH = 256


def phrase_within(
    searcher: WhooshSearcher,
    postings: Postings,
    query: cq.Phrase,
    candidates: np.ndarray,
    starts: dict[int, set[int]] | None = None,
    check_time: Callable[[], None] = lambda: None,
) -> Matches:
    """The candidates holding the phrase's words in order, each within ``slop`` of the last; where each
    match begins is noted in ``starts`` (for a phrase of adjacent words: the spelling checks of tiers).
    ``check_time`` is called every :data:`PHRASE_BATCH` candidates (it raises once the query's time is up).

    A match scores the sum of its words' BM25F scores, as Whoosh's phrase matcher does.
    """
    fieldname, words, slop = query.field, list(query.words), max(query.slop, 1)
    found: list[int] = []
    for sub, offset in searcher.subsearchers or [(searcher, 0)]:
        local = candidates[(candidates >= offset) & (candidates < offset + sub.doc_count_all())] - offset
        read = []
        for word in words:
            if not len(local):
                break
            read.append(postings.positions(sub.reader(), fieldname, word, local))
            if read[-1] is None:
                break
            local = np.intersect1d(local, read[-1][0], assume_unique=True)
        if not len(local) or len(read) < len(words) or read[-1] is None:
            continue
        # Where each candidate is in each word's postings, found for all candidates at once.
        where = [(values(np.searchsorted(ids, local)), decode) for ids, values, decode in read]
        for n, doc in enumerate(local.tolist()):
            if not n % PHRASE_BATCH:
                check_time()
            ends = ends_in_order([decode(encoded[n]) for encoded, decode in where], slop)
            if ends:
                found.append(offset + doc)
                if starts is not None and slop == 1:
                    starts[offset + doc] = {end - len(words) + 1 for end in ends}
    if not found:
        return EMPTY
    docs = np.asarray(found, dtype=np.int64)
    total = np.zeros(len(docs))
    for word in words:
        term = postings.term_among(fieldname, word, docs)
        at = np.searchsorted(term.ids, docs)
        at[at == len(term.ids)] = 0
        total += np.where(term.ids[at] == docs, term.scores[at], 0.0)
    return Matches(docs, total * query.boost)
