"""Parity of ranking: XQuAD-vi MRR@10 over three shards within 0.01 of the embedded index's, with and
without diacritics (all 1,190 questions)."""

from __future__ import annotations

import pytest

from searchkit.build.index import build
from searchkit.build.shards import build as build_shards
from searchkit.engines.xapian.servers import LocalShards
from searchkit.search.evaluation import Query, load_qrels, load_queries
from searchkit.search.searcher import Searcher
from searchkit.text.analysis import fold
from tests.test_xquad import XQUAD, mrr

PARITY = 0.01


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory):
    if not (XQUAD / "corpus.jsonl").is_file():
        pytest.fail(f"the XQuAD-vi data is missing: {XQUAD}")
    folder = tmp_path_factory.mktemp("xquad-shards")
    build(XQUAD / "corpus.jsonl", folder / "index")
    with LocalShards(folder / "servers", 3) as servers:
        report = build_shards(XQUAD / "corpus.jsonl", servers.shards)
        assert report.added == 240 and not report.skipped
        with Searcher(folder / "index") as embedded:
            # The shards are opened for each run of questions: a connection left idle while the embedded index
            # answers (a minute or more on a busy machine) is closed by the server's idle timeout.
            yield embedded, lambda: Searcher(shards=servers.shards, cache=folder / "cache")


@pytest.mark.slow
@pytest.mark.parametrize("typed", ["accented", "folded"])
def test_xquad_mrr_over_shards_is_within_a_hundredth_of_the_embedded_index(engines, typed: str):
    embedded, open_shards = engines
    queries = load_queries(XQUAD / "queries.jsonl")
    qrels = load_qrels(XQUAD / "qrels.tsv")
    if typed == "folded":
        queries = [Query(q.id, fold(q.text)) for q in queries]
    ours = mrr(embedded, queries, qrels)
    with open_shards() as shards:
        theirs = mrr(shards, queries, qrels)
    assert ours > 0.9
    assert abs(theirs - ours) <= PARITY, (ours, theirs)
