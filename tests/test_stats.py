"""What readers could not find: the server's search counts (searchkit.webapp.searchlog) and `searchkit stats`."""

from __future__ import annotations

import json
import logging
import shutil
import signal
import sqlite3
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from commands import start

from searchkit.cli import main
from searchkit.webapp import searchlog
from searchkit.webapp.app import create_app

ADDRESS = "203.0.113.7"
BROWSER = "Mozilla/5.0 (Điện thoại thử nghiệm)"


@pytest.fixture
def index_dir(seeds_index: Path, tmp_path: Path) -> Path:
    """A copy of the seeds' index, whose folder the counts may be written to."""
    copy = tmp_path / "index"
    shutil.copytree(seeds_index, copy)
    return copy


@pytest.fixture
def client(index_dir: Path, seeds_dir: Path):
    app = create_app(index_dir=index_dir, seeds_dir=seeds_dir, count_searches=True)
    with app.test_client() as test_client:
        test_client.environ_base.update({"REMOTE_ADDR": ADDRESS, "HTTP_USER_AGENT": BROWSER})
        yield test_client
    app.extensions["searchkit_searches"].close()


def flush(client) -> None:
    client.application.extensions["searchkit_searches"].flush()


def stats(index_dir: Path, *args: str) -> dict:
    result = CliRunner().invoke(main, ["stats", "--index", str(index_dir), "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_searches_on_the_page_and_the_api_are_counted_and_listed(client, index_dir: Path):
    for url in ("/?q=nêu+gương", "/api/search?q=Nêu++GƯƠNG", "/api/search?q=nêu%20gương&page=1", "/?q=Đông+Hà"):
        assert client.get(url).status_code == 200
    assert client.get("/api/search?q=phi+hành+gia").get_json()["total"] == 0
    flush(client)
    found = stats(index_dir)
    assert found["searches"] == 5 and found["distinct"] == 3
    assert [(c["query"], c["searches"], c["results"]) for c in found["top"]] == [
        ("nêu gương", 3, 4),
        ("phi hành gia", 1, 0),
        ("đông hà", 1, 2),
    ]
    # The ones that found nothing, apart.
    assert [(c["query"], c["no_results"]) for c in found["no_results"]] == [("phi hành gia", 1)]


def test_later_pages_completions_refused_and_empty_queries_are_not_counted(client, index_dir: Path):
    assert client.get("/api/search?q=nêu+gương").status_code == 200
    assert client.get("/api/search?q=nêu+gương&page=2&limit=1").status_code == 200  # the same search, paged
    assert client.get("/?q=nêu+gương&page=2&limit=1").status_code == 200
    assert client.get("/api/complete?q=nêu+gươ").status_code == 200
    assert client.get("/api/search?q=-an").status_code == 400  # only excludes: refused
    assert client.get("/?q=").status_code == 200
    flush(client)
    assert [(c["query"], c["searches"]) for c in stats(index_dir)["top"]] == [("nêu gương", 1)]


def test_nothing_about_who_searched_is_stored(client, index_dir: Path):
    assert client.get("/api/search?q=nêu+gương", headers={"Referer": "https://example.org/trang"}).status_code == 200
    flush(client)
    path = index_dir / searchlog.FILE
    with sqlite3.connect(path) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(searches)")]
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
    assert columns == ["day", "query", "searches", "empty", "results"]
    assert tables == ["searches"]
    raw = path.read_bytes()
    for personal in (ADDRESS, "Mozilla", "example.org"):
        assert personal.encode() not in raw


def test_a_file_that_cannot_be_written_never_breaks_a_search(client, index_dir: Path, caplog):
    (index_dir / searchlog.FILE).mkdir()  # a folder where the file should be: unwritable, even for root
    caplog.set_level(logging.WARNING, logger="searchkit.webapp.searchlog")
    for _ in range(2):
        answer = client.get("/api/search?q=nêu+gương")
        assert answer.status_code == 200 and answer.get_json()["total"] == 4
        assert client.get("/?q=phi+hành+gia").status_code == 200
        flush(client)
    warnings = [r for r in caplog.records if "cannot count searches" in r.getMessage()]
    assert len(warnings) == 1  # logged once, and searching went on
    result = CliRunner().invoke(main, ["stats", "--index", str(index_dir)])
    assert result.exit_code == 1 and "cannot read the search counts" in result.output
    assert "Traceback" not in result.output


def test_the_counts_stay_bounded_per_day_and_old_days_are_pruned(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(searchlog, "MAX_QUERIES_PER_DAY", 3)
    day = ["2026-01-01"]
    counts = searchlog.SearchLog(tmp_path / searchlog.FILE, every=0, day=lambda: day[0])
    for text in ("nêu gương", "đông hà", "bình lục", "hồ tràm", "phong nha"):
        counts.record(text, 1)
    counts.flush()
    counts.record("hồ tràm", 1)  # a fourth distinct search: no room that day
    counts.record("nêu gương", 1)  # one already counted goes on counting
    counts.flush()
    found = searchlog.stats(tmp_path, days=1, until="2026-01-01")
    assert [(c.query, c.searches) for c in found.top] == [("nêu gương", 2), ("bình lục", 1), ("đông hà", 1)]
    day[0] = "2026-06-01"  # over KEEP_DAYS later
    counts.record("nêu gương", 0)
    counts.flush()
    with sqlite3.connect(tmp_path / searchlog.FILE) as connection:
        assert connection.execute("SELECT DISTINCT day FROM searches").fetchall() == [("2026-06-01",)]


def test_a_long_query_is_counted_cut_short(tmp_path: Path):
    counts = searchlog.SearchLog(tmp_path / searchlog.FILE, every=0)
    counts.record("nêu gương " * 50, 3)
    counts.flush()
    (count,) = searchlog.stats(tmp_path).top
    assert len(count.query) == searchlog.MAX_QUERY_CHARS and count.query.startswith("nêu gương nêu")


def test_stats_lists_the_period_asked_for(tmp_path: Path):
    day = ["2026-11-01"]
    counts = searchlog.SearchLog(tmp_path / searchlog.FILE, every=0, day=lambda: day[0])
    counts.record("bình lục", 0)
    counts.flush()
    day[0] = "2026-11-20"
    counts.record("nêu gương", 4)
    counts.flush()
    assert [c.query for c in searchlog.stats(tmp_path, days=7, until="2026-11-20").top] == ["nêu gương"]
    assert [c.query for c in searchlog.stats(tmp_path, days=30, until="2026-11-20").not_found] == ["bình lục"]


def test_stats_without_any_search_yet_and_as_text(client, index_dir: Path):
    assert stats(index_dir)["top"] == []
    client.get("/?q=phi+hành+gia")
    flush(client)
    result = CliRunner().invoke(main, ["stats", "--index", str(index_dir), "--days", "7"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("1 search, 1 distinct, from ")
    assert "Most frequent searches with no results:" in lines
    assert lines[-1].split() == ["1", "0", "phi", "hành", "gia"]


def test_an_app_that_does_not_count_writes_nothing(index_dir: Path, seeds_dir: Path):
    app = create_app(index_dir=index_dir, seeds_dir=seeds_dir)
    assert app.test_client().get("/api/search?q=nêu+gương").status_code == 200
    assert app.extensions["searchkit_searches"] is None
    assert not (index_dir / searchlog.FILE).exists()


def test_the_served_searches_of_every_worker_are_counted_by_the_time_it_stops(seeds_dir: Path, index_dir: Path):
    process = start(
        "serve", "--host", "127.0.0.1", "--port", "0", "--workers", "2", "--seeds", seeds_dir, "--index", index_dir,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("Serving on http://127.0.0.1:"), line
        base = line.split()[2]
        for text in ("nêu gương", "nêu gương", "phi hành gia"):
            with urllib.request.urlopen(base + "api/search?" + urllib.parse.urlencode({"q": text}), timeout=30):
                pass
        process.send_signal(signal.SIGINT)
        assert process.wait(15) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "Traceback" not in process.stderr.read()  # type: ignore[union-attr]
    found = stats(index_dir)
    assert [(c["query"], c["searches"]) for c in found["top"]] == [("nêu gương", 2), ("phi hành gia", 1)]
