"""Reading what Whoosh's reader keeps private: the packed columns (:func:`packed_ints`,
:func:`packed_bytes`) and the posting blocks and field lengths the executor scores as arrays
(:func:`posting_blocks`, :func:`length_codes`, :func:`field_b`).

Apart from :mod:`.writing`, so that a query never imports Whoosh's writer.
"""

from __future__ import annotations

import io
import pickle
import struct
import zlib
from itertools import accumulate
from typing import NamedTuple

import numpy as np
from whoosh import columns as whoosh_columns
from whoosh import formats as whoosh_formats
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, WHOOSH3_HEADER_MAGIC, _lenfield
from whoosh.compat import loads as whoosh_loads

# A block's length, as Whoosh's structfile writes an int.
_INT = struct.Struct("!i")
# What Whoosh's ``Positions`` format writes around every posting's position deltas: their count (four
# bytes, which its decoder skips), the opening of a protocol 2 pickle of a list (its memo included), and
# the pickle's stop. A cached block keeps only what lies between, ten bytes a posting less (a common
# syllable's postings hold one or two positions, some fifteen bytes as Whoosh writes them).
_POSITIONS_HEAD = b"\x80\x02]q\x00"
_POSITIONS_SKIP = 4 + len(_POSITIONS_HEAD)


def packed_ints(column: object, count: int) -> np.ndarray | None:
    """``count`` values of a segment's column of 32-bit integers in one read (the documents after
    the last one given a value read as the default); None for another kind of column."""
    return _packed_numbers(column, count, "i")


def _packed_numbers(column: object, count: int, typecode: str) -> np.ndarray | None:
    """``count`` values of a numeric column of ``typecode`` (a struct code), as Whoosh's reader gives them
    one at a time: big-endian, the default after the last value written; None for another kind of column."""
    if not (isinstance(column, whoosh_columns.NumericColumn.Reader) and column._typecode == typecode):
        return None
    stored = np.dtype(">" + typecode)
    values = np.full(count, column._default, dtype=stored.newbyteorder("="))
    written = min(column._count, count)
    values[:written] = np.frombuffer(column._dbfile.get(column._basepos, written * stored.itemsize), dtype=stored)
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
    """Every document's length of ``fieldname`` in one segment, as the byte Whoosh stores, in one read
    (a cold query on 35,425 articles spent a third of its time reading them a byte at a time)."""
    column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    count = reader.doc_count_all()
    if not column:
        return np.zeros(count, dtype=np.uint8)
    codes = _packed_numbers(column, count, "B")
    if codes is None:  # not the one-byte column Whoosh 3 writes: as Whoosh reads it
        codes = np.fromiter((column[n] for n in range(count)), dtype=np.uint8, count=count)
    return codes


def strips_positions(fmt: object) -> bool:
    """Whether the blocks of a field of format ``fmt`` keep their positions without what Whoosh writes
    around each posting's (:func:`decode_positions` reads them); otherwise they keep Whoosh's encoding."""
    return type(fmt) is whoosh_formats.Positions


def positions_decoder(fmt: object):  # noqa: ANN201 - a function of one posting's encoded positions
    """What reads one posting's positions as a block of a field of format ``fmt`` keeps them."""
    return decode_positions if strips_positions(fmt) else fmt.decoder("positions")


def decode_positions(kept: bytes) -> list[int]:
    """A posting's positions from what a block keeps of Whoosh's ``Positions`` encoding: what
    ``Positions.decode_positions`` reads from the whole value (the deltas' pickle, added up)."""
    return list(accumulate(whoosh_loads(_POSITIONS_HEAD + kept + b".")))


class Block(NamedTuple):
    """One posting block, decoded: its documents (sorted segment numbers, :func:`compact_ids`), their term
    frequencies (:func:`compact_frequencies`) and, in a field keeping them, their encoded positions (posting
    ``n``'s are ``data[offsets[n]:offsets[n + 1]]``, without Whoosh's wrapping where :func:`strips_positions`).
    A tuple of arrays, so that a cache sizes it by its parts."""

    ids: np.ndarray
    weights: np.ndarray
    data: bytes | None
    offsets: np.ndarray | None


# One row a posting block of a term's directory, in the order :func:`block_headers` gives them.
_HEADER = np.dtype([("begins", np.int64), ("ends", np.int64), ("compressed", np.bool_), ("counts", np.int64),
                    ("last_ids", np.int64), ("max_weights", np.float64)])  # fmt: skip


