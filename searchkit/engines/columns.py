"""Article metadata as arrays over an engine's document numbers: filters are masks, facets counts.

An engine reads the day, source and tags of every document once per version it opens (Whoosh
from its columns, ``searchkit.engines.whoosh.columns``; Xapian from its documents' data) and hands
them over as arrays here, so a filter over thousands of matches costs a few array operations, and
facets are counted by the same code on either engine. Sources and tags become small integer codes,
one per :func:`~searchkit.engines.filters.value_key`, so "Tuổi Trẻ" and "tuoi tre" are one value; a
facet shows each value as most of the index's articles spell it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from searchkit.engines import fields as f
from searchkit.engines.filters import FACET_VALUES, NEWEST, Facets, FacetValue, Filters, value_key
from searchkit.text.analysis import has_marks
from searchkit.text.dates import day_number


class Values:
    """A text column as codes: document ``docs[i]`` holds the value ``names[codes[i]]`` (a document
    holds one source or none, and any number of tags), values matched by ``keys``."""

    def __init__(self, docs: np.ndarray, codes: np.ndarray, names: list[str], keys: dict[str, int]):
        self.docs = docs
        self.codes = codes
        self.names = names
        self.keys = keys
        # Each value's place in the order of its key: ties between counts are listed in it.
        self.rank = np.argsort(np.argsort(np.array(list(keys), dtype=object))) if keys else np.zeros(0, np.int64)

    @classmethod
    def read(cls, texts: list[str], of_doc: np.ndarray, live: np.ndarray, separator: str | None = None) -> Values:
        """The values of documents whose column holds ``texts[of_doc[doc]]`` (split at ``separator``).

        Each distinct text is looked at once, however many documents hold it; the rest is arrays.
        """
        keys: dict[str, int] = {}
        spellings: list[Counter[str]] = []
        held: list[list[int]] = []
        readers = np.bincount(of_doc[live], minlength=len(texts)).tolist()
        # Tags recur in many combinations: each spelling is folded once.
        code_of: dict[str, int | None] = {}
        for number, text in enumerate(texts):
            codes = []
            for value in text.split(separator) if separator else [text]:
                if value not in code_of:
                    key = value_key(value)
                    if key and key not in keys:
                        keys[key] = len(keys)
                        spellings.append(Counter())
                    code_of[value] = keys[key] if key else None
                code = code_of[value]
                if code is not None:
                    codes.append(code)
                    spellings[code][value] += readers[number]
            held.append(codes)
        # Document d holds `held[of_doc[d]]`: laid out flat, one entry per (document, value).
        lengths = np.array([len(codes) for codes in held], dtype=np.int64)
        starts = np.cumsum(lengths) - lengths
        flat = np.array([code for codes in held for code in codes], dtype=np.int64)
        per_doc = lengths[of_doc]
        docs = np.repeat(np.arange(len(of_doc), dtype=np.int64), per_doc)
        within = np.arange(len(docs), dtype=np.int64) - np.repeat(np.cumsum(per_doc) - per_doc, per_doc)
        codes = flat[np.repeat(starts[of_doc], per_doc) + within] if len(docs) else flat
        # The spelling most live articles use; between as many, one with accents ("Tuổi Trẻ", not
        # "Tuoi Tre"), then the first in code point order, so that every run shows the same.
        names = [min(c.items(), key=lambda item: (-item[1], not has_marks(item[0]), item[0]))[0] for c in spellings]
        return cls(docs, codes, names, keys)

    def holders(self, wanted: tuple[str, ...], size: int) -> np.ndarray:
        """Which documents (a mask of ``size``) hold any of the ``wanted`` values."""
        codes = [self.keys[key] for key in map(value_key, wanted) if key in self.keys]
        mask = np.zeros(size, dtype=bool)
        if codes:
            mask[self.docs[np.isin(self.codes, codes)]] = True
        return mask

    def counts(self, chosen: np.ndarray) -> list[FacetValue]:
        """How many of the ``chosen`` documents (a mask) hold each value, most first."""
        tally = np.bincount(self.codes[chosen[self.docs]], minlength=len(self.names))
        return _most_frequent(tally, self.names, self.rank)


class Columns:
    """The metadata of every document of one open index, as arrays indexed by document number.

    ``days[doc]`` is the day (yyyymmdd, ``fields.NO_DAY`` for none); ``live`` marks the documents
    not deleted; the sources and tags are each given as distinct texts and, per document, which
    of them it holds (tags: one text of lines).
    """

    def __init__(
        self,
        days: np.ndarray,
        live: np.ndarray,
        sources: tuple[list[str], np.ndarray],
        tags: tuple[list[str], np.ndarray],
    ):
        self.size = len(days)
        self.days = days
        self.sources = Values.read(sources[0], sources[1], live)
        self.tags = Values.read(tags[0], tags[1], live, f.TAG_SEPARATOR)

    def narrow(self, ids: np.ndarray, filters: Filters, *, facets: bool) -> tuple[np.ndarray, Facets | None]:
        """Which of the matches ``ids`` pass the ``filters`` (a mask), and, with ``facets``, the counts
        of sources, tags and years over them, each under the other filters."""
        everything = np.ones(len(ids), dtype=bool)
        dated = everything
        if filters.dated:
            days = self.days[ids]
            dated = days != f.NO_DAY
            if filters.since:
                dated &= days >= day_number(filters.since)
            if filters.until:
                dated &= days <= day_number(filters.until)
        sourced = everything
        if filters.sources:
            sourced = self.sources.holders(filters.sources, self.size)[ids]
        tagged = everything
        if filters.tags:
            tagged = self.tags.holders(filters.tags, self.size)[ids]
        kept = dated & sourced & tagged
        if not facets:
            return kept, None
        return kept, Facets(
            source=self.sources.counts(self._chosen(ids, dated & tagged)),
            tags=self.tags.counts(self._chosen(ids, dated & sourced)),
            year=self._years(ids[sourced & tagged]),
        )

    def by_date(self, ids: np.ndarray, scores: np.ndarray, count: int, sort: str) -> np.ndarray:
        """Positions in ``ids`` of the ``count`` first matches in date order (``NEWEST`` or oldest
        first), the undated last; the same day by score, then by document order."""
        days = self.days[ids].astype(np.int64)
        undated = days == f.NO_DAY
        order = np.lexsort((ids, -scores, -days if sort == NEWEST else days, undated))
        return order[:count]

    def _chosen(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        chosen = np.zeros(self.size, dtype=bool)
        chosen[ids[mask]] = True
        return chosen

    def _years(self, ids: np.ndarray) -> list[FacetValue]:
        days = self.days[ids]
        years, counts = np.unique(days[days != f.NO_DAY] // 10000, return_counts=True)
        # Ties: the later year first.
        return _most_frequent(counts, [int(year) for year in years], -years)


def _most_frequent(counts: np.ndarray, names: list, rank: np.ndarray) -> list[FacetValue]:
    """The :data:`FACET_VALUES` values counted most often; ties in the order of ``rank``."""
    found = np.flatnonzero(counts)
    best = found[np.lexsort((rank[found], -counts[found]))][:FACET_VALUES]
    return [FacetValue(names[code], int(counts[code])) for code in best.tolist()]


def _most_frequent(counts: np.ndarray, names: list, rank: np.ndarray) -> list[FacetValue]:
    """The :data:`FACET_VALUES` values counted most often; ties in the order of ``rank``."""
    found = np.flatnonzero(counts)
    best = found[np.lexsort((rank[found], -counts[found]))][:FACET_VALUES]
    return [FacetValue(names[code], int(counts[code])) for code in best.tolist()]
