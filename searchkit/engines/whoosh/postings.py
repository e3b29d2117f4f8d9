"""A searcher's reads of the postings: a term's documents and BM25F scores as arrays, and its positions,
read a posting block at a time and kept in the generation's cache (:mod:`searchkit.engines.whoosh.cache`).

Whoosh 3 keeps a block's documents, frequencies and positions in one compressed piece behind a small
header (:func:`searchkit.engines.whoosh.codec.reading.posting_blocks`): the headers tell each block's range of
documents, so a read among some documents (:meth:`Postings.term_among`, :meth:`Postings.positions`)
decodes only the blocks that may hold them. A decoded block is one cache entry, shared by the term's
scores and its phrase checks, until the term is scored whole: then it keeps its scores and one layout
of its positions (its documents, each one's length of positions, one string), and its blocks go.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

import numpy as np
from whoosh import scoring
from whoosh.searching import Searcher as WhooshSearcher
from whoosh.util.numeric import byte_to_length

from searchkit.engines.whoosh.cache import PostingCache
from searchkit.engines.whoosh.codec import reading as codec
from searchkit.engines.whoosh.matches import EMPTY, Matches, from_lists

# Whoosh stores a field's length in a document as one byte; a posting's document has length >= 1.
_LENGTH_OF_BYTE = np.array([max(byte_to_length(code), 1) for code in range(256)], dtype=np.float64)


class Postings:
    """The postings of one Whoosh searcher's index, read into ``cache``.

    With ``prune`` false, reads among some documents read every block (as a check of the same results).
    """

    def __init__(self, searcher: WhooshSearcher, cache: PostingCache, *, prune: bool = True):
        self.searcher = searcher
        self.cache = cache
        self.prune = prune
        # The posting blocks opened on this searcher's readers during a run, by segment, field and term.
        self._opened: dict[tuple, codec.PostingBlocks] = {}
        # The terms' scores a run has unpacked from the cache's compact form (:class:`Scored`), by field and term.
        self._unpacked: dict[tuple, Matches] = {}

    def done(self) -> None:
        """The end of a run: the postings opened on the readers are let go (the blocks read stay cached),
        and the scores unpacked for it."""
        self._opened.clear()
        self._unpacked.clear()

    def positions(self, reader, fieldname: str, text: str, local: np.ndarray):  # noqa: ANN001, ANN202
        """(document numbers, the encoded positions of the postings at given places, decoder) of a term
        in one segment, read from the blocks that may hold the segment's documents ``local``; None
        without positions."""
        fmt = reader.schema[fieldname].format
        if not fmt.supports("positions"):
            return None
        # A term scored whole keeps its positions laid out whole (:meth:`_lay_out`): a repeated query (or
        # another phrase of the same word) finds them without joining its blocks again.
        laid_out = self.cache.get(("positions", _segment(reader), fieldname, text))
        if laid_out is None:
            read = self._blocks(reader, fieldname, text, local if self.prune else None)
            if read is None:
                return None
            blocks, whole = read
            if whole and self.cache.get(("term", fieldname, text)) is not None:
                laid_out = self._lay_out(reader, fieldname, text, blocks)
            else:  # its blocks stay kept for the scores read among candidates
                laid_out = _joined(blocks)
            if laid_out is None:
                return None
        ids, lengths, data = laid_out
        offsets = _offsets(lengths)

        def values(at: np.ndarray) -> list[bytes]:
            return [data[begin:end] for begin, end in zip(offsets[at].tolist(), offsets[at + 1].tolist(), strict=True)]

        return ids, values, codec.positions_decoder(fmt)

    def _blocks(self, reader, fieldname: str, text: str, local: np.ndarray | None) -> tuple[list, bool] | None:  # noqa: ANN001
        """The decoded posting blocks of a term in one segment that may hold any of ``local`` (sorted
        segment numbers; None: every block), each read once while the generation's cache keeps it,
        and whether they are all of its blocks; None if the codec is not Whoosh 3's (or the term is
        not there).

        The blocks' headers (their directory) are kept with the generation; the term's postings are
        opened on this searcher's reader only when a block is not kept.
        """
        segment = _segment(reader)
        term = (segment, fieldname, text)
        directory_key = ("blocks", *term)
        known = self.cache.get(directory_key)
        if known is None:
            opened = self._opened[term] = codec.posting_blocks(reader, fieldname, text)
            known = self._store(directory_key, (opened.directory if opened is not None else None,))
        directory = known[0]
        if directory is None:
            return None
        numbers = range(len(directory)) if local is None else directory.holding(local).tolist()
        blocks = []
        for n in numbers:
            key = ("block", *term, n)
            block = self.cache.get(key)
            if block is None:
                opened = self._opened.get(term)
                if opened is None:
                    opened = self._opened[term] = codec.posting_blocks(reader, fieldname, text, directory)
                block = self._store(key, opened.read(n))
            blocks.append(block)
        return blocks, len(blocks) == len(directory)

    def _lay_out(self, reader, fieldname: str, text: str, blocks: list):  # noqa: ANN001, ANN202
        """Every block of a term in one segment kept as one layout of its positions (None without
        positions), its block entries let go: what the term's scores and phrases need from then on
        is that layout and the scores, so its positions are held, and counted against the bound, once."""
        segment = _segment(reader)
        laid_out = _joined(blocks)
        if laid_out is not None:
            self._store(("positions", segment, fieldname, text), laid_out)
        for n in range(len(blocks)):
            self.cache.discard(("block", segment, fieldname, text, n))
        return laid_out

    def term(self, fieldname: str, text: str) -> Matches:
        """A term's documents scored at boost 1 (the caller applies the boost: one entry serves every boost)."""
        found = self._whole(fieldname, text)
        if found is not None:
            return found
        if (fieldname, text) not in self.searcher.reader():
            return self._keep_whole(fieldname, text, EMPTY)
        arrays = self._arrays(fieldname, text)
        if arrays is not None:
            return self._keep_whole(fieldname, text, arrays[0])
        ids: list[int] = []
        scores: list[float] = []
        drain(self.searcher.postings(fieldname, text), ids, scores)
        return self._keep_whole(fieldname, text, from_lists(ids, scores))

    def _whole(self, fieldname: str, text: str) -> Matches | None:
        """A term's matches scored whole if the cache holds them (unpacked once a run), else None."""
        found = self._unpacked.get((fieldname, text))
        if found is not None:
            return found
        found = self.cache.get(("term", fieldname, text))
        if isinstance(found, Scored):
            found = self._unpacked[(fieldname, text)] = found.matches()
        return found

    def _keep_whole(self, fieldname: str, text: str, matches: Matches) -> Matches:
        """Keeps a term's matches scored whole, in the cache's compact form where it is smaller; returns them."""
        self._store(("term", fieldname, text), packed(matches))
        return matches

    def term_among(self, fieldname: str, text: str, candidates: np.ndarray) -> Matches:
        """A term's matches among ``candidates`` (sorted document numbers) at boost 1, reading only the
        posting blocks that may hold them (the whole term when it is read already)."""
        whole = self._whole(fieldname, text) if self.prune else self.term(fieldname, text)
        if whole is None and (fieldname, text) not in self.searcher.reader():
            whole = EMPTY
        if whole is None:
            found = self._arrays(fieldname, text, candidates)
            if found is None:
                whole = self.term(fieldname, text)
            elif found[1]:  # every posting was read: the term is kept whole, as if read so
                whole = self._keep_whole(fieldname, text, found[0])
            else:
                whole = found[0]
        return kept(whole, candidates)

    def _arrays(self, fieldname: str, text: str, candidates: np.ndarray | None = None) -> tuple[Matches, bool] | None:
        """A term's postings scored by BM25F, a block at a time, and whether they are all of them; None
        if the codec is not Whoosh 3's. With ``candidates`` (sorted document numbers), only the blocks
        that may hold them are read.

        The same formula and global statistics as Whoosh's ``BM25FScorer``, applied to a block's
        document numbers, frequencies and the field lengths as arrays.
        """
        weighting = self.searcher.weighting
        if type(weighting) is not scoring.BM25F:
            return None
        b = codec.field_b(weighting, fieldname)
        k1 = weighting.K1
        idf = self.searcher.idf(fieldname, text)
        average = self.searcher.avg_field_length(fieldname) or 1
        id_parts, score_parts, every = [], [], True
        whole_segments = []
        for sub, offset in self.searcher.subsearchers or [(self.searcher, 0)]:
            reader = sub.reader()
            if (fieldname, text) not in reader:
                continue
            local = None
            if candidates is not None:
                local = candidates[(candidates >= offset) & (candidates < offset + reader.doc_count_all())] - offset
                if not len(local):
                    every = False
                    continue
            read = self._blocks(reader, fieldname, text, local)
            if read is None or not codec.has_lengths(reader):
                return None
            blocks, whole = read
            every = every and whole
            if not blocks:
                continue
            if whole:
                whole_segments.append((reader, blocks))
            docs = codec.full_ids(np.concatenate([block.ids for block in blocks]))
            tf = codec.full_frequencies(np.concatenate([block.weights for block in blocks]))
            if reader.has_deletions():
                # A set, so unique, as a term's documents are: np.isin need not make them so (importing numpy.ma).
                deleted = np.fromiter(reader.deleted_docs_set, dtype=np.int64)
                live = ~np.isin(docs, deleted, assume_unique=True)
                docs, tf = docs[live], tf[live]
            lengths = self._lengths(reader, fieldname)[docs]
            # Kept in four bytes where the whole index's numbers fit (NumPy keeps int32 + int in int32).
            fits = offset + reader.doc_count_all() <= np.iinfo(np.int32).max
            id_parts.append((docs if fits else docs.astype(np.int64)) + offset)
            score_parts.append(idf * (tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * lengths / average)))
        if every:  # the term is kept scored whole (by the caller): its blocks are let go for one layout
            for reader, blocks in whole_segments:
                if reader.schema[fieldname].format.supports("positions"):
                    self._lay_out(reader, fieldname, text, blocks)
        if not id_parts:
            return EMPTY, every
        ids_all = np.concatenate(id_parts)
        scores_all = np.concatenate(score_parts)
        # The segments come in the order of their documents' numbers, so their parts are joined sorted already.
        if len(id_parts) > 1 and not (ids_all[1:] > ids_all[:-1]).all():
            order = np.argsort(ids_all, kind="stable")
            ids_all, scores_all = ids_all[order], scores_all[order]
        return Matches(ids_all, scores_all), every

    def _lengths(self, reader, fieldname: str) -> np.ndarray:
        """Every document's length of ``fieldname`` in one segment, as Whoosh stores it (a byte)."""
        key = ("lengths", _segment(reader), fieldname)
        found = self.cache.get(key)
        if found is None:
            found = self.cache.put(key, _LENGTH_OF_BYTE[codec.length_codes(reader, fieldname)])
        return found

    def _store(self, key: tuple, matches):  # noqa: ANN001, ANN202 - Matches, or a segment's positions
        return self.cache.put(key, matches)


