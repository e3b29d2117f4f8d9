"""Writing a Whoosh segment of new articles without Whoosh's generic indexing machinery.

Whoosh's ``SegmentWriter.add_document`` analyses each field through token objects, puts every
posting in a pool as a tuple (pickled to temporary files and merged back once the pool passes its
memory limit), and at the end looks up each posting's field length in the column it has just
written. For this index that was two thirds of a build and most of its memory. The writer here
keeps Whoosh's files exactly as they are (the same bytes; ``tests/test_segments.py`` compares
them with Whoosh's own writer) and changes how it gets there:

- a syllable field's terms come from one pass over the text's syllables, folded or normalised
  through the cached functions of :mod:`searchkit.text.analysis` (the same terms the field's analyzer
  gives, checked in the test);
- postings are kept per term as compact arrays (document numbers, frequencies, positions), in
  document order, so nothing is sorted but the terms and nothing is written twice;
- field lengths are kept in arrays as the documents come, and the posting blocks are handed to
  Whoosh's block writer whole rather than one posting at a time;
- a term with few postings (most terms occur in one article) has them inlined in its entry of
  the term table, which Whoosh's reader supports (``W3TermInfo.set_inlined``) but its writer
  never does (its ``finish_postings`` calls a method that does not exist, ``set_inline``, so
  ``inlinelimit`` only works at its default of none): a posting block costs a header, a pickle
  and a zlib stream, about 100 bytes even for one posting;
- a block's data is pickled with protocol 5, not 2: protocol 2 writes each bytes value (a
  posting's positions) as a call to ``codecs.encode`` on a latin-1 string, which made the
  positional fields' blocks twice as large and six times as slow to unpickle. Whoosh's reader
  unpickles any protocol.

Written Whoosh's way (``inline=0, protocol=2``) the files are Whoosh's, byte for byte; written this
way, every term reads back the same through Whoosh's own reader. ``tests/test_segments.py``
checks both.

Fields the fast path does not know (other analyzers or formats) go through the field's own
``index`` method, so the writer stays correct for any schema.

The writer's private names (``SegmentWriter`` internals, ``W3PostingsWriter``'s block buffers, the
multi-segment commit :func:`commit_with_segments`) are this package's alone (see its ``__init__``).
"""

from __future__ import annotations

import pickle
import re
import zlib
from array import array
from collections import Counter
from collections.abc import Callable
from functools import partial

from whoosh import formats
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3TermInfo
from whoosh.system import pack_uint, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from searchkit.engines.whoosh.analyzers import exact_analyzer, folded_analyzer
from searchkit.text.analysis import fold_syllable, normalize_syllable, syllable_texts

# Whoosh's SpaceSeparatedTokenizer splits on this (whoosh.analysis.tokenizers).
_SPACE_SEPARATED = re.compile(r"[^ \t\r\n]+")

_POSITIONS, _FREQUENCY, _EXISTENCE = "positions", "frequency", "existence"
_KINDS = {formats.Positions: _POSITIONS, formats.Frequency: _FREQUENCY, formats.Existence: _EXISTENCE}

# Terms with at most this many postings in a segment keep them in the term table.
INLINE_POSTINGS = 4
# zlib's level for the posting blocks (Whoosh's codec defaults to 3). Whoosh's reader decompresses
# any level as fast; 6 makes the postings of the news corpus about 5 % smaller for some 10 s more
# of a full build's processor time.
COMPRESSION = 6
# The pickle protocol of posting blocks and inlined postings (Whoosh's writer uses 2).
PROTOCOL = 5
# Postings a block (Whoosh's codec writes 128). A new query reads a common syllable's postings whole, and
# each block costs some 60 microseconds of Python besides its decoding: over 10,000 news articles, 2,048 a
# block took a new query's processor time 0.87x and its p95 0.90x (300 queries, four indexes in lockstep;
# 512: 0.94x and 0.99x, 1,024: 0.92x and 0.93x), the index 0.93x, and a server after 3,000 distinct queries
# 262 MB against 290 (its cache 92 MB against 101) in 0.81x the time. A read among a few documents decodes
# more postings a block than it needs, which costs less than the blocks' overhead saved. Whoosh's reader
# reads any size; the segments Whoosh merges itself keep its 128.
BLOCK_POSTINGS = 2048


