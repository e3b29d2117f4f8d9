"""What an index costs in memory: opening it, a cold ``searchkit query``, a serving process.

Resident memory is read from ``/proc/<pid>/status`` (Linux): ``VmRSS`` now, split into anonymous
memory (``RssAnon``, the process's own) and mapped file pages (``RssFile``, shared with the page
cache), and ``VmHWM``, the peak. ``VmRSS`` counts a page of a file once for every mapping of it: a
server whose searchers each map the same index files counts them once per searcher. The
proportional set size (``Pss`` in ``/proc/<pid>/smaps_rollup``) counts each page once, shared
pages divided among the processes mapping them.
"""

from __future__ import annotations

import inspect
import json
import select
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

STATUS = {"VmRSS": "rss_mb", "RssAnon": "anon_mb", "RssFile": "file_mb", "VmHWM": "peak_mb"}
ROLLUP = {"Pss": "pss_mb", "Pss_Anon": "pss_anon_mb", "Pss_File": "pss_file_mb"}

# Runs a command and prints its wall time, its peak resident memory and its exit code. A separate
# small interpreter, because Linux's ru_maxrss carries over from the process that spawned the
# command: spawned from the benchmark itself, every command would peak at the benchmark's size.
# This one (no site packages) stays below any Python command it measures.
LAUNCHER = """
import os, sys, time
null = os.open(os.devnull, os.O_WRONLY)
started = time.perf_counter()
pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, null, 1)])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def status(pid: int | str = "self") -> dict[str, float]:
    """The process's memory in MB: ``rss_mb``, ``anon_mb``, ``file_mb``, ``peak_mb``, and ``pss_mb``,
    ``pss_anon_mb``, ``pss_file_mb`` where the kernel reports them."""
    found = _read(Path(f"/proc/{pid}/status"), STATUS)
    try:
        found |= _read(Path(f"/proc/{pid}/smaps_rollup"), ROLLUP)
    except OSError:  # kernels before 4.14
        pass
    return found


def _read(path: Path, names: dict[str, str]) -> dict[str, float]:
    found = {}
    for line in path.read_text(encoding="ascii", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key in names:
            found[names[key]] = int(value.split()[0]) / 1024
    return found


def _added(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {key: after[key] - before[key] for key in after if key != "peak_mb" and key in before}


def opening(engine_name: str, index_dir: Path, query: str) -> dict[str, Any]:
    """Run in a fresh child: resident memory just before and after opening the index, and after one query.

    The libraries an engine uses are imported first, so the figures are the index's own: for
    searchkit, ``Searcher(index_dir)`` and then one query's top 10 hits with their snippets.
    """
    import numpy  # noqa: F401
    import whoosh.index  # noqa: F401
    from engines import ENGINES

    import searchkit.search.searcher  # noqa: F401

    engine = ENGINES[engine_name]
    start = status()
    with engine.searcher(index_dir) as search:
        opened = status()
        hits = len(search(query, 10, True))
        queried = status()
    return {
        "interpreter_mb": start["rss_mb"],
        "open": _added(start, opened),
        "first_query": _added(start, queried),
        "first_query_hits": hits,
    }


def launch(command: list[str], cwd: Path) -> tuple[float, float]:
    """Runs ``command`` from a small launcher; its wall time (s) and peak resident memory (MB)."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", LAUNCHER, *command], cwd=cwd, capture_output=True, text=True, check=False
    )
    try:
        wall_s, peak, code = done.stdout.split()
    except ValueError:
        raise RuntimeError(f"could not time {' '.join(command)}: {done.stderr.strip()[-500:]}") from None
    if int(code) != 0:
        message = done.stderr.strip().splitlines()
        raise RuntimeError(f"{' '.join(command)} exited {code}: {message[-1:]}")
    # Linux reports kilobytes, macOS bytes.
    return float(wall_s), int(peak) / (1024 * 1024 if sys.platform == "darwin" else 1024)


