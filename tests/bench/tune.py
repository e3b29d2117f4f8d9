#!/usr/bin/env python3
"""Ranking weights tuned on half of the XQuAD-vi questions and reported on the other half.

    python tests/bench/tune.py [--data ../shared/data] [--out tune-results.json] [--known-items N]

The questions are split by the paragraph that answers them (a hash of its id), so no paragraph
has questions on both sides. The paragraphs are indexed alone and beside ``--distractors`` news articles:
alone, the 240 paragraphs cannot tell some weights apart (their titles are Wikipedia page names
shared by several paragraphs), and a real index is never so uniform. The known items of ``relevance.py``
(every 70th news article, looked for by the first six syllables of its title) are split the same way, by a
hash of the wanted article's id, over an index of ``--known-items`` news articles (default all; 0: none).

Each candidate setting of ``searchkit.search.searcher.Weights`` is scored on
the tuning half, accented and folded; the best (by the mean MRR@10 over the indexes, the known items and both
typings) and the defaults are then scored on the held-out half, which no choice was made on.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

import corpora  # noqa: E402

from searchkit.build.index import build  # noqa: E402
from searchkit.search.evaluation import Query, evaluate, load_qrels, load_queries, run_queries  # noqa: E402
from searchkit.search.searcher import Searcher, Weights  # noqa: E402
from searchkit.text.analysis import fold  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"

# Coordinate ascent: each weight in turn takes the value that scores best with the others fixed.
# The phrase weight is left out: a question's syllables almost never occur as one phrase, so the
# questions cannot tell its values apart; it serves keyword queries.
GRID: dict[str, list[float]] = {
    "question_title": [0.0, 0.25, 0.5],
    "common": [1.0, 0.6, 0.4],
    "exact": [0.5, 1.0, 2.0],
    "restored": [0.0, 0.25],
    "k1": [1.2, 1.6, 2.0],
    "b": [0.75, 0.9],
    "pair": [0.5, 1.0, 2.0],
    "word": [0.0, 0.5, 1.0],
    "coord": [0.0, 0.3],
    "name": [0.0, 2.0, 3.0, 4.0],
}


def split(queries: list[Query], qrels: dict[str, dict[str, int]]) -> tuple[list[Query], list[Query]]:
    """(tuning, held-out): by the parity of a hash of the answering paragraph's id."""
    tuning, held_out = [], []
    for query in queries:
        paragraph = min(qrels.get(query.id, {"": 0}))
        digest = hashlib.sha1(paragraph.encode("utf-8")).digest()[0]
        (tuning if digest % 2 == 0 else held_out).append(query)
    return tuning, held_out


def split_known_items(articles: list[dict]) -> tuple[list[Query], list[Query], dict[str, dict[str, int]]]:
    """(tuning, held-out, qrels) of the known items: by the parity of a hash of the wanted article's id."""
    tuning, held_out, qrels = [], [], {}
    for query_id, text, article in corpora.known_items(articles):
        qrels[query_id] = {article: 1}
        digest = hashlib.sha1(article.encode("utf-8")).digest()[0]
        (tuning if digest % 2 == 0 else held_out).append(Query(query_id, text))
    return tuning, held_out, qrels


