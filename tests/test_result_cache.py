"""The result cache: a page asked again on the same generation is answered from it, equal to running the query,
never from an older generation, keyed apart by everything that changes the page, handed out as copies, bounded."""

from __future__ import annotations

import tracemalloc
from datetime import date
from pathlib import Path

import pytest

from searchkit.build import index
from searchkit.engines.whoosh.backend import WhooshBackend
from searchkit.errors import QueryError
from searchkit.search import result_cache
from searchkit.search.filters import Filters
from searchkit.search.parse import MAX_QUERY_CHARS
from searchkit.search.result_cache import ResultCache
from searchkit.search.searcher import Searcher

AN_KHE = "000_f290433a7163aea1.txt"


def runs(searcher: Searcher) -> list[int]:
    """Counts the compiled queries the searcher's engine runs from now on (one list, appended to)."""
    counted: list[int] = []
    run = searcher.backend.executor.run

    def counting(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        counted.append(1)
        return run(*args, **kwargs)

    searcher.backend.executor.run = counting
    return counted


def page(results) -> tuple:  # noqa: ANN001
    return results.total, results.suggestion, [(h.id, h.score, h.snippet) for h in results.hits]


def test_the_same_page_asked_twice_is_answered_from_the_cache_as_running_it_would(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        result_cache.of(searcher).clear()  # another test's searcher may keep the generation open
        counted = runs(searcher)
        first = searcher.search("nêu gương")
        after_first = len(counted)
        again = searcher.search("nêu gương")
        assert len(counted) == after_first > 0
        assert page(again) == page(first) and again.hits and again.hits[0].snippet.marked
    with Searcher(seeds_index) as fresh:
        result_cache.of(fresh).clear()
        assert page(fresh.search("nêu gương")) == page(first)


def test_the_searchers_of_one_generation_share_its_pages(seeds_index: Path):
    with Searcher(seeds_index) as one, Searcher(seeds_index) as other:
        assert result_cache.of(one) is result_cache.of(other)
        one.search("đảng viên học tập")
        counted = runs(other)
        other.search("đảng viên học tập")
        assert counted == []


def test_a_new_generation_after_an_add_is_not_answered_from_the_old_one_s_pages(folders, tmp_path: Path):
    seeds, index_dir = folders
    with Searcher(index_dir) as searcher:
        before = [hit.id for hit in searcher.search("khánh thành cầu mới").hits]
        new = tmp_path / "cau-moi.txt"
        new.write_text("Khánh thành cầu mới\n\nĐảng bộ Đông Hà khánh thành cầu mới, nêu gương.\n", encoding="utf-8")
        index.add_files([new], seeds, index_dir)
        assert [hit.id for hit in searcher.search("khánh thành cầu mới").hits] == before  # its own generation still
        searcher.refresh()
        after = [hit.id for hit in searcher.search("khánh thành cầu mới").hits]
    assert "cau-moi.txt" not in before and after[0] == "cau-moi.txt"


def test_pages_limits_and_sorts_are_kept_apart(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        first = [hit.id for hit in searcher.search("chỉ thị 05", limit=2).hits]
        second = [hit.id for hit in searcher.search("chỉ thị 05", limit=2, page=2).hits]
        three = [hit.id for hit in searcher.search("chỉ thị 05", limit=3).hits]
        assert len(first) == len(second) == 2 and not set(first) & set(second)
        assert three[:2] == first and len(three) == 3
        assert searcher.search("chỉ thị 05", limit=2, page=2).page == 2


def test_filters_are_kept_apart(news_index: Path):
    with Searcher(news_index) as searcher:
        every = searcher.search("Việt Nam", limit=20)
        narrowed = searcher.search("Việt Nam", limit=20, filters=Filters(since=date(2100, 1, 1)))
        assert every.total > 0 and narrowed.total == 0
        assert searcher.search("Việt Nam", limit=20).total == every.total


def test_snippets_and_suggestions_off_are_kept_apart(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        plain = searcher.search("neu guong", snippets=False, suggest=False)
        full = searcher.search("neu guong")
        assert all(hit.snippet is None for hit in plain.hits) and plain.suggestion is None
        assert full.hits[0].snippet is not None and full.suggestion == "nêu gương"


def test_a_caller_changing_its_results_does_not_change_the_cached_page(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        first = searcher.search("nêu gương")
        expected = page(first)
        first.hits.clear()
        first.acronyms.append("x")
        again = searcher.search("nêu gương")
        assert page(again) == expected and "x" not in again.acronyms
        again.hits.pop()
        assert page(searcher.search("nêu gương")) == expected


def test_a_query_that_fails_is_not_kept(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        cache = result_cache.of(searcher)
        cache.clear()
        for _ in range(2):
            with pytest.raises(QueryError):
                searcher.search("nêu gương " * MAX_QUERY_CHARS)
        assert len(cache) == 0


def test_the_bound_counts_pages_of_ten_hits_and_evicts_the_least_recently_used(seeds_index: Path):
    cache = ResultCache(max_pages=3)
    with Searcher(seeds_index) as searcher:
        pages = {text: searcher.search(text) for text in ("nêu gương", "đảng viên", "an khê", "bình lục")}
    for text, results in pages.items():
        cache.put(text, results)
    assert len(cache) == 3 and cache.get("nêu gương") is None and cache.get("bình lục") is not None
    big = pages["bình lục"]
    big.hits = big.hits * 40  # a page of a hundred-odd hits counts for more than the whole bound
    cache.put("big", big)
    assert cache.get("big") is None and cache.size <= 3


def test_a_full_cache_of_pages_with_snippets_stays_near_twenty_megabytes(news_index: Path):
    texts = ("Việt Nam", "viet nam", "Hà Nội", "kinh tế", "bóng đá", "học sinh")
    with Searcher(news_index) as searcher:
        cache = result_cache.of(searcher)
        for text in texts:  # the postings read once: what is measured below is the pages alone
            searcher.search(text)
        kept, hits = [], 0
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            cache.clear()  # each page built anew: its own hits, titles and snippets, as distinct queries' are
            for text in texts:
                kept.append(searcher.search(text))
                hits += len(kept[-1].hits)
        held = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    assert hits > 100
    # The cache keeps a second copy of each page's lists, not of its hits: per hit, what a page holds.
    assert held / hits * result_cache.HITS_PER_PAGE * result_cache.MAX_PAGES < 20 * 2**20


def test_a_backend_without_generations_is_never_cached(seeds_index: Path):
    backend = WhooshBackend(seeds_index)
    shared, backend.shared = backend.shared, None  # as the Xapian shards' backend: no generation to key pages by
    try:
        with Searcher(seeds_index, backend=backend) as searcher:
            assert result_cache.of(searcher) is None
            counted = runs(searcher)
            searcher.search("nêu gương")
            once = len(counted)
            searcher.search("nêu gương")
            assert len(counted) == 2 * once > 0
    finally:
        from searchkit.engines.whoosh import cache

        cache.release(shared)