def runs(command: list[str], cwd: Path, count: int) -> dict[str, Any]:
    """``count`` timed runs of ``command`` after an untimed one (so all find the files in the page cache)."""
    launch(command, cwd)
    measured = [launch(command, cwd) for _ in range(count)]
    return {
        "median_s": statistics.median(wall_s for wall_s, _ in measured),
        "peak_mb": max(peak for _, peak in measured),
        "runs_s": [wall_s for wall_s, _ in measured],
        "peaks_mb": [peak for _, peak in measured],
    }


def serving(
    command: list[str],
    seeds_dir: Path,
    index_dir: Path,
    queries: list[str],
    *,
    requests: int = 50,
    log: Path,
) -> dict[str, Any]:
    """Resident memory of ``searchkit serve`` on 127.0.0.1, idle and after ``requests`` queries.

    The queries go to ``/api/search`` (top 10 with snippets) from as many client threads at once as
    the server has request threads, each of which keeps a searcher of its own: the server ends up
    as large as under a steady load.
    """
    clients = server_threads()
    # One worker: the one process measured holds every searcher (see tests/bench/load.py for more).
    serve = [*command, "serve", "--workers", "1", "--host", "127.0.0.1", "--port", "0", "--seeds", str(seeds_dir)]
    with open(log, "w", encoding="utf-8") as errors:
        server = subprocess.Popen([*serve, "--index", str(index_dir)], stdout=subprocess.PIPE, stderr=errors, text=True)
        try:
            ready, _, _ = select.select([server.stdout], [], [], 120)
            line = server.stdout.readline() if ready else ""
            if not line.startswith("Serving on http://127.0.0.1:"):
                reason = log.read_text(encoding="utf-8", errors="replace").strip()[-500:]
                raise RuntimeError(f"searchkit serve did not start: {line.strip() or reason!r}")
            base = line.split()[2]
            idle = status(server.pid)
            refused: list[dict] = []
            failures: list[str] = []
            started = time.perf_counter()
            texts = [queries[n % len(queries)] for n in range(requests)]
            threads = [
                threading.Thread(target=_client, args=(base, texts[n::clients], refused, failures))
                for n in range(clients)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
            served = status(server.pid)
        finally:
            stop(server)
    if failures:
        raise RuntimeError(f"{len(failures)} of {requests} queries failed, first: {failures[0]}")
    return {
        "requests": requests,
        "refused": refused,
        "clients": clients,
        "seconds": seconds,
        "idle": idle,
        "served": served,
    }


def server_threads() -> int:
    """How many requests ``searchkit serve`` answers at once: its server's default thread count."""
    from searchkit.webapp.app import make_server

    return inspect.signature(make_server).parameters["threads"].default


def _client(base: str, texts: list[str], refused: list[dict], failures: list[str]) -> None:
    for text in texts:
        url = f"{base}api/search?" + urllib.parse.urlencode({"q": text})
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                json.loads(response.read())
        except urllib.error.HTTPError as exc:
            body = exc.read().decode("utf-8", "replace")
            try:
                code = json.loads(body)["code"]
            except (ValueError, KeyError, TypeError):
                code = None
            # A query the library refuses (nothing to search for, or over its time budget) is
            # answered, with a 400 and the error's code.
            if exc.code == 400 and code:
                refused.append({"query": text, "code": code})
            else:
                failures.append(f"{text!r}: {exc.code} {body[:200]}")
        except (OSError, ValueError) as exc:
            failures.append(f"{text!r}: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    # python tests/bench/memory.py INDEX QUERY: what opening that index and one query add here.
    print(json.dumps(opening("searchkit", Path(sys.argv[1]), sys.argv[2]), indent=2))


def stop(server: subprocess.Popen, patience: float = 30) -> None:
    """Ends a server started for a bench: asked to stop, killed if it has not within ``patience`` seconds."""
    server.terminate()
    try:
        server.wait(timeout=patience)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
