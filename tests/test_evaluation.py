"""Relevance arithmetic, checked against values worked out by hand."""

import json
import math

import pytest
from corpora import XQUAD

from searchkit.errors import SearchkitError
from searchkit.search.evaluation import EvalReport, Query, evaluate, load_qrels, load_queries, write_run

QRELS = {
    "q1": {"d1": 1},
    "q2": {"a": 2, "b": 1},
    "q3": {"c": 1},
    "q5": {"z": 1},
}
RUN = {
    "q1": ["d9", "d1", "d3"],
    "q2": ["b", "x", "a"],
    # q3 has no entry: the system returned nothing.
    "q4": ["anything"],  # not judged: ignored
    "q5": [f"n{i}" for i in range(10)] + ["z"],  # relevant only at rank 11
}


def by_query(report: EvalReport) -> dict:
    return {row["query_id"]: row for row in report.per_query}


def test_relevant_doc_at_rank_two_scores_half():
    row = by_query(evaluate(RUN, QRELS))["q1"]
    assert row["mrr_at_10"] == 0.5
    assert row["first_relevant_rank"] == 2
    # One relevant doc of grade 1 at rank 2, ideal at rank 1: (1 / log2 3) / (1 / log2 2).
    assert row["ndcg_at_10"] == pytest.approx(1 / math.log2(3))
    assert (row["recall_at_1"], row["recall_at_10"], row["recall_at_100"]) == (0.0, 1.0, 1.0)


def test_graded_ndcg_with_two_relevant_docs():
    row = by_query(evaluate(RUN, QRELS))["q2"]
    dcg = 1 / math.log2(2) + 2 / math.log2(4)  # b (grade 1) at rank 1, a (grade 2) at rank 3
    ideal = 2 / math.log2(2) + 1 / math.log2(3)  # a first, then b
    assert row["ndcg_at_10"] == pytest.approx(dcg / ideal)
    assert row["ndcg_at_10"] == pytest.approx(0.7602, abs=1e-4)
    assert row["mrr_at_10"] == 1.0
    assert row["recall_at_1"] == 0.5
    assert row["recall_at_10"] == 1.0


def test_query_with_no_results_scores_zero():
    row = by_query(evaluate(RUN, QRELS))["q3"]
    assert row["retrieved"] == 0
    assert row["first_relevant_rank"] is None
    assert all(row[key] == 0.0 for key in ("mrr_at_10", "ndcg_at_10", "recall_at_100"))


def test_relevant_doc_below_rank_ten_counts_only_for_recall_at_100():
    row = by_query(evaluate(RUN, QRELS))["q5"]
    assert row["first_relevant_rank"] == 11
    assert row["mrr_at_10"] == 0.0
    assert row["ndcg_at_10"] == 0.0
    assert row["recall_at_10"] == 0.0
    assert row["recall_at_100"] == 1.0


def test_run_query_missing_from_qrels_is_ignored():
    report = evaluate(RUN, QRELS)
    assert "q4" not in by_query(report)
    assert report.queries == 4


def test_means_average_over_judged_queries():
    report = evaluate(RUN, QRELS)
    assert report.mrr_at_10 == pytest.approx((0.5 + 1.0 + 0.0 + 0.0) / 4)
    assert report.recall_at_1 == pytest.approx((0.0 + 0.5 + 0.0 + 0.0) / 4)
    assert report.recall_at_10 == pytest.approx((1.0 + 1.0 + 0.0 + 0.0) / 4)
    assert report.recall_at_100 == pytest.approx((1.0 + 1.0 + 0.0 + 1.0) / 4)
    ndcg_q1 = 1 / math.log2(3)
    ndcg_q2 = 2 / (2 + 1 / math.log2(3))
    assert report.ndcg_at_10 == pytest.approx((ndcg_q1 + ndcg_q2) / 4)


def test_depth_truncates_the_run_before_scoring():
    report = evaluate(RUN, QRELS, depth=10)
    assert by_query(report)["q5"]["recall_at_100"] == 0.0


