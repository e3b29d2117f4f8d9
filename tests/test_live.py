"""A running server answers from exactly one published generation of the index, whatever builds run."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from commands import start

from searchkit.build import index
from searchkit.search.live import LiveIndex
from searchkit.search.searcher import Searcher
from searchkit.webapp.app import create_app

ROOT = Path(__file__).resolve().parents[1]
AN_KHE = "000_f290433a7163aea1.txt"
NEU_GUONG = "004_a29b889078a98f24.txt"


def load_soak():
    spec = importlib.util.spec_from_file_location("soak", ROOT / "tests" / "bench" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("soak", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def fresh_ids(index_dir: Path, text: str) -> list[str]:
    with Searcher(index_dir) as searcher:
        return [hit.id for hit in searcher.search(text, limit=100).hits]


def cycle(seeds: Path, index_dir: Path, tmp_path: Path, ask) -> None:
    """Rebuild, remove, restore, add: after each, ``ask(text)`` gives what a fresh searcher gives."""
    every = fresh_ids(index_dir, "neu guong")
    assert ask("neu guong") == every and len(set(every)) == len(every) > 1

    index.build(seeds, index_dir, rebuild=True)
    assert ask("neu guong") == every

    kept = tmp_path / AN_KHE
    shutil.move(seeds / AN_KHE, kept)
    index.build(seeds, index_dir)
    assert AN_KHE not in ask("an khe") and AN_KHE not in ask("neu guong")
    assert ask("neu guong") == fresh_ids(index_dir, "neu guong")

    shutil.move(kept, seeds / AN_KHE)
    index.build(seeds, index_dir)
    assert ask("an khe")[0] == AN_KHE
    assert ask("neu guong") == every

    new = tmp_path / "cau-moi.txt"
    new.write_text("Khánh thành cầu mới\n\nĐảng bộ Đông Hà khánh thành cầu mới, nêu gương.\n", encoding="utf-8")
    index.add_files([new], seeds, index_dir)
    found = ask("neu guong")
    assert "cau-moi.txt" in found and len(found) == len(set(found)) == len(every) + 1


def test_the_app_answers_from_the_new_generation_after_each_build(folders, tmp_path: Path):
    seeds, index_dir = folders
    app = create_app(index_dir=index_dir, seeds_dir=seeds)
    client = app.test_client()

    def ask(text: str) -> list[str]:
        response = client.get("/api/search", query_string={"q": text, "limit": 100})
        assert response.status_code == 200
        return [hit["id"] for hit in response.get_json()["results"]]

    cycle(seeds, index_dir, tmp_path, ask)
    # Each build retired the searchers of the generation before: one is open now.
    assert app.extensions["searchkit"].open_searchers() == 1


def test_old_searchers_close_once_no_request_uses_them(folders):
    seeds, index_dir = folders
    live = LiveIndex(index_dir)
    with live.searcher() as during:
        with live.searcher() as second:
            assert second is not during and live.open_searchers() == 2
        index.build(seeds, index_dir, rebuild=True)
        with live.searcher() as after:
            assert after.generation != during.generation
            # The request still running keeps its searcher, and its answers, until it ends.
            assert during.search("nêu gương").hits[0].id == NEU_GUONG
            assert live.open_searchers() == 2  # `second` closed at once: idle and old
    assert live.open_searchers() == 1
    with live.searcher() as again:
        assert again is after
    live.close()
    assert live.open_searchers() == 0


def test_a_real_server_answers_from_the_new_generation_after_each_build(folders, tmp_path: Path):
    seeds, index_dir = folders
    server = start(
        "serve", "--port", "0", "--seeds", seeds, "--index", index_dir,
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        base = server.stdout.readline().split()[2]
        assert base.startswith("http://127.0.0.1:")

        def ask(text: str) -> list[str]:
            url = f"{base}api/search?" + urllib.parse.urlencode({"q": text, "limit": 100})
            with urllib.request.urlopen(url, timeout=60) as response:
                return [hit["id"] for hit in json.loads(response.read())["results"]]

        cycle(seeds, index_dir, tmp_path, ask)
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
def test_soak_clients_never_see_a_duplicate_or_a_removed_article(seeds_dir: Path, tmp_path: Path):
    report = load_soak().soak(seeds_dir, tmp_path, clients=4, seconds=20)
    assert report.errors == []
    assert report.requests > 20
    assert set(report.changes) == {"add", "update", "remove", "rebuild"}


def test_the_soak_check_catches_duplicates_and_articles_from_no_generation():
    soak = load_soak()
    states = [
        {"op": "start", "start": 0.0, "end": 0.0, "ids": ["a", "b"]},
        {"op": "remove", "start": 10.0, "end": 11.0, "ids": ["a"]},
    ]
    answers = [
        soak.Answer("q", 1.0, 2.0, 200, ["a", "b"]),
        soak.Answer("q", 10.5, 10.6, 200, ["a", "b"]),  # during the removal: either state
        soak.Answer("q", 12.0, 13.0, 200, ["a", "b"]),  # removed article after the removal ended
        soak.Answer("q", 1.0, 2.0, 200, ["a", "a"]),
        soak.Answer("q", 1.0, 2.0, 500, error="internal error"),
    ]
    errors = soak._check(answers, states)
    assert len(errors) == 3
    assert "did not hold" in errors[0] and "twice" in errors[1] and "status 500" in errors[2]


def test_a_file_damaged_under_a_running_server_gives_503_until_a_rebuild(folders):
    seeds, index_dir = folders
    client = create_app(index_dir, seeds).test_client()
    assert client.get("/api/search?q=nêu gương").json["results"][0]["id"] == NEU_GUONG
    generation = Path(index_dir / "CURRENT").read_text().strip()
    counts = index_dir / generation / "spellings.sqlite"
    other = index_dir.parent / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    data = other.read_bytes()
    with open(counts, "r+b") as handle:  # the open searchers' file, same size, other bytes
        handle.write(data + bytes(counts.stat().st_size - len(data)))

    for url in ("/api/search?q=dang vien", "/api/complete?q=ng"):
        response = client.get(url)
        assert response.status_code == 503 and response.json["code"] == "index_damaged", url
    page = client.get("/?q=can bo")
    assert page.status_code == 503 and "searchkit index --rebuild" in page.get_data(as_text=True)

    index.build(seeds, index_dir, rebuild=True)
    assert client.get("/api/search?q=dang vien").status_code == 200