class BlockDirectory(NamedTuple):
    """What the headers of a term's posting blocks in one segment say: where each block's postings
    begin and end in the postings file (-1: inlined in the term's entry, one block), whether they are
    compressed, how many there are, the block's last document and greatest weight. One record array,
    valid for every reader of the segment: most terms have one block, and six arrays of one number
    each held 600 bytes more (by tracemalloc) than one record of six fields."""

    rows: np.ndarray

    @classmethod
    def of(cls, headers: list[tuple[int, int, bool, int, int, float]]) -> BlockDirectory:
        return cls(np.array(headers, dtype=_HEADER))

    @property
    def begins(self) -> np.ndarray:
        return self.rows["begins"]

    @property
    def ends(self) -> np.ndarray:
        return self.rows["ends"]

    @property
    def compressed(self) -> np.ndarray:
        return self.rows["compressed"]

    @property
    def counts(self) -> np.ndarray:
        return self.rows["counts"]

    @property
    def last_ids(self) -> np.ndarray:
        return self.rows["last_ids"]

    @property
    def max_weights(self) -> np.ndarray:
        return self.rows["max_weights"]

    def __len__(self) -> int:
        return len(self.rows)

    def holding(self, ids: np.ndarray) -> np.ndarray:
        """The numbers of the blocks whose range of documents holds any of ``ids`` (sorted segment numbers)."""
        at = np.searchsorted(self.last_ids, ids)
        at = at[at < len(self.last_ids)]
        # Sorted ids fall in sorted blocks: each run's first (np.unique would import numpy.ma at the first query).
        first = np.ones(len(at), dtype=bool)
        first[1:] = at[1:] != at[:-1]
        return at[first]


class PostingBlocks:
    """A term's posting blocks in one segment as one reader reads them, a block at a time: the headers
    (:attr:`directory`) first, a block's postings only when asked for (:meth:`read`).

    Whoosh 3 keeps a block's documents, frequencies and positions in one compressed piece behind a
    small header; a query that needs only some documents reads only the blocks that may hold them.
    Not to be shared between threads (it reads through the reader's file).
    """

    def __init__(self, leaf: object, directory: BlockDirectory, strip: bool = False):
        self._leaf = leaf
        self.directory = directory
        self._strip = strip

    def __len__(self) -> int:
        return len(self.directory)

    def read(self, n: int) -> Block:
        """Block ``n``, read as Whoosh's ``W3LeafMatcher._read_data`` reads it (from where its header ends)."""
        leaf = self._leaf
        d = self.directory
        begin = int(d.begins[n])
        if begin < 0:  # inlined postings: the whole list is the block
            ids = compact_ids(np.asarray(leaf._ids, dtype=np.int64))
            return _block(ids, leaf._weights, leaf._values, len(ids), self._strip)
        data = leaf._postfile.get(begin, int(d.ends[n]) - begin)
        ids, weights, values = whoosh_loads(zlib.decompress(data) if d.compressed[n] else data)
        raw = np.asarray(ids, dtype=np.int64)
        # Whoosh stores a block's ids as deltas unless they fit in bytes as they are.
        ids = compact_ids(raw if leaf._byteids else np.cumsum(raw))
        return _block(ids, weights, values, int(d.counts[n]), self._strip)


# The largest numbers one, two and four bytes hold (np.iinfo costs microseconds a call, a block read asked twice).
_UINT8_MAX, _UINT16_MAX, _INT32_MAX = 2**8 - 1, 2**16 - 1, 2**31 - 1


def compact_ids(ids: np.ndarray) -> np.ndarray:
    """Sorted document numbers in two bytes each where the last fits (a segment, or an index, of up to
    65,536 documents), four where it fits there (short of 2**31), else as they are: what a cache keeps of
    a block's or a term's documents. Arithmetic with them needs :func:`full_ids` first (NumPy keeps
    ``uint16 + int`` in two bytes, and would wrap)."""
    last = int(ids[-1]) if len(ids) else 0
    if last <= _UINT16_MAX:
        return ids.astype(np.uint16)
    if last <= _INT32_MAX:
        return ids.astype(np.int32)
    return ids


def full_ids(ids: np.ndarray) -> np.ndarray:
    """Document numbers kept by :func:`compact_ids` in four bytes (eight past what four hold), as the
    executor computes with them; the same array where they are already."""
    return ids.astype(np.int32) if ids.dtype.itemsize < 4 else ids


