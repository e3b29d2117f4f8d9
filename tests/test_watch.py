"""Watching the articles folder: `searchkit index --watch`, `searchkit serve --watch` and searchkit.build.watch."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from commands import run_process, start

from searchkit.build import watch
from searchkit.build.index import BuildReport
from searchkit.engines.whoosh import generations
from searchkit.errors import CorpusError
from searchkit.search.searcher import Searcher

ROOT = Path(__file__).resolve().parents[1]
# How long anything the tests wait for may take, on a shared machine; it takes well under a second alone.
PATIENCE = 15.0
SETTLE = 0.5
HO_TRAM = "Thả cá giống xuống hồ Tràm\n\nNgày hội thả cá giống xuống hồ Tràm thu hút đông đảo người dân.\n"
NEU_GUONG = "004_a29b889078a98f24.txt"


class Watching:
    """A watcher running in a thread, and what it told."""

    def __init__(self) -> None:
        self.reports: list[BuildReport] = []
        self.errors: list[str] = []
        self.busy = threading.Event()
        self.ready = threading.Event()
        self.listener = watch.Listener(
            built=lambda report, seconds: self.reports.append(report),
            failed=lambda exc: self.errors.append(str(exc)),
            busy=self.busy.set,
            watching=self.ready.set,
        )

    def changed(self) -> list[BuildReport]:
        return [r for r in self.reports if r.added or r.updated or r.removed]


@contextmanager
def watching(seeds: Path, index_dir: Path, settle: float = SETTLE) -> Iterator[Watching]:
    seen = Watching()
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            watch.follow(
                seeds, index_dir, listener=seen.listener, options=watch.BuildOptions(procs=1), stop=stop, settle=settle
            )
        except BaseException as exc:  # shown by the test, not lost in the thread
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        assert seen.ready.wait(PATIENCE), "the watch never started"
        wait_for(lambda: seen.reports)  # the first build, of what changed while nobody watched
        yield seen
    finally:
        stop.set()
        thread.join(PATIENCE)
    assert not thread.is_alive(), "the watcher did not stop"
    assert not failure, failure
    assert not seen.errors, seen.errors


def wait_for(check, seconds: float = PATIENCE):
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)
    return found


def ids(index_dir: Path, text: str) -> list[str]:
    with Searcher(index_dir) as searcher:
        return [hit.id for hit in searcher.search(text, limit=100, snippets=False).hits]


def held(index_dir: Path, wanted: list[str]) -> bool:
    """Whether the index's current generation holds every article of ``wanted``."""
    with Searcher(index_dir) as searcher:
        return all(searcher.document(doc_id) is not None for doc_id in wanted)


def number(index_dir: Path) -> int:
    current = generations.current(index_dir)
    assert current is not None
    return current.number


# --- searchkit.build.watch --------------------------------------------------------------------------------


def test_a_file_dropped_in_is_searchable_within_seconds(folders):
    seeds, index_dir = folders
    with watching(seeds, index_dir) as seen:
        started = time.monotonic()
        (seeds / "hồ-tràm.txt").write_text(HO_TRAM, encoding="utf-8")
        wait_for(lambda: "hồ-tràm.txt" in ids(index_dir, "ho tram"))
        assert time.monotonic() - started < PATIENCE
    assert [(r.added, r.updated, r.removed) for r in seen.changed()] == [(1, 0, 0)]


def test_changes_made_while_nobody_watched_are_built_at_start(folders):
    seeds, index_dir = folders
    (seeds / "hồ-tràm.txt").write_text(HO_TRAM, encoding="utf-8")
    with watching(seeds, index_dir) as seen:
        assert "hồ-tràm.txt" in ids(index_dir, "hồ tràm")
    assert seen.reports[0].added == 1


def test_a_burst_of_200_files_is_one_or_a_few_builds(folders):
    seeds, index_dir = folders
    with watching(seeds, index_dir) as seen:
        before = number(index_dir)
        burst = seeds / "burst"
        burst.mkdir()
        for n in range(200):
            (burst / f"tin-{n:03d}.txt").write_text(
                f"Bản tin số {n} về lúa gạo\n\nVụ lúa năm nay ở đồng bằng được mùa, bản tin số {n}.\n", encoding="utf-8"
            )
        wait_for(lambda: sum(r.added for r in seen.reports) == 200)
        assert held(index_dir, [f"burst/tin-{n:03d}.txt" for n in range(200)])
    builds = number(index_dir) - before
    assert 1 <= builds <= 3, f"{builds} generations for a burst of 200 files"
    assert len(seen.changed()) == builds


