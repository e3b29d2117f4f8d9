"""How many searches a second `searchkit serve` answers with one worker process, and with two.

    python tests/bench/load.py [--docs 10000] [--index DIR] [--requests 5000] [--seconds 60]

Indexes the first ``--docs`` news articles in a temporary folder (or reuses the index already in
``--index``, building it there when there is none), then, for ``--workers 1`` and ``--workers 2``,
starts `searchkit serve` on 127.0.0.1 (and nowhere else) and sends ``/api/search`` requests from
8 and then 32 client threads, each keeping one connection alive. The queries are a fixed mix of two
or three consecutive words from the articles' titles, half typed with their accents and half
without. Each run is bounded by ``--requests`` requests and ``--seconds`` seconds, after a warm-up
(``--warmup`` seconds of other queries at the same concurrency) that opens every worker's
searchers. With ``--rounds R`` the worker counts take turns R times, so a load from elsewhere on
the machine weighs on both alike, and the summary gives medians.

Prints, for each run, requests per second, p50 and p95 latency, errors (any answer but 200, any
broken connection), the cores the server's processes used, and each process's resident memory
(VmRSS) after it; then the 2-worker/1-worker throughput ratio for each client count.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import itertools
import json
import os
import random
import re
import select
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEWS = ROOT.parent / "shared" / "data" / "baomoi" / "articles.jsonl.gz"
HOST = "127.0.0.1"
# Enough distinct queries that a run rarely asks one twice: each searcher caches what it looked up,
# and a short cycle of queries would measure that cache rather than searching.
QUERIES = 4000
# Letters only: no digits, and nothing the query syntax reads (quotes, "-", "*", ":", parentheses).
_WORD = re.compile(r"[^\W\d_]+")

sys.path.insert(0, str(ROOT))
from searchkit.text.analysis import fold  # noqa: E402


@dataclass
class Run:
    workers: int
    clients: int
    requests: int
    seconds: float
    per_second: float
    p50_ms: float
    p95_ms: float
    errors: int
    error_kinds: dict[str, int]
    server_cores: float
    cores: dict[str, float]
    load_before: float
    rss_mb: dict[str, float] = field(default_factory=dict)

    def line(self) -> str:
        kinds = ", ".join(f"{kind} {count}" for kind, count in self.error_kinds.items())
        memory = ", ".join(f"{name} {mb:.0f} MB" for name, mb in self.rss_mb.items())
        return (
            f"{self.workers} worker{'s' if self.workers > 1 else ' '} {self.clients:>2} clients: "
            f"{self.per_second:6.1f} requests/s ({self.requests} in {self.seconds:.0f} s), "
            f"p50 {self.p50_ms:5.0f} ms, p95 {self.p95_ms:5.0f} ms, errors {self.errors}"
            f"{f' ({kinds})' if kinds else ''}; server used {self.server_cores:.2f} cores "
            f"({', '.join(f'{name} {used:.2f}' for name, used in self.cores.items())}; "
            f"load average before {self.load_before:.2f}); resident: {memory}"
        )


def articles(count: int) -> list[dict]:
    with gzip.open(NEWS, "rt", encoding="utf-8") as source:
        return [json.loads(line) for line in itertools.islice(source, count)]


def query_mix(titles: list[str], count: int = QUERIES, seed: int = 7) -> list[str]:
    """``count`` queries of two or three consecutive title words, every other one without accents."""
    rng = random.Random(seed)
    queries: list[str] = []
    while len(queries) < count:
        words = _WORD.findall(rng.choice(titles).lower())
        size = rng.choice((2, 3))
        if len(words) < size:
            continue
        start = rng.randrange(len(words) - size + 1)
        text = " ".join(words[start : start + size])
        queries.append(fold(text) if len(queries) % 2 else text)
    return queries


class Server:
    """`searchkit serve --workers N` on 127.0.0.1, on a free port."""

    def __init__(self, seeds: Path, index_dir: Path, workers: int, log: Path):
        self.workers = workers
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        command = [sys.executable, "-c", "from searchkit.cli import main; main()", "serve", "--host", HOST]
        command += ["--port", "0", "--workers", str(workers), "--seeds", str(seeds), "--index", str(index_dir)]
        self.log = log
        with log.open("w") as errors:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env, text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 120)
        line = self.process.stdout.readline() if ready else ""  # type: ignore[union-attr]
        if not line.startswith(f"Serving on http://{HOST}:"):
            self.stop()
            raise RuntimeError(f"searchkit serve did not start: {line.strip() or log.read_text()[-500:]!r}")
        self.port = int(urllib.parse.urlsplit(line.split()[2]).port)  # type: ignore[arg-type]
        deadline = time.monotonic() + 60
        while workers > 1 and len(_children(self.process.pid)) < workers:
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"searchkit serve did not start {workers} workers")
            time.sleep(0.1)

    def processes(self) -> dict[str, int]:
        """The server's processes by role: the parent, and each worker."""
        found = {"server": self.process.pid}
        for n, pid in enumerate(sorted(_children(self.process.pid)), 1):
            found[f"worker {n}"] = pid
        return found

    def cpu_seconds(self) -> dict[str, float]:
        return {name: _cpu_seconds(pid) for name, pid in self.processes().items()}

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def load(port: int, queries: list[str], *, clients: int, requests: int, seconds: float) -> tuple[list[float], dict]:
    """Latencies of the answers (seconds) and errors by kind, from ``clients`` threads at once."""
    counter = itertools.count()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors: dict[str, int] = {}

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        while True:
            with lock:
                n = next(counter)
            if n >= requests or time.monotonic() >= deadline:
                break
            path = "/api/search?" + urllib.parse.urlencode({"q": queries[n % len(queries)]})
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                body = response.read()
                kind = None if response.status == 200 and body.startswith(b"{") else _error_kind(response.status, body)
            except (OSError, http.client.HTTPException) as exc:
                kind = type(exc).__name__
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=60)
            took = time.perf_counter() - started
            with lock:
                if kind is None:
                    latencies.append(took)
                else:
                    errors[kind] = errors.get(kind, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    return latencies, errors


def measure(
    server: Server,
    queries: list[str],
    *,
    clients: int,
    requests: int,
    seconds: float,
    warmup: float,
    warmup_queries: list[str],
) -> Run:
    load(server.port, warmup_queries, clients=clients, requests=requests, seconds=warmup)
    load_before = os.getloadavg()[0]
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    latencies, errors = load(server.port, queries, clients=clients, requests=requests, seconds=seconds)
    took = time.perf_counter() - started
    cpu_after = server.cpu_seconds()
    cores = {name: (cpu_after[name] - cpu_before.get(name, 0.0)) / took for name in cpu_after}
    answered = len(latencies) + sum(errors.values())
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return Run(
        workers=server.workers,
        clients=clients,
        requests=answered,
        seconds=took,
        per_second=len(latencies) / took,
        p50_ms=cuts[49] * 1000,
        p95_ms=cuts[94] * 1000,
        errors=sum(errors.values()),
        error_kinds=errors,
        server_cores=sum(cores.values()),
        cores=cores,
        load_before=load_before,
        rss_mb={name: _rss_mb(pid) for name, pid in server.processes().items()},
    )


def _error_kind(status: int, body: bytes) -> str:
    """``status 400 query_timeout``: the status and, from the API's JSON error, its code."""
    try:
        return f"status {status} {json.loads(body)['code']}"
    except (ValueError, KeyError, TypeError):
        return f"status {status}"


def _children(parent: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat and stat[1] == str(parent) and stat[0] != "Z":
                found.add(int(entry.name))
    return found


def _stat(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def _cpu_seconds(pid: int) -> float:
    stat = _stat(pid)  # from the state on: utime and stime are the 12th and 13th
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK") if stat else 0.0


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10_000, help="news articles to index")
    parser.add_argument("--index", type=Path, help="index folder to reuse (built there when empty)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare")
    parser.add_argument("--clients", default="8,32", help="client counts to run for each")
    parser.add_argument("--requests", type=int, default=5000, help="at most this many requests per run")
    parser.add_argument("--seconds", type=float, default=60.0, help="at most this long per run")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of unmeasured requests before each run")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the worker counts this many times")
    parser.add_argument("--json", action="store_true", help="print the runs as JSON too")
    parser.add_argument("--out", type=Path, help="write the runs and the summary as JSON here")
    args = parser.parse_args()
    worker_counts = [int(n) for n in args.workers.split(",")]
    client_counts = [int(n) for n in args.clients.split(",")]

    news = articles(args.docs)
    titles = [article["title"] for article in news if article.get("title")]
    queries, warmup_queries = query_mix(titles), query_mix(titles, seed=8)
    with tempfile.TemporaryDirectory() as work:
        seeds = Path(work) / "seeds"
        seeds.mkdir()
        with open(seeds / "news.jsonl", "w", encoding="utf-8") as target:
            target.writelines(json.dumps(article, ensure_ascii=False) + "\n" for article in news)
        index_dir = args.index or Path(work) / "index"
        if (index_dir / "CURRENT").exists():
            print(f"reusing the index in {index_dir}", flush=True)
        else:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", "from searchkit.cli import main; main()", "index"]
                + ["--seeds", str(seeds), "--index", str(index_dir), "--json"],
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                check=True,
                capture_output=True,
            )
            print(f"indexed {len(news)} articles in {time.perf_counter() - started:.0f} s", flush=True)
        print(f"{len(queries)} queries, e.g. {', '.join(repr(q) for q in queries[:4])}", flush=True)
        runs: list[Run] = []
        for _ in range(args.rounds):
            for workers in worker_counts:
                server = Server(seeds, index_dir, workers, Path(work) / f"serve-{workers}.log")
                try:
                    for clients in client_counts:
                        run = measure(
                            server,
                            queries,
                            clients=clients,
                            requests=args.requests,
                            seconds=args.seconds,
                            warmup=args.warmup,
                            warmup_queries=warmup_queries,
                        )
                        runs.append(run)
                        print(run.line(), flush=True)
                finally:
                    server.stop()
    report = summary(runs, worker_counts, client_counts)
    print(report)
    if args.json:
        print(json.dumps([asdict(run) for run in runs], indent=2))
    if args.out:
        figures = {"docs": len(news), "runs": [asdict(run) for run in runs], "summary": report}
        args.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def summary(runs: list[Run], worker_counts: list[int], client_counts: list[int]) -> str:
    """Medians over the rounds for each setting, and how much the most workers gain over one."""
    lines = []
    median: dict[tuple[int, int], float] = {}
    for workers, clients in itertools.product(worker_counts, client_counts):
        same = [run for run in runs if (run.workers, run.clients) == (workers, clients)]
        median[workers, clients] = statistics.median(run.per_second for run in same)
        lines.append(
            f"{workers} worker{'s' if workers > 1 else ' '} {clients:>2} clients, median of {len(same)}: "
            f"{median[workers, clients]:6.1f} requests/s, "
            f"p50 {statistics.median(run.p50_ms for run in same):5.0f} ms, "
            f"p95 {statistics.median(run.p95_ms for run in same):5.0f} ms, "
            f"errors {sum(run.errors for run in same)} in {sum(run.requests for run in same)} requests"
        )
    most = max(worker_counts)
    if 1 in worker_counts and most > 1:
        for clients in client_counts:
            if median[1, clients]:
                ratio = median[most, clients] / median[1, clients]
                lines.append(f"{clients} clients: {most} workers answer {ratio:.2f}x the requests per second of 1")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
