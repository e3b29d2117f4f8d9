#!/usr/bin/env python3
"""Ranking weights tuned on half of the XQuAD-vi questions and reported on the other half.

    python tests/bench/tune.py [--data ../shared/data] [--out tune-results.json]

The questions are split by the paragraph that answers them (a hash of its id), so no paragraph
has questions on both sides. The paragraphs are indexed beside ``--distractors`` news articles:
alone, the 240 paragraphs cannot tell some weights apart (their titles are Wikipedia page names
shared by several paragraphs), and a real index is never so uniform.

Each candidate setting of ``searchkit.search.Weights`` is scored on
the tuning half, accented and folded; the best (by the mean of the two MRR@10) and the defaults
are then scored on the held-out half, which no choice was made on.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import hashlib
import itertools
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from searchkit.analysis import fold  # noqa: E402
from searchkit.evaluation import Query, evaluate, load_qrels, load_queries, run_queries  # noqa: E402
from searchkit.index import build  # noqa: E402
from searchkit.search import Searcher, Weights  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"

# Coordinate ascent: each weight in turn takes the value that scores best with the others fixed.
# The phrase weight is left out: a question's syllables almost never occur as one phrase, so the
# questions cannot tell its values apart; it serves keyword queries.
GRID: dict[str, list[float]] = {
    "question_title": [0.0, 0.25, 0.5, 1.0, 2.0],
    "common": [1.0, 0.6, 0.4],
    "exact": [0.5, 1.0, 2.0, 4.0, 8.0],
    "restored": [0.0, 0.25, 0.5, 1.0, 2.0],
    "k1": [0.6, 0.9, 1.2, 1.6, 2.0],
    "b": [0.3, 0.5, 0.75, 0.9],
    "pair": [0.0, 0.25, 0.5, 1.0, 2.0],
    "word": [0.0, 0.5, 1.0, 2.0],
    "coord": [0.0, 0.3, 0.6, 1.0],
}


def split(queries: list[Query], qrels: dict[str, dict[str, int]]) -> tuple[list[Query], list[Query]]:
    """(tuning, held-out): by the parity of a hash of the answering paragraph's id."""
    tuning, held_out = [], []
    for query in queries:
        paragraph = min(qrels.get(query.id, {"": 0}))
        digest = hashlib.sha1(paragraph.encode("utf-8")).digest()[0]
        (tuning if digest % 2 == 0 else held_out).append(query)
    return tuning, held_out


def score(searcher: Searcher, queries: list[Query], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    def search(text: str) -> list[str]:
        results = searcher.search(text, limit=100, snippets=False)
        return [hit.id.split("#", 1)[-1] for hit in results.hits]

    figures = {}
    for label, typed in (("accented", queries), ("folded", [Query(q.id, fold(q.text)) for q in queries])):
        run, _failed = run_queries(typed, search)
        judged = {q.id: qrels[q.id] for q in typed if q.id in qrels}
        figures[label] = evaluate(run, judged).mrr_at_10
    figures["mean"] = (figures["accented"] + figures["folded"]) / 2
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--out", type=Path, default=Path("tune-results.json"), help="JSON results")
    parser.add_argument(
        "--distractors",
        metavar="N",
        type=int,
        default=1000,
        help="news articles indexed beside the paragraphs (default 1000; 0 for XQuAD-vi alone)",
    )
    args = parser.parse_args(argv)
    xquad = args.data / "xquad-vi"
    queries = load_queries(xquad / "queries.jsonl")
    qrels = load_qrels(xquad / "qrels.tsv")
    tuning, held_out = split(queries, qrels)
    print(f"{len(tuning)} tuning questions, {len(held_out)} held out", file=sys.stderr)
    tried = []
    report: dict = {"distractors": args.distractors}
    with tempfile.TemporaryDirectory(prefix="searchkit-tune-") as work:
        index_dir, seeds = Path(work) / "index", Path(work) / "seeds"
        seeds.mkdir()
        shutil.copy(xquad / "corpus.jsonl", seeds / "xquad.jsonl")
        if args.distractors:
            with gzip.open(args.data / "baomoi" / "articles.jsonl.gz", "rt", encoding="utf-8") as news:
                lines = list(itertools.islice(news, args.distractors))
            (seeds / "baomoi.jsonl").write_text("".join(lines), encoding="utf-8")
        report["corpus"] = f"{build(seeds, index_dir, rebuild=True).added} articles"
        current: dict[str, float] = {}
        seen: dict[str, dict[str, float]] = {}

        def trial(change: dict[str, float]) -> dict[str, float]:
            key = json.dumps(change, sort_keys=True)
            if key not in seen:
                started = time.perf_counter()
                with Searcher(index_dir, weights=dataclasses.replace(Weights(), **change)) as searcher:
                    seen[key] = score(searcher, tuning, qrels)
                tried.append({"change": change, "tuning": seen[key]})
                figures = seen[key]
                print(
                    f"{key:<70} accented {figures['accented']:.4f}  folded {figures['folded']:.4f}  "
                    f"mean {figures['mean']:.4f}  ({time.perf_counter() - started:.0f} s)",
                    file=sys.stderr,
                )
            return seen[key]

        trial({})
        for name, values in GRID.items():
            default = getattr(Weights(), name)
            for value in values:
                option = {k: x for k, x in current.items() if k != name}
                if value != default:
                    option[name] = value
                # Only a strict gain moves a weight: ties keep the value already chosen.
                if trial(option)["mean"] > trial(current)["mean"]:
                    current = option
        best = {"change": current}
        report |= {"tuning_questions": len(tuning), "held_out_questions": len(held_out), "tried": tried}
        for name, change in (("defaults", {}), ("best", best["change"])):
            with Searcher(index_dir, weights=dataclasses.replace(Weights(), **change)) as searcher:
                report[name] = {"change": change, "held_out": score(searcher, held_out, qrels)}
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for name in ("defaults", "best"):
        figures = report[name]["held_out"]
        print(
            f"held out, {name} {json.dumps(report[name]['change'])}: "
            f"accented {figures['accented']:.4f}, folded {figures['folded']:.4f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
