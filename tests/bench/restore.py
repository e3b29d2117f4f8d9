"""Accent restoration on the XQuAD-vi questions, beside pyvi's ``ViUtils.add_accents``, and what a
suggestion adds to a query's latency.

    python tests/bench/restore.py [--baomoi 3000] [--data ../shared/data] [--out results.json] [--reuse DIR]

The index is built in a temporary folder from the shared data (the XQuAD-vi paragraphs and the
first ``--baomoi`` news articles), never inside the project. Each question is folded with
``searchkit.text.analysis.fold``, restored, and compared syllable by syllable with the normalised
original (so ``hoà``/``hòa`` count as the same spelling). The same questions are also typed as
Telex and as VNI keys with the input method off (``searchkit.search.keystrokes.to_telex``/``to_vni``,
marks after their letter, the tone at the end of the syllable), read back as a query is
(``Searcher.converted``) and then restored. ``--baomoi-only`` adds a second run on an index
without the XQuAD paragraphs: the questions' own vocabulary is then unseen. ``--reuse DIR`` keeps
the index in DIR (built there if missing) so that a second run skips the build.

Ranking: MRR@10 of the questions typed with accents, and folded with and without restoration
(which adds the restored spellings as exact-accent boosts).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from corpora import read_jsonl  # noqa: E402

from searchkit.build.index import build, open_spellings  # noqa: E402
from searchkit.search.evaluation import evaluate, load_qrels  # noqa: E402
from searchkit.search.keystrokes import to_telex, to_vni  # noqa: E402
from searchkit.search.restoration import restore_query, restore_text  # noqa: E402
from searchkit.search.searcher import Searcher  # noqa: E402
from searchkit.text.analysis import fold, normalize_syllable, syllables  # noqa: E402

DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
# The same sample of timed queries on every run.
SEED = 20170101


def stage(seeds: Path, data: Path, baomoi: int, xquad: bool) -> list[str]:
    """Writes the corpora as JSONL files in ``seeds``; returns the news titles, to cut queries."""
    seeds.mkdir(parents=True)
    if xquad:
        with open(seeds / "xquad.jsonl", "w", encoding="utf-8") as out:
            for row in read_jsonl(data / "xquad-vi" / "corpus.jsonl"):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    titles = []
    with open(seeds / "baomoi.jsonl", "w", encoding="utf-8") as out:
        for number, row in enumerate(read_jsonl(data / "baomoi" / "articles.jsonl.gz")):
            if number >= baomoi:
                break
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            titles.append(row["title"])
    return titles


def score(
    questions: list[str], restore: Callable[[str], list[str] | None], typed: Callable[[str], str] = fold
) -> dict[str, float | int]:
    """Syllable accuracy of ``restore`` (typed text -> normalised syllables) over ``questions``.

    Each question is typed by ``typed`` first: folded, or as keys.
    """
    total = right = marked = marked_right = whole = skipped = 0
    for question in questions:
        truth = [normalize_syllable(s.text) for s in syllables(question)]
        guess = restore(typed(question))
        if guess is None or len(guess) != len(truth):
            skipped += 1
            guess = [None] * len(truth)
        hits = [g == t for g, t in zip(guess, truth, strict=True)]
        total += len(truth)
        right += sum(hits)
        whole += all(hits)
        for t, hit in zip(truth, hits, strict=True):
            if t != fold(t):
                marked += 1
                marked_right += hit
    return {
        "syllables": total,
        "syllable_accuracy": right / total,
        "accented_syllables": marked,
        "accented_syllable_accuracy": marked_right / marked,
        "question_accuracy": whole / len(questions),
        "unaligned_questions": skipped,
    }


def ours(reader: object) -> Callable[[str], list[str]]:
    return lambda folded: [s.form for s in restore_text(reader, folded).syllables]


def read_keys(searcher: Searcher) -> Callable[[str], list[str]]:
    """Keys read as a query's are (``Searcher.converted``), then restored as a query typed so is."""

    def restore(keys: str) -> list[str]:
        read = searcher.converted(keys)
        return [s.form for s in restore_text(searcher.spellings, read, as_typed=read != keys).syllables]

    return restore


def pyvi() -> Callable[[str], list[str] | None]:
    from pyvi import ViUtils

    def restore(folded: str) -> list[str] | None:
        return [normalize_syllable(s.text) for s in syllables(ViUtils.add_accents(folded))]

    return restore


def false_suggestions(reader: object, questions: list[str]) -> float:
    """How often a correctly accented question gets a suggestion anyway."""
    return sum(restore_query(reader, q).suggestion is not None for q in questions) / len(questions)


def latency(index_dir: Path, queries: list[str], rounds: int) -> dict[str, float]:
    """Warm p50/p95 of each query with and without its suggestion, interleaved so load is shared.

    Run an even number of ``rounds``: the order within each pair alternates from round to round.
    """
    timings: dict[bool, list[float]] = {True: [], False: []}
    with Searcher(index_dir) as searcher:
        for text in queries:  # warm-up: caches, lazily opened files
            searcher.search(text, suggest=True)
            searcher.search(text, suggest=False)
        for round_ in range(rounds):
            # Whichever of a pair runs first pays for bringing the query's data back into the CPU's
            # caches: alternate the order so that neither side carries it.
            order = (True, False) if round_ % 2 == 0 else (False, True)
            for text in queries:
                for suggest in order:
                    started = time.perf_counter()
                    searcher.search(text, suggest=suggest)
                    timings[suggest].append(time.perf_counter() - started)
    result = {}
    for suggest, name in ((True, "with"), (False, "without")):
        values = sorted(timings[suggest])
        result[f"p50_{name}_ms"] = 1000 * statistics.median(values)
        result[f"p95_{name}_ms"] = 1000 * values[int(0.95 * (len(values) - 1))]
    result["p50_ratio"] = result["p50_with_ms"] / result["p50_without_ms"]
    result["p95_ratio"] = result["p95_with_ms"] / result["p95_without_ms"]
    return result