class Scored(NamedTuple):
    """A term's matches as the cache keeps them where that is smaller: its documents (two bytes each in an
    index of up to 65,536, :func:`codec.compact_ids`), its distinct scores and, for each document, which of
    them it has (one or two bytes rather than eight). A term's BM25F
    score depends only on a document's frequency of it and its field length (one byte, as Whoosh
    stores it), so a common syllable's thousands of scores take at most a few hundred values; unpacked
    they are the very same numbers, bit for bit."""

    ids: np.ndarray
    values: np.ndarray
    codes: np.ndarray

    def matches(self) -> Matches:
        return Matches(codec.full_ids(self.ids), self.values[self.codes])


# What a Scored costs beyond its arrays' contents, against the Matches it replaces: a third array's
# header and a tuple of three (the cache counts its entries' overhead apart).
_SCORED_EXTRA = 150


def packed(matches: Matches) -> Matches | Scored:
    """``matches`` as :class:`Scored` if that holds fewer bytes, else as they are."""
    count = len(matches)
    if count * matches.scores.itemsize < 8 * 16 + _SCORED_EXTRA:
        return matches
    # Any order among equal scores gives them one code (a stable sort took four times as long).
    order = np.argsort(matches.scores)
    ranked = matches.scores[order]
    first = np.ones(count, dtype=bool)
    np.not_equal(ranked[1:], ranked[:-1], out=first[1:])
    values = ranked[first]
    if len(values) > 2**16:
        return matches
    codes = np.empty(count, dtype=np.uint8 if len(values) <= 2**8 else np.uint16)
    codes[order] = np.cumsum(first) - 1
    if values.nbytes + codes.nbytes + _SCORED_EXTRA >= matches.scores.nbytes:
        return matches
    return Scored(codec.compact_ids(matches.ids), values, codes)