def test_repeated_doc_counts_once():
    report = evaluate({"q": ["a", "a", "b"]}, {"q": {"a": 1, "b": 1}})
    row = report.per_query[0]
    # b is the second distinct document, so rank 2.
    assert row["ndcg_at_10"] == pytest.approx(1.0)
    assert row["retrieved"] == 2


def test_grade_zero_is_judged_not_relevant():
    report = evaluate({"q": ["seen", "good"]}, {"q": {"seen": 0, "good": 1}})
    assert report.mrr_at_10 == 0.5


def test_query_without_any_relevant_doc_is_left_out():
    report = evaluate({"q": ["a"]}, {"q": {"a": 0}, "r": {"b": 1}})
    assert report.queries == 1
    assert report.per_query[0]["query_id"] == "r"


def test_empty_qrels_give_zero_means():
    report = evaluate(RUN, {})
    assert report.queries == 0
    assert report.mrr_at_10 == 0.0


def test_report_is_json_ready():
    report = evaluate(RUN, QRELS)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["queries"] == 4
    assert len(data["per_query"]) == 4
    assert "per_query" not in report.to_dict(per_query=False)


def test_load_queries_reads_jsonl(tmp_path):
    path = tmp_path / "queries.jsonl"
    rows = [{"id": "q1", "text": "Đảng viên nêu gương?"}, {"id": 7, "text": " Thành uỷ Đông Hà "}]
    path.write_text(
        "\n".join(json.dumps(row, ensure_ascii=False) for row in rows) + "\n\n", encoding="utf-8"
    )
    assert load_queries(path) == [
        Query(id="q1", text="Đảng viên nêu gương?"),
        Query(id="7", text=" Thành uỷ Đông Hà "),
    ]


def test_load_queries_names_the_bad_line(tmp_path):
    path = tmp_path / "queries.jsonl"
    path.write_text('{"id": "q1", "text": "a"}\n{"id": "q2"}\n', encoding="utf-8")
    with pytest.raises(SearchkitError, match=":2:"):
        load_queries(path)


def test_load_qrels_reads_tsv(tmp_path):
    path = tmp_path / "qrels.tsv"
    path.write_text("q1\txq-000\t1\nq1\txq-001\t2\nq2\txq-002\t0\n", encoding="utf-8")
    assert load_qrels(path) == {"q1": {"xq-000": 1, "xq-001": 2}, "q2": {"xq-002": 0}}


def test_load_qrels_reads_trec_format(tmp_path):
    path = tmp_path / "qrels.txt"
    path.write_text("301 0 FT911-3 1\n301  0\tFT911-4 0\n302 Q0 LA0101 2\n", encoding="utf-8")
    assert load_qrels(path) == {"301": {"FT911-3": 1, "FT911-4": 0}, "302": {"LA0101": 2}}


def test_load_qrels_skips_a_header(tmp_path):
    path = tmp_path / "qrels.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n", encoding="utf-8")
    assert load_qrels(path) == {"q1": {"d1": 1}}


def test_load_qrels_rejects_a_bad_grade(tmp_path):
    path = tmp_path / "qrels.tsv"
    path.write_text("q1\td1\t1\nq1\td2\thigh\n", encoding="utf-8")
    with pytest.raises(SearchkitError, match=":2:"):
        load_qrels(path)


# --- the library's figures beside trec_eval's definitions worked out here, on a real run ------------------------

SLICE_PARAGRAPHS = 20


