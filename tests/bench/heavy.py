"""Does one expensive query hold the others up? Four heavy queries and one plain one at once.

    python tests/bench/heavy.py [--docs 1000] [--rounds 3]

Indexes the first ``--docs`` news articles in a temporary folder, serves them with `searchkit serve`
on 127.0.0.1 (and nowhere else), then, each round, sends four copies of a query of 8 one-letter
prefixes (the most the query limits allow) and, a moment later, a plain query; then the same with a query of
63 one-letter prefixes, which is refused. Prints how long each took and what
status it got. Bounded: ``--rounds`` rounds of five requests, each with a 60 s timeout.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NEWS = ROOT.parent / "shared" / "data" / "baomoi" / "articles.jsonl.gz"
# 63 one-letter prefixes are refused at once (at most 8 prefixes); these 8 are the costliest query accepted.
REFUSED = " ".join(f"{letter}*" for letter in ("abcdeghiklmnopqrstuvxy" * 3)[:63])
HEAVY = "c* t* n* h* đ* d* l* m*"
PLAIN = "phong chay chua chay"


def timed(url: str) -> tuple[float, int]:
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return time.perf_counter() - start, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cli = [sys.executable, "-c", "from searchkit.cli import main; main()"]
    with tempfile.TemporaryDirectory() as work:
        seeds, index_dir = Path(work) / "seeds", Path(work) / "index"
        seeds.mkdir()
        with gzip.open(NEWS, "rt", encoding="utf-8") as source, open(seeds / "news.jsonl", "w") as target:
            target.writelines(itertools.islice(source, args.docs))
        subprocess.run(
            [*cli, "index", "--seeds", str(seeds), "--index", str(index_dir), "--json"],
            env=env,
            check=True,
            capture_output=True,
        )
        server = subprocess.Popen(
            [*cli, "serve", "--port", "0", "--seeds", str(seeds), "--index", str(index_dir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            base = server.stdout.readline().split()[2]
            heavy_url = f"{base}api/search?" + urllib.parse.urlencode({"q": HEAVY})
            plain_url = f"{base}api/search?" + urllib.parse.urlencode({"q": PLAIN})
            alone = [timed(plain_url)[0] for _ in range(5)]
            refused_url = f"{base}api/search?" + urllib.parse.urlencode({"q": REFUSED})
            runs = {}
            for label, url in (("8 prefixes", heavy_url), ("63 prefixes", refused_url)):
                plain, heavy = [], []
                for _ in range(args.rounds):
                    threads = [threading.Thread(target=lambda u=url, out=heavy: out.append(timed(u))) for _ in range(4)]
                    for thread in threads:
                        thread.start()
                    time.sleep(0.2)
                    plain.append(timed(plain_url))
                    for thread in threads:
                        thread.join()
                runs[label] = (plain, heavy)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"{args.docs} news articles; plain query alone: median {statistics.median(alone) * 1000:.0f} ms")
    for label, (plain, heavy) in runs.items():
        print(f"beside four queries of {label}: plain " + ", ".join(f"{t * 1000:.0f} ms ({s})" for t, s in plain))
        print(f"  the {label} queries: " + ", ".join(f"{t * 1000:.0f} ms ({s})" for t, s in heavy))


if __name__ == "__main__":
    main()
