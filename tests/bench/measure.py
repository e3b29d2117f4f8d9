"""The measurements themselves: relevance, build and query speed, build scaling, cold start.

What opening an index costs in memory is measured in ``memory``.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import platform
import resource
import shutil
import sqlite3
import stat
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import memory
from engines import ENGINES

from searchkit.search.evaluation import Query, evaluate

# What a cold ``searchkit query`` searches for, on the seeds and on the news index.
COLD_QUERY = "nêu gương"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    try:
        from importlib.metadata import version

        whoosh_version = version("whoosh-reloaded")
    except Exception:
        whoosh_version = None
    return {
        "cpu": model or "unknown",
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "whoosh_reloaded": whoosh_version,
    }


def _peak_rss_mb() -> float:
    """This process's own peak resident memory.

    Linux's ``ru_maxrss`` survives ``exec``: a child started from a large parent reports the
    parent's size as its own peak. ``VmHWM`` belongs to the process's current memory map only.
    """
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return _maxrss_mb(resource.RUSAGE_SELF)


def _maxrss_mb(who: int) -> float:
    peak = resource.getrusage(who).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _cpu_s() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def _size_mb(folder: Path) -> float:
    """An index's size on disk; for searchkit, its current generation only.

    A searchkit index folder also holds the generations before the current one for a while, sharing
    its unchanged segment files through hard links: a file is counted once however many names it has.
    """
    from searchkit.engines.whoosh import generations

    generation = generations.current(folder)
    seen, total = set(), 0
    for path in (generation.path if generation else folder).rglob("*"):
        found = path.lstat()
        if stat.S_ISREG(found.st_mode) and (found.st_dev, found.st_ino) not in seen:
            seen.add((found.st_dev, found.st_ino))
            total += found.st_size
    return total / (1024 * 1024)


def _percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: an actual observed latency, not an interpolation."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def _child(sender: Any, func: Callable[..., dict], args: tuple) -> None:
    try:
        sender.send(("ok", func(*args)))
    except BaseException:
        sender.send(("error", traceback.format_exc()))
    finally:
        sender.close()


def in_child(func: Callable[..., dict], *args: Any) -> dict:
    """Run ``func(*args)`` in a fresh interpreter so its peak memory is its own.

    A plain (non-daemon) process, because an engine may start worker processes of its own, which
    daemonic pool workers are not allowed to do.
    """
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, func, args))
    process.start()
    sender.close()
    try:
        status, value = receiver.recv()
    except EOFError:
        status, value = "error", "the measuring process died without a result"
    process.join()
    if status != "ok":
        raise RuntimeError(f"{value}\n(exit code {process.exitcode})")
    return value


def relevance(
    engine_name: str,
    seeds_dir: Path,
    index_dir: Path,
    queries: list[Query],
    qrels: dict[str, dict[str, int]],
    fold: Callable[[str], str],
    depth: int,
) -> dict[str, Any]:
    """Build the engine over the XQuAD paragraphs, then score accented and folded questions."""
    engine = ENGINES[engine_name]
    started = time.perf_counter()
    report = engine.build(seeds_dir, index_dir)
    outcome: dict[str, Any] = {"build_s": time.perf_counter() - started, "indexed": report["added"]}
    with engine.searcher(index_dir) as search:
        for typing, prepare in (("accented", str), ("unaccented", fold)):
            started = time.perf_counter()
            run = {query.id: search(prepare(query.text), depth, False) for query in queries}
            outcome[f"{typing}_s"] = time.perf_counter() - started
            judged = {query.id: qrels[query.id] for query in queries if query.id in qrels}
            outcome[typing] = evaluate(run, judged, depth=depth)
    return outcome


def build_and_query(
    engine_name: str,
    seeds_dir: Path,
    index_dir: Path,
    queries: list[str],
    procs: int | None = None,
) -> dict[str, Any]:
    """Run in a child: build, note time and peak memory, then time each query once warmed.

    Latency covers what a user gets for the first page: top 10 hits with their snippets. Each
    query is timed twice: its first run (the process warm, the query new to it) and a repeat.
    """
    engine = ENGINES[engine_name]
    cpu_started = _cpu_s()
    started = time.perf_counter()
    report = engine.build(seeds_dir, index_dir, procs=procs)
    build_s = time.perf_counter() - started
    result: dict[str, Any] = {
        "build_s": build_s,
        # CPU seconds of the build and its workers: steadier than wall time on a busy machine.
        "build_cpu_s": _cpu_s() - cpu_started,
        "build_report": report,
        "peak_rss_mb": _peak_rss_mb(),
        # Largest single worker the build started, if any (0 when it ran in one process). Workers
        # are forked from this process, so their figure counts the pages they share with it.
        "peak_rss_worker_mb": _maxrss_mb(resource.RUSAGE_CHILDREN),
        "index_mb": _size_mb(index_dir),
    }
    if not queries:
        return result
    return result | timed_queries(engine_name, index_dir, queries)


def timed_queries(
    engine_name: str, index_dir: Path, queries: list[str], options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Each query's first run (the query new to the searcher) and a repeat, top 10 with snippets.

    ``options`` go to the engine's searcher (FTS5's ``every_word``). Run in a child for a fresh searcher.
    """
    engine = ENGINES[engine_name]
    timings, cpu_timings, first_timings, first_cpu_timings = [], [], [], []
    hits = 0
    with engine.searcher(index_dir, **(options or {})) as search:
        for text in queries:
            # The first run of a query the engine has not seen (posting lists not yet cached).
            cpu_started, started = time.process_time(), time.perf_counter()
            search(text, 10, True)
            first_timings.append((time.perf_counter() - started) * 1000)
            first_cpu_timings.append((time.process_time() - cpu_started) * 1000)
            cpu_started, started = time.process_time(), time.perf_counter()
            hits += len(search(text, 10, True))
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu_started) * 1000)
    return {
        "queries": len(timings),
        "hits_per_query": hits / len(timings),
        "first_p50_ms": _percentile(first_timings, 0.50),
        "first_p95_ms": _percentile(first_timings, 0.95),
        # Processor time of the first run: what the query costs, steadier than wall time on a busy machine.
        "first_cpu_p50_ms": _percentile(first_cpu_timings, 0.50),
        "first_cpu_p95_ms": _percentile(first_cpu_timings, 0.95),
        "p50_ms": _percentile(timings, 0.50),
        "p95_ms": _percentile(timings, 0.95),
        "mean_ms": statistics.fmean(timings),
        "cpu_p50_ms": _percentile(cpu_timings, 0.50),
        "cpu_p95_ms": _percentile(cpu_timings, 0.95),
    }


