#!/usr/bin/env python3
"""Benchmark searchkit against SQLite FTS5 and a naive Whoosh setup, side by side.

    python3 tests/bench/bench.py [--docs N] [--out FILE.json] [--skip-searchkit]
    python3 tests/bench/bench.py --only filters [--docs N] [--news-index DIR]
    python3 tests/bench/bench.py --growth 4000,35425,100000 [--growth-work DIR]

Relevance on XQuAD-vi (accented and unaccented questions), then build and query speed on the baomoi
news corpus with the resident memory that opening each index adds, searchkit's build scaling from
one to two processes, the cold start of a ``searchkit query`` process (seeds and news index), and
the resident memory of a ``searchkit serve`` process on the news index, and what filters, sort orders
and facets add to searchkit's queries (the news articles get synthetic dates, sources and tags;
``--only filters`` measures that alone, with searchkit's build). The timed title queries run on FTS5
twice: asked for every word (AND), the fair baseline since searchkit requires every word of a short
query, and with the OR of the words, the baseline for questions. ``--growth`` measures, alone, how
build and latency grow as the news corpus is repeated to each size (see ``growth``). The data is read from
``../shared/data`` next to the project (or ``--data``) and staged in a temporary folder; nothing is
written inside the project but the JSON results (``bench-results.json`` in the current folder by
default).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import corpora
import filtering
import growth
import measure
import memory
from engines import ENGINES

from searchkit.search.evaluation import EvalReport, load_qrels, load_queries

# Two worker processes against one, in articles per second (the build's goal since the archive-scale work).
SCALING_TARGET = 1.8
# Resident memory that opening searchkit's index may add, as a share of the index's size on disk.
OPEN_TARGET_PCT = 10.0
# A cold 'searchkit query' on the news index.
COLD_TARGET_S = 0.6
COLD_TARGET_MB = 150.0
SERVE_REQUESTS = 50
ROW_FORMATS = {
    "score": "{:.3f}",
    "s": "{:.2f}",
    "ms": "{:.1f}",
    "mb": "{:.1f}",
    "pct": "{:.1f} %",
    "rate": "{:,.0f}",
}


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench.py",
        description=__doc__.split("\n\n")[0],
        epilog=(
            "The full run (all 35,425 news articles, all 1,190 questions) takes long: an hour or "
            "more on two cores, most of it in the two Whoosh-based builds and in searchkit's "
            "questions. For a quick check of a few minutes: --docs 500 --questions 200 --depth 10."
        ),
    )
    parser.add_argument(
        "--data", metavar="DIR", type=Path, default=corpora.DEFAULT_DATA, help="shared data folder"
    )
    parser.add_argument(
        "--docs",
        metavar="N",
        type=int,
        default=None,
        help="news articles to index, the first N (default all)",
    )
    parser.add_argument(
        "--scale-docs",
        metavar="N",
        type=int,
        default=2000,
        help="articles for searchkit's procs=1 vs procs=2 build (default 2000, at most --docs)",
    )
    parser.add_argument(
        "--questions",
        metavar="N",
        type=int,
        default=None,
        help="XQuAD-vi questions to score, a fixed sample (default all 1,190)",
    )
    parser.add_argument(
        "--latency-queries", metavar="N", type=int, default=200, help="timed queries (default 200)"
    )
    parser.add_argument(
        "--depth", metavar="N", type=int, default=100, help="hits scored per question (default 100)"
    )
    parser.add_argument(
        "--out",
        metavar="FILE.json",
        type=Path,
        default=Path("bench-results.json"),
        help="JSON results file",
    )
    parser.add_argument(
        "--per-query", action="store_true", help="keep per-question scores in the JSON"
    )
    parser.add_argument(
        "--skip-searchkit", action="store_true", help="measure the two baselines only"
    )
    parser.add_argument(
        "--only",
        choices=("filters",),
        default=None,
        help="filters: build searchkit's news index and measure what filters and facets add, nothing else",
    )
    parser.add_argument(
        "--news-index",
        metavar="DIR",
        type=Path,
        default=None,
        help="with --only filters: build the news index here and keep it; a later run only brings it up "
        "to date (default: a temporary folder)",
    )
    parser.add_argument(
        "--growth",
        metavar="N,N,…",
        default=None,
        help="measure growth alone: the news corpus repeated to each N articles (e.g. 4000,35425,100000), "
        "searchkit and FTS5 built and timed at each size (see tests/bench/growth.py)",
    )
    parser.add_argument(
        "--growth-work",
        metavar="DIR",
        type=Path,
        default=None,
        help="with --growth: stage and build in DIR (each size's folder removed once measured; "
        "default: a temporary folder)",
    )
    parser.add_argument(
        "--growth-keep",
        action="store_true",
        help="with --growth-work: keep each size's indexes there (DIR/n<size>/searchkit and fts5)",
    )
    parser.add_argument(
        "--growth-requery",
        action="store_true",
        help="with --growth-work: build nothing, time the queries again on the indexes a --growth-keep run "
        "left there, every size back to back",
    )
    args = parser.parse_args(argv)
    if args.growth is not None:
        try:
            args.growth = growth.parse_sizes(args.growth)
        except ValueError as error:
            parser.error(f"--growth: {error}")
    for name in ("docs", "scale_docs", "questions", "latency_queries"):
        value = getattr(args, name)
        if value is not None and value < 0:
            parser.error(f"--{name.replace('_', '-')} cannot be negative")
    if args.depth < 10:
        parser.error("--depth must be at least 10: MRR@10 and Recall@10 need ten hits")
    return args


def _engines(args: argparse.Namespace) -> list[str]:
    names = []
    for name, engine in ENGINES.items():
        if name == "searchkit" and args.skip_searchkit:
            continue
        reason = engine.available()
        if reason is None:
            names.append(name)
        elif name == "searchkit":
            hint = "run with --skip-searchkit to measure the baselines only"
            raise SystemExit(f"bench.py: {reason}; {hint}")
        else:
            _log(f"{engine.label} left out: {reason}")
    return names


def _check_data(data: Path) -> None:
    needed = [data / corpora.XQUAD / f for f in ("corpus.jsonl", "queries.jsonl", "qrels.tsv")]
    needed.append(data / corpora.BAOMOI)
    missing = [str(path) for path in needed if not path.is_file()]
    if missing:
        raise SystemExit("bench.py: data not found (see --data): " + ", ".join(missing))


def _check_indexed(results: dict, where: str, indexed: int, staged: int) -> None:
    # Throughput and relevance figures mean nothing if part of the corpus silently stayed out.
    if indexed != staged:
        message = f"indexed {indexed:,} of the {staged:,} articles staged"
        results["warnings"][where] = message
        _log(f"{where}: {message}")


def run_relevance(args: argparse.Namespace, names: list[str], work: Path, results: dict) -> None:
    folder = args.data / corpora.XQUAD
    queries = load_queries(folder / "queries.jsonl")
    qrels = load_qrels(folder / "qrels.tsv")
    if args.questions is not None and args.questions < len(queries):
        chosen = set(random.Random(corpora.QUERY_SEED).sample(range(len(queries)), args.questions))
        queries = [query for number, query in enumerate(queries) if number in chosen]
    staged = corpora.stage(corpora.read_jsonl(folder / "corpus.jsonl"), work / "seeds", "xquad")
    fold, fold_source = corpora.query_folder()
    section: dict[str, Any] = {
        "paragraphs": staged.articles,
        "questions": len(queries),
        "depth": args.depth,
        "fold": fold_source,
        "engines": {},
    }
    results["relevance"] = section
    for name in names:
        _log(f"relevance: {ENGINES[name].label} on {len(queries)} questions")
        try:
            outcome = measure.relevance(
                name, staged.seeds_dir, work / name, queries, qrels, fold, args.depth
            )
        except Exception as error:
            results["errors"][f"relevance/{name}"] = f"{type(error).__name__}: {error}"
            _log(f"relevance: {ENGINES[name].label} failed: {error}")
            continue
        _check_indexed(results, f"relevance/{name}", outcome["indexed"], staged.articles)
        section["engines"][name] = {
            key: value.to_dict(per_query=args.per_query) if isinstance(value, EvalReport) else value
            for key, value in outcome.items()
        }


def run_speed(args: argparse.Namespace, names: list[str], work: Path, results: dict) -> list[str]:
    """Builds and queries each engine's index of the news articles; returns the timed queries."""
    articles = corpora.first(corpora.read_jsonl(args.data / corpora.BAOMOI), args.docs)
    staged = corpora.stage(articles, work / "seeds", "baomoi", corpora.news_metadata)
    queries = corpora.latency_queries(staged.titles, args.latency_queries)
    section: dict[str, Any] = {
        "articles": staged.articles,
        "syllables": staged.syllables,
        "characters": staged.characters,
        "latency_queries": len(queries),
        "latency_query_sample": queries[:5],
        # searchkit builds with its default worker count (all cores), as 'searchkit index' does.
        "searchkit_procs": None,
        "engines": {},
    }
    results["speed"] = section
    for name in names:
        _log(f"speed: {ENGINES[name].label} building {staged.articles:,} articles")
        try:
            figures = measure.in_child(
                measure.build_and_query, name, staged.seeds_dir, work / name, queries
            )
        except Exception as error:
            results["errors"][f"speed/{name}"] = f"{type(error).__name__}: {error}"
            _log(f"speed: {ENGINES[name].label} failed: {error}")
            continue
        _check_indexed(results, f"speed/{name}", figures["build_report"]["added"], staged.articles)
        figures["articles_per_s"] = staged.articles / figures["build_s"]
        figures["syllables_per_s"] = staged.syllables / figures["build_s"]
        section["engines"][name] = figures
        if name == "fts5" and queries:
            # searchkit requires every word of a short query: FTS5 asked for every word (AND) is the fair
            # baseline for these title queries, timed on the same index in a fresh connection.
            _log("speed: SQLite FTS5 asked for every word (AND)")
            try:
                figures["every_word"] = measure.in_child(
                    measure.timed_queries, name, work / name, queries, {"every_word": True}
                )
            except Exception as error:
                results["errors"]["speed/fts5-and"] = f"{type(error).__name__}: {error}"
                _log(f"speed: FTS5 AND failed: {error}")
        _log(f"speed: memory of {ENGINES[name].label} opening its index")
        try:
            opened = measure.in_child(
                memory.opening, name, work / name, queries[0] if queries else measure.COLD_QUERY
            )
        except Exception as error:
            results["errors"][f"opening/{name}"] = f"{type(error).__name__}: {error}"
            _log(f"speed: opening {ENGINES[name].label}'s index failed: {error}")
            continue
        figures["opening"] = opened
        for key in ("open", "first_query"):
            figures[f"{key}_mb"] = opened[key]["rss_mb"]
            figures[f"{key}_pct"] = 100 * opened[key]["rss_mb"] / figures["index_mb"]
    return queries


