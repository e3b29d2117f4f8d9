"""Reading an index through memory maps answers exactly as Whoosh's own file storage does."""

from __future__ import annotations

import mmap
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring

from searchkit.engines import fields as f
from searchkit.engines.whoosh import generations
from searchkit.engines.whoosh.storage import MappedFile, open_mapped

WORDS = ("neu", "guong", "dang", "vien", "dong", "ha", "chi", "thi", "khe")


def both(index_dir: Path):
    folder = generations.current(index_dir).path
    return whoosh_index.open_dir(str(folder)), open_mapped(folder)


def test_mapped_files_are_memory_maps_not_copies(seeds_index: Path):
    _, mapped = both(seeds_index)
    with mapped.reader() as reader:
        (segment,) = [leaf for leaf, _ in reader.leaf_readers()]
        postings = segment._terms._postfile
        assert isinstance(postings, MappedFile) and isinstance(postings.file, mmap.mmap)


def test_mapped_storage_reads_what_whoosh_reads(seeds_index: Path):
    plain, mapped = both(seeds_index)
    weighting = scoring.BM25F()
    with plain.searcher(weighting=weighting) as ours, mapped.searcher(weighting=weighting) as theirs:
        a, b = ours.reader(), theirs.reader()
        assert a.doc_count() == b.doc_count() and a.field_length(f.BODY) == b.field_length(f.BODY)
        assert list(a.all_terms()) == list(b.all_terms())
        assert list(a.expand_prefix(f.BODY, "d")) == list(b.expand_prefix(f.BODY, "d"))
        for word in WORDS:
            assert a.doc_frequency(f.BODY, word) == b.doc_frequency(f.BODY, word)
            for query in (wq.Term(f.BODY, word), wq.Prefix(f.BODY, word[:2]), wq.Phrase(f.BODY, ["neu", "guong"])):
                mine = [(hit.docnum, round(hit.score, 9)) for hit in ours.search(query, limit=None)]
                assert mine == [(hit.docnum, round(hit.score, 9)) for hit in theirs.search(query, limit=None)]
        for docnum in range(a.doc_count_all()):
            assert a.stored_fields(docnum) == b.stored_fields(docnum)
            assert a.doc_field_length(docnum, f.BODY) == b.doc_field_length(docnum, f.BODY)