def build_news(seeds_dir: Path, index_dir: Path) -> dict[str, Any]:
    """Run in a child: searchkit's index of ``seeds_dir`` brought up to date (built when new), timed."""
    from searchkit.build.index import build

    cpu_started, started = _cpu_s(), time.perf_counter()
    report = build(seeds_dir, index_dir)
    return {
        "build_s": time.perf_counter() - started,
        "build_cpu_s": _cpu_s() - cpu_started,
        "build_report": {key: getattr(report, key) for key in ("added", "updated", "removed", "unchanged")},
        "index_mb": _size_mb(index_dir),
    }


def searchkit_command() -> list[str]:
    """The installed ``searchkit`` script of this interpreter, as a user would start it."""
    beside = Path(sys.executable).with_name("searchkit")
    found = str(beside) if beside.exists() else shutil.which("searchkit")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from searchkit.cli import main; sys.exit(main())"]


def cold_start(seeds_dir: Path, index_dir: Path, runs: int = 5) -> dict[str, Any]:
    """Wall time and peak memory of a fresh ``searchkit query`` over the seeds index, next to an empty Python."""
    from searchkit.build.index import build

    build(seeds_dir, index_dir, rebuild=True)
    python = memory.runs([sys.executable, "-c", "pass"], seeds_dir.parent, runs)
    return cold_query(seeds_dir, index_dir, runs) | {
        "command": ["searchkit", "query", COLD_QUERY, "--index", "<index>", "--seeds", "seeds"],
        "python_pass_s": python["median_s"],
        "python_pass_peak_mb": python["peak_mb"],
        "python_pass_runs_s": python["runs_s"],
    }


def cold_query(seeds_dir: Path, index_dir: Path, runs: int = 5) -> dict[str, Any]:
    """Wall time (median) and peak memory (largest) of a fresh ``searchkit query`` over a built index."""
    command = [*searchkit_command(), "query", COLD_QUERY, "--index", str(index_dir), "--seeds", str(seeds_dir)]
    figures = memory.runs(command, seeds_dir.parent, runs)
    return {
        "runs": runs,
        "searchkit_query_s": figures["median_s"],
        "searchkit_query_peak_mb": figures["peak_mb"],
        "searchkit_query_runs_s": figures["runs_s"],
        "searchkit_query_peaks_mb": figures["peaks_mb"],
    }