def run_scaling(args: argparse.Namespace, work: Path, results: dict) -> None:
    count = args.scale_docs if args.docs is None else min(args.scale_docs, args.docs)
    articles = corpora.first(corpora.read_jsonl(args.data / corpora.BAOMOI), count)
    staged = corpora.stage(articles, work / "seeds", "baomoi")
    section: dict[str, Any] = {"articles": staged.articles, "target": SCALING_TARGET}
    results["scaling"] = section
    for procs in (1, 2):
        _log(f"scaling: searchkit with procs={procs} on {staged.articles:,} articles")
        try:
            index_dir = work / f"procs-{procs}"
            figures = measure.in_child(
                measure.build_and_query, "searchkit", staged.seeds_dir, index_dir, [], procs
            )
        except Exception as error:
            results["errors"][f"scaling/procs={procs}"] = f"{type(error).__name__}: {error}"
            _log(f"scaling: procs={procs} failed: {error}")
            return
        added = figures["build_report"]["added"]
        _check_indexed(results, f"scaling/procs={procs}", added, staged.articles)
        figures["articles_per_s"] = staged.articles / figures["build_s"]
        section[f"procs_{procs}"] = figures
    section["speedup"] = section["procs_1"]["build_s"] / section["procs_2"]["build_s"]


def run_filters(index_dir: Path, articles: int, queries: list[str], results: dict) -> None:
    """What filters, sort orders and facets add to searchkit's queries on its news index."""
    _log(f"filters: searchkit's queries with filters and facets on {articles:,} articles")
    try:
        section = measure.in_child(filtering.measure, index_dir, queries)
    except Exception as error:
        results["errors"]["filters"] = f"{type(error).__name__}: {error}"
        _log(f"filters failed: {error}")
        return
    results["filters"] = {"articles": articles} | section


