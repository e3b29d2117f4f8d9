"""Shard servers that are down, stop, or are busy; builds that stop midway.

A shard that cannot answer is one line naming it (exit status 1, HTTP 503), never a traceback, and
queries work again once it is back. A build stopped midway leaves every shard at its last commit;
the next build completes (see ``searchkit.engines.xapian.writer``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit.build.index import build
from searchkit.build.shards import build as build_shards
from searchkit.cli import main
from searchkit.engines.xapian.connection import ShardError, open_one, open_writer
from searchkit.engines.xapian.statistics import described, state_of, versions
from searchkit.errors import IndexBusyError
from searchkit.search.live import LiveIndex
from searchkit.search.searcher import Searcher
from searchkit.webapp.app import create_app

NEU_GUONG = "004_a29b889078a98f24.txt"


@pytest.fixture
def filled(seeds_dir: Path, shard_servers, tmp_path: Path):
    seeds = tmp_path / "seeds"
    shutil.copytree(seeds_dir, seeds)
    build_shards(seeds, shard_servers.shards, procs=1)
    return seeds, shard_servers


def state(servers) -> list[tuple[int, dict, dict | None]]:
    """Each shard's document count, versions and statistics' description, as committed."""
    found = []
    for shard in servers.shards:
        db = open_one(shard)
        found.append((db.get_doccount(), versions(db), described(db)))
        db.close()
    return found


def test_a_shard_that_is_down_is_named_in_one_line(filled, tmp_path: Path):
    seeds, servers = filled
    servers.stop(1)
    with pytest.raises(ShardError) as caught:
        Searcher(shards=servers.shards, cache=tmp_path / "cache")
    assert str(servers.shards[1]) in str(caught.value) and "\n" not in str(caught.value)
    result = CliRunner().invoke(
        main, ["query", "nêu gương", "--seeds", str(seeds), "--index", str(tmp_path / "c"), "--shards", servers.address]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: shard {servers.shards[1]} is unavailable: "
                                                  "Couldn't connect (Connection refused)"]
    assert "Traceback" not in result.output


def test_a_shard_that_stops_after_the_searcher_opened_fails_the_query_then_recovers(filled, tmp_path: Path):
    _, servers = filled
    searcher = Searcher(shards=servers.shards, cache=tmp_path / "cache")
    assert searcher.search("nêu gương").total == 4
    servers.stop(2)
    with pytest.raises(ShardError) as caught:
        searcher.search("nêu gương")
    assert str(servers.shards[2]) in str(caught.value)
    servers.start(2)
    with Searcher(shards=servers.shards, cache=tmp_path / "cache") as again:
        assert again.search("nêu gương").total == 4


def test_an_idle_searcher_whose_connections_broke_is_replaced_by_the_next_request(filled, tmp_path: Path):
    # A shard server restarted (or closing a connection left idle past its timeout) while the searcher waits in
    # the pool: the next request opens fresh connections instead of failing on the dead ones.
    _, servers = filled
    live = LiveIndex(shards=servers.shards, cache=tmp_path / "cache")
    with live.searcher() as first:
        assert first.search("nêu gương").total == 4
    servers.stop(1)
    servers.start(1)
    with live.searcher() as second:
        assert second is not first and second.search("nêu gương").total == 4
    assert live.open_searchers() == 1
    live.close()


def test_page_and_api_answer_503_while_a_shard_is_down_and_recover(filled, tmp_path: Path):
    seeds, servers = filled
    app = create_app(index_dir=tmp_path / "client", seeds_dir=seeds, shards=servers.shards)
    client = app.test_client()
    assert client.get("/api/search?q=neu+guong").get_json()["results"][0]["id"] == NEU_GUONG
    servers.stop(0)
    api = client.get("/api/search?q=neu+guong")
    assert api.status_code == 503
    assert api.get_json()["code"] == "shard_unavailable" and str(servers.shards[0]) in api.get_json()["error"]
    page = client.get("/?q=neu+guong")
    assert page.status_code == 503 and "đang không trả lời" in page.get_data(as_text=True)
    assert client.get(f"/articles/{NEU_GUONG}").status_code == 503
    servers.start(0)
    again = client.get("/api/search?q=neu+guong")
    assert again.status_code == 200 and again.get_json()["results"][0]["id"] == NEU_GUONG
    assert client.get("/?q=neu+guong").status_code == 200
    article = client.get(f"/articles/{NEU_GUONG}?q=neu+guong")
    assert article.status_code == 200 and "<mark>nêu gương</mark>" in article.get_data(as_text=True)


def test_an_interrupted_build_leaves_every_shard_at_its_last_commit(filled, tmp_path: Path):
    seeds, servers = filled
    before = state(servers)
    for n in range(40):
        write_news(seeds, n)
    (seeds / NEU_GUONG).unlink()

    def stop_midway(done: int, total: int) -> None:
        if done == 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_shards(seeds, servers.shards, procs=1, progress=stop_midway)
    assert state(servers) == before
    report = build_shards(seeds, servers.shards, procs=1)
    assert (report.added, report.removed, report.unchanged) == (40, 1, 4)
    assert_same_as_one_machine(seeds, servers, tmp_path)


def write_news(seeds: Path, n: int) -> None:
    (seeds / f"moi-{n:02}.txt").write_text(f"Tin số {n}\n\nHội nghị lần thứ {n} về chuyển đổi số.", encoding="utf-8")


def assert_same_as_one_machine(seeds: Path, servers, tmp_path: Path) -> None:
    build(seeds, tmp_path / "index", procs=1)
    with Searcher(shards=servers.shards, cache=tmp_path / "cache") as theirs, Searcher(tmp_path / "index") as ours:
        for text in ("chuyển đổi số", "nêu gương", "Hồ Chí Minh", '"lần thứ 7"'):
            found = {h.id for h in theirs.search(text, limit=100).hits}
            assert found == {h.id for h in ours.search(text, limit=100).hits}
        for table in ("counts", "acronyms", "phrases"):
            assert sorted(theirs.spellings.all(table)) == sorted(ours.spellings.all(table))


KILLED_BUILD = """
import sys
from searchkit.build.shards import build
from searchkit.engines.xapian.connection import parse_shards

