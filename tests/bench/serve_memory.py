"""A serving worker's memory after many distinct queries, and what holds it; beside another version of the code.

Two readings, both over an index already built:

- ``trace``: the web app in this process (waitress on 127.0.0.1, the server's own request threads),
  ``--queries`` distinct title queries from ``--clients`` client threads, then the resident memory and
  tracemalloc's largest holders grouped by the file that allocated them (each request thread holds a
  searcher of its own, so this is what ``searchkit serve --workers 1`` holds).
- ``compare``: ``searchkit serve --workers 1`` run from this tree and from another tree of the project
  (``--before``, e.g. ``git archive main | tar -x -C /tmp/before``; ``--also``: more trees), one after
  the other on the same index and queries: resident memory after the queries from as many clients as
  request threads, then throughput at ``--load-clients`` clients, and the server's processor time per
  request in each phase; the ratios of this tree (and each of ``--also``) to ``--before``. The wall
  clock moves with whatever else the machine runs; the processor time a request costs moves less, so
  ``--rounds N`` repeats the whole comparison (the order of the trees reversed every other round) and
  gives each ratio's median.

    python tests/bench/serve_memory.py trace --index INDEX --seeds SEEDS [--queries 1000] [--untraced]
    python tests/bench/serve_memory.py compare --index INDEX --seeds SEEDS --before TREE [--also TREE ...]
        [--queries 3000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import memory  # noqa: E402 - the bench's own modules, beside this one

REPO_ROOT = Path(__file__).resolve().parents[2]


def titles(seeds_dir: Path) -> list[str]:
    """Every distinct title of the JSONL articles in ``seeds_dir``, in file order."""
    found: dict[str, None] = {}
    for path in sorted(seeds_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                found[json.loads(line)["title"].strip()] = None
    return [title for title in found if title]


def _send(base: str, texts: list[str], clients: int) -> tuple[float, list[str]]:
    failures: list[str] = []
    refused: list[dict] = []  # a query refused (over its time budget) is answered
    threads = [
        threading.Thread(target=memory._client, args=(base, texts[n::clients], refused, failures))
        for n in range(clients)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, failures


def trace(index_dir: Path, seeds_dir: Path, queries: int, clients: int, top: int, traced: bool = True) -> dict:
    """``traced``: tracemalloc on (its own bookkeeping then counts in the resident memory); off, the
    resident memory as the server holds it, beside what the posting caches hold."""
    from searchkit.engines.whoosh import cache
    from searchkit.webapp.app import create_app, make_server

    if traced:
        tracemalloc.start()
    app = create_app(index_dir=index_dir, seeds_dir=seeds_dir)
    server = make_server(app, host="127.0.0.1", port=0)
    base = f"http://127.0.0.1:{server.effective_port}/"
    runner = threading.Thread(target=server.run, daemon=True)
    runner.start()
    idle = memory.status()
    texts = titles(seeds_dir)[:queries]
    seconds, failures = _send(base, texts, clients)
    served = memory.status()
    shared = cache.open_generations()
    held = {
        "generations": len(shared),
        "searchers": sum(generation.users for generation in shared),
        "cache_mb": round(sum(generation.postings.size for generation in shared) / 2**20, 1),
        "cache_entries": sum(len(generation.postings) for generation in shared),
    }
    if not traced:
        server.close()
        return {"queries": len(texts), "clients": clients, "seconds": round(seconds, 1), "failures": len(failures),
                "idle_rss_mb": round(idle["rss_mb"]), "served": {k: round(v) for k, v in served.items()}, **held}
    snapshot = tracemalloc.take_snapshot()
    server.close()
    total = sum(stat.size for stat in snapshot.statistics("filename"))
    holders = [
        {
            "file": _short(stat.traceback[0].filename),
            "mb": round(stat.size / 2**20, 1),
            "share": round(stat.size / total, 3),
        }
        for stat in snapshot.statistics("filename")[:top]
    ]
    lines = [
        {"line": f"{_short(stat.traceback[0].filename)}:{stat.traceback[0].lineno}", "mb": round(stat.size / 2**20, 1)}
        for stat in snapshot.statistics("lineno")[:top]
    ]
    return {
        "queries": len(texts),
        "clients": clients,
        "seconds": round(seconds, 1),
        "failures": len(failures),
        "idle_rss_mb": round(idle["rss_mb"]),
        "served": {k: round(v) for k, v in served.items()},
        **held,
        "traced_mb": round(total / 2**20, 1),
        "by_file": holders,
        "by_line": lines,
    }


def _short(filename: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if "/searchkit/" in filename:
        return "searchkit/" + filename.rsplit("/searchkit/", 1)[1]
    return filename


def serve_run(
    tree: Path,
    index_dir: Path,
    seeds_dir: Path,
    texts: list[str],
    load_clients: int,
    load_queries: list[str],
    log: Path,
    extra: tuple[str, ...] = (),
) -> dict:
    """``searchkit serve --workers 1`` from ``tree`` (``extra`` options after): memory after ``texts`` from as many
    clients as request threads, then throughput at ``load_clients``."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = [
        sys.executable,
        "-c",
        "from searchkit.cli import main; main()",
        "serve",
        "--workers",
        "1",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--seeds",
        str(seeds_dir),
        "--index",
        str(index_dir),
        "--no-count-searches",
        *extra,
    ]
    with open(log, "w", encoding="utf-8") as errors:
        server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True, env=env, cwd=tree)
        try:
            line = server.stdout.readline()
            if not line.startswith("Serving on http://127.0.0.1:"):
                raise RuntimeError(f"searchkit serve did not start: {log.read_text()[-500:]!r}")
            base = line.split()[2]
            idle = memory.status(server.pid)
            started = cpu_seconds(server.pid)
            seconds, failures = _send(base, texts, memory.server_threads())
            served = memory.status(server.pid)
            queried = cpu_seconds(server.pid)
            load_seconds, load_failures = _send(base, load_queries, load_clients)
            after_load = memory.status(server.pid)
            loaded = cpu_seconds(server.pid)
        finally:
            memory.stop(server)
    return {
        "idle_rss_mb": round(idle["rss_mb"]),
        "rss_mb": round(served["rss_mb"]),
        "anon_mb": round(served["anon_mb"]),
        "peak_mb": round(after_load["peak_mb"]),
        "queries_seconds": round(seconds, 1),
        "load_per_second": round(len(load_queries) / load_seconds, 1),
        # The server's processor time (every thread's) per request, in each phase.
        "queries_cpu_ms": round(1000 * (queried - started) / max(len(texts), 1), 1),
        "load_cpu_ms": round(1000 * (loaded - queried) / max(len(load_queries), 1), 1),
        "failures": len(failures) + len(load_failures),
    }