def ranking(index_dir: Path, questions: list[tuple[str, str]], qrels: dict) -> dict[str, float]:
    """MRR@10 typed with accents, and folded with and without accent restoration."""
    runs: dict[str, dict[str, list[str]]] = {"accented": {}, "folded": {}, "folded_restored": {}}
    with Searcher(index_dir) as searcher:
        for qid, text in questions:
            for name, typed, suggest in (
                ("accented", text, True),
                ("folded", fold(text), False),
                ("folded_restored", fold(text), True),
            ):
                hits = searcher.search(typed, limit=10, snippets=False, suggest=suggest).hits
                runs[name][qid] = [hit.id.split("#")[-1] for hit in hits]
    return {f"mrr_at_10_{name}": evaluate(run, qrels).mrr_at_10 for name, run in runs.items()}


def short_queries(titles: list[str], count: int) -> list[str]:
    """``count`` unaccented keyword queries of 2-4 consecutive syllables cut from news titles."""
    usable = [
        words for words in ([s.text for s in syllables(t)] for t in titles) if len(words) >= 2
    ]
    rng = random.Random(SEED)
    queries = []
    for _ in range(count):
        words = rng.choice(usable)
        length = rng.randint(2, min(4, len(words)))
        start = rng.randint(0, len(words) - length)
        queries.append(fold(" ".join(words[start : start + length])))
    return queries


def run(data: Path, baomoi: int, xquad: bool, procs: int | None, with_pyvi: bool, reuse: Path | None = None) -> dict:
    questions = [row["text"].strip() for row in read_jsonl(data / "xquad-vi" / "queries.jsonl")]
    with tempfile.TemporaryDirectory() as folder:
        where = reuse if reuse is not None else Path(folder)
        seeds, index_dir = where / "seeds", where / "index"
        if seeds.is_dir():
            titles = [row["title"] for row in read_jsonl(seeds / "baomoi.jsonl")]
        else:
            titles = stage(seeds, data, baomoi, xquad)
        started = time.perf_counter()
        report = build(seeds, index_dir, procs=procs)
        built = time.perf_counter() - started
        result: dict = {
            "corpus": ("xquad-vi paragraphs + " if xquad else "") + f"{baomoi} baomoi articles",
            "articles": report.added,
            "build_seconds": round(built, 1),
            "index_mb": round(sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file()) / 2**20, 1),
        }
        with closing(open_spellings(index_dir)) as reader:
            started = time.perf_counter()
            result["searchkit"] = score(questions, ours(reader))
            result["searchkit"]["ms_per_question"] = (
                1000 * (time.perf_counter() - started) / len(questions)
            )
            result["false_suggestion_rate_on_accented_questions"] = false_suggestions(
                reader, questions
            )
        with Searcher(index_dir) as searcher:
            for name, keys in (("telex", to_telex), ("vni", to_vni)):
                started = time.perf_counter()
                result[name] = score(questions, read_keys(searcher), typed=keys)
                result[name]["ms_per_question"] = 1000 * (time.perf_counter() - started) / len(questions)
        if with_pyvi:
            started = time.perf_counter()
            result["pyvi_add_accents"] = score(questions, pyvi())
            result["pyvi_add_accents"]["ms_per_question"] = (
                1000 * (time.perf_counter() - started) / len(questions)
            )
        if xquad:
            rng = random.Random(SEED)
            folded_questions = [fold(q) for q in rng.sample(questions, 200)]
            result["latency_questions"] = latency(index_dir, folded_questions, rounds=2)
            result["latency_keywords"] = latency(index_dir, short_queries(titles, 200), rounds=2)
            rows = read_jsonl(data / "xquad-vi" / "queries.jsonl")
            qrels = load_qrels(data / "xquad-vi" / "qrels.tsv")
            result["ranking"] = ranking(index_dir, [(r["id"], r["text"]) for r in rows], qrels)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--baomoi", type=int, default=3000, help="news articles indexed")
    parser.add_argument("--procs", type=int, default=None)
    parser.add_argument("--baomoi-only", action="store_true", help="also run without XQuAD")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--reuse", type=Path, help="keep the staged articles and the index in this folder")
    parser.add_argument("--no-pyvi", action="store_true", help="leave out pyvi's add_accents")
    args = parser.parse_args()
    if args.reuse is not None:
        args.reuse.mkdir(parents=True, exist_ok=True)
    results = [run(args.data, args.baomoi, True, args.procs, with_pyvi=not args.no_pyvi, reuse=args.reuse)]
    if args.baomoi_only:
        results.append(run(args.data, args.baomoi, False, args.procs, with_pyvi=False))
    text = json.dumps(results, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
