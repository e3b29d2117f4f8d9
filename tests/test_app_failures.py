"""The site's one error handler: every route's failures get their code's status, page and JSON alike.

``test_app.py`` covers the search page's and the search API's messages code by code; here what a single
handler gives every route (the article page, the articles API) that each route once wrote for itself.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from searchkit.build.index import build
from searchkit.errors import IndexDamagedError, QueryError, SearchkitError
from searchkit.search.searcher import Searcher
from searchkit.webapp import failures, ingest, keys
from searchkit.webapp.app import create_app

NEU_GUONG = "004_a29b889078a98f24.txt"
DAMAGED = IndexDamagedError("index/gen-000003/MAIN_x.seg is damaged: run searchkit index --rebuild")


@pytest.fixture
def client(seeds_index: Path, seeds_dir: Path):
    return create_app(seeds_index, seeds_dir).test_client()


@pytest.fixture
def writable(seeds_dir: Path, seeds_index: Path, tmp_path: Path):
    """The app over copies of the seeds and their index, with a write key."""
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    shutil.copytree(seeds_dir, seeds)
    shutil.copytree(seeds_index, index_dir)
    build(seeds, index_dir, procs=1)
    _, write = keys.create(index_dir, "cms")
    return create_app(index_dir, seeds).test_client(), {"Authorization": f"Bearer {write}"}


def test_an_article_page_that_cannot_be_read_says_so_in_vietnamese_and_keeps_the_query(client, monkeypatch):
    def damaged(*args, **kwargs):
        raise DAMAGED

    monkeypatch.setattr(Searcher, "article", damaged)
    page = client.get(f"/articles/{NEU_GUONG}", query_string={"q": "nêu gương"})
    assert page.status_code == 503
    text = page.get_data(as_text=True)
    assert "Chưa tìm kiếm được" in text and "searchkit index --rebuild" in text
    assert "MAIN_x.seg" not in text  # the server's folders are the operator's, in the log
    # The way back to the search page keeps what the visitor searched for.
    assert 'href="/?q=n%C3%AAu+g%C6%B0%C6%A1ng"' in text


def test_an_article_page_past_its_last_is_a_400_page_keeping_the_query(client):
    page = client.get(f"/articles/{NEU_GUONG}", query_string={"q": "nêu gương", "page": "99"})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Không có trang này" in text
    assert 'href="/?q=n%C3%AAu+g%C6%B0%C6%A1ng"' in text


def test_writing_into_a_damaged_index_says_to_rebuild_as_the_search_api_does(writable, monkeypatch, caplog):
    client, headers = writable

    def damaged(*args, **kwargs):
        raise DAMAGED

    monkeypatch.setattr(ingest.indexing, "build", damaged)
    answer = client.put("/api/articles/gia-vang", json={"text": "Giá vàng tăng mạnh."}, headers=headers)
    assert answer.status_code == 503
    assert answer.json == {
        "error": "the index is damaged: run 'searchkit index --rebuild' on the server",
        "code": "index_damaged",
        "status": 503,
    }
    assert "MAIN_x.seg" in caplog.text  # the details for the operator


def test_a_refused_write_keeps_its_status_and_headers(writable):
    client, _ = writable
    answer = client.put("/api/articles/gia-vang", json={"text": "Giá vàng."}, headers={"Authorization": "Bearer x"})
    assert answer.status_code == 401
    assert answer.json["code"] == "key_wrong"
    assert answer.headers["WWW-Authenticate"] == 'Bearer realm="searchkit"'


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (QueryError("page must be between 1 and 1000", code="page_range", limit=1000), 400),
        (ingest.IngestError("bad id", code="id_invalid"), 400),
        (ingest.IngestError("the key is not valid", code="key_wrong"), 401),
        (ingest.IngestError("the key may only search", code="key_scope"), 403),
        (ingest.IngestError("the disk is full", code="disk_full"), 507),
        (ingest.IngestError("too many writers", code="writers_busy"), 503),
        (DAMAGED, 503),
        (SearchkitError("a code no table knows", code="something_new"), 503),
    ],
)
def test_each_code_has_one_status(error, status):
    assert failures.status_of(error) == status
