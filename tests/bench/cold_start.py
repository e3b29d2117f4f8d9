#!/usr/bin/env python3
"""A cold ``searchkit query``: its wall time beside ``python -c pass`` in the same run, and what it imports.

    python3 tests/bench/cold_start.py [--seeds DIR] [--runs N] [--query TEXT]

Copies the seed articles (default: the project's seeds/) into seeds/ of a temporary folder and builds index/
beside it, as a user's project folder holds them; then runs ``searchkit query TEXT`` there, without options, in a
fresh interpreter N times (default 5), each beside a ``python -c pass``, in alternating order so that a change in
the machine's load falls on both, and prints the medians and their ratio. Then the heaviest modules a query
imports, from ``python -X importtime``. The searchkit imported is the one on PYTHONPATH (else the installed one).

``bench.py`` (``make bench``) reports the same query's wall time and peak memory in its ``cold_start`` section;
this script is the quick profile beside it: processor time, interleaved runs and where the time goes.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERY = "from searchkit.cli import main; main()"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--query", default="nêu gương")
    parser.add_argument("--top", type=int, default=12, help="heaviest imports shown")
    return parser.parse_args(argv)


def timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """The wall time and the processor time (user and system) of one run of ``command``: on a shared
    machine the second is the steadier reading."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heaviest_imports(command: list[str], cwd: Path, top: int) -> list[tuple[int, str]]:
    """The ``top`` modules with the largest cumulative import time (µs) under ``-X importtime``, of the first
    two levels (each a module the command imports or one that pulls in directly)."""
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]], check=True, capture_output=True, text=True, cwd=cwd
    )
    found = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.removeprefix("import time:").split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        if depth <= 1:  # what the command imports and what that pulls in directly
            found.append((int(cumulative), "  " * depth + name.strip()))
    return sorted(found, reverse=True)[:top]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        shutil.copytree(args.seeds, folder / "seeds")
        build = [sys.executable, "-c", QUERY, "index"]
        subprocess.run(build, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
        query = [sys.executable, "-c", QUERY, "query", args.query]
        empty = [sys.executable, "-c", "pass"]
        timed(query, folder)  # the files in the page cache, as for any query after the first
        queries: list[tuple[float, float]] = []
        empties: list[tuple[float, float]] = []
        for run in range(args.runs):
            pair = (query, empty) if run % 2 == 0 else (empty, query)
            for command in pair:
                (queries if command is query else empties).append(timed(command, folder))
        print(f"{f'median of {args.runs} runs':<24}   wall      cpu")
        for label, runs in ((f"searchkit query {args.query!r}", queries), ("python -c pass", empties)):
            wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
            print(f"{label:<24} {wall:6.3f} s {cpu:6.3f} s")
        wall_ratio = statistics.median(w for w, _ in queries) / statistics.median(w for w, _ in empties)
        cpu_ratio = statistics.median(c for _, c in queries) / statistics.median(c for _, c in empties)
        print(f"{'ratio':<24} {wall_ratio:6.1f} ×   {cpu_ratio:6.1f} ×")
        print("heaviest imports of the query (cumulative ms):")
        for micros, name in heaviest_imports(query, folder, args.top):
            print(f"  {micros / 1000:8.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