class _Postings:
    """One term's postings in a segment, in document order: numbers, frequencies, positions."""

    __slots__ = ("docs", "freqs", "positions")

    def __init__(self, positions: bool):
        self.docs = array("I")
        self.freqs = array("I")
        self.positions = array("I") if positions else None


class _Field:
    """How the fast path indexes one field of the schema."""

    def __init__(self, name: str, field: object):
        self.name = name
        self.field = field
        self.kind = _KINDS.get(type(field.format)) if field.indexed else None
        if field.indexed and (self.kind is None or field.format.field_boost != 1.0):
            raise NotImplementedError(f"field {name!r}: format {field.format!r} is not written by searchkit")
        self.scorable = field.scorable
        self.terms: dict[str, _Postings] = {}
        self.lengths = array("I")  # per document, as Whoosh reads it back (quantised to a byte)
        self.tokens = _tokens_function(field) if field.indexed else None


def _tokens_function(field: object) -> Callable[[str, Callable[[str], list[str]]], list[str]] | None:
    """The function giving the field's terms in order, when searchkit knows its analyzer.

    It is given the value and a function giving a value's syllables, which the writer computes
    once for the fields sharing a value (``title`` and ``title_exact``).
    """
    analyzer = field.analyzer
    if analyzer == folded_analyzer():
        return lambda value, syllables: list(map(fold_syllable, syllables(value)))
    if analyzer == exact_analyzer():
        return lambda value, syllables: list(map(normalize_syllable, syllables(value)))
    if analyzer == SpaceSeparatedTokenizer():
        return lambda value, syllables: _SPACE_SEPARATED.findall(value)
    return None


