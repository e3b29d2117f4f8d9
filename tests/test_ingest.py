"""The articles API: written to seeds/ first, indexed by the same build as the CLI's, behind write keys."""

from __future__ import annotations

import errno
import json
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from commands import start
from waitress.adjustments import Adjustments

from searchkit.build.index import build
from searchkit.corpus.articles import DEFAULT_MAX_BYTES, Article, read_articles
from searchkit.engines.whoosh import generations
from searchkit.webapp import ingest, keys, webserver
from searchkit.webapp.app import create_app

ROOT = Path(__file__).resolve().parents[1]
GOLD = {
    "title": "Giá vàng lập đỉnh mới",
    "text": "Giá vàng trong nước tăng mạnh, thị trường vàng Việt Nam sôi động.",
    "date": "22/05/2024",
    "source": "VnExpress",
    "tags": ["kinh tế", "giá vàng"],
    "url": "https://vnexpress.example/gia-vang",
}


@pytest.fixture
def up_to_date(folders: tuple[Path, Path]) -> tuple[Path, Path]:
    """The copies of the seed articles and of their index (conftest.folders), the index brought up to date with
    the copy."""
    seeds, index_dir = folders
    build(seeds, index_dir, procs=1)
    return seeds, index_dir


@pytest.fixture
def site(up_to_date):
    """The app over the copies, with a write key, a search key and a revoked key."""
    seeds, index_dir = up_to_date
    _, write = keys.create(index_dir, "cms")
    _, search = keys.create(index_dir, "reader", "search")
    _, revoked = keys.create(index_dir, "old")
    keys.revoke(index_dir, "old")
    app = create_app(index_dir, seeds)
    return app.test_client(), {"write": write, "search": search, "revoked": revoked}, seeds, index_dir


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def hit_ids(client, query: str) -> list[str]:
    """The articles written through the API that ``query`` finds (the seeds' ids never start with api/)."""
    answer = client.get("/api/search", query_string={"q": query})
    assert answer.status_code == 200, answer.json
    return [hit["id"] for hit in answer.json["results"] if hit["id"].startswith("api/")]


def test_put_json_article_is_searchable_when_answered_and_reads_back_as_the_cli_reads_it(site):
    client, key, seeds, index_dir = site
    answer = client.put("/api/articles/gia-vang", json=GOLD, headers=bearer(key["write"]))
    assert answer.status_code == 201, answer.json
    assert answer.json == {"id": "gia-vang", "article": "api/gia-vang.jsonl#gia-vang", "indexed": True}
    assert answer.headers["Location"] == "/articles/api/gia-vang.jsonl%23gia-vang"
    assert hit_ids(client, "gia vang dinh moi")[0] == "api/gia-vang.jsonl#gia-vang"
    (article,) = [a for a in read_articles(seeds) if isinstance(a, Article) and a.id.startswith("api/")]
    assert (article.title, article.text, article.date, article.source, article.url, article.tags) == (
        GOLD["title"],
        GOLD["text"],
        "2024-05-22",
        "VnExpress",
        GOLD["url"],
        ("kinh tế", "giá vàng"),
    )
    # searchkit index finds nothing left to do: the folder and the index agree.
    report = build(seeds, index_dir, procs=1)
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    page = client.get("/articles/api/gia-vang.jsonl%23gia-vang")
    assert page.status_code == 200 and "Giá vàng lập đỉnh mới" in page.text


def test_put_again_replaces_the_article_and_delete_removes_it(site):
    client, key, seeds, _ = site
    assert (
        client.put("/api/articles/x", json={"text": "Hồ Tràm thả cá giống"}, headers=bearer(key["write"])).status_code
        == 201
    )
    again = client.put("/api/articles/x", json={"text": "Đà Lạt mùa hoa dã quỳ"}, headers=bearer(key["write"]))
    assert again.status_code == 200
    assert hit_ids(client, "ho tram ca giong") == []
    assert hit_ids(client, "da quy") == ["api/x.jsonl#x"]
    gone = client.delete("/api/articles/x", headers=bearer(key["write"]))
    assert gone.status_code == 200 and gone.json["deleted"]
    assert hit_ids(client, "da quy") == [] and not (seeds / "api" / "x.jsonl").exists()
    missing = client.delete("/api/articles/x", headers=bearer(key["write"]))
    assert missing.status_code == 404 and missing.json["code"] == "article_unknown"


