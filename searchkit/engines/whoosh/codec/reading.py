"""Reading what Whoosh's reader keeps private: the packed columns (:func:`packed_ints`,
:func:`packed_bytes`) and the posting blocks and field lengths the executor scores as arrays
(:func:`raw_blocks`, :func:`length_codes`, :func:`field_b`).

Apart from :mod:`.writing`, so that a query never imports Whoosh's writer.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate

import numpy as np
from whoosh import columns as whoosh_columns
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield


def packed_ints(column: object, count: int) -> np.ndarray | None:
    """``count`` values of a segment's column of 32-bit integers in one read (the documents after
    the last one given a value read as the default); None for another kind of column."""
    if not (isinstance(column, whoosh_columns.NumericColumn.Reader) and column._typecode == "i"):
        return None
    values = np.full(count, column._default, dtype=np.int32)
    written = min(column._count, count)
    values[:written] = np.frombuffer(column._dbfile.get(column._basepos, written * 4), dtype=">i4")
    return values


def packed_bytes(column: object) -> list[bytes] | None:
    """Every value of a variable-length bytes column, read in one piece and cut (several times faster
    than Whoosh reading each on its own); None for another kind of column."""
    if not isinstance(column, whoosh_columns.VarBytesColumn.Reader):
        return None
    lengths = list(column._lengths)
    data = column._dbfile.get(column._basepos, sum(lengths))
    return [data[end - length : end] for end, length in zip(accumulate(lengths), lengths, strict=True)]


def field_b(weighting: object, fieldname: str) -> float:
    """BM25F's length normalisation for ``fieldname``, as Whoosh's ``BM25F`` weighting applies it."""
    return weighting._field_B.get(fieldname, weighting.B)


def has_lengths(reader: object) -> bool:
    """Whether a segment's reader keeps the field lengths that :func:`length_codes` reads."""
    return hasattr(reader, "_perdoc")


def length_codes(reader: object, fieldname: str) -> np.ndarray:
    """Every document's length of ``fieldname`` in one segment, as the byte Whoosh stores."""
    column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    count = reader.doc_count_all()
    if not column:
        return np.zeros(count, dtype=np.int64)
    return np.fromiter((column[n] for n in range(count)), dtype=np.int64, count=count)


def raw_blocks(reader: object, fieldname: str, text: str) -> Iterator[tuple[np.ndarray, tuple]] | None:
    """A term's posting blocks in one segment: each block's document numbers and raw (ids, weights,
    values), deleted documents included; None if the codec is not Whoosh 3's.

    Blocks are read whole, from the term's first posting: a matcher that skips deleted documents
    may already have moved on. Inlined postings (see above) are one block, which Whoosh's reader
    hands over as a list matcher.
    """
    terms = getattr(reader, "_terms", None)
    if terms is None:
        return None
    leaf = terms.matcher(fieldname, reader._text_to_bytes(fieldname, text), reader.schema[fieldname].format)
    kind = type(leaf).__name__
    if kind == "ListMatcher":
        return iter([(np.asarray(leaf._ids, dtype=np.int64), (leaf._ids, leaf._weights, leaf._values))])
    return _blocks(leaf) if kind == "W3LeafMatcher" else None


def _blocks(leaf: object) -> Iterator[tuple[np.ndarray, tuple]]:
    while leaf.is_active():
        leaf._read_data()
        raw = np.asarray(leaf._data[0], dtype=np.int64)
        # Whoosh stores a block's ids as deltas unless they fit in bytes as they are.
        yield (raw if leaf._byteids else np.cumsum(raw)), leaf._data
        leaf._next_block()