def run_filters_alone(args: argparse.Namespace, work: Path, results: dict) -> None:
    """``--only filters``: stage the news, build (or bring up to date) searchkit's index, measure."""
    articles = corpora.first(corpora.read_jsonl(args.data / corpora.BAOMOI), args.docs)
    staged = corpora.stage(articles, work / "seeds", "baomoi", corpora.news_metadata)
    queries = corpora.latency_queries(staged.titles, args.latency_queries)
    index_dir = args.news_index or work / "searchkit"
    _log(f"filters: building searchkit's index of {staged.articles:,} articles in {index_dir}")
    try:
        built = measure.in_child(measure.build_news, staged.seeds_dir, index_dir)
    except Exception as error:
        results["errors"]["filters/build"] = f"{type(error).__name__}: {error}"
        _log(f"filters: build failed: {error}")
        return
    results["filters_build"] = built
    run_filters(index_dir, staged.articles, queries, results)


def run_cold_start(work: Path, results: dict) -> None:
    _log("cold start: searchkit query over the seeds index")
    try:
        results["cold_start"] = measure.cold_start(corpora.SEEDS, work / "index")
    except Exception as error:
        results["errors"]["cold_start"] = f"{type(error).__name__}: {error}"
        _log(f"cold start failed: {error}")


def run_news_memory(work: Path, queries: list[str], results: dict) -> None:
    """A cold ``searchkit query`` and a ``searchkit serve`` process on the news index of the speed section."""
    seeds_dir, index_dir = work / "seeds", work / "searchkit"
    built = results.get("speed", {}).get("engines", {}).get("searchkit")
    if not built:
        return
    section: dict[str, Any] = {"articles": results["speed"]["articles"], "index_mb": built["index_mb"]}
    results["news_memory"] = section
    _log("news index: cold searchkit query")
    try:
        section["cold_query"] = measure.cold_query(seeds_dir, index_dir)
    except Exception as error:
        results["errors"]["cold_query/news"] = f"{type(error).__name__}: {error}"
        _log(f"news index: cold query failed: {error}")
    _log(f"news index: searchkit serve answering {SERVE_REQUESTS} queries")
    try:
        section["serve"] = memory.serving(
            measure.searchkit_command(),
            seeds_dir,
            index_dir,
            queries or [measure.COLD_QUERY],
            requests=SERVE_REQUESTS,
            log=work / "serve.log",
        )
    except Exception as error:
        results["errors"]["serve/news"] = f"{type(error).__name__}: {error}"
        _log(f"news index: searchkit serve failed: {error}")


