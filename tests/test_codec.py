"""Whoosh's private names, reached only through ``searchkit.engines.whoosh.codec``, which reads what
Whoosh's own public API reads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from whoosh import scoring
from whoosh.util.numeric import byte_to_length, length_to_byte

import searchkit
from searchkit.engines import fields as f
from searchkit.engines.whoosh import generations
from searchkit.engines.whoosh.codec import reading as codec

PACKAGE = Path(searchkit.__file__).parent
# ``thing._name`` on anything but the object's own class (self, cls) and the standard library's
# few documented underscore names.
PRIVATE = re.compile(r"(?<![\w.])(?!self\b|cls\b|os\b|sys\b)[A-Za-z_]\w*(?:\(\))?\._[a-z]\w*")
FROM_WHOOSH_PRIVATE = re.compile(r"from whoosh[\w.]* import [^\n]*\b_[a-z]")


def test_no_module_but_the_codec_package_reaches_into_a_private_name():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE / "engines" / "whoosh" / "codec":
            continue
        text = path.read_text(encoding="utf-8")
        for number, line in enumerate(text.splitlines(), 1):
            if PRIVATE.search(line.split("#")[0]) or FROM_WHOOSH_PRIVATE.search(line):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert found == []


def test_the_check_finds_private_access():
    assert PRIVATE.search("    final = writer._merge_segments(None, None, None)")
    assert PRIVATE.search("values = column._dbfile.get(column._basepos, 4)")
    assert FROM_WHOOSH_PRIVATE.search("from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield")
    assert not PRIVATE.search("self._count = 0") and not PRIVATE.search("os._exit(1)")


def _leaves(seeds_index: Path):
    _, ix = generations.open_current(seeds_index)
    reader = ix.reader()
    return reader, [leaf for leaf, _ in reader.leaf_readers()]


def test_packed_columns_read_what_whoosh_reads(news_index: Path):
    reader, leaves = _leaves(news_index)
    with reader:
        for leaf in leaves:
            count = leaf.doc_count_all()
            days = leaf.column_reader(f.DAY, translate=False)
            assert codec.packed_ints(days, count).tolist() == [int(v) for v in days]
            sources = leaf.column_reader(f.SOURCE, translate=False)
            packed = codec.packed_bytes(sources)
            assert packed == list(sources) and len(packed) == count and any(packed)
            assert codec.packed_ints(sources, count) is None and codec.packed_bytes(days) is None


def test_posting_blocks_and_lengths_are_whoosh_s(seeds_index: Path):
    reader, leaves = _leaves(seeds_index)
    with reader:
        for leaf in leaves:
            assert codec.has_lengths(leaf)
            lengths = [byte_to_length(code) for code in codec.length_codes(leaf, f.BODY).tolist()]
            assert lengths == [leaf.doc_field_length(n, f.BODY, 0) for n in range(leaf.doc_count_all())]
            for text in ("dang", "guong", "thanh"):
                if (f.BODY, text) not in leaf:
                    continue
                assert_blocks_are_whoosh_s(leaf, f.BODY, text)


def assert_blocks_are_whoosh_s(leaf, fieldname: str, text: str) -> int:  # noqa: ANN001 - one segment's reader
    """Checks a term's posting blocks against Whoosh's own matcher: documents, frequencies, positions,
    each block's last document and greatest weight; returns how many blocks there are."""
    blocks = codec.posting_blocks(leaf, fieldname, text)
    walked = leaf._terms.matcher(fieldname, leaf._text_to_bytes(fieldname, text), leaf.schema[fieldname].format)
    if type(walked).__name__ == "W3LeafMatcher":  # the headers as Whoosh's matcher reads them, block by block
        headers = []
        while walked.is_active():
            headers.append((walked._dataoffset, walked._nextoffset, walked._blocklength, walked._maxid))
            walked._next_block()
        d = blocks.directory
        read_here = zip(d.begins.tolist(), d.ends.tolist(), d.counts.tolist(), d.last_ids.tolist(), strict=True)
        assert headers == list(read_here)
    read = [blocks.read(n) for n in range(len(blocks))]
    ids = np.concatenate([block.ids for block in read]).tolist()
    assert ids == list(leaf.postings(fieldname, text).all_ids())
    # Two bytes a document in a segment of up to 65,536 (the test indexes'), a quarter of eight.
    assert leaf.doc_count_all() <= 2**16 and {block.ids.dtype for block in read} == {np.dtype(np.uint16)}
    # Frequencies in a byte each (two in a block with one over 255), read back as Whoosh's float weights.
    assert all(block.weights.dtype == (np.uint8 if block.weights.max() < 256 else np.uint16) for block in read)
    weights = [w for block in read for w in codec.full_frequencies(block.weights).tolist()]
    assert weights == [w for _, w in leaf.postings(fieldname, text).items_as("weight")]
    assert all(type(w) is float for w in weights)
    decode = codec.positions_decoder(leaf.schema[fieldname].format)
    positions = [
        decode(block.data[begin:end])
        for block in read
        for begin, end in zip(block.offsets[:-1].tolist(), block.offsets[1:].tolist(), strict=True)
    ]
    assert positions == [p for _, p in leaf.postings(fieldname, text).items_as("positions")]
    assert blocks.directory.last_ids.tolist() == [int(block.ids[-1]) for block in read]
    assert blocks.directory.max_weights.tolist() == [float(block.weights.max()) for block in read]
    # Any of its documents is found in the block holding it, and only there.
    assert blocks.directory.holding(np.asarray(ids[::3])).tolist() == sorted(
        {n for n, block in enumerate(read) for doc in block.ids.tolist() if doc in set(ids[::3])}
    )
    return len(read)


