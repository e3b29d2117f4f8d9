#!/usr/bin/env python3
"""A cold ``searchkit query``: its wall time beside ``python -c pass`` in the same run, and what it imports.

    python3 tests/bench/cold_start.py [--seeds DIR] [--runs N] [--query TEXT] [--index DIR] [--no-bytecode]

Copies the seed articles (default: the project's seeds/) into seeds/ of a temporary folder and builds index/
beside it, as a user's project folder holds them (or, with --index, queries that index instead); then runs
``searchkit query TEXT`` there, without options, in a fresh interpreter N times (default 5), each beside a
``python -c pass``, in alternating order so that a change in the machine's load falls on both, and prints the
medians and their ratio. Then where one query's time goes (starting the interpreter, importing, opening the index,
searching, the rest: printing and the check that the articles have not changed) and the heaviest modules it
imports, from ``python -X importtime``. The searchkit imported is the one on PYTHONPATH (else the installed one).

Modules are run from their bytecode, as an installed package's are (pip compiles them as it installs): the first
run writes it to a cache in the temporary folder, so that PYTHONDONTWRITEBYTECODE in the environment does not make
every run compile searchkit's source again. --no-bytecode measures that case (each start compiles every module
that has no bytecode beside it).

``bench.py`` (``make bench``) reports the same query's wall time and peak memory in its ``cold_start`` section;
this script is the quick profile beside it: processor time, interleaved runs and where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
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
# The query again, timing its parts: the imports (what ``main`` imports and what the query command does, as
# looking the command up imports it), opening the searcher, searching, and the rest of the command.
PHASES = """
import json, sys, time
clock = time.process_time
started = clock()
from searchkit.cli import main
from searchkit.cli import query
from searchkit.search.searcher import Searcher
imported = clock() - started
spent = {"open": 0.0, "search": 0.0}
def timed(name, function):
    def run(*args, **kwargs):
        begun = clock()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += clock() - begun
    return run
Searcher.__init__ = timed("open", Searcher.__init__)
Searcher.search = timed("search", Searcher.search)
try:
    main()
finally:
    total = clock() - started
    rest = total - imported - spent["open"] - spent["search"]
    print(json.dumps({"imports": imported, **spent, "rest": rest}), file=sys.stderr)
"""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--query", default="nêu gương")
    parser.add_argument("--top", type=int, default=12, help="heaviest imports shown")
    parser.add_argument("--index", type=Path, help="an index to query instead of one built from --seeds")
    parser.add_argument("--no-bytecode", action="store_true", help="compile every module at each start")
    return parser.parse_args(argv)


def environment(work: Path, bytecode: bool) -> dict[str, str]:
    """The commands' environment: this one, with bytecode written to (and read from) a cache in ``work``."""
    if not bytecode:
        return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    kept = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    return {**kept, "PYTHONPYCACHEPREFIX": str(work / "bytecode")}


def phases(query: list[str], cwd: Path, env: dict[str, str]) -> dict[str, float]:
    """The processor time of one run of the query command's parts (see :data:`PHASES`), in seconds."""
    command = [query[0], "-c", PHASES, *query[3:]]
    done = subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, env=env)
    return json.loads(done.stderr.decode().strip().splitlines()[-1])


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """The wall time and the processor time (user and system) of one run of ``command``: on a shared
    machine the second is the steadier reading."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
    took = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return took, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heaviest_imports(command: list[str], cwd: Path, env: dict[str, str], top: int) -> list[tuple[int, str]]:
    """The ``top`` modules with the largest cumulative import time (µs) under ``-X importtime``, of the first
    two levels (each a module the command imports or one that pulls in directly)."""
    done = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]], check=True, capture_output=True, text=True, cwd=cwd, env=env
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
        env = environment(folder, not args.no_bytecode)
        query = [sys.executable, "-c", QUERY, "query", args.query]
        if args.index:
            query += ["--index", str(args.index.resolve())]
        else:
            shutil.copytree(args.seeds, folder / "seeds")
            build = [sys.executable, "-c", QUERY, "index"]
            subprocess.run(build, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder, env=env)
        empty = [sys.executable, "-c", "pass"]
        for command in (query, empty):  # the files in the page cache and the bytecode written, as for later runs
            timed(command, folder, env)
        queries: list[tuple[float, float]] = []
        empties: list[tuple[float, float]] = []
        for run in range(args.runs):
            pair = (query, empty) if run % 2 == 0 else (empty, query)
            for command in pair:
                (queries if command is query else empties).append(timed(command, folder, env))
        bytecode = "compiled at each start" if args.no_bytecode else "from bytecode"
        print(f"{f'median of {args.runs} runs, {bytecode}':<36}   wall      cpu")
        for label, runs in ((f"searchkit query {args.query!r}", queries), ("python -c pass", empties)):
            wall, cpu = statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs)
            print(f"{label:<36} {wall:6.3f} s {cpu:6.3f} s")
        wall_ratio = statistics.median(w for w, _ in queries) / statistics.median(w for w, _ in empties)
        cpu_ratio = statistics.median(c for _, c in queries) / statistics.median(c for _, c in empties)
        print(f"{'ratio':<36} {wall_ratio:6.1f} ×   {cpu_ratio:6.1f} ×")
        parts = [phases(query, folder, env) for _ in range(args.runs)]
        shares = {"interpreter": statistics.median(c for _, c in empties)}
        shares.update({name: statistics.median(part[name] for part in parts) for name in parts[0]})
        whole = sum(shares.values())
        print(f"where a query's processor time goes (median of {args.runs} runs):")
        for name, seconds in shares.items():
            print(f"  {name:<12} {seconds * 1000:6.1f} ms  {seconds / whole:4.0%}")
        print("heaviest imports of the query (cumulative ms):")
        for micros, name in heaviest_imports(query, folder, env, args.top):
            print(f"  {micros / 1000:8.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
