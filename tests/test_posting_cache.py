"""The searchers of one generation share its posting arrays (bounded in bytes) and its columns."""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from searchkit.build import index
from searchkit.engines import compiled as cq
from searchkit.engines import fields as f
from searchkit.engines.backend import open_backend
from searchkit.engines.spellings import LOOKED_UP_RUNS, LookedUp
from searchkit.engines.whoosh import cache
from searchkit.engines.whoosh.codec import reading as codec
from searchkit.engines.whoosh.matches import Matches
from searchkit.engines.whoosh.postings import Scored, packed
from searchkit.search import result_cache
from searchkit.search.live import LiveIndex
from searchkit.search.searcher import Searcher

# Queries beside the articles' own titles: accented and not, phrases, a negation, a prefix, a question.
QUERIES = [
    "nêu gương",
    "neu guong",
    "Thành uỷ Đông Hà",
    "thanh uy dong ha",
    "cán bộ đảng viên",
    "can bo dang vien",
    '"nêu gương"',
    "an khe",
    "Việt Nam",
    "viet nam -vang",
    "giá vàng",
    "xuất khẩu gạo",
    "học sinh",
    "bóng đá",
    "chi bộ",
    "ch*",
    "Đảng",
    "tuyên truyền",
    "nhân dân",
    "phát triển kinh tế",
    "vì sao cán bộ phải nêu gương?",
    "trường học xanh",
]


def _titles(index_dir: Path) -> list[str]:
    with Searcher(index_dir) as searcher:
        backend = searcher.backend
        return [backend.stored(doc)["title"] for doc in range(backend.searcher.doc_count_all())]


def _answers(index_dir: Path, queries: list[str], cache_mb: float) -> list[tuple]:
    backend = open_backend(index_dir, cache_mb=cache_mb)
    with Searcher(index_dir, backend=backend) as searcher:
        found = []
        for text in queries:
            # Snippets come from the stored text, not from the arrays cached.
            results = searcher.search(text, limit=10, snippets=False)
            found.append((results.total, [(hit.id, round(hit.score, 9)) for hit in results.hits]))
        return found


def _held(postings: cache.PostingCache) -> int:
    """The bytes of every entry held, counted here from the arrays themselves."""
    return sum(cache.entry_size(postings.get(key)) for key in postings.keys())


@pytest.mark.parametrize("which", ["seeds_index", "news_index"])
def test_results_are_the_same_with_the_cache_on_tiny_and_off(which: str, request: pytest.FixtureRequest):
    index_dir = request.getfixturevalue(which)
    queries = QUERIES + _titles(index_dir)
    assert len(queries) > 25
    on = _answers(index_dir, queries, cache.DEFAULT_CACHE_MB)
    assert sum(1 for total, _ in on if total) > 10  # the queries find articles
    assert _answers(index_dir, queries, 0.05) == on
    assert _answers(index_dir, queries, 0) == on


def test_the_cache_never_holds_more_than_its_bound(seeds_index: Path):
    bound_mb = 0.05  # a few of the seeds' common syllables: eviction happens on every query
    backend = open_backend(seeds_index, cache_mb=bound_mb)
    postings = backend.shared.postings
    assert postings.max_bytes == int(bound_mb * 2**20)
    with Searcher(seeds_index, backend=backend) as searcher:
        for text in QUERIES + _titles(seeds_index):
            searcher.search(text, limit=10, snippets=False)
            held = _held(postings)
            assert held == postings.size <= postings.max_bytes
        assert postings.reads > len(postings) > 0  # it evicted, and still keeps what fits


def test_an_array_larger_than_the_bound_is_returned_not_kept():
    postings = cache.PostingCache(10_000)
    small, large = np.zeros(100), np.zeros(5_000)
    assert postings.put("small", small) is small
    assert postings.put("large", large) is large
    assert postings.get("large") is None and postings.get("small") is small
    # Its contents, the array's header, and its key and place in the cache.
    assert postings.size == cache.entry_size(small)
    assert postings.size == small.nbytes + sys.getsizeof(np.empty(0)) + cache.ENTRY_OVERHEAD