class CompactSegmentWriter(SegmentWriter):
    """A Whoosh segment writer for new documents (no merging of old segments, no deletions).

    Use as Whoosh's: ``add_document(**fields)`` for each article, then ``finish()`` for the
    segment (``None`` when nothing was added), to commit with the table of contents of another
    writer, or ``cancel()``.
    """

    def __init__(
        self,
        ix: object,
        inline: int = INLINE_POSTINGS,
        compression: int = COMPRESSION,
        protocol: int = PROTOCOL,
        block: int | None = None,
    ):
        """``block``: postings a block (:data:`BLOCK_POSTINGS`, read when the writer opens)."""
        block = BLOCK_POSTINGS if block is None else block
        super().__init__(ix, _lk=False, compound=False, codec=W3Codec(compression=compression, blocklimit=block))
        self._inline = inline
        self._protocol = protocol
        self._fields = {name: _Field(name, self.schema[name]) for name in self.schema.names()}
        self._count = 0  # postings held
        self._values: dict[int, bytes] = {}

    def add_document(self, **fields: object) -> None:
        self._check_state()
        docnum = self.docnum
        perdoc = self.perdocwriter
        self._check_fields(self.schema, [name for name in fields if not name.startswith("_")])
        perdoc.start_doc(docnum)
        seen: dict[str, list[str]] = {}

        def syllables(value: str) -> list[str]:
            found = seen.get(value)
            if found is None:
                found = seen[value] = syllable_texts(value)
            return found

        for name in sorted(fields):
            if name.startswith("_"):
                raise NotImplementedError("boosts and custom stored values are not written by searchkit")
            value = fields[name]
            spec = self._fields[name]
            if value is None:
                continue
            length = 0
            if spec.field.indexed:
                length = self._index(spec, docnum, value, syllables)
            spec.lengths.extend([0] * (docnum - len(spec.lengths)))
            spec.lengths.append(byte_to_length(length_to_byte(length)) if length else 0)
            field = spec.field
            perdoc.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                perdoc.add_column_value(name, field.column_type, field.to_column_value(value))
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _index(self, spec: _Field, docnum: int, value: object, syllables: Callable[[str], list[str]]) -> int:
        """Adds the field's postings for one document; returns its length (0 if not scorable)."""
        positional = spec.kind == _POSITIONS
        if spec.tokens is None:
            fmt = spec.field.format
            occurrences = [
                (tbytes.decode("utf-8"), freq, fmt.decode_positions(vbytes) if positional else None)
                for tbytes, freq, _weight, vbytes in spec.field.index(value)
            ]
        elif positional:
            found: dict[str, list[int]] = {}
            for position, term in enumerate(spec.tokens(value, syllables)):
                where = found.get(term)
                if where is None:
                    found[term] = [position]
                else:
                    where.append(position)
            occurrences = [(term, len(where), where) for term, where in found.items()]
        else:
            occurrences = [(term, freq, None) for term, freq in Counter(spec.tokens(value, syllables)).items()]
        terms = spec.terms
        length = 0
        for term, freq, where in occurrences:
            postings = terms.get(term)
            if postings is None:
                postings = terms[term] = _Postings(positional)
            postings.docs.append(docnum)
            postings.freqs.append(freq)
            if positional:
                postings.positions.extend(where)
            length += freq
        self._count += len(occurrences)
        return length if spec.scorable else 0

    def postings_held(self) -> int:
        """How many postings wait in memory for :meth:`finish`."""
        return self._count

    def finish(self) -> object | None:
        """Writes the segment's files; returns the segment, or ``None`` when no document was added."""
        self._check_state()
        self.is_closed = True
        if not self._added:
            self._close_segment()
            return None
        return self._finalize_segment()

    def cancel(self) -> None:
        """Closes the segment's files, which the caller discards with its generation.

        Unlike Whoosh's ``cancel`` this leaves the index's temporary folder alone: the writer
        holding the index's lock shares it, and removes it when it finishes.
        """
        self._check_state()
        self.is_closed = True
        self._fields.clear()
        self._close_segment()

    def _flush_segment(self) -> None:
        """Writes every term's postings in Whoosh's order (field name, then term bytes)."""
        self.perdocwriter.close()
        writer = self.fieldwriter
        for name in sorted(self._fields):
            spec = self._fields.pop(name)
            if not spec.terms:
                continue
            spec.lengths.extend([0] * (self.docnum - len(spec.lengths)))
            writer.start_field(name, spec.field)
            postwriter = writer._postwriter
            # Whoosh's finish_postings writes the last block through the same attribute.
            postwriter._write_block = partial(_write_block, postwriter, self._protocol)
            for term in sorted(spec.terms):
                postings = spec.terms.pop(term)
                writer.start_term(term.encode("utf-8"))
                self._write_postings(writer._postwriter, spec, postings)
                if len(postings.docs) <= self._inline:
                    _finish_inlined(writer, self._protocol)
                else:
                    writer.finish_term()
            writer.finish_field()
        writer.close()

    def _write_postings(self, postwriter: object, spec: _Field, postings: _Postings) -> None:
        """Fills the block writer's buffers as ``add_posting`` would, one block at a time."""
        limit = postwriter._blocklimit
        docs, freqs, lengths = postings.docs, postings.freqs, spec.lengths
        encode = self._encoder(spec)
        offset = 0  # into the positions
        for start in range(0, len(docs), limit):
            if start:
                postwriter._write_block()
            block_docs = docs[start : start + limit]
            block_freqs = freqs[start : start + limit]
            postwriter._ids = block_docs
            postwriter._weights = array("f", block_freqs)
            postwriter._maxweight = max(0.0, float(max(block_freqs)))
            if spec.kind == _POSITIONS:
                values = []
                for freq in block_freqs:
                    values.append(encode(postings.positions[offset : offset + freq]))
                    offset += freq
                postwriter._values = values
            elif spec.kind == _FREQUENCY:
                postwriter._values = [encode(freq) for freq in block_freqs]
            block_lengths = [lengths[doc] for doc in block_docs]
            present = [n for n in block_lengths if n]
            postwriter._minlength = min(present) if present else None
            postwriter._maxlength = max(present) if present else 0

    def _encoder(self, spec: _Field) -> Callable:
        if spec.kind == _POSITIONS:
            fmt = spec.field.format
            return lambda where: fmt.encode(where.tolist())
        values = self._values

        def frequency(freq: int) -> bytes:
            packed = values.get(freq)
            if packed is None:
                packed = values[freq] = pack_uint(freq)
            return packed

        return frequency



