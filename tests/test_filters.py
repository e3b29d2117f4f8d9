"""Filters, sort orders and facets through the library: ``Searcher.search(..., filters=, sort=, facets=)``.

The news archive of ``conftest.py``: eight articles mentioning "Việt Nam", from three sources each
spelled two ways, with tags, dates written four ways, one without a date and one whose date is none.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from searchkit.build.index import build
from searchkit.errors import QueryError
from searchkit.search.filters import MAX_VALUES, Filters, check_sort, value_key
from searchkit.search.searcher import Searcher

TUYEN_SINH = "tuoi-tre-tuyen-sinh.md"
NGAY_HONG = "ngay-hong.md"
BAN_TIN = "ban-tin.txt"
VNE_1, VNE_2, TT_2, TN_1, TN_2 = (f"tin.jsonl#{key}" for key in ("vne-1", "vne-2", "tt-2", "tn-1", "tn-2"))
NEWEST_FIRST = [TN_1, TUYEN_SINH, VNE_1, BAN_TIN, TT_2, VNE_2]


@pytest.fixture(scope="module")
def searcher(news_searcher: Searcher):
    """The news archive on each engine in turn: filters, sorts and facets behave alike on both."""
    return news_searcher


def ids(searcher: Searcher, text: str = "việt nam", **options) -> list[str]:
    return [hit.id for hit in searcher.search(text, limit=20, **options).hits]


def facet(searcher: Searcher, name: str, text: str = "việt nam", **filters) -> list[tuple[object, int]]:
    results = searcher.search(text, filters=Filters.parse(**filters), facets=True)
    return [(value.value, value.count) for value in getattr(results.facets, name)]


# --- reading what a reader asks for --------------------------------------------------------------------


def test_filters_read_dates_written_either_way_and_drop_empty_values():
    filters = Filters.parse(since="1/5/2024", until="2024-05-31", sources=["", " Tuổi  Trẻ "], tags=[" "])
    assert filters == Filters(date(2024, 5, 1), date(2024, 5, 31), ("Tuổi Trẻ",), ())
    assert filters.active and filters.dated
    assert not Filters.parse(since="", until=None, sources=[""], tags=[]).active


@pytest.mark.parametrize("since, until", [("2024-13-45", None), (None, "hôm qua"), ("31/02/2024", None)])
def test_an_impossible_or_unreadable_date_is_refused_with_its_code(since, until):
    with pytest.raises(QueryError) as caught:
        Filters.parse(since=since, until=until)
    assert caught.value.code == "date_invalid"
    assert caught.value.details["value"] == since or until


def test_a_range_ending_before_it_starts_is_refused():
    with pytest.raises(QueryError) as caught:
        Filters.parse(since="2024-06-01", until="2024-05-01")
    assert caught.value.code == "date_range"


def test_too_many_values_are_refused():
    with pytest.raises(QueryError) as caught:
        Filters.parse(tags=[f"chủ đề {n}" for n in range(MAX_VALUES + 1)])
    assert (caught.value.code, caught.value.details["limit"]) == ("filter_too_many", MAX_VALUES)


def test_sort_defaults_to_relevance_or_newest_when_browsing_and_refuses_others():
    assert check_sort(None, browsing=False) == "relevance"
    assert check_sort("", browsing=True) == "newest"
    assert check_sort("oldest", browsing=True) == "oldest"
    with pytest.raises(QueryError) as caught:
        check_sort("popular", browsing=False)
    assert caught.value.code == "sort_unknown"


def test_sources_and_tags_match_ignoring_case_accents_and_spaces():
    assert value_key("Tuổi  Trẻ ") == value_key("tuoi tre") == value_key("TUOI TRE") == "tuoi tre"


# --- each filter ------------------------------------------------------------------------------------------


def test_every_article_matches_without_filters(searcher):
    assert len(ids(searcher)) == 8


def test_since_and_until_are_both_inclusive(searcher):
    assert ids(searcher, filters=Filters.parse(since="2024-05-22"), sort="oldest") == [TUYEN_SINH, TN_1]
    assert ids(searcher, filters=Filters.parse(until="22/05/2024"), sort="newest") == NEWEST_FIRST[1:]
    assert ids(searcher, filters=Filters.parse(since="22-5-2024", until="2024-05-22")) == [TUYEN_SINH]


def test_a_date_range_leaves_out_articles_without_a_date(searcher):
    found = ids(searcher, filters=Filters.parse(since="1900-01-01"))
    assert sorted(found) == sorted(NEWEST_FIRST) and NGAY_HONG not in found and TN_2 not in found


def test_source_filter_matches_every_spelling_of_the_source(searcher):
    assert sorted(ids(searcher, filters=Filters.parse(sources=["tuoi tre"]))) == sorted([TUYEN_SINH, NGAY_HONG, TT_2])
    assert sorted(ids(searcher, filters=Filters.parse(sources=["VNEXPRESS"]))) == sorted([VNE_1, VNE_2])


def test_several_sources_or_tags_widen_and_different_filters_narrow(searcher):
    either = Filters.parse(sources=["VnExpress", "Thanh Niên"])
    assert sorted(ids(searcher, filters=either)) == sorted([VNE_1, VNE_2, TN_1, TN_2])
    tags = Filters.parse(tags=["thể thao", "giá vàng"])
    assert sorted(ids(searcher, filters=tags)) == sorted([VNE_1, TN_1])
    both = Filters.parse(sources=["Tuổi Trẻ"], since="2024-01-01")
    assert sorted(ids(searcher, filters=both)) == sorted([TUYEN_SINH, TT_2])


def test_tag_filter_matches_ignoring_case_and_accents(searcher):
    assert sorted(ids(searcher, filters=Filters.parse(tags=["GIAO DUC"]))) == sorted([TUYEN_SINH, TT_2, TN_2])


def test_an_unknown_source_matches_nothing(searcher):
    results = searcher.search("việt nam", filters=Filters.parse(sources=["Nhân Dân"]), facets=True)
    assert (results.total, results.hits) == (0, [])


def test_filters_narrow_the_query_rather_than_replace_it(searcher):
    assert ids(searcher, "giá vàng", filters=Filters.parse(sources=["vnexpress"])) == [VNE_1]
    assert ids(searcher, "giá vàng", filters=Filters.parse(sources=["thanh nien"])) == []


# --- sort orders and browsing -------------------------------------------------------------------------------


def test_newest_and_oldest_put_undated_articles_last(searcher):
    newest = ids(searcher, sort="newest")
    assert newest[:6] == NEWEST_FIRST and sorted(newest[6:]) == sorted([NGAY_HONG, TN_2])
    oldest = ids(searcher, sort="oldest")
    assert oldest[:6] == NEWEST_FIRST[::-1] and sorted(oldest[6:]) == sorted([NGAY_HONG, TN_2])


def test_relevance_is_the_default_order(searcher):
    results = searcher.search("giá vàng", limit=20)
    assert results.sort == "relevance" and results.hits[0].id == VNE_1


def test_sorted_results_page_like_ranked_ones(searcher):
    pages = [searcher.search("việt nam", sort="newest", limit=2, page=n) for n in (1, 2, 3)]
    assert [hit.id for page in pages for hit in page.hits] == NEWEST_FIRST
    assert [hit.rank for hit in pages[2].hits] == [5, 6]


def test_empty_text_with_a_filter_browses_newest_first(searcher):
    results = searcher.search("", filters=Filters.parse(tags=["giáo dục"]), limit=20)
    assert results.sort == "newest" and results.total == 3
    assert [hit.id for hit in results.hits] == [TUYEN_SINH, TT_2, TN_2]
    assert results.suggestion is None
    assert results.hits[0].snippet.text().startswith("Sở Giáo dục Hà Nội")


def test_empty_text_without_a_filter_is_still_refused(searcher):
    with pytest.raises(QueryError) as caught:
        searcher.search("  ", filters=Filters.parse(since="", sources=[""]))
    assert caught.value.code == "query_empty"


def test_hits_carry_their_metadata(searcher):
    hit = searcher.search("tuyển sinh").hits[0]
    assert (hit.id, hit.date, hit.source, hit.tags) == (TUYEN_SINH, "2024-05-22", "Tuổi Trẻ", ("giáo dục", "Hà Nội"))
    assert hit.url == "https://tuoitre.example/tuyen-sinh"
    data = searcher.search("hội chợ").to_dict()["results"][0]
    assert (data["date"], data["source"], data["tags"], data["url"]) == ("2024-04-15", None, [], None)


# --- facets --------------------------------------------------------------------------------------------------


def test_facets_count_every_match_most_frequent_first(searcher):
    assert facet(searcher, "source") == [("Tuổi Trẻ", 3), ("Thanh Niên", 2), ("VnExpress", 2)]
    assert facet(searcher, "tags") == [("giáo dục", 3), ("kinh tế", 2), ("giá vàng", 1), ("Hà Nội", 1), ("thể thao", 1)]
    assert facet(searcher, "year") == [(2024, 5), (2023, 1)]


def test_a_facet_ignores_its_own_filter_and_applies_the_others(searcher):
    # The source facet keeps every source countable once one is chosen; the others count its articles.
    assert facet(searcher, "source", sources=["vnexpress"]) == facet(searcher, "source")
    assert facet(searcher, "tags", sources=["vnexpress"]) == [("kinh tế", 2), ("giá vàng", 1)]
    assert facet(searcher, "year", sources=["vnexpress"]) == [(2024, 1), (2023, 1)]  # ties: later first
    # The year facet ignores the date range; sources and tags count only the articles inside it.
    assert facet(searcher, "year", since="2024-05-01") == [(2024, 5), (2023, 1)]
    assert facet(searcher, "source", since="2024-05-01") == [("Thanh Niên", 1), ("Tuổi Trẻ", 1), ("VnExpress", 1)]
    assert facet(searcher, "tags", tags=["kinh te"]) == facet(searcher, "tags")


def test_facets_count_the_query_matches_only(searcher):
    assert facet(searcher, "source", text="học sinh") == [("Tuổi Trẻ", 1)]
    assert facet(searcher, "tags", text="vàng OR gạo") == [("kinh tế", 2), ("giá vàng", 1)]


def test_facets_are_computed_only_when_asked(searcher):
    assert searcher.search("việt nam").facets is None
    assert "facets" not in searcher.search("việt nam").to_dict()
    data = searcher.search("việt nam", facets=True).to_dict()["facets"]
    assert data["year"] == [{"value": 2024, "count": 5}, {"value": 2023, "count": 1}]


def test_an_update_moves_the_counts_and_filters_with_it(news_dir: Path, tmp_path: Path):
    seeds, index_dir = tmp_path / "news", tmp_path / "index"
    shutil.copytree(news_dir, seeds)
    build(seeds, index_dir, procs=1)
    (seeds / NGAY_HONG).unlink()
    text = (seeds / "ban-tin.txt").read_text(encoding="utf-8")
    (seeds / "ban-tin.txt").write_text(text.replace("15/04/2024", "15/04/2022"), encoding="utf-8")
    build(seeds, index_dir, procs=1)
    with Searcher(index_dir) as updated:
        assert facet(updated, "source") == [("Thanh Niên", 2), ("Tuổi Trẻ", 2), ("VnExpress", 2)]
        assert facet(updated, "year") == [(2024, 4), (2023, 1), (2022, 1)]
        assert ids(updated, filters=Filters.parse(until="2022-12-31")) == [BAN_TIN]