def reference_scores(run: dict[str, list[str]], qrels: dict[str, dict[str, int]], depth: int) -> dict:
    """trec_eval's definitions written out (the arithmetic this module had before it used ir-measures)."""
    rows = {}
    for query_id, judged in qrels.items():
        relevant = {doc for doc, grade in judged.items() if grade > 0}
        if not relevant:
            continue
        ranking = list(dict.fromkeys(run.get(query_id, [])))[:depth]
        first = next((rank for rank, doc in enumerate(ranking, 1) if doc in relevant), None)
        gains = [max(judged.get(doc, 0), 0) for doc in ranking[:10]]
        ideal = sorted((grade for grade in judged.values() if grade > 0), reverse=True)[:10]

        def dcg(values: list[int]) -> float:
            return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(values, 1))

        rows[query_id] = {
            "mrr_at_10": 1.0 / first if first and first <= 10 else 0.0,
            "ndcg_at_10": dcg(gains) / dcg(ideal),
            **{f"recall_at_{k}": sum(doc in relevant for doc in ranking[:k]) / len(relevant) for k in (1, 10, 100)},
        }
    return rows


@pytest.fixture(scope="module")
def xquad_slice_runs(tmp_path_factory: pytest.TempPathFactory):
    """Real runs: the questions on the first 20 XQuAD-vi paragraphs, searched over those paragraphs."""
    from searchkit.build.index import build
    from searchkit.search.searcher import Searcher
    from searchkit.text.analysis import fold

    folder = tmp_path_factory.mktemp("xquad-slice")
    paragraphs = (XQUAD / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:SLICE_PARAGRAPHS]
    (folder / "corpus.jsonl").write_text("\n".join(paragraphs) + "\n", encoding="utf-8")
    ids = {json.loads(line)["id"] for line in paragraphs}
    qrels = {q: judged for q, judged in load_qrels(XQUAD / "qrels.tsv").items() if set(judged) <= ids}
    queries = [query for query in load_queries(XQUAD / "queries.jsonl") if query.id in qrels]
    build(folder / "corpus.jsonl", folder / "index", procs=1)
    runs = {}
    with Searcher(folder / "index") as searcher:
        for typed, prepare in (("accented", str), ("folded", fold)):
            runs[typed] = {
                query.id: [hit.id.split("#", 1)[-1] for hit in searcher.search(prepare(query.text), limit=100).hits]
                for query in queries
            }
    return runs, qrels


@pytest.mark.parametrize("typed", ["accented", "folded"])
def test_library_figures_agree_with_trec_eval_definitions_on_a_real_run(xquad_slice_runs, typed: str):
    runs, qrels = xquad_slice_runs
    run = runs[typed]
    assert len(qrels) > 60 and all(run.values())
    # Not every question finds its paragraph first: the comparison covers ranks past 1 and misses.
    assert any(ranking[0] not in qrels[query_id] for query_id, ranking in run.items())
    expected = reference_scores(run, qrels, depth=100)
    report = evaluate(run, qrels, depth=100)
    assert report.queries == len(expected)
    keys = ("mrr_at_10", "ndcg_at_10", "recall_at_1", "recall_at_10", "recall_at_100")
    for row in report.per_query:
        for key in keys:
            assert row[key] == pytest.approx(expected[row["query_id"]][key], abs=1e-9), (row["query_id"], key)
    for key in keys:
        mean = sum(scores[key] for scores in expected.values()) / len(expected)
        assert round(getattr(report, key), 4) == round(mean, 4)


def test_run_file_lines_are_trec_format_in_rank_order(tmp_path):
    path = tmp_path / "run.txt"
    write_run(path, {"q1": ["d2", "d1"], "q2": ["d3"]}, {"q1": [7.5, 2.25]})
    assert path.read_text(encoding="utf-8").splitlines() == [
        "q1 Q0 d2 1 7.500000 searchkit",
        "q1 Q0 d1 2 2.250000 searchkit",
        # No score given: the rank's reverse, so that a tool ordering by score keeps the ranking.
        "q2 Q0 d3 1 1.000000 searchkit",
    ]


def test_run_file_refuses_an_id_with_white_space(tmp_path):
    path = tmp_path / "run.txt"
    with pytest.raises(SearchkitError, match="'Bài 1.txt'"):
        write_run(path, {"q1": ["Bài 1.txt"]}, {})
    assert not path.exists()