def _write_block(postwriter: object, protocol: int, last: bool = False) -> None:
    """Writes the block writer's buffered postings as Whoosh's ``W3PostingsWriter._write_block``
    does, with the block's data pickled at ``protocol``.

    The layout is Whoosh's: the codec's magic number before a term's first block, then for each
    block its length (negative for a term's last), a pickled header (postings, last id, highest
    weight, compression level, shortest and longest field length as bytes) and the compressed
    pickle of its (ids, weights, values).
    """
    postfile = postwriter._postfile
    if not postwriter._blockcount:
        postfile.write(WHOOSH3_HEADER_MAGIC)
    postwriter._terminfo.add_block(postwriter)
    ids, weights = postwriter._mini_ids(), postwriter._mini_weights()
    if protocol >= 3:
        # Whoosh's tuples as arrays, which its reader takes as they come (it indexes and iterates them, and
        # makes weights of such an array itself): pickled as one string of numbers, they load some ten times
        # as fast as a number at a time. At protocol 2 an array pickles as a list: Whoosh's tuples are kept.
        ids = _narrowest(ids)
        if isinstance(weights, tuple):
            weights = array("f", weights)
    data = (ids, weights, postwriter._mini_values())
    databytes = pickle.dumps(data, protocol)
    level = postwriter._compression
    if level:
        databytes = zlib.compress(databytes, level)
    ids = postwriter._ids
    header = (
        len(ids),
        ids[-1],
        postwriter._maxweight,
        level,
        length_to_byte(postwriter._minlength),
        length_to_byte(postwriter._maxlength),
    )
    # The header is read from the file by pickle.load, so it keeps Whoosh's protocol.
    infobytes = pickle.dumps(header, 2)
    size = len(infobytes) + len(databytes)
    postfile.write_int(-size if last else size)
    postfile.write(infobytes)
    postfile.write(databytes)
    postwriter._blockcount += 1
    postwriter._new_block()


# Array type codes of unsigned numbers by the largest each holds.
_UNSIGNED = (("B", 2**8 - 1), ("H", 2**16 - 1), ("I", 2**32 - 1))


def _narrowest(numbers: tuple) -> array | tuple:
    """A block's document numbers (or their differences) as an array of the narrowest unsigned type holding
    them; as they are past four bytes."""
    top = max(numbers, default=0)
    for code, largest in _UNSIGNED:
        if top <= largest and array(code).itemsize * 8 >= largest.bit_length():
            return array(code, numbers)
    return numbers


def _finish_inlined(writer: object, protocol: int) -> None:
    """Ends the field writer's current term with its one block of postings inlined in its entry.

    What Whoosh's ``W3FieldWriter.finish_term`` and ``W3PostingsWriter.finish_postings`` do when
    the postings are under the inline limit, had the latter not called a missing method.
    """
    postwriter = writer._postwriter
    terminfo = postwriter._terminfo
    terminfo.add_block(postwriter)
    # A field without values (the id's existence format) gets None for each posting, which is what
    # Whoosh's block reader answers for it: its list reader would answer "" for no values at all,
    # and Whoosh's merge accepts only bytes or None.
    values = postwriter._values or (None,) * len(postwriter._ids)
    terminfo.set_inlined(postwriter._ids, postwriter._weights, values)
    postwriter._terminfo = None
    # Whoosh's own packing of the statistics, then the postings at the writer's protocol (Whoosh's
    # protocol 2 would spend some 30 bytes on each bytes value).
    postings, terminfo._inlined = terminfo._inlined, ()
    head = terminfo.to_bytes()[: W3TermInfo._struct.size]
    entry = head + pickle.dumps(postings, protocol)
    writer._tindex.add(pack_ushort(writer._fieldid) + writer._btext, entry)


# --- committing the segments written by other writers -------------------------------------------


def commit_with_segments(writer: SegmentWriter, segments: list[object]) -> None:
    """Commits ``writer``'s deletions together with ``segments`` (written by other writers) in one
    table of contents, as the multi-segment commit of Whoosh's ``MpWriter`` does."""
    final = writer._merge_segments(None, None, None) + segments
    if writer._added:  # the merge policy folded small segments into this writer
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(final)
    writer._finish()


# --- reading columns and postings whole ---------------------------------------------------------