def test_a_file_written_in_two_parts_is_indexed_whole(folders):
    seeds, index_dir = folders
    settle = 1.5  # long beside the pause, so that a busy machine delaying the writer does not count as a pause
    with watching(seeds, index_dir, settle=settle) as seen:
        with (seeds / "hai-phan.txt").open("w", encoding="utf-8") as out:
            out.write("Lễ hội chọi trâu Đồ Sơn\n\nPhần đầu kể về lễ hội chọi trâu.\n")
            out.flush()
            os.fsync(out.fileno())
            time.sleep(0.4)  # shorter than the settle time: the writer is still at it
            out.write("Phần sau kể chuyện ông Nguyễn Văn Khoa nuôi trâu.\n")
        wait_for(lambda: ids(index_dir, "nuoi trau") == ["hai-phan.txt"])
        assert ids(index_dir, "chọi trâu") == ["hai-phan.txt"]
    # Never read half-way: one article added, never updated afterwards.
    assert [(r.added, r.updated) for r in seen.changed()] == [(1, 0)]


def test_a_removed_file_disappears(folders):
    seeds, index_dir = folders
    assert ids(index_dir, "nêu gương")[0] == NEU_GUONG
    with watching(seeds, index_dir) as seen:
        (seeds / NEU_GUONG).unlink()
        wait_for(lambda: NEU_GUONG not in ids(index_dir, "nêu gương"))
    assert [(r.added, r.removed) for r in seen.changed()] == [(0, 1)]


def test_a_hidden_file_being_written_is_no_change_until_renamed_in(folders):
    seeds, index_dir = folders
    with watching(seeds, index_dir) as seen:
        before = number(index_dir)
        hidden = seeds / ".hồ-tràm.txt.tmp"
        hidden.write_text(HO_TRAM, encoding="utf-8")
        time.sleep(SETTLE * 3)
        assert number(index_dir) == before and not seen.changed()  # nothing built
        hidden.rename(seeds / "hồ-tràm.txt")
        wait_for(lambda: "hồ-tràm.txt" in ids(index_dir, "ho tram"))
    assert number(index_dir) == before + 1


def test_a_build_holding_the_index_is_waited_for_and_nothing_is_lost(folders):
    seeds, index_dir = folders
    with watching(seeds, index_dir) as seen:
        with generations.build_lock(index_dir):  # as a `searchkit index` running meanwhile holds it
            (seeds / "hồ-tràm.txt").write_text(HO_TRAM, encoding="utf-8")
            assert seen.busy.wait(PATIENCE), "the watcher never found the index busy"
            (seeds / NEU_GUONG).unlink()  # changed while the watcher waits
            assert "hồ-tràm.txt" not in ids(index_dir, "ho tram")
        wait_for(lambda: "hồ-tràm.txt" in ids(index_dir, "ho tram") and NEU_GUONG not in ids(index_dir, "neu guong"))


def test_a_cli_build_beside_the_watcher_loses_nothing(folders):
    seeds, index_dir = folders
    with watching(seeds, index_dir):
        for n in range(40):
            text = f"Bản tin số {n} về lúa gạo\n\nVụ lúa được mùa.\n"
            (seeds / f"tin-{n:02d}.txt").write_text(text, encoding="utf-8")
        cli = run_process("index", "--seeds", str(seeds), "--index", str(index_dir))
        # It built them, or found the watcher building: "another build is updating …", exit status 3.
        assert cli.returncode in (0, 3), cli.stderr
        if cli.returncode == 3:
            assert "another build is updating" in cli.stderr
        wait_for(lambda: held(index_dir, [f"tin-{n:02d}.txt" for n in range(40)]))
        (seeds / "hồ-tràm.txt").write_text(HO_TRAM, encoding="utf-8")  # and the watcher still follows
        wait_for(lambda: "hồ-tràm.txt" in ids(index_dir, "ho tram"))


def test_settled_waits_for_a_file_written_within_the_settle_time(tmp_path: Path):
    article = tmp_path / "a.txt"
    article.write_text("Hồ Tràm", encoding="utf-8")
    written = article.stat().st_mtime
    assert not watch.settled([article], 1.0, clock=lambda: written + 0.5)
    assert watch.settled([article], 1.0, clock=lambda: written + 1.5)
    assert watch.settled([tmp_path / "gone.txt"], 1.0)  # removed: the build tells


def test_a_missing_folder_is_one_error(tmp_path: Path):
    with pytest.raises(CorpusError, match="articles folder not found"):
        watch.follow(tmp_path / "nowhere", tmp_path / "index")


# --- the commands -----------------------------------------------------------------------------------


