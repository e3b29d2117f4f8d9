"""Articles dropped into a watched folder or sent over HTTP: time until all are searchable, beside
`searchkit index`.

    python tests/bench/watch.py --articles 1000

Both runs start from a copy of the seed articles and their index, and add the same news articles (the first
``--articles`` of the baomoi corpus, one `.txt` file each, title on the first line). `searchkit index --watch`
is already running when the files are written, as fast as Python writes them; its time runs from the first file
written until every one of them is in the published index, and the generations it made are counted. The other
run writes the same files and then runs `searchkit index`, timed until it ends. A third sends them to
`searchkit serve` (one worker, a write key) as `PUT /api/articles/<id>` from ``--clients`` threads, each answered
once its article is searchable, timed from the first request until the last answer. Processes run on this machine
only, and every request goes to 127.0.0.1 with a timeout.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from searchkit.build.index import build  # noqa: E402
from searchkit.engines.whoosh import generations  # noqa: E402
from searchkit.search.searcher import Searcher  # noqa: E402
from searchkit.webapp import keys as keyring  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "baomoi" / "articles.jsonl.gz"
PATIENCE = 600.0


def articles(path: Path, count: int) -> list[tuple[str, str]]:
    found = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            found.append((f"{row['id']}.txt", f"{row['title']}\n\n{row['text']}\n"))
            if len(found) == count:
                break
    return found


def command(*args: str, **popen: object) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from searchkit.cli import main; main()", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        text=True,
        **popen,  # type: ignore[arg-type]
    )


def all_held(index_dir: Path, ids: list[str]) -> bool:
    try:
        with Searcher(index_dir) as searcher:
            return all(searcher.document(doc_id) is not None for doc_id in ids)
    except Exception:  # between two generations, or none yet: not yet
        return False


def write(seeds: Path, news: list[tuple[str, str]]) -> None:
    folder = seeds / "news"
    folder.mkdir()
    for name, text in news:
        (folder / name).write_text(text, encoding="utf-8")


def watched(work: Path, news: list[tuple[str, str]], base: Path, base_index: Path) -> tuple[float, int, str]:
    seeds, index_dir = work / "watched-seeds", work / "watched-index"
    shutil.copytree(base, seeds)
    shutil.copytree(base_index, index_dir)
    ids = [f"news/{name}" for name, _ in news]
    log = (work / "watch.log").open("w")
    process = command("index", "--seeds", str(seeds), "--index", str(index_dir), "--watch", stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while "Watching" not in (work / "watch.log").read_text():
            assert process.poll() is None and time.monotonic() < deadline, (work / "watch.log").read_text()
            time.sleep(0.1)
        before = generations.current(index_dir).number  # type: ignore[union-attr]
        started = time.monotonic()
        write(seeds, news)
        deadline = started + PATIENCE
        seen = before
        # Only a new generation is opened and read, so that waiting costs the build next to nothing.
        while True:
            current = generations.current(index_dir).number  # type: ignore[union-attr]
            if current != seen:
                seen = current
                if all_held(index_dir, ids):
                    break
            assert time.monotonic() < deadline, "gave up waiting"
            time.sleep(0.05)
        seconds = time.monotonic() - started
        builds = generations.current(index_dir).number - before  # type: ignore[union-attr]
    finally:
        process.terminate()
        process.wait(30)
        log.close()
    # Its builds' own lines ("added 1000, … (18.2 s)"): the rest of the time is waiting for the files to settle.
    lines = [line for line in (work / "watch.log").read_text().splitlines() if line.startswith("added ")]
    return seconds, builds, "; ".join(line.rsplit("(", 1)[-1].rstrip(")") for line in lines[1:])


def by_hand(work: Path, news: list[tuple[str, str]], base: Path, base_index: Path) -> float:
    seeds, index_dir = work / "cli-seeds", work / "cli-index"
    shutil.copytree(base, seeds)
    shutil.copytree(base_index, index_dir)
    started = time.monotonic()
    write(seeds, news)
    done = subprocess.run(
        [sys.executable, "-c", "from searchkit.cli import main; main()", "index", "--seeds", str(seeds)]
        + ["--index", str(index_dir)],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=PATIENCE,
    )
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


def sent(work: Path, news: list[tuple[str, str]], base: Path, base_index: Path, clients: int) -> tuple[float, int]:
    """Seconds until every article PUT by ``clients`` threads is answered as searchable, and the answers
    that were not 200 or 201."""
    seeds, index_dir = work / "api-seeds", work / "api-index"
    shutil.copytree(base, seeds)
    shutil.copytree(base_index, index_dir)
    _, key = keyring.create(index_dir, "bench", "write")
    log = (work / "serve.log").open("w")
    process = command(
        "serve", "--seeds", str(seeds), "--index", str(index_dir), "--workers", "1", "--port", "0",
        stdout=log, stderr=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "Serving on" not in (work / "serve.log").read_text():
            assert process.poll() is None and time.monotonic() < deadline, (work / "serve.log").read_text()
            time.sleep(0.1)
        url = (work / "serve.log").read_text().split("Serving on ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:"), url
        queue, refused, lock = list(news), [], threading.Lock()

        def client() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    name, text = queue.pop()
                title, _, body = text.partition("\n\n")
                request = urllib.request.Request(
                    f"{url}api/articles/{name.removesuffix('.txt')}",
                    data=json.dumps({"title": title, "text": body}, ensure_ascii=False).encode("utf-8"),
                    method="PUT",
                    headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
                )
                try:
                    with urllib.request.urlopen(request, timeout=PATIENCE) as answer:
                        status = answer.status
                except urllib.error.HTTPError as error:
                    status = error.code
                if status not in (200, 201):
                    with lock:
                        refused.append(status)

        started = time.monotonic()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.monotonic() - started, len(refused)
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--clients", type=int, default=4, help="threads sending PUT requests")
    options = parser.parse_args()
    news = articles(options.data, options.articles)
    with tempfile.TemporaryDirectory(prefix="searchkit-watch-") as name:
        work = Path(name)
        base, base_index = work / "seeds", work / "index"
        shutil.copytree(ROOT / "seeds", base)
        build(base, base_index)
        cli_seconds = by_hand(work, news, base, base_index)
        watch_seconds, builds, build_seconds = watched(work, news, base, base_index)
        put_seconds, refused = sent(work, news, base, base_index, options.clients)
    print(f"{len(news)} articles written into seeds/, time until all are searchable:")
    made = f"{builds} generation(s), built in {build_seconds}"
    print(f"  searchkit index --watch (already running)  {watch_seconds:6.1f} s  ({made})")
    print(f"  written, then searchkit index              {cli_seconds:6.1f} s")
    print(f"  PUT /api/articles/<id>, {options.clients} clients         {put_seconds:6.1f} s  ({refused} not 200/201)")


if __name__ == "__main__":
    main()
