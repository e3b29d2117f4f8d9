"""The contract every engine keeps: the same searches give the same answers on the embedded Whoosh index and on
three Xapian shards (``engine``, ``seeds_searcher`` and ``news_searcher`` in ``tests/conftest.py``).

Each test runs once per engine and states what a search promises, whichever engine answers it; the filters, sorts
and facets of the news archive are held to the same contract in ``tests/test_filters.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from searchkit.engines import budget
from searchkit.engines.backend import open_backend
from searchkit.engines.whoosh.backend import WhooshBackend
from searchkit.errors import QueryError, SearchkitError
from searchkit.search import result_cache, results
from searchkit.search.filters import Filters
from searchkit.search.searcher import Searcher

NEU_GUONG = "004_a29b889078a98f24.txt"
DONG_HA = "003_b3e0a07a9f4fc9ac.txt"


def ids(found) -> list[str]:
    return [hit.id for hit in found.hits]


@pytest.mark.parametrize(
    ("text", "first"),
    [("nêu gương", NEU_GUONG), ("neu guong", NEU_GUONG), ("thành ủy", DONG_HA), ("Đông Hà Phước nào", DONG_HA)],
)
def test_the_article_about_it_ranks_first(seeds_searcher: Searcher, text: str, first: str):
    assert ids(seeds_searcher.search(text))[0] == first


def test_exclusions_phrases_and_prefixes_match_the_same_articles(seeds_searcher: Searcher):
    assert seeds_searcher.search("chi thi").total == 5
    assert seeds_searcher.search("chi thi -khe").total == 4
    assert seeds_searcher.search('"hoc tap va lam theo"').total == 5
    assert ids(seeds_searcher.search('"theo làm và tập học"')) == []
    assert seeds_searcher.search("học* gương").total >= 1


def test_the_time_budget_stops_a_search_on_either_engine(seeds_searcher: Searcher, monkeypatch: pytest.MonkeyPatch):
    # A clock that only moves while snippets are made: three seconds for each.
    now = [0.0]
    monkeypatch.setattr(budget, "thread_time", lambda: now[0])
    made = results.snippet

    def slow_snippet(*args, **kwargs):
        now[0] += 3.0
        return made(*args, **kwargs)

    monkeypatch.setattr(results, "snippet", slow_snippet)
    pages = result_cache.of(seeds_searcher)  # a page another test asked for: run again, under this clock
    if pages is not None:
        pages.clear()
    assert seeds_searcher.search("nêu gương", snippets=False).total > 1
    with pytest.raises(QueryError) as caught:
        seeds_searcher.search("nêu gương")
    assert caught.value.code == "query_timeout"
    assert now[0] == 3.0  # stopped after the first snippet over the budget
    assert len(seeds_searcher.search("nêu gương", budget=None).hits) > 1


def test_facets_are_counted_on_either_engine(news_searcher: Searcher):
    counted = news_searcher.search("việt nam", facets=True, filters=Filters.parse(sources=["tuoi tre"]))
    assert counted.total == 3 and counted.exact
    assert [(v.value, v.count) for v in counted.facets.source] == [("Tuổi Trẻ", 3), ("Thanh Niên", 2), ("VnExpress", 2)]


def test_documents_and_related_articles(seeds_searcher: Searcher):
    document = seeds_searcher.document(NEU_GUONG)
    assert document is not None and "nêu gương" in document.text
    assert seeds_searcher.document("no-such-article.txt") is None
    related = [hit.id for hit in seeds_searcher.related(NEU_GUONG)]
    assert related and NEU_GUONG not in related
    assert seeds_searcher.related("no-such-article.txt") == []


def test_a_searcher_reports_the_version_it_answers_from(seeds_searcher: Searcher):
    assert seeds_searcher.is_current()
    assert seeds_searcher.generation == seeds_searcher.backend.version() != ""


def test_open_backend_chooses_the_engine_from_the_options(seeds_index: Path, tmp_path: Path):
    backend = open_backend(seeds_index)
    assert isinstance(backend, WhooshBackend)
    with Searcher(backend=backend) as searcher:  # the searcher closes what it was given
        assert ids(searcher.search("nêu gương"))[0] == NEU_GUONG
    with pytest.raises(SearchkitError) as caught:
        open_backend(tmp_path / "no-index")
    assert caught.value.code == "index_missing"
