"""Soak test of the live page: clients query `searchkit serve` while another process changes the index.

    python tests/bench/soak.py --clients 8 --seconds 300

A copy of the seed articles is served by a real `searchkit serve` on 127.0.0.1 (and nowhere else).
One process cycles through adding, updating and removing articles and rebuilding the index, writing
down when each change started and ended and which articles each left. Meanwhile the clients send
`/api/search` requests, at most ``--max-requests`` in all and for at most ``--seconds``; every answer
is checked afterwards: status 200, no article twice, and every article one that the index held just
before or just after a change overlapping the request.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ("dang", "nêu gương", "khanh thanh", "cau moi", "chi thi", "dong ha")
ARTICLE = "Khánh thành cầu mới số {n}\n\nĐảng bộ thành phố Đông Hà khánh thành cầu mới số {n}, bản {v}.\n"

# The changing process: one op per line of output, as JSON.
CHANGER = r"""
import json, sys, time
from pathlib import Path
from searchkit.build import index

seeds, index_dir, staging, stop_at = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), float(sys.argv[4])
article = sys.argv[5]
ops = ("add", "update", "remove", "rebuild")

def ids():
    return sorted(p.name for p in seeds.iterdir() if p.is_file() and not p.name.startswith("."))

print(json.dumps({"op": "start", "start": time.time(), "end": time.time(), "ids": ids()}), flush=True)
n = 0
while time.time() < stop_at:
    op = ops[n % len(ops)]
    started = time.time()
    name = f"soak-{n // 4}.txt"
    if op == "add":
        (staging / name).write_text(article.format(n=n // 4, v=0), encoding="utf-8")
        index.add_files([staging / name], seeds, index_dir, procs=1)
    elif op == "update":
        (seeds / name).write_text(article.format(n=n // 4, v=1), encoding="utf-8")
        index.build(seeds, index_dir, procs=1)
    elif op == "remove":
        (seeds / name).unlink()
        index.build(seeds, index_dir, procs=1)
    else:
        index.build(seeds, index_dir, rebuild=True, procs=1)
    print(json.dumps({"op": op, "start": started, "end": time.time(), "ids": ids()}), flush=True)
    n += 1
"""


@dataclass
class Answer:
    query: str
    start: float
    end: float
    status: int
    ids: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class Report:
    clients: int
    seconds: float
    requests: int
    changes: dict[str, int]
    errors: list[str]
    p50_ms: float
    p95_ms: float

    def summary(self) -> str:
        changes = ", ".join(f"{op} {count}" for op, count in self.changes.items())
        return (
            f"{self.requests} requests from {self.clients} clients in {self.seconds:.0f} s "
            f"(p50 {self.p50_ms:.1f} ms, p95 {self.p95_ms:.1f} ms); changes: {changes}; errors: {len(self.errors)}"
        )


def soak(seeds: Path, workdir: Path, *, clients: int = 4, seconds: float = 20.0, max_requests: int = 20_000) -> Report:
    """Runs the soak on a copy of ``seeds`` inside ``workdir``; returns what was seen."""
    served, index_dir, staging = workdir / "seeds", workdir / "index", workdir / "staging"
    shutil.copytree(seeds, served)
    staging.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cli = [sys.executable, "-c", "from searchkit.cli import main; main()"]
    subprocess.run(
        [*cli, "index", "--seeds", str(served), "--index", str(index_dir), "--json"],
        check=True,
        env=env,
        capture_output=True,
    )
    server = subprocess.Popen(
        [*cli, "serve", "--port", "0", "--host", "127.0.0.1", "--seeds", str(served), "--index", str(index_dir)],
        stdout=subprocess.PIPE,
        stderr=(workdir / "server.log").open("w"),
        env=env,
        text=True,
    )
    changer = None
    try:
        line = server.stdout.readline()
        if not line.startswith("Serving on http://127.0.0.1:"):
            raise RuntimeError(f"the server did not start: {line!r}")
        base = line.split()[2]
        stop_at = time.time() + seconds
        changer = subprocess.Popen(
            [sys.executable, "-c", CHANGER, str(served), str(index_dir), str(staging), str(stop_at), ARTICLE],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        answers: list[Answer] = []
        budget = threading.Semaphore(max_requests)
        threads = [
            threading.Thread(target=_client, args=(base, i, stop_at, budget, answers), daemon=True)
            for i in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=seconds + 60)
        out, err = changer.communicate(timeout=600)
        if changer.returncode != 0:
            raise RuntimeError(f"the changing process failed: {err.strip()[-500:]}")
    finally:
        for process in (changer, server):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    states = [json.loads(line) for line in out.splitlines() if line.strip()]
    errors = _check(answers, states)
    if errors:  # what the server logged explains them
        errors.append("server log: " + (workdir / "server.log").read_text(errors="replace")[-3000:])
    times = sorted((a.end - a.start) * 1000 for a in answers)
    changes: dict[str, int] = {}
    for state in states[1:]:
        changes[state["op"]] = changes.get(state["op"], 0) + 1
    return Report(
        clients=clients,
        seconds=seconds,
        requests=len(answers),
        changes=changes,
        errors=errors,
        p50_ms=statistics.median(times) if times else 0.0,
        p95_ms=times[int(0.95 * (len(times) - 1))] if times else 0.0,
    )


def _client(base: str, number: int, stop_at: float, budget: threading.Semaphore, answers: list[Answer]) -> None:
    n = number
    while time.time() < stop_at and budget.acquire(blocking=False):
        text = QUERIES[n % len(QUERIES)]
        n += 1
        url = f"{base}api/search?" + urllib.parse.urlencode({"q": text, "limit": 100})
        start = time.time()
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                status, body = response.status, response.read()
            ids = [hit["id"] for hit in json.loads(body)["results"]]
            answers.append(Answer(text, start, time.time(), status, ids))
        except urllib.error.HTTPError as exc:
            answers.append(
                Answer(text, start, time.time(), exc.code, error=exc.read()[:200].decode("utf-8", "replace"))
            )
        except Exception as exc:  # a refused connection or a bad body is an error to report
            answers.append(Answer(text, start, time.time(), 0, error=f"{type(exc).__name__}: {exc}"))


def _check(answers: list[Answer], states: list[dict]) -> list[str]:
    """What was wrong with the answers, given when each change ran and what it left."""
    # State i (what change i left) held from change i's start to change i+1's end.
    windows = []
    for i, state in enumerate(states):
        start = float("-inf") if i == 0 else state["start"]
        end = states[i + 1]["end"] if i + 1 < len(states) else float("inf")
        windows.append((start, end, set(state["ids"])))
    errors = []
    for answer in answers:
        if answer.status != 200:
            errors.append(f"{answer.query!r}: status {answer.status} {answer.error or ''}".strip())
            continue
        if len(set(answer.ids)) != len(answer.ids):
            errors.append(f"{answer.query!r}: an article twice: {answer.ids}")
        allowed = set().union(*(ids for start, end, ids in windows if start <= answer.end and answer.start <= end))
        if unknown := set(answer.ids) - allowed:
            errors.append(f"{answer.query!r}: articles the index did not hold then: {sorted(unknown)}")
    return errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--max-requests", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        report = soak(
            args.seeds, Path(workdir), clients=args.clients, seconds=args.seconds, max_requests=args.max_requests
        )
    print(report.summary())
    for error in report.errors[:20]:
        print("  " + error)
    sys.exit(1 if report.errors else 0)


if __name__ == "__main__":
    main()
