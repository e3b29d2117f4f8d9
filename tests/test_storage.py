"""Reading an index through memory maps answers exactly as Whoosh's own file storage does."""

from __future__ import annotations

import gc
import mmap
import os
import shutil
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh import scoring
from whoosh.codec.whoosh3 import LENGTHS_COLUMN

from searchkit.build import index
from searchkit.engines import fields as f
from searchkit.engines.backend import open_backend
from searchkit.engines.whoosh import generations
from searchkit.engines.whoosh.storage import Cursor, MappedFile, ReadFile, open_mapped, open_maps

WORDS = ("neu", "guong", "dang", "vien", "dong", "ha", "chi", "thi", "khe")


def both(index_dir: Path):
    folder = generations.current(index_dir).path
    return whoosh_index.open_dir(str(folder)), open_mapped(folder)


def test_mapped_files_are_memory_maps_not_copies(seeds_index: Path):
    _, mapped = both(seeds_index)
    with mapped.reader() as reader:
        (segment,) = [leaf for leaf, _ in reader.leaf_readers()]
        terms = segment._terms._tindex.dbfile
        assert isinstance(terms, MappedFile) and isinstance(terms._map, mmap.mmap)
        assert isinstance(terms.file, Cursor)


def test_the_postings_are_read_through_the_system_not_mapped(seeds_index: Path):
    plain, mapped = both(seeds_index)
    with plain.reader() as whole, mapped.reader() as reader:
        (segment,) = [leaf for leaf, _ in reader.leaf_readers()]
        (theirs,) = [leaf for leaf, _ in whole.leaf_readers()]
        postings = segment._terms._postfile
        # Its pages, copied into the posting cache, are the page cache's, not the process's resident memory.
        assert isinstance(postings, ReadFile) and not isinstance(postings, MappedFile)
        size = os.fstat(postings.fileno()).st_size
        for position, length in ((0, 4), (size // 3, 100), (size - 7, 7), (size - 3, 50)):
            assert postings.get(position, length) == theirs._terms._postfile.get(position, length)
        # A piece read at a position moves no read position of Whoosh's own.
        postings.seek(5)
        postings.get(size // 2, 10)
        assert postings.tell() == 5 and postings.read(3) == theirs._terms._postfile.get(5, 3)


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


def _maps(backend) -> dict[str, mmap.mmap]:  # noqa: ANN001 - a WhooshBackend
    """The map under each segment's term table and field lengths in ``backend``, by file name."""
    found = {}
    for leaf, _ in backend.searcher.reader().leaf_readers():
        lengths = leaf._perdoc._cached_reader("_body_len", LENGTHS_COLUMN)._dbfile
        for part in (leaf._terms._tindex.dbfile, lengths):
            if isinstance(part, MappedFile):  # an empty file is read as it is
                found[str(part)] = part._map
    return found


def test_searchers_of_a_generation_share_one_map_of_each_file(folders):
    seeds, index_dir = folders
    first, second = open_backend(index_dir), open_backend(index_dir)
    try:
        maps = _maps(first)
        assert len(maps) >= 2 and maps.keys() == _maps(second).keys()
        assert all(theirs is maps[name] for name, theirs in _maps(second).items())
        # Each keeps a read position of its own over the shared map.
        ours, theirs = (b.searcher.reader().leaf_readers()[0][0]._terms._tindex.dbfile for b in (first, second))
        assert ours is not theirs and ours._map is theirs._map
        ours.seek(4)
        theirs.seek(9)
        assert theirs.read(3) == ours.get(9, 3) and ours.tell() == 4 and theirs.tell() == 12

        shutil.copy(seeds / "004_a29b889078a98f24.txt", seeds / "ban-sao.txt")
        index.build(seeds, index_dir)
        third = open_backend(index_dir)
        try:
            assert third.generation != first.generation
            new = _maps(third)
            # The segments an update kept are hard links of the same files: still one map each;
            # the segment it wrote has maps of its own.
            kept, written = new.keys() & maps.keys(), new.keys() - maps.keys()
            assert kept and written
            assert all(new[name] is maps[name] for name in kept)
            assert all(new[name] is not old for name in written for old in maps.values())
        finally:
            third.close()
    finally:
        first.close()
        second.close()


def test_a_map_is_let_go_with_the_last_reader_of_its_file(seeds_index: Path, tmp_path: Path):
    # A copy of its own: another test's searcher still open on the seeds' index would share its maps.
    index_dir = tmp_path / "index"
    shutil.copytree(seeds_index, index_dir)
    gc.collect()
    before = open_maps()
    first, second = open_backend(index_dir), open_backend(index_dir)
    for backend in (first, second):  # the field lengths' column: a second file mapped
        backend.searcher.reader().doc_field_length(0, f.BODY)
    opened = open_maps() - before
    assert opened >= 2
    first.close()
    gc.collect()
    assert open_maps() - before == opened  # the second still reads them
    second.close()
    gc.collect()
    assert open_maps() == before
