"""A new query's first run, top 10 with snippets, beside SQLite FTS5 asked for every word (AND).

Usage: ``python tests/bench/first_run.py INDEX_DIR SEEDS_DIR [--fts5 DB] [--queries 200] [--profile OUT]
[--against BASE_CHECKOUT]``

The queries are cut from the titles of the seeds: half the first two to four syllables of a title
(someone typing the start of a title they remember), half two or three consecutive syllables from
anywhere in one; every other one typed without its accents. Each is run once on searchkit with its
posting cache emptied first (what a new query finds: nothing of its terms read yet; the field
lengths, read once per generation, stay), then once more (repeated), then through FTS5 AND with
``snippet()`` in the same run. Wall and processor times are both given: on a shared machine the
second is the steadier. ``--profile`` writes cProfile's statistics of the first runs and their shares.
``--against`` times a checkout of the baseline beside this tree, in lockstep (see :func:`run_against`).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

from corpora import SYLLABLE, query_folder, read_jsonl
from engines import Fts5

SEED = 20261202


def titles(seeds_dir: Path) -> list[str]:
    return [row["title"] for path in sorted(seeds_dir.glob("*.jsonl")) for row in read_jsonl(path)]


def queries(all_titles: list[str], count: int, seed: int = SEED) -> list[str]:
    fold, _ = query_folder()
    rng = random.Random(seed)
    usable = [words for words in (SYLLABLE.findall(t) for t in all_titles) if len(words) >= 3]
    chosen = []
    for n in range(count):
        words = rng.choice(usable)
        if n % 2:
            size = rng.randint(2, 3)
            start = rng.randint(0, len(words) - size)
        else:
            size, start = rng.randint(2, min(4, len(words))), 0
        text = " ".join(words[start : start + size])
        chosen.append(fold(text) if n % 4 >= 2 else text)
    return chosen


def fts5_database(seeds_dir: Path, path: Path) -> Path:
    if not (path / Fts5.FILE).exists():
        Fts5().build(seeds_dir, path)
    return path


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def figures(values: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(values, 0.5), "p95_ms": percentile(values, 0.95), "mean_ms": statistics.fmean(values)}


def empty_postings(searcher) -> None:  # noqa: ANN001 - a Searcher over the Whoosh engine
    """Drops what the searcher's generation has read of postings, keeping its field lengths, and the
    pages of results and phrases it keeps (where it keeps them)."""
    try:
        from searchkit.search import result_cache
    except ImportError:  # searchkit from before its result cache (a baseline)
        pages = None
    else:
        pages = result_cache.of(searcher)
    if pages is not None:
        pages.clear()
    # The phrases the executor remembers checking (where it does): a new query has checked none.
    getattr(searcher.backend.executor, "_memo", {}).clear()
    cache = searcher.backend.executor.cache
    for key in [k for k in cache.keys() if k[0] not in ("lengths", "all")]:
        cache.discard(key)


# Where a first run's time goes: the cumulative time of the functions doing each part, as a share of
# ``Searcher.search``'s. They nest (decoding blocks happens within scoring terms and checking phrases,
# both within running the query or placing tiers; stored fields within spelling checks and snippets).
SHARES = {
    "running the compiled query (Executor.run)": ("execute.py", "run"),
    "decoding posting blocks (zlib, unpickling)": (("whoosh3.py", "_read_data"), ("codec/reading.py", "read")),
    "posting cache bookkeeping": ("cache.py", "put"),
    "reading and scoring terms (BM25F arrays)": ("postings.py", "_arrays"),
    "phrase/proximity checks (positions)": ("phrases.py", "phrase_within"),
    "intersections and unions (matches.py)": ("matches.py", ("intersection", "union", "add_within", "without")),
    "tiers (Executor.tiers)": ("execute.py", "tiers"),
    "spelling checks of tiers (stored text)": ("execute.py", "_spelt_within"),
    "stored fields (Whoosh)": ("whoosh/reading.py", "stored_fields"),
    "snippets (highlight.snippet)": ("highlight.py", "snippet"),
    "analysis, restoration, correction (Searcher.prepared)": ("searcher.py", "prepared"),
}


def shares(profile: Path) -> dict[str, float]:
    """Each part's share of the first runs' time (:data:`SHARES`), in per cent."""
    import pstats

    stats = pstats.Stats(str(profile)).stats
    total = sum(cumulative for (file, _, name), (_, _, _, cumulative, _) in stats.items()
                if file.endswith("searcher.py") and name == "search")
    found = {}
    for label, where in SHARES.items():
        spent = 0.0
        for suffix, names in where if isinstance(where[0], tuple) else (where,):
            names = (names,) if isinstance(names, str) else names
            spent += sum(cumulative for (file, _, name), (_, _, _, cumulative, _) in stats.items()
                         if file.endswith(suffix) and name in names)
        found[label] = round(100 * spent / total, 1) if total else 0.0
    return found


class Timed:
    """One searcher timing each query's first run (its caches emptied first) and its repeated run."""

    def __init__(self, index_dir: Path, profile: bool = False):
        from searchkit.search.searcher import Searcher

        self.searcher = Searcher(index_dir)
        self.profiler = cProfile.Profile() if profile else None

    def warm(self, text: str) -> None:
        self.searcher.search(text, limit=10)  # the generation's field lengths and columns, read once

    def query(self, text: str) -> tuple[float, float, float, float, int]:
        """(first run wall ms, processor ms, repeated wall ms, processor ms, hits)."""
        from searchkit.errors import SearchkitError

        empty_postings(self.searcher)
        timings, hits = [], 0
        for run in ("first", "repeated"):
            if self.profiler and run == "first":
                self.profiler.enable()
            started, cpu = time.perf_counter(), time.process_time()
            try:
                found = self.searcher.search(text, limit=10)
            except SearchkitError:
                found = None
            timings += [(time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000]
            if self.profiler and run == "first":
                self.profiler.disable()
            hits = hits or (len(found.hits) if found else 0)
        return (*timings, hits)


def summary(rows: list[tuple[float, float, float, float, int]]) -> dict:
    return {
        "first": figures([row[0] for row in rows]),
        "first_cpu": figures([row[1] for row in rows]),
        "repeated": figures([row[2] for row in rows]),
        "repeated_cpu": figures([row[3] for row in rows]),
        "hits_per_query": sum(row[4] for row in rows) / len(rows),
    }


def run_searchkit(index_dir: Path, texts: list[str], profile: Path | None) -> dict:
    timed = Timed(index_dir, profile is not None)
    timed.warm(texts[0])
    rows = [timed.query(text) for text in texts]
    timed.searcher.close()
    shared = {}
    if timed.profiler:
        timed.profiler.dump_stats(str(profile))
        shared = {"shares_pct": shares(profile)}
    return shared | summary(rows)


def serve(index_dir: Path) -> None:
    """``--serve``: times each query read from stdin (a JSON string a line), a JSON row out for each."""
    timed = None
    for line in sys.stdin:
        text = json.loads(line)
        if timed is None:
            timed = Timed(index_dir)
            timed.warm(text)
            print(json.dumps("ready"), flush=True)
            continue
        print(json.dumps(timed.query(text)), flush=True)


def run_against(
    base: Path, index_dir: Path, texts: list[str], fts5: Path | None, base_index: Path | None = None
) -> dict:
    """This tree's searchkit and the one in ``base`` (a checkout of the baseline) in two processes driven in
    lockstep, query by query (which goes first alternating), FTS5 AND after each in this one: all three meet
    the same moment of a shared machine. The baseline reads ``base_index`` if given (an index it built, where
    a change is in how the index is written), else the same index."""
    import os
    import subprocess

    def child(path: str | None, index: Path) -> subprocess.Popen:
        env = dict(os.environ)
        if path is not None:
            env["PYTHONPATH"] = path + os.pathsep + env.get("PYTHONPATH", "")
        command = [sys.executable, __file__, str(index), ".", "--serve"]
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    sides = {"searchkit": child(None, index_dir), "base": child(str(base.resolve()), base_index or index_dir)}
    rows: dict[str, list] = {name: [] for name in sides}
    fts5_rows: list[tuple[float, float, int]] = []
    stack = contextlib.ExitStack()
    search = stack.enter_context(Fts5().searcher(fts5, every_word=True)) if fts5 is not None else None
    if search is not None:
        search(texts[0], 10, True)
    for n, text in enumerate([texts[0], *texts]):
        order = list(sides) if n % 2 else list(sides)[::-1]
        for name in order:
            sides[name].stdin.write(json.dumps(text) + "\n")
            sides[name].stdin.flush()
            row = json.loads(sides[name].stdout.readline())
            if n:
                rows[name].append(row)
        if n and search is not None:
            started, cpu = time.perf_counter(), time.process_time()
            hits = len(search(text, 10, True))
            fts5_rows.append(((time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000, hits))
    stack.close()
    for process in sides.values():
        process.stdin.close()
        process.wait()
    result = {name: summary(found) for name, found in rows.items()}
    if fts5_rows:
        result["fts5_and"] = {
            "first": figures([row[0] for row in fts5_rows]),
            "first_cpu": figures([row[1] for row in fts5_rows]),
            "hits_per_query": sum(row[2] for row in fts5_rows) / len(fts5_rows),
        }
        for name in sides:
            for kind in ("first", "first_cpu"):
                result[f"{name}_{kind}_p95_ratio"] = result[name][kind]["p95_ms"] / result["fts5_and"][kind]["p95_ms"]
            result[f"{name}_repeated_cpu_p95_ratio"] = (
                result[name]["repeated_cpu"]["p95_ms"] / result["fts5_and"]["first_cpu"]["p95_ms"]
            )
    return result


def run_fts5(db_dir: Path, texts: list[str]) -> dict:
    timings, cpu_timings, hits = [], [], 0
    with Fts5().searcher(db_dir, every_word=True) as search:  # every word, as searchkit requires
        search(texts[0], 10, True)  # the database's pages in the system's cache, as searchkit's lengths are
        for text in texts:
            started, cpu = time.perf_counter(), time.process_time()
            hits += len(search(text, 10, True))
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu) * 1000)
    return {"first": figures(timings), "first_cpu": figures(cpu_timings), "hits_per_query": hits / len(texts)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("index", type=Path)
    parser.add_argument("seeds", type=Path)
    parser.add_argument("--fts5", type=Path, help="folder of the FTS5 database (built there if absent)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--against", type=Path, help="a checkout of the baseline, timed in lockstep beside this tree")
    parser.add_argument("--against-index", type=Path, help="the index the baseline reads (default: the same index)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.index)
        return 0
    texts = queries(titles(args.seeds), args.queries)
    if args.against is not None:
        sqlite3.connect(":memory:").close()
        fts5 = fts5_database(args.seeds, args.fts5) if args.fts5 is not None else None
        result = {"queries": len(texts), "sample": texts[:6]} | run_against(
            args.against, args.index, texts, fts5, args.against_index
        )
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    result = {"queries": len(texts), "sample": texts[:6], "searchkit": run_searchkit(args.index, texts, args.profile)}
    if args.fts5 is not None:
        sqlite3.connect(":memory:").close()
        result["fts5_and"] = run_fts5(fts5_database(args.seeds, args.fts5), texts)
        ours, theirs = result["searchkit"]["first"]["p95_ms"], result["fts5_and"]["first"]["p95_ms"]
        result["first_p95_ratio"] = ours / theirs if theirs else None
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
