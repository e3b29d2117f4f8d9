"""searchkit's segment writer writes the very files Whoosh's own writer writes for the same articles.

With inlining off, byte for byte; with it on (the default), every term's statistics and postings
read back through Whoosh's own reader as they do from Whoosh's own segment.
"""

from __future__ import annotations

import unicodedata
from functools import partial
from pathlib import Path

import pytest
from pristine_seeds import pristine_seeds
from whoosh import fields
from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from searchkit.corpus.articles import Article, read_articles
from searchkit.engines.whoosh.codec.writing import (
    BLOCK_POSTINGS,
    COMPRESSION,
    INLINE_POSTINGS,
    CompactSegmentWriter,
    commit_with_segments,
)
from searchkit.engines.whoosh.schema import schema as whoosh_schema
from searchkit.engines.whoosh.writer import document

ROOT = Path(__file__).resolve().parents[1]


def constructed() -> list[Article]:
    """Articles that cross Whoosh's block size (128 postings) and bring the odd cases."""
    found = []
    for n in range(300):
        text = f"Bài số {n}. Thành uỷ Đông Hà chỉ đạo nêu gương; đảng viên học tập. " * (1 + n % 3)
        if n % 7 == 0:
            text = unicodedata.normalize("NFD", text)  # decomposed input
        title = "" if n % 11 == 0 else f"Tin {n}: hoà bình"
        found.append(
            Article(
                id=f"c{n:03}.txt",
                path=f"c{n:03}.txt",
                title=title,
                text=text + ("x " * (n * 40) if n % 50 == 0 else ""),  # long fields, long lengths
                hash=f"{n:064x}",
                date="2024-05-22" if n % 2 else None,
                source="Báo Quảng Trị" if n % 5 == 0 else None,
                tags=("Thời sự", "Kinh tế") if n % 3 == 0 else (),
            )
        )
    return found


def articles() -> list[Article]:
    seeds = [item for item in read_articles(pristine_seeds()) if isinstance(item, Article)]
    assert len(seeds) == 5
    return seeds + constructed()


def segment_files(
    folder: Path, writer_class, schema: fields.Schema, rows: list[dict], block: int = BLOCK_POSTINGS
) -> dict[str, bytes]:
    """The files of one segment written with ``writer_class``, named without the segment's random id."""
    return write_segment(folder, writer_class, schema, rows, block)[1]


def write_segment(
    folder: Path, writer_class, schema: fields.Schema, rows: list[dict], block: int = BLOCK_POSTINGS
) -> tuple:
    """The segment ``writer_class`` writes in ``folder`` (a new index) and its files, as above; Whoosh's own
    writer writes ``block`` postings a block, as searchkit's does by default."""
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), schema)
    if writer_class is SegmentWriter:
        # Whoosh's own writer, at the compression level and block size searchkit's writes.
        codec = W3Codec(compression=COMPRESSION, blocklimit=block)
        writer = SegmentWriter(ix, _lk=False, compound=False, codec=codec)
        for row in rows:
            writer.add_document(**row)
        segment = writer._finalize_segment()
    else:
        writer = writer_class(ix)
        for row in rows:
            writer.add_document(**row)
        segment = writer.finish()
    prefix = f"{ix.indexname}_{segment.segid}"
    files = {p.name.replace(prefix, "SEGMENT"): p.read_bytes() for p in folder.iterdir() if p.name.startswith(prefix)}
    files["lengths"] = repr(sorted(segment._fieldlengths.items())).encode()
    files["documents"] = str(segment.doc_count_all()).encode()
    return SegmentReader(ix.storage, schema, segment), files


@pytest.mark.parametrize("block", [BLOCK_POSTINGS, 128, 7])
def test_segment_files_are_byte_for_byte_whooshs(tmp_path: Path, block: int):
    # Whoosh's 128 postings a block, and 7, cross blocks within a term; searchkit's default does not here.
    rows = [document(article) for article in articles()]
    theirs = segment_files(tmp_path / "whoosh", SegmentWriter, whoosh_schema(), rows, block)
    writer = partial(CompactSegmentWriter, inline=0, protocol=2, block=block)
    ours = segment_files(tmp_path / "ours", writer, whoosh_schema(), rows, block)
    assert sorted(ours) == sorted(theirs)
    assert len(theirs) > 5  # terms, postings, stored fields, columns, ...
    for name in theirs:
        assert ours[name] == theirs[name], name


