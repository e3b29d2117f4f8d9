"""The news corpus over 1, 2 and 3 Xapian shards beside the embedded index, in one run.

For each: build time (wall and processor, the client's own and its workers'), the first page of each
timed query (top 10 with snippets: its first run and a repeat, p50 and p95), the size on disk and,
for shards, the memory of each shard server (the peak resident set of its processes: the listener
and the one serving the client's connection). The shard servers run on 127.0.0.1 only and stop
with the run.

    python tests/bench/shards.py --out shards-results.json          # the whole corpus
    python tests/bench/shards.py --docs 2000 --shard-counts 1,3     # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import corpora
import measure

DEFAULT_QUERIES = 200


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=corpora.DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--docs", type=int, default=None, help="news articles to index (default: all)")
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES, help="timed queries")
    parser.add_argument("--shard-counts", default="1,2,3", help="numbers of shards to measure, comma-separated")
    parser.add_argument("--out", type=Path, default=Path("shards-results.json"))
    return parser.parse_args(argv)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def shards_build(seeds_dir: Path, address: str) -> dict[str, Any]:
    """Run in a child: build the shards from ``seeds_dir``, timed."""
    from searchkit.build.shards import build
    from searchkit.engines.xapian.connection import parse_shards

    cpu_started, started = measure._cpu_s(), time.perf_counter()
    report = build(seeds_dir, parse_shards(address))
    return {
        "build_s": time.perf_counter() - started,
        "build_cpu_s": measure._cpu_s() - cpu_started,
        "build_report": {key: getattr(report, key) for key in ("added", "updated", "removed", "unchanged")},
        "client_peak_rss_mb": measure._peak_rss_mb(),
    }


def shards_query(address: str, cache: Path, queries: list[str]) -> dict[str, Any]:
    """Run in a child: time each query's first page on the shards as the embedded bench does."""
    from searchkit.engines.xapian.connection import parse_shards
    from searchkit.search.searcher import Searcher

    first, repeated = [], []
    opened = time.perf_counter()
    with Searcher(shards=parse_shards(address), cache=cache) as searcher:
        result: dict[str, Any] = {"open_s": time.perf_counter() - opened}
        for text in queries:
            started = time.perf_counter()
            searcher.search(text, limit=10)
            first.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            searcher.search(text, limit=10)
            repeated.append((time.perf_counter() - started) * 1000)
    return result | {
        "first_p50_ms": measure._percentile(first, 0.50),
        "first_p95_ms": measure._percentile(first, 0.95),
        "p50_ms": measure._percentile(repeated, 0.50),
        "p95_ms": measure._percentile(repeated, 0.95),
        "client_peak_rss_mb": measure._peak_rss_mb(),
    }


def server_memory_mb(pids: list[int]) -> float:
    """The largest peak resident set (VmHWM) among a server's processes, in MB."""
    peak = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return peak


class MemoryWatch:
    """Samples each shard server's processes every ``every`` seconds and keeps each server's peak.

    A server forks a process per connection, which ends with it: its peak (VmHWM) is read while
    it lives.
    """

    def __init__(self, servers, every: float = 0.25):  # noqa: ANN001
        self.servers = servers
        self.every = every
        self.peaks = [0.0] * len(servers.shards)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for i in range(len(self.peaks)):
                self.peaks[i] = max(self.peaks[i], server_memory_mb(self.servers.pids(i)))
            self._stop.wait(self.every)


def run_shards(count: int, staged: corpora.StagedCorpus, queries: list[str], work: Path) -> dict[str, Any]:
    from searchkit.engines.xapian.servers import LocalShards

    with LocalShards(work / f"servers-{count}", count) as servers:
        # Apart, since a server's memory while it takes a build (it holds up to XAPIAN_FLUSH_THRESHOLD,
        # 10,000, documents before it commits) is not what it needs to answer queries.
        with MemoryWatch(servers) as building:
            figures = measure.in_child(shards_build, staged.seeds_dir, servers.address)
        with MemoryWatch(servers) as querying:
            searching = measure.in_child(shards_query, servers.address, work / f"cache-{count}", queries)
        figures["shard_mb"] = [measure._size_mb(servers.database(i)) for i in range(count)]
    figures["build_client_peak_rss_mb"] = figures.pop("client_peak_rss_mb")
    figures |= searching
    figures["server_build_peak_rss_mb"] = building.peaks
    figures["server_peak_rss_mb"] = querying.peaks
    figures["index_mb"] = sum(figures["shard_mb"])
    return figures


def table(results: dict[str, Any]) -> str:
    rows = [
        "| index | build (s) | build CPU (s) | size (MB) | first run p50 / p95 (ms) | repeated p50 / p95 (ms) "
        "| memory per shard server, querying / building (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    embedded = results["embedded"]
    rows.append(
        f"| embedded (Whoosh) | {embedded['build_s']:.1f} | {embedded['build_cpu_s']:.1f} | {embedded['index_mb']:.1f} "
        f"| {embedded['first_p50_ms']:.1f} / {embedded['first_p95_ms']:.1f} "
        f"| {embedded['p50_ms']:.1f} / {embedded['p95_ms']:.1f} | (none: in the searching process) |"
    )
    for count, figures in results["shards"].items():
        memory = ", ".join(
            f"{q:.0f} / {b:.0f}"
            for q, b in zip(figures["server_peak_rss_mb"], figures["server_build_peak_rss_mb"], strict=True)
        )
        rows.append(
            f"| {count} Xapian shard{'s' if int(count) > 1 else ''} | {figures['build_s']:.1f} "
            f"({figures['build_s'] / embedded['build_s']:.2f}×) | {figures['build_cpu_s']:.1f} "
            f"| {figures['index_mb']:.1f} | {figures['first_p50_ms']:.1f} / {figures['first_p95_ms']:.1f} "
            f"({figures['first_p95_ms'] / embedded['first_p95_ms']:.2f}×) "
            f"| {figures['p50_ms']:.1f} / {figures['p95_ms']:.1f} | {memory} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    info = measure.machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), Python {info['python']}")
    results: dict[str, Any] = {"machine": info, "settings": vars(args) | {"data": str(args.data), "out": str(args.out)}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="searchkit-shards-bench-") as tmp:
        work = Path(tmp)
        articles = corpora.first(corpora.read_jsonl(args.data / corpora.BAOMOI), args.docs)
        staged = corpora.stage(articles, work / "seeds", "baomoi", corpora.news_metadata)
        queries = corpora.latency_queries(staged.titles, args.queries)
        results["articles"], results["queries"] = staged.articles, len(queries)
        _log(f"embedded: building {staged.articles:,} articles")
        results["embedded"] = measure.in_child(
            measure.build_and_query, "searchkit", staged.seeds_dir, work / "embedded", queries
        )
        results["shards"] = {}
        for count in (int(n) for n in args.shard_counts.split(",")):
            _log(f"{count} shard(s): building {staged.articles:,} articles")
            results["shards"][str(count)] = run_shards(count, staged, queries, work)
    results["wall_s"] = time.perf_counter() - started
    print(table(results))
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"figures written to {args.out} ({results['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