def test_two_searchers_of_a_generation_share_their_arrays_and_columns(seeds_index: Path):
    with Searcher(seeds_index) as first, Searcher(seeds_index) as second:
        shared = first.backend.shared
        assert second.backend.shared is shared
        first.search("nêu gương cán bộ", limit=10)
        reads = shared.postings.reads
        assert reads > 0
        # The second search of the same words, by the other searcher, reads no posting.
        assert second.search("nêu gương cán bộ", limit=10).hits == first.search("nêu gương cán bộ", limit=10).hits
        assert shared.postings.reads == reads
        assert first.backend.columns() is second.backend.columns()
        assert shared.columns_reads == 1


def test_a_new_generation_gets_a_fresh_cache_and_the_old_one_is_released(folders, tmp_path: Path):
    seeds, index_dir = folders
    live = LiveIndex(index_dir, cache_mb=1)
    with live.searcher() as searcher:
        searcher.search("nêu gương", limit=10)
        old = searcher.backend.shared
        assert old.postings.max_bytes == 2**20 and len(old.postings) > 0
    assert old in cache.open_generations()  # an idle searcher keeps its generation's arrays

    shutil.copy(seeds / "004_a29b889078a98f24.txt", seeds / "cau-moi.txt")
    index.build(seeds, index_dir)
    with live.searcher() as searcher:
        new = searcher.backend.shared
        assert new is not old and new.postings.reads == 0
        assert searcher.search("nêu gương", limit=10).total > 0
    # The old generation's last searcher closed with the rebuild: its arrays went with it.
    assert old not in cache.open_generations() and old.users == 0
    assert [shared for shared in cache.open_generations() if shared.key[0] == new.key[0]] == [new]
    live.close()
    assert new not in cache.open_generations()


def test_the_bound_is_a_megabyte_count_that_cannot_be_negative():
    with pytest.raises(ValueError):
        cache.set_default_cache_mb(-1)
    assert cache.default_cache_mb() == cache.DEFAULT_CACHE_MB


def _whoosh_positions(leaf, fieldname: str, text: str) -> dict[int, list[int]]:  # noqa: ANN001 - a segment's reader
    """A term's positions in one segment as Whoosh's own matcher reads them, by live document."""
    theirs = leaf.postings(fieldname, text)
    found = {}
    while theirs.is_active():
        found[theirs.id()] = list(theirs.value_as("positions"))
        theirs.next()
    return found


def _whoosh_value_bytes(leaf, fieldname: str, text: str) -> int:  # noqa: ANN001 - a segment's reader
    """The bytes of a term's encoded positions in one segment as Whoosh keeps them, live documents'."""
    theirs = leaf.postings(fieldname, text)
    found = 0
    while theirs.is_active():
        found += len(theirs.value())
        theirs.next()
    return found


def _leaves(backend) -> list:  # noqa: ANN001
    return [leaf for leaf, _ in backend.searcher.reader().leaf_readers()]


def test_a_block_s_positions_are_one_string_and_decode_as_whoosh_reads_them(news_index: Path):
    backend = open_backend(news_index, cache_mb=64)
    try:
        checked = 0
        for leaf in _leaves(backend):
            decode = codec.positions_decoder(leaf.schema[f.BODY].format)
            for text in ("viet", "nam"):
                blocks = codec.posting_blocks(leaf, f.BODY, text)
                ours = {}
                whoosh_bytes = _whoosh_value_bytes(leaf, f.BODY, text)
                kept_bytes = 0
                for n in range(len(blocks)):
                    block = blocks.read(n)
                    # One string of positions per block and four bytes for where each posting's end,
                    # not a Python bytes object per posting.
                    assert isinstance(block.data, bytes) and block.offsets.dtype == np.uint32
                    assert len(block.offsets) == len(block.ids) + 1 and block.offsets[-1] == len(block.data)
                    live = [not leaf.is_deleted(doc) for doc in block.ids.tolist()]
                    kept_bytes += sum(
                        int(b - a) for a, b, on in zip(block.offsets[:-1], block.offsets[1:], live, strict=True) if on
                    )
                    for at, doc in enumerate(block.ids.tolist()):
                        ours[doc] = list(decode(block.data[block.offsets[at] : block.offsets[at + 1]]))
                theirs = _whoosh_positions(leaf, f.BODY, text)
                live = {doc: spots for doc, spots in ours.items() if not leaf.is_deleted(doc)}
                assert live and live == theirs
                # Without the count, the pickle's opening and its stop Whoosh writes around each posting's.
                assert kept_bytes == whoosh_bytes - 10 * len(theirs)
                checked += 1
        assert checked >= 2
    finally:
        backend.close()