def _verdict(value: float, target: float, unit: str) -> str:
    return f"{'meets' if value <= target else 'above'} the {target:g}{unit} target"


def _memory(figures: dict[str, float]) -> str:
    """A process's resident memory, its own part and, where known, its proportional set size."""
    text = f"{figures['rss_mb']:.0f} MB resident ({figures['anon_mb']:.0f} MB own"
    if "pss_mb" in figures:
        text += f", {figures['pss_mb']:.0f} MB counting each page once"
    return text + ")"


def _cell(value: float | None, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate" and value < 100:
        return f"{value:.1f}"
    return ROW_FORMATS[kind].format(value)


def _ratio(value: float) -> str:
    digits = 0 if value >= 100 else 2 if value >= 0.1 else 4
    return f"{value:.{digits}f}×"


# What FTS5 asked for every word (AND) is measured on: the timed title queries, not its build or relevance.
EVERY_WORD = "fts5-and"
QUERY_KEYS = ("first_p50_ms", "first_p95_ms", "first_cpu_p95_ms", "p50_ms", "p95_ms", "cpu_p50_ms", "cpu_p95_ms")


def table(results: dict, names: list[str]) -> str:
    """The figures as one aligned table, with each system's ratio to FTS5 (OR, and AND for short queries).

    FTS5's own column is its OR of the words, the baseline for questions (relevance); the FTS5 AND column,
    beside it, is the baseline for the timed title queries, since searchkit requires every word of those.
    """
    fts5 = results.get("speed", {}).get("engines", {}).get("fts5", {})
    every_word = "every_word" in fts5
    columns = [*names]
    if every_word:
        columns.insert(columns.index("fts5") + 1, EVERY_WORD)
    labels = {name: ENGINES[name].label for name in names} | {"fts5": "SQLite FTS5 OR", EVERY_WORD: "FTS5 AND"}
    others = [name for name in names if name != "fts5"] if "fts5" in names else []
    ratios = [(name, "fts5") for name in others]
    if every_word and "searchkit" in names:
        ratios.insert(1, ("searchkit", EVERY_WORD))
    short = {"fts5": "FTS5 OR", EVERY_WORD: "FTS5 AND"}
    header = ["", *(labels[c] for c in columns), *(f"{labels[a]} ÷ {short[b]}" for a, b in ratios)]
    rows: list[list[str]] = []

    def section(title: str) -> None:
        rows.append([title])

    def row(label: str, values: dict[str, float | None], kind: str) -> None:
        cells = [_cell(values.get(name), kind) for name in columns]
        for name, against in ratios:
            value, base = values.get(name), values.get(against)
            # A share of each system's own index size: a ratio between two of them means little.
            ratio = value is not None and base and kind != "pct"
            cells.append(_ratio(value / base) if ratio else "—")
        rows.append([f"  {label}", *cells])

    relevance = results.get("relevance")
    if relevance:
        section(
            f"Relevance, XQuAD-vi ({relevance['questions']:,} questions, "
            f"{relevance['paragraphs']} paragraphs)"
        )
        engines = relevance["engines"]
        for metric, label in (("mrr_at_10", "MRR@10"), ("recall_at_10", "Recall@10")):
            for typing in ("accented", "unaccented"):
                values = {n: e[typing][metric] for n, e in engines.items() if typing in e}
                row(f"{label}, {typing}", values, "score")
    speed = results.get("speed")
    if speed:
        section(
            f"Speed, baomoi ({speed['articles']:,} articles, {speed['syllables']:,} syllables; "
            f"{speed['latency_queries']} queries, top 10 with snippets)"
        )
        engines = speed["engines"]
        for key, label, kind in (
            ("build_s", "build time (s)", "s"),
            ("build_cpu_s", "build CPU time, all processes (s)", "s"),
            ("articles_per_s", "articles/s", "rate"),
            ("syllables_per_s", "syllables/s", "rate"),
            ("index_mb", "index size (MB)", "mb"),
            ("open_mb", "memory added by opening the index (MB)", "mb"),
            ("open_pct", "  as a share of the index size", "pct"),
            ("first_query_mb", "memory added by opening and one query (MB)", "mb"),
            ("first_query_pct", "  as a share of the index size", "pct"),
            ("peak_rss_mb", "peak memory, main process (MB)", "mb"),
            ("peak_rss_worker_mb", "peak memory, largest worker (MB)", "mb"),
            ("first_p50_ms", "query p50, first run (ms)", "ms"),
            ("first_p95_ms", "query p95, first run (ms)", "ms"),
            ("first_cpu_p95_ms", "query p95, first run, CPU time (ms)", "ms"),
            ("p50_ms", "query p50, repeated (ms)", "ms"),
            ("p95_ms", "query p95, repeated (ms)", "ms"),
            ("cpu_p50_ms", "query p50, CPU time (ms)", "ms"),
            ("cpu_p95_ms", "query p95, CPU time (ms)", "ms"),
        ):
            values = {name: figures.get(key) for name, figures in engines.items()}
            if every_word and key in QUERY_KEYS:
                values[EVERY_WORD] = fts5["every_word"].get(key)
            if key == "peak_rss_worker_mb" and not any(values.values()):
                continue
            row(label, values, kind)

    # Section titles span the whole line, so they do not widen the first column.
    cells = [header, *(r for r in rows if len(r) > 1)]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]

    def line(r: list[str]) -> str:
        if len(r) == 1:
            return r[0]
        return "  ".join(c.rjust(widths[i]) if i else c.ljust(widths[0]) for i, c in enumerate(r))

    lines = [line(r) for r in [header, *rows]]

    ours = speed["engines"].get("searchkit", {}).get("first_p95_ms") if speed else None
    if ours and every_word:
        against_and, against_or = fts5["every_word"]["first_p95_ms"], fts5["first_p95_ms"]
        lines.append(
            f"searchkit first-run p95 {ours:.1f} ms on the title queries: {_ratio(ours / against_and)} FTS5 asked "
            f"for every word (AND, {against_and:.1f} ms), {_ratio(ours / against_or)} FTS5 OR ({against_or:.1f} ms)"
        )
    if "filters" in results:
        lines += filtering.lines(results["filters"])
    scaling = results.get("scaling")
    if scaling and "speedup" in scaling:
        one, two = scaling["procs_1"]["articles_per_s"], scaling["procs_2"]["articles_per_s"]
        verdict = "meets" if scaling["speedup"] >= scaling["target"] else "below"
        lines.append(
            f"searchkit build scaling ({scaling['articles']:,} articles): procs=1 {one:,.1f}/s, "
            f"procs=2 {two:,.1f}/s, {scaling['speedup']:.2f}× "
            f"({verdict} the {scaling['target']}× target)"
        )
    built = speed["engines"].get("searchkit", {}) if speed else {}
    if "opening" in built:
        opened, first = built["opening"]["open"], built["opening"]["first_query"]
        lines.append(
            f"searchkit opening the news index ({built['index_mb']:.1f} MB on disk): "
            f"+{opened['rss_mb']:.1f} MB resident ({opened['anon_mb']:.1f} MB own, "
            f"{opened['file_mb']:.1f} MB mapped files), {built['open_pct']:.1f} % "
            f"({_verdict(built['open_pct'], OPEN_TARGET_PCT, ' %')}); after one query "
            f"+{first['rss_mb']:.1f} MB ({first['anon_mb']:.1f} MB own), {built['first_query_pct']:.1f} % "
            f"({_verdict(built['first_query_pct'], OPEN_TARGET_PCT, ' %')})"
        )
    cold = results.get("cold_start")
    if cold:
        lines.append(
            f'cold start (median of {cold["runs"]}): searchkit query "{measure.COLD_QUERY}" '
            f"{cold['searchkit_query_s']:.2f} s, python -c pass {cold['python_pass_s']:.2f} s; "
            f"peak memory {cold['searchkit_query_peak_mb']:.0f} MB and "
            f"{cold['python_pass_peak_mb']:.0f} MB"
        )
    news = results.get("news_memory", {})
    if "cold_query" in news:
        query = news["cold_query"]
        seconds, peak = query["searchkit_query_s"], query["searchkit_query_peak_mb"]
        lines.append(
            f"cold start on the news index ({news['articles']:,} articles, median of "
            f'{query["runs"]}): searchkit query "{measure.COLD_QUERY}" {seconds:.2f} s '
            f"({_verdict(seconds, COLD_TARGET_S, ' s')}), peak memory {peak:.0f} MB "
            f"({_verdict(peak, COLD_TARGET_MB, ' MB')})"
        )
    if "serve" in news:
        serve = news["serve"]
        codes = Counter(answer["code"] for answer in serve["refused"])
        refused = ", ".join(f"{count} {code}" for code, count in codes.most_common()) or "none"
        lines.append(
            f"searchkit serve on the news index, one process, after {serve['requests']} queries "
            f"from {serve['clients']} clients at once (refused: {refused}): "
            f"{_memory(serve['served'])}; before the first query {_memory(serve['idle'])}"
        )
    for where, message in results["warnings"].items():
        lines.append(f"warning, {where}: {message}")
    for where, message in results["errors"].items():
        lines.append(f"error in {where}: {message.strip().splitlines()[-1]}")
    return "\n".join(lines)


