#!/usr/bin/env python3
"""A cold ``searchkit query``: its wall time beside ``python -c pass`` in the same run, and what it imports.

    python3 tests/bench/cold_start.py [--seeds DIR] [--runs N] [--query TEXT] [--index DIR] [--no-bytecode]
                                      [--against CHECKOUT]

Copies the seed articles (default: the project's seeds/) into seeds/ of a temporary folder and builds index/
beside it, as a user's project folder holds them (or, with --index, queries that index instead); then runs
``searchkit query TEXT`` there, without options, in a fresh interpreter N times (default 5), each beside a
``python -c pass``, in alternating order so that a change in the machine's load falls on both, and prints the
medians and their ratio. Then where one query's time goes (starting the interpreter, importing, opening the index,
searching, the rest: printing and the check that the articles have not changed) and the heaviest modules it
imports, from ``python -X importtime``. The searchkit imported is the one on PYTHONPATH (else the installed one).

``--against CHECKOUT`` times the same query from another checkout of searchkit as well (its folder on PYTHONPATH),
on the same index, in the same rounds (the order of the three commands turning from round to round), so that a
change is measured before and after under the same load; each is given as a ratio to ``python -c pass`` and the
first to the other.

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
    parser.add_argument("--against", type=Path, metavar="CHECKOUT", help="another checkout's query, in the same runs")
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
        # (label, command, environment) of each command timed; python -c pass last.
        timed_commands = [(f"searchkit query {args.query!r}", query, env)]
        if args.against:
            against = args.against.resolve()
            # A list, not the same object: each command's runs are told apart by identity below.
            timed_commands.append(
                (f"  the same, from {against.name}", list(query), {**env, "PYTHONPATH": str(against)})
            )
        timed_commands.append(("python -c pass", [sys.executable, "-c", "pass"], env))
        for _, command, command_env in timed_commands:  # the files in the page cache and the bytecode written
            timed(command, folder, command_env)
        runs: dict[int, list[tuple[float, float]]] = {id(command): [] for _, command, _ in timed_commands}
        for run in range(args.runs):
            turn = run % len(timed_commands)
            for _, command, command_env in timed_commands[turn:] + timed_commands[:turn]:
                runs[id(command)].append(timed(command, folder, command_env))
        medians = {
            id(command): (statistics.median(w for w, _ in runs[id(command)]),
                          statistics.median(c for _, c in runs[id(command)]))
            for _, command, _ in timed_commands
        }  # fmt: skip
        empty_wall, empty_cpu = medians[id(timed_commands[-1][1])]
        bytecode = "compiled at each start" if args.no_bytecode else "from bytecode"
        print(f"{f'median of {args.runs} runs, {bytecode}':<36}   wall      cpu     × python -c pass")
        for label, command, _ in timed_commands:
            wall, cpu = medians[id(command)]
            print(f"{label:<36} {wall:6.3f} s {cpu:6.3f} s   {wall / empty_wall:4.1f} × {cpu / empty_cpu:4.1f} ×")
        if args.against:
            (wall, cpu), (before_wall, before_cpu) = medians[id(query)], medians[id(timed_commands[1][1])]
            print(f"{'this checkout / the other':<36} {wall / before_wall:6.2f} ×   {cpu / before_cpu:5.2f} ×")
        queries = timed_commands[:-1]
        parts: dict[int, list[dict[str, float]]] = {id(command): [] for _, command, _ in queries}
        for run in range(args.runs):
            turn = run % len(queries)
            for _, command, command_env in queries[turn:] + queries[:turn]:
                parts[id(command)].append(phases(command, folder, command_env))
        for label, command, _ in queries:
            shares = {"interpreter": empty_cpu}
            timed_parts = parts[id(command)]
            shares.update({name: statistics.median(part[name] for part in timed_parts) for name in timed_parts[0]})
            whole = sum(shares.values())
            print(f"where a query's processor time goes (median of {args.runs} runs), {label.strip()}:")
            for name, seconds in shares.items():
                print(f"  {name:<12} {seconds * 1000:6.1f} ms  {seconds / whole:4.0%}")
        print("heaviest imports of the query (cumulative ms):")
        for micros, name in heaviest_imports(query, folder, env, args.top):
            print(f"  {micros / 1000:8.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