def compact_frequencies(weights: np.ndarray) -> np.ndarray:
    """A block's term frequencies in one byte each (two where one is over 255), as Whoosh counts them in a
    field without boosts: whole numbers, read back as float64 by :func:`full_frequencies` to the same
    numbers; as they are where one is not a whole number (eight bytes each, as Whoosh's weights)."""
    if not len(weights):
        return weights
    top = weights.max()
    if not top <= _UINT16_MAX:
        return weights
    narrow = weights.astype(np.uint8 if top <= _UINT8_MAX else np.uint16)
    # A fraction, or a negative number (wrapped), reads back as another number.
    return narrow if (narrow == weights).all() else weights


def full_frequencies(frequencies: np.ndarray) -> np.ndarray:
    """Frequencies kept by :func:`compact_frequencies` as the float64 numbers BM25F computes with."""
    return frequencies.astype(np.float64, copy=False)


def _block(ids: np.ndarray, weights: object, values: object, count: int, strip: bool = False) -> Block:
    if weights is None or isinstance(weights, float):
        frequencies = compact_frequencies(np.full(1, weights or 1.0))
        frequencies = np.full(count, frequencies[0], dtype=frequencies.dtype)
    else:
        frequencies = compact_frequencies(np.asarray(weights, dtype=np.float64))
    if isinstance(values, (list, tuple)) and values and isinstance(values[0], bytes):
        if strip:
            values = _stripped(values)
        # Where each posting's positions end, four bytes each (a block's positions are far under 4 GB).
        offsets = np.zeros(len(values) + 1, dtype=np.uint32)
        np.cumsum(np.fromiter(map(len, values), dtype=np.uint32, count=len(values)), out=offsets[1:])
        return Block(ids, frequencies, b"".join(values), offsets)
    return Block(ids, frequencies, None, None)


def _stripped(values: list[bytes]) -> list[bytes]:
    """Each posting's positions without what Whoosh's ``Positions`` writes around every one.

    The pinned Whoosh's ``Positions.encode`` writes every value the same way, so a block's first and last
    are checked, not each (checking each took the stripping from 1 % to 6 % of 300 new queries' processor time)."""
    head = _POSITIONS_HEAD
    if not all(value.startswith(head, 4) and value.endswith(b".") for value in (values[0], values[-1])):
        raise ValueError("positions not encoded as Whoosh's Positions format writes them")
    skip = _POSITIONS_SKIP
    return [value[skip:-1] for value in values]


def posting_blocks(
    reader: object, fieldname: str, text: str, directory: BlockDirectory | None = None
) -> PostingBlocks | None:
    """The posting blocks of a term in one segment (deleted documents included), their headers read
    unless ``directory`` gives them; None if the term is not there or the codec is not Whoosh 3's."""
    terms = getattr(reader, "_terms", None)
    if terms is None or (fieldname, text) not in reader:
        return None
    fmt = reader.schema[fieldname].format
    leaf = terms.matcher(fieldname, reader._text_to_bytes(fieldname, text), fmt)
    strip = strips_positions(fmt)
    kind = type(leaf).__name__
    if kind == "ListMatcher":
        if directory is None:
            weight = max(leaf._weights) if leaf._weights else 1.0
            directory = BlockDirectory.of([(-1, -1, False, len(leaf._ids), leaf._ids[-1], weight)])
        return PostingBlocks(leaf, directory, strip)
    if kind != "W3LeafMatcher":
        return None
    if directory is None:
        directory = BlockDirectory.of(block_headers(leaf))
    return PostingBlocks(leaf, directory, strip)


def block_headers(leaf: object) -> list[tuple[int, int, bool, int, int, float]]:
    """Each posting block's (where its postings begin, where it ends, whether they are compressed, how many
    there are, its last document, its greatest weight), as Whoosh's ``W3LeafMatcher`` walks them.

    The term's postings are read in one piece and their headers unpickled from it: walking them through
    the matcher seeks and reads the file three times a block, which cost a new query about as much as
    decoding the blocks it then reads."""
    start, length = leaf._startoffset, leaf._length
    # Whoosh reads a term's length back as the 1-tuple struct's unpack gives.
    data = leaf._postfile.get(start, length[0] if isinstance(length, tuple) else length)
    buffer = io.BytesIO(data)
    position, rows = len(WHOOSH3_HEADER_MAGIC), []
    while True:
        (length,) = _INT.unpack_from(data, position)
        buffer.seek(position + _INT.size)
        count, last_id, max_weight, compression, _, _ = pickle.load(buffer)
        rows.append((start + buffer.tell(), start + position + _INT.size + abs(length), bool(compression), count,
                     last_id, max_weight))  # fmt: skip
        if length < 0:  # the last block's length is written negative
            return rows
        position += _INT.size + length