def test_a_term_scored_whole_is_held_once_as_its_scores_and_one_layout_of_its_positions(news_index: Path):
    backend = open_backend(news_index, cache_mb=64)
    try:
        executor = backend.executor
        phrase = cq.Phrase(f.BODY, ("viet", "nam"))
        first = executor._phrase_within(phrase, executor.every_document().ids)
        assert len(first) > 0
        for text in ("viet", "nam"):
            executor.postings.term(f.BODY, text)
        postings = backend.shared.postings
        held = {text: [key for key in postings.keys() if text in key] for text in ("viet", "nam")}
        for text, keys in held.items():
            # Its scores, its blocks' headers and its positions laid out once a segment: no block left.
            assert ("term", f.BODY, text) in keys
            assert not [key for key in keys if key[0] == "block"]
            laid_out = [key for key in keys if key[0] == "positions"]
            assert len(laid_out) == len(_leaves(backend))
            for key in laid_out:
                ids, lengths, data = postings.get(key)
                # Two bytes a document and one a posting's length of positions (none is over 255 bytes
                # here), beside the positions as one string.
                assert isinstance(data, bytes) and ids.dtype == np.uint16 and lengths.dtype == np.uint8
                assert len(lengths) == len(ids) and int(lengths.sum()) == len(data)
                offsets = np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))
                (leaf,) = [leaf for leaf in _leaves(backend) if leaf.segment().segment_id() == key[1]]
                decode = codec.positions_decoder(leaf.schema[f.BODY].format)
                ours = {doc: list(decode(data[offsets[n] : offsets[n + 1]])) for n, doc in enumerate(ids.tolist())}
                live = {doc: spots for doc, spots in ours.items() if not leaf.is_deleted(doc)}
                assert live == _whoosh_positions(leaf, f.BODY, text)
        # Positions counted once against the bound: what the cache says it holds is what its entries hold.
        assert postings.size == _held(postings)
        # Asked again, the phrase reads no block: the terms' positions are found as they were laid out.
        gets = []
        get = postings.get
        postings.get = lambda key: gets.append(key) or get(key)
        try:
            again = executor._phrase_within(phrase, executor.every_document().ids)
        finally:
            del postings.get
        assert gets and not [key for key in gets if key[0] == "block"]
        assert again.ids.tolist() == first.ids.tolist() and again.scores.tolist() == first.scores.tolist()
    finally:
        backend.close()


def test_searchers_of_a_generation_share_its_spelling_counts_and_what_restoration_read(folders):
    seeds, index_dir = folders
    first, second = Searcher(index_dir), Searcher(index_dir)
    try:
        assert first.spellings is second.spellings
        assert first._looked_up is second._looked_up
        first.search("neu guong can bo", limit=10)
        read = dict(first._looked_up)
        assert read  # restoration read counts, and the other searcher finds them read
        assert second.search("neu guong can bo", limit=10).suggestion == first.search("neu guong can bo").suggestion
        assert second._looked_up == read

        shutil.copy(seeds / "004_a29b889078a98f24.txt", seeds / "ban-moi.txt")
        index.build(seeds, index_dir)
        with Searcher(index_dir) as third:
            assert third.generation != first.generation
            assert third.spellings is not first.spellings and third._looked_up is not first._looked_up
            assert third.search("neu guong", limit=10).total > 0
    finally:
        first.close()
    # Still open for the generation's other searcher, closed with the last of them.
    assert second.spellings.count("neu|nêu") > 0
    second.close()
    with pytest.raises(sqlite3.ProgrammingError):
        second.spellings.count("neu|nêu")