def test_fields_searchkit_does_not_know_go_through_their_own_analysis(tmp_path: Path):
    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        body=fields.TEXT(stored=True),  # Whoosh's standard analyzer
        keywords=fields.KEYWORD(commas=True, scorable=True),
    )
    rows = [
        {"id": f"d{n}", "body": f"Hello world number {n}, again", "keywords": "alpha, beta" if n % 2 else "beta"}
        for n in range(200)
    ]
    theirs = segment_files(tmp_path / "whoosh", SegmentWriter, schema, rows)
    assert segment_files(tmp_path / "ours", partial(CompactSegmentWriter, inline=0, protocol=2), schema, rows) == theirs


def _postings_by_term(reader: SegmentReader) -> dict:
    """Every term of a segment as Whoosh's reader gives it: statistics and postings."""
    found = {}
    with reader:
        for fieldname, text in reader.all_terms():
            info = reader.term_info(fieldname, text)
            stats = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length(), info.max_weight())
            stats += (info.min_id(), info.max_id())
            matcher = reader.postings(fieldname, text)
            postings = []
            while matcher.is_active():
                postings.append((matcher.id(), matcher.weight(), matcher.value()))
                matcher.next()
            found[fieldname, text] = (stats, postings)
        stored = [reader.stored_fields(n) for n in range(reader.doc_count_all())]
    return {"terms": found, "stored": stored}


@pytest.mark.parametrize("block", [BLOCK_POSTINGS, 7])
def test_inlined_postings_read_back_as_whooshs_own(tmp_path: Path, block: int):
    rows = [document(article) for article in articles()]
    whooshs, theirs = write_segment(tmp_path / "whoosh", SegmentWriter, whoosh_schema(), rows, block)
    reader, ours = write_segment(tmp_path / "ours", partial(CompactSegmentWriter, block=block), whoosh_schema(), rows)
    # Most terms occur in one article: their postings left the postings file for the term table;
    # the others' blocks shrank with the pickle protocol and their numbers pickled as arrays.
    assert len(ours["SEGMENT.pst"]) < len(theirs["SEGMENT.pst"]) * 0.6
    kinds = {type(reader.postings(*term)).__name__ for term in reader.all_terms()}
    walked = reader.postings("body", "guong")  # in every constructed article
    walked.id()  # Whoosh reads a block's data as its matcher needs it
    assert [type(part).__name__ for part in walked._data[:2]] == ["array", "array"]
    expected, found = _postings_by_term(whooshs), _postings_by_term(reader)
    assert found == expected
    terms = expected["terms"]
    assert len(terms) > 1000
    frequencies = {stats[1] for stats, _ in terms.values()}
    assert {1, INLINE_POSTINGS, INLINE_POSTINGS + 1} <= frequencies and max(frequencies) > 128
    # Whoosh's reader gives inlined postings a list matcher, the others its block reader.
    assert kinds == {"ListMatcher", "W3LeafMatcher"}


def test_a_writer_given_nothing_writes_no_segment(tmp_path: Path):
    ix = whoosh_index.create_in(str(tmp_path), whoosh_schema())
    assert CompactSegmentWriter(ix).finish() is None


def test_formats_it_cannot_write_are_refused(tmp_path: Path):
    schema = fields.Schema(body=fields.TEXT(field_boost=2.0))
    ix = whoosh_index.create_in(str(tmp_path), schema)
    with pytest.raises(NotImplementedError):
        CompactSegmentWriter(ix)



def test_whoosh_merges_the_segments_searchkit_writes(tmp_path: Path):
    """An update's commit lets Whoosh's merge policy read small segments back into one of its own."""
    rows = [document(article) for article in articles()]
    whooshs, _ = write_segment(tmp_path / "whoosh", SegmentWriter, whoosh_schema(), rows)
    (tmp_path / "ours").mkdir()
    ix = whoosh_index.create_in(str(tmp_path / "ours"), whoosh_schema())
    committing = ix.writer(compound=False)  # as a build does: its own writer first, then the segments
    halves = []
    for part in (rows[:150], rows[150:]):
        writer = CompactSegmentWriter(ix)
        for row in part:
            writer.add_document(**row)
        halves.append(writer.finish())
    commit_with_segments(committing, halves)
    writer = ix.writer()
    writer.commit(optimize=True)  # Whoosh reads every posting of both segments and writes its own
    leaves = list(ix.reader().leaf_readers())
    assert len(leaves) == 1
    merged = _postings_by_term(leaves[0][0])  # closes the reader
    assert merged == _postings_by_term(whooshs)
