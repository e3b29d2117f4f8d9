"""`searchkit eval`: relevance figures from the product's own query path, on the seed articles."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from commands import loaded_by, run

NEU_GUONG = "004_a29b889078a98f24.txt"
THANH_UY = "003_b3e0a07a9f4fc9ac.txt"
AN_KHE = "000_f290433a7163aea1.txt"


@pytest.fixture
def judged(tmp_path: Path) -> tuple[Path, Path]:
    queries = tmp_path / "queries.jsonl"
    queries.write_text(
        "\n".join(
            json.dumps(row, ensure_ascii=False)
            for row in (
                {"id": "q1", "text": "trách nhiệm nêu gương"},
                {"id": "q2", "text": "Đông Hà thành ủy"},
                {"id": "q3", "text": "thị xã An Khê"},
            )
        )
        + "\n",
        encoding="utf-8",
    )
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text(f"q1\t{NEU_GUONG}\t1\nq2\t{THANH_UY}\t1\nq3\t{AN_KHE}\t1\n", encoding="utf-8")
    return queries, qrels


def evaluate(index_dir: Path, seeds_dir: Path, judged: tuple[Path, Path], *extra: str) -> dict:
    queries, qrels = judged
    code, out, err = run(
        "eval", "--queries", str(queries), "--qrels", str(qrels),
        "--index", str(index_dir), "--seeds", str(seeds_dir), "--json", "--per-query", *extra,
    )  # fmt: skip
    assert code == 0, err
    return json.loads(out)


def test_eval_ranks_are_those_the_query_command_gives(seeds_index: Path, seeds_dir: Path, judged):
    report = evaluate(seeds_index, seeds_dir, judged)
    assert report["queries"] == 3 and report["failed"] == {}
    relevant = {"q1": NEU_GUONG, "q2": THANH_UY, "q3": AN_KHE}
    texts = {"q1": "trách nhiệm nêu gương", "q2": "Đông Hà thành ủy", "q3": "thị xã An Khê"}
    for row in report["per_query"]:
        code, out, _ = run(
            "query", texts[row["query_id"]], "--json", "--limit", "100",
            "--index", str(seeds_index), "--seeds", str(seeds_dir),
        )  # fmt: skip
        ids = [hit["id"] for hit in json.loads(out)["results"]]
        assert row["first_relevant_rank"] == ids.index(relevant[row["query_id"]]) + 1
        assert row["mrr_at_10"] == pytest.approx(1 / row["first_relevant_rank"])
    # Each seed query finds its article first.
    assert report["mrr_at_10"] == 1.0 and report["recall_at_1"] == 1.0
    assert report["recall_at_100"] == 1.0


def test_folded_queries_still_find_the_accented_articles(seeds_index: Path, seeds_dir: Path, judged):
    report = evaluate(seeds_index, seeds_dir, judged, "--fold-queries")
    assert report["fold_queries"] is True
    assert report["mrr_at_10"] == 1.0


def test_text_output_lists_the_five_metrics(seeds_index: Path, seeds_dir: Path, judged):
    queries, qrels = judged
    code, out, _ = run(
        "eval", "--queries", str(queries), "--qrels", str(qrels),
        "--index", str(seeds_index), "--seeds", str(seeds_dir), "--fold-queries",
    )  # fmt: skip
    assert code == 0
    assert "3 judged queries, typed without diacritics" in out
    for metric in ("MRR@10", "nDCG@10", "Recall@1 ", "Recall@10 ", "Recall@100"):
        assert any(line.startswith(metric) for line in out.splitlines()), metric


def test_jsonl_articles_are_judged_by_their_own_ids(tmp_path: Path):
    corpus, judgements = small_corpus(tmp_path)
    # --seeds may name the corpus file itself; the missing index is built from it.
    report = evaluate(tmp_path / "index", corpus, judgements)
    assert report["per_query"][0]["first_relevant_rank"] == 1


def test_a_bad_qrels_file_is_a_one_line_error(seeds_index: Path, seeds_dir: Path, judged, tmp_path: Path):
    queries, _ = judged
    bad = tmp_path / "bad.tsv"
    bad.write_text("q1\tdoc\n", encoding="utf-8")
    code, _, err = run(
        "eval", "--queries", str(queries), "--qrels", str(bad),
        "--index", str(seeds_index), "--seeds", str(seeds_dir),
    )  # fmt: skip
    assert code == 1
    assert "expected 3 or 4 fields" in err and "Traceback" not in err


def small_corpus(tmp_path: Path) -> tuple[Path, tuple[Path, Path]]:
    corpus = tmp_path / "corpus.jsonl"
    rows = [
        {"id": "p1", "title": "Bóng đá", "text": "Đội tuyển giành chức vô địch sau trận chung kết."},
        {"id": "p2", "title": "Kinh tế", "text": "Giá xăng dầu tăng mạnh trong tháng này."},
    ]
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"id": "a", "text": "Giá xăng tăng bao nhiêu?"}\n', encoding="utf-8")
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("a\tp2\t1\n", encoding="utf-8")
    return corpus, (queries, qrels)


def test_eval_refuses_an_index_of_other_articles_than_its_seeds(seeds_index: Path, tmp_path: Path):
    corpus, (queries, qrels) = small_corpus(tmp_path)
    index_dir = seeds_index  # built from the five seed articles
    args = ["--queries", str(queries), "--qrels", str(qrels), "--index", str(index_dir), "--seeds", str(corpus)]
    code, out, err = run("eval", *args)
    assert code == 1 and out == "" and err.count("\n") == 1, err
    assert f"no article of {corpus} is in the index in {index_dir} (built from " in err
    assert f"run 'searchkit index --seeds {corpus} --index {index_dir}'" in err
    code, out, err = run("query", "xăng", "--seeds", str(corpus), "--index", str(index_dir))
    assert code == 1 and out == "" and "no article of" in err
    code, out, err = run("serve", "--seeds", str(corpus), "--index", str(index_dir), "--workers", "1", "--port", "0")
    assert code == 1 and "Serving" not in out and "no article of" in err

    # Built from them, the same index answers.
    other = tmp_path / "other-index"
    assert run("index", "--seeds", str(corpus), "--index", str(other))[0] == 0
    code, out, err = run("eval", *args[:5], str(other), "--seeds", str(corpus), "--json")
    assert code == 0, err
    assert json.loads(out)["mrr_at_10"] == 1.0


def test_eval_without_seeds_warns_when_no_judged_article_is_found(seeds_index: Path, tmp_path: Path):
    _, (queries, qrels) = small_corpus(tmp_path)
    code, out, err = run("eval", "--queries", str(queries), "--qrels", str(qrels), "--index", str(seeds_index))
    assert code == 0 and "MRR@10" in out
    assert f"no judged article is among the results: is the index in {seeds_index} the index" in err


def test_a_copy_of_the_articles_folder_still_answers_from_its_index(seeds_dir: Path, seeds_index: Path, tmp_path: Path):
    copy = Path(shutil.copytree(seeds_dir, tmp_path / "seeds"))
    code, out, err = run("query", "nêu gương", "--seeds", str(copy), "--index", str(seeds_index))
    assert code == 0 and NEU_GUONG in out, err


# --- reading the misses: --per-query and --run ----------------------------------------------------------------

# "cán bộ" is written in every seed: its judged article is not the first hit, so it is a miss to read.
CAN_BO_RELEVANT = "001_4485d4bbea077518.txt"


@pytest.fixture
def with_a_miss(judged: tuple[Path, Path]) -> tuple[Path, Path]:
    queries, qrels = judged
    with queries.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"id": "q4", "text": "cán bộ"}, ensure_ascii=False) + "\n")
    with qrels.open("a", encoding="utf-8") as out:
        out.write(f"q4\t{CAN_BO_RELEVANT}\t1\n")
    return queries, qrels


def query_hits(seeds_index: Path, seeds_dir: Path, text: str) -> list[dict]:
    code, out, err = run(
        "query", text, "--json", "--limit", "100", "--index", str(seeds_index), "--seeds", str(seeds_dir)
    )
    assert code == 0, err
    return json.loads(out)["results"]


def test_per_query_json_gives_each_query_its_text_rank_and_top_hit(seeds_index: Path, seeds_dir: Path, with_a_miss):
    report = evaluate(seeds_index, seeds_dir, with_a_miss)
    rows = {row["query_id"]: row for row in report["per_query"]}
    assert rows["q1"]["text"] == "trách nhiệm nêu gương" and rows["q4"]["text"] == "cán bộ"
    for row in rows.values():
        hits = query_hits(seeds_index, seeds_dir, row["text"])
        assert row["top_hit"] == {"id": hits[0]["id"], "title": hits[0]["title"]}
    hits = query_hits(seeds_index, seeds_dir, "cán bộ")
    rank = [hit["id"] for hit in hits].index(CAN_BO_RELEVANT) + 1
    assert rank > 1 and rows["q4"]["first_relevant_rank"] == rank
    assert rows["q4"]["mrr_at_10"] == pytest.approx(1 / rank)
    assert report["mrr_at_10"] == pytest.approx((3 + 1 / rank) / 4)


def test_per_query_text_shows_the_top_hit_of_a_miss(seeds_index: Path, seeds_dir: Path, with_a_miss):
    queries, qrels = with_a_miss
    code, out, err = run(
        "eval", "--queries", str(queries), "--qrels", str(qrels),
        "--index", str(seeds_index), "--seeds", str(seeds_dir), "--per-query",
    )  # fmt: skip
    assert code == 0, err
    lines = out.splitlines()
    top = query_hits(seeds_index, seeds_dir, "cán bộ")[0]
    miss = next(number for number, line in enumerate(lines) if line.startswith("q4 "))
    assert lines[miss].rstrip().endswith("cán bộ")
    assert lines[miss + 1].strip() == f"top hit: {top['title']} ({top['id']})"
    # A query whose article comes first takes one line.
    first = next(number for number, line in enumerate(lines) if line.startswith("q1 "))
    assert lines[first + 1].startswith("q2 ")
    assert "4 judged queries, typed as written" in out


def test_run_file_holds_the_ranking_in_trec_format(seeds_index: Path, seeds_dir: Path, with_a_miss, tmp_path: Path):
    import ir_measures

    run_file = tmp_path / "searchkit.run"
    report = evaluate(seeds_index, seeds_dir, with_a_miss, "--run", str(run_file))
    lines = [line.split() for line in run_file.read_text(encoding="utf-8").splitlines()]
    assert all(len(fields) == 6 and fields[1] == "Q0" and fields[5] == "searchkit" for fields in lines)
    texts = {"q1": "trách nhiệm nêu gương", "q2": "Đông Hà thành ủy", "q3": "thị xã An Khê", "q4": "cán bộ"}
    assert list(dict.fromkeys(fields[0] for fields in lines)) == list(texts)
    for query_id, text in texts.items():
        hits = query_hits(seeds_index, seeds_dir, text)
        rows = [fields for fields in lines if fields[0] == query_id]
        assert [fields[2] for fields in rows] == [hit["id"] for hit in hits]
        assert [int(fields[3]) for fields in rows] == list(range(1, len(hits) + 1))
        # The query's JSON rounds its scores to four decimals; the run file keeps six.
        assert [float(fields[4]) for fields in rows] == [pytest.approx(hit["score"], abs=1e-4) for hit in hits]
    # trec_eval's tools read it back to the same figures.
    _, qrels = with_a_miss
    trec_qrels = tmp_path / "qrels.trec"
    trec_qrels.write_text("".join(f"{q} 0 {d} {g}\n" for q, d, g in (line.split("\t") for line in
                          qrels.read_text(encoding="utf-8").splitlines())), encoding="utf-8")
    measures = ir_measures.calc_aggregate(
        [ir_measures.RR @ 10, ir_measures.R @ 1],
        list(ir_measures.read_trec_qrels(str(trec_qrels))),
        list(ir_measures.read_trec_run(str(run_file))),
    )
    assert measures[ir_measures.RR @ 10] == pytest.approx(report["mrr_at_10"])
    assert measures[ir_measures.R @ 1] == pytest.approx(report["recall_at_1"])


def test_run_file_in_a_missing_folder_is_a_one_line_error(seeds_index: Path, seeds_dir: Path, judged, tmp_path: Path):
    queries, qrels = judged
    code, _, err = run(
        "eval", "--queries", str(queries), "--qrels", str(qrels), "--index", str(seeds_index),
        "--seeds", str(seeds_dir), "--run", str(tmp_path / "no-such-folder" / "searchkit.run"),
    )  # fmt: skip
    assert code == 1
    assert "cannot write the run file" in err and "Traceback" not in err
    # Said before the queries run, not after.
    assert "Querying" not in err and len(err.strip().splitlines()) == 1


def test_a_query_does_not_load_the_evaluation_measures(seeds_dir: Path, seeds_index: Path):
    """ir-measures is for `searchkit eval`: a query must not wait for it."""
    output, modules = loaded_by("query", "nêu gương", "--seeds", seeds_dir, "--index", seeds_index)
    assert NEU_GUONG in output
    assert sorted({m.split(".")[0] for m in modules} & {"ir_measures", "pytrec_eval"}) == []