def test_length_normalisation_is_the_one_whoosh_s_scorer_takes(seeds_index: Path):
    weighting = scoring.BM25F(B=0.6, K1=1.1, title_B=0.3)
    _, ix = generations.open_current(seeds_index)
    with ix.searcher(weighting=weighting) as searcher:
        for field in (f.TITLE, f.BODY):
            assert codec.field_b(weighting, field) == weighting.scorer(searcher, field, "dang").B
    assert codec.field_b(weighting, f.TITLE) == 0.3


def test_block_ids_stay_in_eight_bytes_only_past_what_four_hold():
    smallest = codec.compact_ids(np.asarray([0, 5, 2**16 - 1], dtype=np.int64))
    assert smallest.dtype == np.uint16 and smallest.tolist() == [0, 5, 2**16 - 1]
    # Widened before any arithmetic: two bytes would wrap past 65,535.
    widened = codec.full_ids(smallest)
    assert widened.dtype == np.int32 and (widened + 1).tolist() == [1, 6, 2**16]
    assert codec.compact_ids(np.asarray([], dtype=np.int64)).tolist() == []
    small = codec.compact_ids(np.asarray([0, 5, 2**31 - 1], dtype=np.int64))
    assert small.dtype == np.int32 and small.tolist() == [0, 5, 2**31 - 1]
    assert codec.full_ids(small) is small
    large = codec.compact_ids(np.asarray([0, 2**31], dtype=np.int64))
    assert large.dtype == np.int64 and large.tolist() == [0, 2**31]


def test_frequencies_are_kept_in_a_byte_or_two_only_where_they_are_whole_numbers():
    ones = codec.compact_frequencies(np.full(4, 1.0))
    assert ones.dtype == np.uint8 and codec.full_frequencies(ones).tobytes() == np.full(4, 1.0).tobytes()
    many = np.asarray([1.0, 300.0, 65535.0])
    assert codec.compact_frequencies(many).dtype == np.uint16
    assert codec.full_frequencies(codec.compact_frequencies(many)).tobytes() == many.tobytes()
    for kept in (np.asarray([1.0, 2.5]), np.asarray([1.0, 65536.0]), np.asarray([-1.0, 2.0])):
        assert codec.compact_frequencies(kept) is kept  # a boosted field's weights, or past two bytes
    assert codec.full_frequencies(many) is many


def test_lengths_read_in_one_piece_are_whoosh_s_even_where_the_last_articles_have_none(tmp_path: Path):
    # Whoosh writes no length for an article without the field: the column stops short of the last ones.
    from whoosh import fields, index

    ix = index.create_in(tmp_path, fields.Schema(key=fields.ID(stored=True), body=fields.TEXT))
    with ix.writer() as writer:
        writer.add_document(key="a", body="Thành uỷ Đông Hà nêu gương " * 40)
        writer.add_document(key="b", body="cán bộ đảng viên")
        writer.add_document(key="c")
        writer.add_document(key="d")
    with ix.reader() as reader:
        codes = codec.length_codes(reader, "body")
        assert codes.dtype == np.uint8 and len(codes) == 4
        lengths = [byte_to_length(code) for code in codes.tolist()]
        assert lengths == [reader.doc_field_length(n, "body") or 0 for n in range(4)]
        assert lengths == [byte_to_length(length_to_byte(240)), 4, 0, 0]