def cpu_seconds(pid: int) -> float:
    """The processor time (user and system, all threads) process ``pid`` has used, from ``/proc/PID/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


RATIOS = {"rss_ratio": "rss_mb", "throughput_ratio": "load_per_second", "load_cpu_ratio": "load_cpu_ms",
          "queries_cpu_ratio": "queries_cpu_ms"}  # fmt: skip


def compare(
    index_dir: Path,
    seeds_dir: Path,
    before: Path,
    queries: int,
    load_clients: int,
    load: int,
    cache_sizes: list[float] = (),
    also: list[Path] = (),
    rounds: int = 1,
) -> dict:
    """Both trees (and each of ``also``) on the same index and queries; then this one again at each of
    ``cache_sizes`` (``--cache-mb``); all of it ``rounds`` times, with the ratios to ``before``."""
    every = titles(seeds_dir)
    texts = every[:queries]
    # The load repeats queries already asked, as a site's traffic does: warm throughput.
    load_queries = [every[n % len(texts)] for n in range(load)]
    out = {"articles_titles": len(every), "queries": len(texts), "load_clients": load_clients, "load_queries": load}
    runs = [("before", before, ()), ("after", REPO_ROOT, ())]
    runs += [(f"also {tree.name}", tree, ()) for tree in also]
    runs += [(f"after, --cache-mb {mb:g}", REPO_ROOT, ("--cache-mb", str(mb))) for mb in cache_sizes]
    found: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        for n in range(rounds):
            this: dict = {}
            # Every other round the other way round, so that a drift of the machine's load favours no tree.
            for name, tree, extra in runs if n % 2 == 0 else runs[::-1]:
                log = Path(scratch) / f"run-{n}-{len(this)}.log"
                this[name] = serve_run(tree, index_dir, seeds_dir, texts, load_clients, load_queries, log, extra)
            for name in this:
                if name != "before":
                    this[name] |= {
                        ratio: round(this[name][field] / max(this["before"][field], 1e-9), 2)
                        for ratio, field in RATIOS.items()
                    }
            found.append({name: this[name] for name, _, _ in runs})
    if rounds == 1:
        return out | found[0]
    out["rounds"] = found
    out["medians"] = {
        name: {ratio: round(statistics.median(one[name][ratio] for one in found), 2) for ratio in RATIOS}
        for name, _, _ in runs[1:]
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["trace", "compare"])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--seeds", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--untraced", action="store_true", help="trace: tracemalloc off (resident memory as served)")
    parser.add_argument("--before", type=Path)
    parser.add_argument("--load-clients", type=int, default=8)
    parser.add_argument("--load", type=int, default=400, help="requests of the throughput reading")
    parser.add_argument("--cache-mb", type=float, nargs="*", default=[], help="this tree again at these bounds")
    parser.add_argument("--also", type=Path, nargs="*", default=[], help="compare: more trees beside --before")
    parser.add_argument("--rounds", type=int, default=1, help="compare: the whole comparison this many times")
    args = parser.parse_args()
    if args.mode == "trace":
        found = trace(args.index, args.seeds, args.queries, args.clients, args.top, traced=not args.untraced)
    else:
        if args.before is None:
            parser.error("compare needs --before TREE")
        found = compare(
            args.index, args.seeds, args.before, args.queries, args.load_clients, args.load, args.cache_mb,
            args.also, args.rounds,
        )  # fmt: skip
    print(json.dumps(found, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