def test_markdown_and_plain_text_bodies(site):
    client, key, seeds, _ = site
    markdown = "---\ntitle: Lễ hội hoa ban\ndate: 2024-03-08\ntags: [du lịch]\n---\nĐiện Biên mở **lễ hội** hoa ban.\n"
    answer = client.put(
        "/api/articles/hoa-ban", data=markdown.encode(), content_type="text/markdown", headers=bearer(key["write"])
    )
    assert answer.status_code == 201, answer.json
    plain = "Thứ Hai, 15/05/2024\nCầu Rồng phun lửa\nĐà Nẵng tổ chức cầu Rồng phun lửa cuối tuần.\n"
    answer = client.put(
        "/api/articles/cau-rong", data=plain.encode(), content_type="text/plain", headers=bearer(key["write"])
    )
    assert answer.status_code == 201, answer.json
    found = {a.id: a for a in read_articles(seeds) if isinstance(a, Article)}
    ban, rong = found["api/hoa-ban.jsonl#hoa-ban"], found["api/cau-rong.jsonl#cau-rong"]
    assert (ban.title, ban.text, ban.date, ban.tags) == (
        "Lễ hội hoa ban",
        "Điện Biên mở lễ hội hoa ban.",
        "2024-03-08",
        ("du lịch",),
    )
    assert (rong.title, rong.date) == ("Cầu Rồng phun lửa", "2024-05-15")
    assert hit_ids(client, "le hoi hoa ban") == ["api/hoa-ban.jsonl#hoa-ban"]
    odd = client.put("/api/articles/y", data=b"x", content_type="image/png", headers=bearer(key["write"]))
    assert odd.status_code == 415


def test_without_a_write_key_the_server_takes_no_articles(up_to_date):
    seeds, index_dir = up_to_date
    keys.create(index_dir, "reader", "search")
    client = create_app(index_dir, seeds).test_client()
    answer = client.put("/api/articles/x", json={"text": "Hồ Tràm"}, headers=bearer("sk_00000000_" + "a" * 43))
    assert answer.status_code == 403 and answer.json["code"] == "writing_disabled"
    assert not (seeds / "api").exists()


@pytest.mark.parametrize(
    ("which", "status", "code"),
    [
        (None, 401, "key_missing"),
        ("wrong", 401, "key_wrong"),
        ("revoked", 401, "key_revoked"),
        ("search", 403, "key_scope"),
    ],
)
def test_no_wrong_revoked_or_search_only_key_writes_nothing(site, caplog, which, status, code):
    client, key, seeds, index_dir = site
    before = generations.pointer(index_dir)
    presented = {"wrong": key["write"][:-2] + "zz", None: None}.get(which, key.get(which or ""))
    headers = bearer(presented) if presented else {}
    with caplog.at_level(logging.DEBUG):
        for send in (
            lambda: client.put("/api/articles/x", json={"text": "Hồ Tràm"}, headers=headers),
            lambda: client.delete("/api/articles/x", headers=headers),
            lambda: client.post(
                "/api/articles", data=b'{"id": "x", "text": "a"}', content_type="application/x-ndjson", headers=headers
            ),
        ):
            answer = send()
            assert (answer.status_code, answer.json["code"], answer.json["status"]) == (status, code, status)
            if presented:
                assert presented not in answer.text and presented[-43:] not in answer.text
    if presented:
        assert presented[-43:] not in caplog.text
    assert not (seeds / "api").exists() and generations.pointer(index_dir) == before


@pytest.mark.parametrize(
    "bad", ["..", "a..b", "a%2Fb", "a/b", "a%00b", "a%0Ab", "a%0Db", ".hidden", "x" * 201, "đ" * 101]
)
def test_bad_ids_are_refused_with_the_rule(site, bad):
    client, key, seeds, _ = site
    answer = client.put(f"/api/articles/{bad}", json={"text": "Hồ Tràm"}, headers=bearer(key["write"]))
    assert answer.status_code == 400, answer.json
    assert answer.json["code"] == "id_invalid" and "200 characters" in answer.json["error"]
    assert not (seeds / "api").exists()


