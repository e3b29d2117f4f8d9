"""Reading the article metadata of a Whoosh index into :class:`searchkit.engines.columns.Columns`.

The columns of every segment (``fields.DAY``, ``SOURCE`` and ``TAGS``) are read whole once per
searcher, a segment's packed values in one read where Whoosh would make one call per document
(``codec.reading``: Whoosh's private names stay there).
"""

from __future__ import annotations

import numpy as np
from whoosh.reading import IndexReader

from searchkit.engines import fields as f
from searchkit.engines.columns import Columns
from searchkit.engines.whoosh.codec import reading as codec


def read_columns(reader: IndexReader) -> Columns:
    """The metadata of every document of the open index ``reader``."""
    size = reader.doc_count_all()
    days = np.zeros(size, dtype=np.int32)
    live = np.ones(size, dtype=bool)
    sources, tags = _Distinct(size), _Distinct(size)
    for leaf, offset in reader.leaf_readers():
        count = leaf.doc_count_all()
        days[offset : offset + count] = _numbers(leaf, f.DAY, count)
        if leaf.has_deletions():
            live[offset + np.fromiter(leaf.deleted_docs_set, dtype=np.int64)] = False
        sources.add(leaf, f.SOURCE, offset, count)
        tags.add(leaf, f.TAGS, offset, count)
    return Columns(days, live, (sources.texts, sources.of_doc), (tags.texts, tags.of_doc))


def _numbers(leaf: IndexReader, name: str, count: int) -> np.ndarray:
    """A segment's integer column, ``count`` values."""
    column = leaf.column_reader(name, translate=False)
    values = codec.packed_ints(column, count)  # one read of the packed values, not one call per document
    if values is not None:
        return values
    return np.fromiter((int(value) for value in column), dtype=np.int32, count=count)


class _Distinct:
    """A text column of a whole index as its distinct texts and, per document, which it holds."""

    def __init__(self, size: int):
        self.texts: list[str] = []
        self.of_doc = np.zeros(size, dtype=np.int64)
        self._numbers: dict[str, int] = {}

    def add(self, leaf: IndexReader, name: str, offset: int, count: int) -> None:
        column = leaf.column_reader(name, translate=False)
        raw = codec.packed_bytes(column)
        if raw is None:
            raw = list(column)
        local = {value: number for number, value in enumerate(dict.fromkeys(raw))}
        of_doc = np.array([local[value] for value in raw], dtype=np.int64)
        numbers = [self._numbers.setdefault(value.decode("utf-8"), len(self._numbers)) for value in local]
        self.texts = list(self._numbers)
        self.of_doc[offset : offset + count] = np.asarray(numbers, dtype=np.int64)[of_doc]