def test_what_restoration_and_correction_looked_up_is_bounded_and_answers_the_same(seeds_index: Path):
    typed = ["neu guong can bo", "thanh uy dong ha", "can bo dang vien", "viet nam", "gia vang", "hoc sinh",
             "phat trien kinh te", "tuyen truyen", "nhan dan", "chi bo", "truong hoc xanh", "neu guongg"]  # fmt: skip
    with Searcher(seeds_index) as searcher:
        looked_up = searcher._looked_up
        assert isinstance(looked_up, LookedUp) and looked_up.limit == LOOKED_UP_RUNS

        def answers() -> list[tuple]:
            found = []
            for text in typed:
                results = searcher.search(text, limit=10, snippets=False)
                found.append((results.suggestion, [hit.id for hit in results.hits]))
                assert len(looked_up) <= looked_up.limit
            return found

        unbounded = answers()
        assert len(looked_up) > 8
        looked_up.clear()
        result_cache.of(searcher).clear()  # the same queries run again, not answered from their kept pages
        looked_up.limit = 8  # emptied several times over these queries
        assert answers() == unbounded
        assert 0 < len(looked_up) <= 8


def test_a_full_lookup_table_is_emptied_and_keeps_the_newest():
    looked_up = LookedUp(limit=2)
    looked_up["neu guong|"] = {"nêu gương": 3.0}
    looked_up["can bo|"] = {"cán bộ": 5.0}
    looked_up["can bo|"] = {"cán bộ": 6.0}  # a key held is replaced, nothing emptied
    assert len(looked_up) == 2
    looked_up["dang vien|"] = {"đảng viên": 2.0}
    assert looked_up == {"dang vien|": {"đảng viên": 2.0}}


def test_a_rare_term_s_few_scores_are_kept_as_they_are():
    few = Matches(np.arange(5, dtype=np.int32), np.array([1.5, 2.25, 1.5, 3.0, 2.25]))
    assert packed(few) is few
    many = Matches(np.arange(4000, dtype=np.int32), np.arange(4000) * 0.5)  # every score distinct
    assert packed(many) is many
    repeated = Matches(np.arange(4000, dtype=np.int32), (np.arange(4000) % 300) * 0.25)
    kept = packed(repeated)
    assert isinstance(kept, Scored) and kept.codes.dtype == np.uint16
    assert kept.matches().scores.tobytes() == repeated.scores.tobytes()


def test_what_the_cache_says_it_holds_is_what_its_entries_hold(news_index: Path):
    backend = open_backend(news_index, cache_mb=64)
    queries = QUERIES + _titles(news_index)[:300]
    with Searcher(news_index, backend=backend) as searcher:
        postings = backend.shared.postings

        def answer() -> None:
            for text in queries:
                searcher.search(text, limit=10, snippets=False)

        def forget() -> None:
            result_cache.of(searcher).clear()
            backend.executor._memo.clear()
            for key in postings.keys():
                postings.discard(key)

        # Run once, so that what the readers, the analysis and the spelling lookups keep of these queries
        # is kept already; then the same again on an empty cache, traced.
        answer()
        forget()
        tracemalloc.start(40)
        try:
            before = tracemalloc.take_snapshot()
            answer()
            result_cache.of(searcher).clear()  # the pages answered, and the phrases checked: not the cache's
            backend.executor._memo.clear()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        said, kinds = postings.size, {key[0] for key in postings.keys()}
    kept = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    # What was allocated while reading postings and is still held: the entries, but their keys' texts
    # (the query's) and the phrases' matches (the executor's).
    reading = [tracemalloc.Filter(True, "*/engines/whoosh/postings.py", all_frames=True)]
    read = sum(
        stat.size_diff for stat in after.filter_traces(reading).compare_to(before.filter_traces(reading), "filename")
    )
    # Terms, blocks, their directories and layouts of positions, each counted by its arrays, tuples and key:
    # at least what reading them allocated and kept, and within a tenth of all that the searches kept (a place
    # in the cache's order is counted at its most, as the table fills).
    assert {"term", "block", "blocks", "positions"} <= kinds and said > 2**18
    assert read <= said <= 1.1 * kept, (read, said, kept)