def test_two_hundred_characters_is_a_good_id(site):
    client, key, _, _ = site
    answer = client.put("/api/articles/" + "x" * 200, json={"text": "Hồ Tràm"}, headers=bearer(key["write"]))
    assert answer.status_code == 201


def test_body_over_the_article_cap_is_413_and_writes_nothing(site):
    client, key, seeds, _ = site
    big = {"text": "nêu gương " * (DEFAULT_MAX_BYTES // 10)}
    answer = client.put("/api/articles/big", json=big, headers=bearer(key["write"]))
    assert (answer.status_code, answer.json["code"]) == (413, "body_too_large")
    assert not (seeds / "api" / "big.jsonl").exists()


@pytest.mark.parametrize(
    ("body", "code", "named"),
    [
        ('{"text": "a",', "json_invalid", "invalid JSON"),
        ('["text"]', "json_invalid", "JSON object"),
        ('{"text": "Hồ Tràm", "date": "2024-13-45"}', "field_date", "'date'"),
        ('{"text": "Hồ Tràm", "date": "hôm qua"}', "field_date", "'date'"),
        ('{"text": "Hồ Tràm", "tags": ["a", 3]}', "field_tags", "'tags'"),
        ('{"text": "Hồ Tràm", "tags": "a"}', "field_tags", "'tags'"),
        ('{"text": 3}', "field_text", "'text'"),
        ('{"title": "x"}', "field_text", "'text'"),
        ('{"text": "Hồ Tràm", "title": ["x"]}', "field_title", "'title'"),
        ('{"text": "Hồ Tràm", "author": "x"}', "field", "'author'"),
        ('{"text": "\\ud800"}', "field", "surrogate"),
    ],
)
def test_bad_article_is_400_naming_the_field(site, body, code, named):
    client, key, seeds, _ = site
    answer = client.put(
        "/api/articles/x", data=body.encode(), content_type="application/json", headers=bearer(key["write"])
    )
    assert (answer.status_code, answer.json["code"]) == (400, code)
    assert named in answer.json["error"]
    assert not (seeds / "api").exists()


def test_batch_is_indexed_in_one_build_or_refused_whole(site):
    client, key, seeds, index_dir = site
    lines = [json.dumps({"id": f"b{i}", "text": f"Bài số {i} về hồ Tràm"}, ensure_ascii=False) for i in range(3)]
    bad = [*lines, json.dumps({"id": "b9", "text": "x", "date": "hôm qua"}, ensure_ascii=False)]
    refused = client.post(
        "/api/articles", data="\n".join(bad).encode(), content_type="application/x-ndjson", headers=bearer(key["write"])
    )
    assert (refused.status_code, refused.json["code"]) == (400, "field_date")
    assert "line 4" in refused.json["error"] and not (seeds / "api").exists()
    before = generations.current(index_dir).number
    answer = client.post(
        "/api/articles",
        data="\n".join(lines).encode(),
        content_type="application/x-ndjson",
        headers=bearer(key["write"]),
    )
    assert answer.status_code == 200
    assert answer.json == {"ids": ["b0", "b1", "b2"], "created": ["b0", "b1", "b2"], "indexed": True}
    assert generations.current(index_dir).number == before + 1
    assert sorted(hit_ids(client, "ho tram")) == [f"api/b{i}.jsonl#b{i}" for i in range(3)]


def test_same_id_written_by_two_clients_at_once_ends_as_one_of_them_whole(site):
    client, key, seeds, _ = site
    texts = ["Đà Lạt mùa hoa dã quỳ " * 2000, "Hồ Tràm thả cá giống " * 2000]
    answers = []

    def send(text: str) -> None:
        answers.append(client.put("/api/articles/same", json={"text": text}, headers=bearer(key["write"])).status_code)

    threads = [threading.Thread(target=send, args=(text,)) for text in texts for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 200, 200, 201]
    kept = json.loads((seeds / "api" / "same.jsonl").read_text(encoding="utf-8"))["text"]
    assert kept in texts
    winner, loser = ("da quy", "ho tram") if kept == texts[0] else ("ho tram", "da quy")
    assert hit_ids(client, winner) == ["api/same.jsonl#same"] and hit_ids(client, loser) == []
    assert [p.name for p in (seeds / "api").iterdir()] == ["same.jsonl"]


def test_full_disk_while_writing_the_article_is_507_the_old_one_and_the_index_intact(site, monkeypatch):
    client, key, seeds, index_dir = site
    assert (
        client.put("/api/articles/x", json={"text": "Hồ Tràm thả cá giống"}, headers=bearer(key["write"])).status_code
        == 201
    )
    old, before = (seeds / "api" / "x.jsonl").read_bytes(), generations.pointer(index_dir)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ingest.os, "fsync", full)
    answer = client.put("/api/articles/x", json={"text": "Đà Lạt mùa hoa dã quỳ"}, headers=bearer(key["write"]))
    monkeypatch.undo()
    assert (answer.status_code, answer.json["code"]) == (507, "disk_full")
    assert (seeds / "api" / "x.jsonl").read_bytes() == old and generations.pointer(index_dir) == before
    assert [p.name for p in (seeds / "api").iterdir()] == ["x.jsonl"]
    assert hit_ids(client, "ho tram ca giong") == ["api/x.jsonl#x"]


def test_full_disk_while_indexing_puts_the_old_article_back(site, monkeypatch):
    client, key, seeds, index_dir = site
    assert (
        client.put("/api/articles/x", json={"text": "Hồ Tràm thả cá giống"}, headers=bearer(key["write"])).status_code
        == 201
    )
    old, before = (seeds / "api" / "x.jsonl").read_bytes(), generations.pointer(index_dir)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(generations, "publish", full)
    answer = client.put("/api/articles/x", json={"text": "Đà Lạt mùa hoa dã quỳ"}, headers=bearer(key["write"]))
    new = client.put("/api/articles/y", json={"text": "Đà Lạt mùa hoa dã quỳ"}, headers=bearer(key["write"]))
    monkeypatch.undo()
    assert (answer.status_code, answer.json["code"]) == (507, "disk_full")
    assert (new.status_code, new.json["code"]) == (507, "disk_full")
    assert (seeds / "api" / "x.jsonl").read_bytes() == old and generations.pointer(index_dir) == before
    assert [p.name for p in (seeds / "api").iterdir()] == ["x.jsonl"]
    assert hit_ids(client, "ho tram ca giong") == ["api/x.jsonl#x"] and hit_ids(client, "da quy") == []


def test_an_article_written_but_never_indexed_is_indexed_when_the_app_starts(up_to_date):
    seeds, index_dir = up_to_date
    keys.create(index_dir, "cms")
    # What a server killed between writing the file and building leaves behind.
    (seeds / "api").mkdir()
    (seeds / "api" / "x.jsonl").write_text(json.dumps({"id": "x", "text": "Đà Lạt mùa hoa dã quỳ"}), encoding="utf-8")
    client = create_app(index_dir, seeds).test_client()
    deadline = time.monotonic() + 20
    while hit_ids(client, "da quy") != ["api/x.jsonl#x"]:
        assert time.monotonic() < deadline, "never indexed"
        time.sleep(0.1)


def test_the_server_reads_large_bodies_for_the_articles_api_only():
    def parsed(head: bytes) -> object:
        parser = webserver._Parser(Adjustments(max_request_body_size=webserver.MAX_BODY_BYTES))
        parser.received(head)
        return parser

    length = b"Content-Length: %d\r\n" % (webserver.MAX_BODY_BYTES + 1)
    assert parsed(b"PUT /api/articles/x HTTP/1.1\r\nHost: a\r\n" + length + b"\r\n").error is None
    assert parsed(b"POST /api/articles HTTP/1.1\r\nHost: a\r\n" + length + b"\r\n").error is None
    for path in (b"/api/search", b"/", b"/api/articlesx"):
        assert parsed(b"POST " + path + b" HTTP/1.1\r\nHost: a\r\n" + length + b"\r\n").error is not None, path
    assert webserver.MAX_ARTICLES_BODY_BYTES > ingest.MAX_BATCH_BYTES


def test_server_killed_after_accepting_an_article_indexes_it_at_the_next_start(up_to_date, tmp_path):
    seeds, index_dir = up_to_date
    _, key = keys.create(index_dir, "cms")

    def start_server() -> tuple[subprocess.Popen, int]:
        process = start(
            "serve", "--workers", "1", "--port", "0", "--seeds", seeds, "--index", index_dir,
            stdout=subprocess.PIPE, stderr=(tmp_path / "server.log").open("a"), text=True,
        )  # fmt: skip
        line = process.stdout.readline()
        assert line.startswith("Serving on http://127.0.0.1:"), line
        return process, int(line.split()[2].rstrip("/").rsplit(":", 1)[1])

    def put(port: int, body: bytes) -> None:
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/articles/x",
            data=body,
            method="PUT",
            headers={"Content-Type": "application/json", **bearer(key)},
        )
        try:
            urllib.request.urlopen(request, timeout=30)
        except (urllib.error.URLError, ConnectionError, OSError):
            pass

    process, port = start_server()
    try:
        # A build from elsewhere holds the index, so the request waits between writing and indexing.
        with generations.build_lock(index_dir):
            body = json.dumps({"text": "Đà Lạt mùa hoa dã quỳ"}).encode()
            threading.Thread(target=put, args=(port, body), daemon=True).start()
            deadline = time.monotonic() + 20
            while not (seeds / "api" / "x.jsonl").exists():
                assert time.monotonic() < deadline, "never written"
                time.sleep(0.05)
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        assert json.loads((seeds / "api" / "x.jsonl").read_text(encoding="utf-8"))["text"] == "Đà Lạt mùa hoa dã quỳ"
        process, port = start_server()
        deadline = time.monotonic() + 30
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/search?q=da+quy", timeout=10) as answer:
                if "api/x.jsonl#x" in [hit["id"] for hit in json.load(answer)["results"]]:
                    break
            assert time.monotonic() < deadline, "never indexed"
            time.sleep(0.1)
        # An article over the cap gets the API's own 413 through the real server.
        big = json.dumps({"text": "a" * (DEFAULT_MAX_BYTES + 10)}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/articles/big",
            data=big,
            method="PUT",
            headers={"Content-Type": "application/json", **bearer(key)},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 413 and json.load(refused.value)["code"] == "body_too_large"
        assert key[-43:] not in (tmp_path / "server.log").read_text()
    finally:
        process.kill()
        process.wait(timeout=10)


def test_article_sent_while_another_build_holds_the_index_is_kept_and_answered_202(site, monkeypatch):
    client, key, seeds, index_dir = site
    monkeypatch.setattr(ingest, "BUSY_SECONDS", 0.3)
    with generations.build_lock(index_dir):
        answer = client.put("/api/articles/x", json={"text": "Đà Lạt mùa hoa dã quỳ"}, headers=bearer(key["write"]))
    assert answer.status_code == 202 and answer.json["indexed"] is False
    assert (seeds / "api" / "x.jsonl").exists() and hit_ids(client, "da quy") == []
    build(seeds, index_dir, procs=1)
    assert hit_ids(client, "da quy") == ["api/x.jsonl#x"]


def test_a_worker_keeps_most_of_its_threads_for_searches_while_articles_are_written(site, monkeypatch):
    client, key, seeds, _ = site
    monkeypatch.setattr(ingest, "_writers", threading.BoundedSemaphore(1))
    ingest._writers.acquire()  # one request writing already
    answer = client.put("/api/articles/x", json={"text": "Đà Lạt mùa hoa dã quỳ"}, headers=bearer(key["write"]))
    assert (answer.status_code, answer.json["code"], answer.headers["Retry-After"]) == (503, "writers_busy", "1")
    assert not (seeds / "api").exists()
    ingest._writers.release()
    assert client.put("/api/articles/x", json={"text": "Đà Lạt"}, headers=bearer(key["write"])).status_code == 201