def _segment(reader) -> str:  # noqa: ANN001 - one segment's reader
    """What names a segment within its generation (the cache's keys outlive any one reader): one string
    for all the keys of a segment (Whoosh makes a new one at each call), so that a key holds no copy."""
    return sys.intern(reader.segment().segment_id())


def _joined(blocks: list):  # noqa: ANN202
    """(document numbers, the length of each one's encoded positions, the positions of ``blocks`` as one
    string ``data``); None if they hold none. The numbers in two bytes each where they fit
    (:func:`codec.compact_ids`) and the lengths in one where they fit (most postings' positions take a few
    bytes): a layout kept for a term scored whole holds three bytes a posting besides its positions rather
    than eight. :func:`_offsets` gives where each one's begin."""
    blocks = [block for block in blocks if block.data is not None]
    if not blocks:
        return None
    lengths = np.concatenate([block.offsets[1:] - block.offsets[:-1] for block in blocks])
    top = int(lengths.max()) if len(lengths) else 0
    lengths = lengths.astype(np.uint8 if top < 2**8 else np.uint16 if top < 2**16 else np.uint32)
    ids = blocks[0].ids if len(blocks) == 1 else codec.compact_ids(np.concatenate([block.ids for block in blocks]))
    data = blocks[0].data if len(blocks) == 1 else b"".join(block.data for block in blocks)
    return ids, lengths, data


def _offsets(lengths: np.ndarray) -> np.ndarray:
    """Where each posting's positions begin in a layout's string, and the last one's end (one more than
    ``lengths``): four bytes each while they are under 4 GB, as a term's in a segment are."""
    total = int(lengths.sum(dtype=np.uint64))
    kind = np.uint32 if total < 2**32 else np.uint64
    offsets = np.zeros(len(lengths) + 1, dtype=kind)
    np.cumsum(lengths, dtype=kind, out=offsets[1:])
    return offsets


def drain(matcher, ids: list[int], scores: list[float], offset: int = 0) -> None:
    while matcher.is_active():
        ids.append(offset + matcher.id())
        scores.append(matcher.score())
        matcher.next()


def kept(found: Matches, candidates: np.ndarray) -> Matches:
    """The matches among ``candidates`` (sorted document numbers)."""
    return found.subset(np.isin(found.ids, candidates, assume_unique=True))
