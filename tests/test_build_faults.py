"""Fault injection: a build killed half-way, in a real process, leaves the previous index."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from commands import start
from corpora import NEWS, news_records

from searchkit.build import index
from searchkit.search.searcher import search

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
]

ROOT = Path(__file__).resolve().parents[1]
HAS_PROC = Path("/proc/self/task").is_dir()
ARTICLES = 200
# Shortened articles keep the whole test to a few seconds while the build still takes a while.
TEXT_CHARS = 1200


def news_corpus(path: Path, seeds_dir: Path) -> None:
    """A JSON Lines file of a few hundred news articles (made from the seeds without baomoi)."""
    if NEWS.exists():
        records = news_records(ARTICLES)
    else:
        paragraphs = [
            p.strip()
            for seed in sorted(seeds_dir.iterdir())
            for p in seed.read_text(encoding="utf-8").split("\n")
            if len(p.strip()) > 200
        ]
        records = [
            {"id": f"n{n}", "title": f"Bản tin số {n}", "text": paragraphs[n % len(paragraphs)]}
            for n in range(ARTICLES)
        ]
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            record["text"] = record["text"][:TEXT_CHARS]
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


@pytest.fixture
def with_news(folders: tuple[Path, Path], seeds_dir: Path) -> tuple[Path, Path]:
    """The copies of the seed articles and of their index (conftest.folders), the news corpus added to the
    articles: a build long enough to be stopped midway."""
    seeds, index_dir = folders
    news_corpus(seeds / "news.jsonl", seeds_dir)
    return seeds, index_dir


def start_build(seeds: Path, index_dir: Path) -> subprocess.Popen:
    return start(
        "index", "--seeds", seeds, "--index", index_dir, "--procs", "2",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip


def wait_until_writing(build: subprocess.Popen, index_dir: Path) -> None:
    """Returns a moment after the build's worker processes start writing their segments."""
    # Generous: importing pyvi alone can take tens of seconds on a loaded machine.
    deadline = time.monotonic() + 300

    def started() -> bool:
        if HAS_PROC:
            return len(children(build.pid)) >= 2
        return (index_dir / "MAIN.tmp").exists()

    while not started():
        assert build.poll() is None, build.communicate()
        assert time.monotonic() < deadline, "the build never started writing"
        time.sleep(0.05)
    time.sleep(1.0 if HAS_PROC else 3.0)
    assert build.poll() is None, "the build finished before it could be interrupted"


def children(pid: int) -> list[int]:
    try:
        listing = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in listing.split()]


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def old_state(index_dir: Path) -> tuple[int, list[str]]:
    results = search(index_dir, "dang", limit=100)
    return results.total, sorted(hit.path for hit in results.hits)


def test_a_build_killed_midway_leaves_the_previous_index(with_news: tuple[Path, Path]):
    seeds, index_dir = with_news
    before = old_state(index_dir)
    build = start_build(seeds, index_dir)
    try:
        wait_until_writing(build, index_dir)
        workers = children(build.pid)
        build.send_signal(signal.SIGKILL)
        build.wait(timeout=10)
    finally:
        if build.poll() is None:
            build.kill()
        build.communicate()

    assert old_state(index_dir) == before  # the previous index still answers, news not in it
    # Orphaned workers notice the killed parent and stop.
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)

    report = index.build(seeds, index_dir)  # no stale lock: the next build completes
    assert (report.added, report.unchanged, report.skipped) == (ARTICLES, 5, [])
    assert search(index_dir, "dang", limit=1).total > before[0]
    assert not (index_dir / "MAIN.tmp").exists()


def test_ctrl_c_stops_a_build_cleanly(with_news: tuple[Path, Path]):
    seeds, index_dir = with_news
    before = old_state(index_dir)
    build = start_build(seeds, index_dir)
    try:
        wait_until_writing(build, index_dir)
        workers = children(build.pid)
        os.killpg(build.pid, signal.SIGINT)  # what the terminal does: the whole process group
        _, err = build.communicate(timeout=30)
    finally:
        if build.poll() is None:
            build.kill()
            build.communicate()

    assert build.returncode == 130
    assert "Interrupted: the index keeps its last committed state." in err.decode()
    assert "Traceback" not in err.decode()
    assert not any(alive(pid) for pid in workers)
    assert old_state(index_dir) == before
    assert not (index_dir / "MAIN.tmp").exists()