def run_growth(args: argparse.Namespace, results: dict, started: float) -> int:
    """``--growth``: the growth figures alone, written to ``--out`` after each size."""
    results["settings"]["growth"] = args.growth

    def save(section: dict) -> None:
        results["growth"] = section
        results["wall_s"] = time.perf_counter() - started
        args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        _log(f"growth figures so far written to {args.out}")

    if (args.growth_keep or args.growth_requery) and args.growth_work:
        args.growth_work.mkdir(parents=True, exist_ok=True)
        section = growth.run(
            args.data,
            args.growth,
            args.growth_work,
            args.latency_queries,
            _log,
            save,
            keep=True,
            requery=args.growth_requery,
        )
    else:
        with tempfile.TemporaryDirectory(prefix="searchkit-growth-", dir=args.growth_work) as tmp:
            section = growth.run(args.data, args.growth, Path(tmp), args.latency_queries, _log, save)
    print("\n".join(growth.lines(section)))
    print(f"figures written to {args.out} ({results['wall_s']:.0f} s)")
    failed = any(entry["errors"] for entry in section["results"].values())
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _check_data(args.data)
    names = _engines(args)
    info = measure.machine()
    print(
        f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
        f"Python {info['python']}, SQLite {info['sqlite']}, "
        f"whoosh-reloaded {info['whoosh_reloaded']}",
        flush=True,
    )
    results: dict[str, Any] = {
        "machine": info,
        "settings": {
            "docs": args.docs,
            "scale_docs": args.scale_docs,
            "questions": args.questions,
            "latency_queries": args.latency_queries,
            "depth": args.depth,
            "engines": names,
            "only": args.only,
        },
        "errors": {},
        "warnings": {},
    }
    started = time.perf_counter()
    if args.growth is not None:
        return run_growth(args, results, started)
    with tempfile.TemporaryDirectory(prefix="searchkit-bench-") as tmp:
        work = Path(tmp)
        if args.only == "filters":
            run_filters_alone(args, work / "filters", results)
            names = []
        else:
            run_relevance(args, names, work / "relevance", results)
        queries = run_speed(args, names, work / "speed", results) if args.docs != 0 and names else []
        if "searchkit" in names and "searchkit" in results["speed"]["engines"]:
            run_filters(work / "speed" / "searchkit", results["speed"]["articles"], queries, results)
        if "searchkit" in names:
            if args.docs != 0 and args.scale_docs:
                run_scaling(args, work / "scaling", results)
            run_cold_start(work / "cold", results)
            run_news_memory(work / "speed", queries, results)
    results["wall_s"] = time.perf_counter() - started

    print(table(results, names))
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {args.out} ({results['wall_s']:.0f} s)")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