def score(searcher: Searcher, queries: list[Query], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    def search(text: str) -> list[str]:
        results = searcher.search(text, limit=100, snippets=False)
        return [hit.id.split("#", 1)[-1] for hit in results.hits]

    figures = {}
    for label, typed in (("accented", queries), ("folded", [Query(q.id, fold(q.text)) for q in queries])):
        run, _failed = run_queries(typed, search)
        judged = {q.id: qrels[q.id] for q in typed if q.id in qrels}
        figures[label] = evaluate(run, judged).mrr_at_10
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--out", type=Path, default=Path("tune-results.json"), help="JSON results")
    parser.add_argument(
        "--distractors",
        metavar="N",
        type=int,
        nargs="+",
        default=[0, 1000],
        help="news articles indexed beside the paragraphs, one index per figure (default 0 1000)",
    )
    parser.add_argument(
        "--known-items",
        metavar="N",
        type=int,
        default=None,
        help="news articles indexed for the known items, the first N (default all; 0 leaves the known items out)",
    )
    parser.add_argument(
        "--known-items-index",
        metavar="DIR",
        type=Path,
        default=None,
        help="searchkit's index of those news articles, read only (default: built here)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="no search: score the current defaults on both halves (a minute or two)",
    )
    args = parser.parse_args(argv)
    xquad = args.data / "xquad-vi"
    queries = load_queries(xquad / "queries.jsonl")
    qrels = load_qrels(xquad / "qrels.tsv")
    tuning, held_out = split(queries, qrels)
    print(f"{len(tuning)} tuning questions, {len(held_out)} held out", file=sys.stderr)
    known: dict = {}
    if args.known_items != 0:
        news = list(corpora.first(corpora.read_jsonl(args.data / corpora.BAOMOI), args.known_items))
        known_tuning, known_held_out, known_qrels = split_known_items(news)
        known = {"articles": len(news), "tuning": known_tuning, "held_out": known_held_out, "qrels": known_qrels}
        print(f"{len(known_tuning)} tuning known items, {len(known_held_out)} held out", file=sys.stderr)
    tried = []
    report: dict = {"distractors": args.distractors}
    with tempfile.TemporaryDirectory(prefix="searchkit-tune-") as work:
        indexes = {}
        for count in args.distractors:
            index_dir, seeds = Path(work) / f"index-{count}", Path(work) / f"seeds-{count}"
            seeds.mkdir()
            shutil.copy(xquad / "corpus.jsonl", seeds / "xquad.jsonl")
            if count:
                with gzip.open(args.data / "baomoi" / "articles.jsonl.gz", "rt", encoding="utf-8") as news:
                    lines = list(itertools.islice(news, count))
                (seeds / "baomoi.jsonl").write_text("".join(lines), encoding="utf-8")
            build(seeds, index_dir, rebuild=True)
            indexes[count] = index_dir
        known_index = args.known_items_index
        if known and known_index is None:
            known_index, seeds = Path(work) / "index-known", Path(work) / "seeds-known"
            corpora.stage(news, seeds, "news", corpora.news_metadata)
            print(f"building the known items' index of {len(news):,} news articles", file=sys.stderr)
            build(seeds, known_index, rebuild=True)

        def score_all(weights: Weights, queries: list[Query], half: str = "tuning") -> dict[str, float]:
            figures: dict[str, float] = {}
            for count, index_dir in indexes.items():
                with Searcher(index_dir, weights=weights) as searcher:
                    for label, value in score(searcher, queries, qrels).items():
                        figures[f"{label}+{count}"] = value
            if known:
                with Searcher(known_index, weights=weights) as searcher:
                    for label, value in score(searcher, known[half], known["qrels"]).items():
                        figures[f"{label} known items"] = value
            names = [k for k in figures if not k.startswith("mean")]
            figures["mean"] = sum(figures[k] for k in names) / len(names)
            return figures

        current: dict[str, float] = {}
        seen: dict[str, dict[str, float]] = {}

        def trial(change: dict[str, float]) -> dict[str, float]:
            key = json.dumps(change, sort_keys=True)
            if key not in seen:
                started = time.perf_counter()
                seen[key] = score_all(dataclasses.replace(Weights(), **change), tuning)
                tried.append({"change": change, "tuning": seen[key]})
                shown = "  ".join(f"{k} {v:.4f}" for k, v in seen[key].items())
                print(f"{key:<60} {shown}  ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
            return seen[key]

        trial({})
        for name, values in {} if args.check else GRID.items():
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
        if known:
            report |= {
                "known_item_articles": known["articles"],
                "tuning_known_items": len(known["tuning"]),
                "held_out_known_items": len(known["held_out"]),
            }
        for name, change in (("defaults", {}), ("best", best["change"])):
            weights = dataclasses.replace(Weights(), **change)
            report[name] = {"change": change, "held_out": score_all(weights, held_out, "held_out")}
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for name in ("defaults", "best"):
        figures = report[name]["held_out"]
        shown = ", ".join(f"{k} {v:.4f}" for k, v in figures.items())
        print(f"held out, {name} {json.dumps(report[name]['change'])}: {shown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