def test_index_watch_builds_each_change_and_stops_on_ctrl_c(folders, tmp_path: Path):
    seeds, index_dir = folders
    err = tmp_path / "err"
    with err.open("w") as stderr:
        process = start(
            "index", "--seeds", str(seeds), "--index", str(index_dir), "--watch", "--procs", "1",
            stdout=subprocess.PIPE, stderr=stderr, text=True,
        )
    try:
        first = process.stdout.readline()  # type: ignore[union-attr]
        assert first.startswith("added 0, updated 0, removed 0, unchanged 5"), first + err.read_text()
        wait_for(lambda: "Watching" in err.read_text())
        (seeds / "hồ-tràm.txt").write_text(HO_TRAM, encoding="utf-8")
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("added 1, updated 0, removed 0, unchanged 5, skipped 0 ("), line
        assert "hồ-tràm.txt" in ids(index_dir, "ho tram")
        process.send_signal(signal.SIGINT)
        assert process.wait(PATIENCE) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Stopped watching" in err.read_text()
    assert "Traceback" not in err.read_text()


def test_index_watch_is_refused_with_shards(folders):
    seeds, index_dir = folders
    done = run_process("index", "--watch", "--shards", "127.0.0.1:1", "--seeds", str(seeds), "--index", str(index_dir))
    assert done.returncode == 2 and "--watch cannot be combined with --shards" in done.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_watch_serves_each_build_from_one_watcher(folders, tmp_path: Path, workers: str):
    seeds, index_dir = folders
    (seeds / "sớm.txt").write_text("Tin sớm về cầu Long Biên\n\nCầu Long Biên được sửa.\n", encoding="utf-8")
    before = number(index_dir)
    log = tmp_path / "server.log"
    with log.open("w") as stderr:
        process = start(
            "serve", "--host", "127.0.0.1", "--port", "0", "--seeds", str(seeds), "--index", str(index_dir),
            "--workers", workers, "--watch", stdout=subprocess.PIPE, stderr=stderr, text=True,
        )
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("Serving on http://127.0.0.1:"), line + log.read_text()
        base = line.split()[2]

        def found(text: str) -> list[str]:
            with urllib.request.urlopen(base + "api/search?" + urllib.parse.urlencode({"q": text})) as answer:
                return [hit["id"] for hit in json.load(answer)["results"]]

        def page() -> str:
            with urllib.request.urlopen(base + "?" + urllib.parse.urlencode({"q": "long biên"})) as answer:
                return answer.read().decode("utf-8")

        # Added before the start: the watcher's first build takes it, and the notice goes with it.
        wait_for(lambda: "sớm.txt" in found("long bien"))
        wait_for(lambda: "notice-stale" not in page())
        (seeds / "hồ-tràm.txt").write_text(HO_TRAM, encoding="utf-8")
        wait_for(lambda: "hồ-tràm.txt" in found("ho tram"))
        assert "notice-stale" not in page()
        # One process built, once per change: two generations, no build found the index busy.
        assert number(index_dir) == before + 2
        assert "another build holds" not in log.read_text()
        process.send_signal(signal.SIGINT)
        assert process.wait(PATIENCE) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    text = log.read_text()
    assert "Traceback" not in text, text
    assert "added 1, updated 0, removed 0, unchanged 5, skipped 0" in text


def watchers(parent: int) -> set[int]:
    """The children of ``parent`` holding an inotify watch: the watcher, not the workers."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if stat[1] != str(parent) or stat[0] == "Z":
                continue
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:
            continue
        if any("inotify" in link for link in links):
            found.add(int(entry.name))
    return found


def gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads processes from /proc")
def test_a_watcher_that_dies_is_replaced(folders, tmp_path: Path):
    seeds, index_dir = folders
    log = tmp_path / "server.log"
    with log.open("w") as stderr:
        process = start(
            "serve", "--host", "127.0.0.1", "--port", "0", "--seeds", str(seeds), "--index", str(index_dir),
            "--workers", "2", "--watch", stdout=subprocess.PIPE, stderr=stderr, text=True,
        )
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("Serving on http://127.0.0.1:"), line + log.read_text()
        (first,) = wait_for(lambda: watchers(process.pid))
        os.kill(first, signal.SIGKILL)
        (second,) = wait_for(lambda: watchers(process.pid) - {first})
        wait_for(lambda: "watching" in log.read_text().split("watcher", 1)[-1])  # the new one is under way
        (seeds / "hồ-tràm.txt").write_text(HO_TRAM, encoding="utf-8")
        wait_for(lambda: "hồ-tràm.txt" in ids(index_dir, "ho tram"))
        assert f"watcher {first} died (signal SIGKILL)" in log.read_text()
        process.send_signal(signal.SIGINT)
        assert process.wait(PATIENCE) == 0, log.read_text()
        # The watcher ends with the server (it is no orphan left building).
        wait_for(lambda: gone(second))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