def progress(done, total):
    if done == 30:
        print("midway", flush=True)
        sys.stdin.readline()  # waits here to be killed

build(sys.argv[1], parse_shards(sys.argv[2]), procs=1, progress=progress)
"""


def test_a_killed_build_is_completed_by_the_next(filled, tmp_path: Path):
    seeds, servers = filled
    for n in range(60):
        write_news(seeds, n)
    (seeds / NEU_GUONG).unlink()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_BUILD, str(seeds), servers.address],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout.readline().strip() == "midway"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    time.sleep(0.5)  # each shard server finishes with the dropped connection
    # A server commits what it had received when its client dies: documents are there without
    # statistics that count them. The next build sees it, recounts and completes.
    held = state(servers)
    assert sum(len(versions_) for _, versions_, _ in held) > 5
    assert any(meta["state"] != state_of(versions_) for _, versions_, meta in held)
    report = build_shards(seeds, servers.shards, procs=1)
    assert report.added + report.unchanged == 64 and report.removed in (0, 1)
    assert sum(len(held) for _, held, _ in state(servers)) == 64
    assert_same_as_one_machine(seeds, servers, tmp_path)


def test_a_second_build_stops_at_once_while_a_shard_is_being_written(filled, tmp_path: Path):
    seeds, servers = filled
    holder = open_writer(servers.shards[1])
    try:
        with pytest.raises(IndexBusyError) as caught:
            build_shards(seeds, servers.shards, procs=1)
        assert str(servers.shards[1]) in str(caught.value)
        result = CliRunner().invoke(main, ["index", "--seeds", str(seeds), "--shards", servers.address])
        assert result.exit_code == 3 and "Traceback" not in result.output
    finally:
        holder.close()
    assert build_shards(seeds, servers.shards, procs=1).unchanged == 5


def test_a_shard_down_during_a_build_changes_no_shard(filled, tmp_path: Path):
    seeds, servers = filled
    before = state(servers)
    (seeds / "moi.txt").write_text("Tin mới\n\nHội nghị về chuyển đổi số.", encoding="utf-8")
    servers.stop(2)
    result = CliRunner().invoke(main, ["index", "--seeds", str(seeds), "--shards", servers.address])
    assert result.exit_code == 1 and str(servers.shards[2]) in result.output and "Traceback" not in result.output
    servers.start(2)
    assert state(servers) == before
