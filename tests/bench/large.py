"""What one large article costs: to index, to find, to show, and to everyone else while it is shown.

    python tests/bench/large.py [--mb 15] [--visitors 8] [--out large-results.json]

Writes a ``.txt`` article of about ``--mb`` megabytes (news articles from the shared baomoi corpus,
one after another) into a temporary seeds folder beside the five seed articles, then measures,
each in its own process so its peak resident memory is its own (the index is built with
``--max-bytes`` at the article's size, so sizes past the default cap can be measured):

- ``searchkit index`` (wall time, peak RSS);
- ``searchkit query`` for words the article holds (wall time, peak RSS);
- on ``searchkit serve --workers 1`` (127.0.0.1 only): the article page without and with ``?q=``
  (time, HTML size), a search (time), and ``/api/complete`` while ``--visitors`` clients open the
  article page at once (its slowest answer); the server's peak RSS (VmHWM) after all that.

Every request has a timeout (``--timeout`` seconds), so a run is bounded in time however slow
the server is; a request that times out is reported as such.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import memory

ROOT = Path(__file__).resolve().parents[2]
NEWS = ROOT.parent / "shared" / "data" / "baomoi" / "articles.jsonl.gz"
SEEDS = ROOT / "seeds"
HOST = "127.0.0.1"
ARTICLE = "large.txt"
# Words the news of early 2017 repeat throughout the article, typed as a visitor would.
QUERY = "xổ số điện toán"
COMPLETE = "xo s"


def write_article(path: Path, megabytes: float) -> int:
    """A .txt article of about ``megabytes`` MB made of consecutive news articles; its size in bytes."""
    limit = int(megabytes * 1_000_000)
    size = 0
    with gzip.open(NEWS, "rt", encoding="utf-8") as news, path.open("w", encoding="utf-8") as out:
        out.write("Tổng hợp tin tức dài\n\n")
        for line in news:
            record = json.loads(line)
            piece = f"{record['title']}\n{record['text']}\n\n"
            out.write(piece)
            size += len(piece.encode("utf-8"))
            if size >= limit:
                break
    return path.stat().st_size


def measured(command: list[str], env: dict[str, str]) -> dict:
    """Runs ``command``; its wall time, peak resident memory (MB) and exit status."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    out = process.stdout.read().decode("utf-8", "replace")  # type: ignore[union-attr]
    err = process.stderr.read().decode("utf-8", "replace")  # type: ignore[union-attr]
    process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "status": process.returncode,
        "output": (out + err)[-300:],
    }


def searchkit(*args: str) -> list[str]:
    return [sys.executable, "-c", "from searchkit.cli import main; main()", *args]


def get(port: int, path: str, timeout: float) -> dict:
    """One GET: status, seconds and body size, or the error it ended in."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        return {"status": response.status, "seconds": round(time.perf_counter() - started, 3), "bytes": len(body)}
    except OSError as exc:
        return {"error": type(exc).__name__, "seconds": round(time.perf_counter() - started, 3)}
    finally:
        connection.close()


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def serve(seeds: Path, index_dir: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    command = searchkit("serve", "--host", HOST, "--port", "0", "--workers", "1")
    command += ["--seeds", str(seeds), "--index", str(index_dir)]
    with log.open("w") as errors:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, env=env, text=True)
    ready, _, _ = select.select([process.stdout], [], [], 120)
    line = process.stdout.readline() if ready else ""  # type: ignore[union-attr]
    if not line.startswith(f"Serving on http://{HOST}:"):
        process.kill()
        raise RuntimeError(f"searchkit serve did not start: {line.strip() or log.read_text()[-500:]!r}")
    return process, int(urllib.parse.urlsplit(line.split()[2]).port)  # type: ignore[arg-type]


def complete_while_opened(port: int, visitors: int, timeout: float) -> dict:
    """``/api/complete``'s slowest answer while ``visitors`` clients open the article page at once."""
    page = f"/articles/{ARTICLE}?q={urllib.parse.quote(QUERY)}"
    opened: list[dict] = []
    threads = [threading.Thread(target=lambda: opened.append(get(port, page, timeout))) for _ in range(visitors)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the visitors' requests are being worked on
    answers = []
    while any(thread.is_alive() for thread in threads) and len(answers) < 20:
        answers.append(get(port, f"/api/complete?q={urllib.parse.quote(COMPLETE)}", timeout))
    for thread in threads:
        thread.join()
    return {
        "visitors": visitors,
        "pages_seconds_max": max(a["seconds"] for a in opened),
        "complete_answers": len(answers),
        "complete_seconds_max": max((a["seconds"] for a in answers), default=0.0),
        "complete_errors": sum("error" in a for a in answers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=15.0, help="size of the large article (MB)")
    parser.add_argument("--visitors", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds any one request may take")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="searchkit-large-") as work:
        seeds, index_dir = Path(work) / "seeds", Path(work) / "index"
        shutil.copytree(SEEDS, seeds)
        results["article_bytes"] = write_article(seeds / ARTICLE, args.mb)
        # Past the default cap too: the bench is what the cap was argued from.
        command = searchkit("index", "--seeds", str(seeds), "--index", str(index_dir))
        results["index"] = measured(command + ["--max-bytes", str(results["article_bytes"])], env)
        print(f"index: {results['index']}", flush=True)
        command = searchkit("query", QUERY, "--seeds", str(seeds), "--index", str(index_dir), "--limit", "3")
        results["query"] = measured(command, env)
        print(f"query: {results['query']}", flush=True)
        server, port = serve(seeds, index_dir, env, Path(work) / "serve.log")
        try:
            quoted = urllib.parse.quote(QUERY)
            for name, path in (
                ("page", f"/articles/{ARTICLE}"),
                ("page_q", f"/articles/{ARTICLE}?q={quoted}"),
                ("search", f"/api/search?q={quoted}"),
            ):
                results[name] = get(port, path, args.timeout)
                print(f"{name}: {results[name]}", flush=True)
            results["complete_while_opened"] = complete_while_opened(port, args.visitors, args.timeout)
            print(f"complete while opened: {results['complete_while_opened']}", flush=True)
            results["server_peak_rss_mb"] = peak_rss_mb(server.pid)
            print(f"server peak RSS: {results['server_peak_rss_mb']} MB", flush=True)
        finally:
            memory.stop(server)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
