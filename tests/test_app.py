"""The search page, the article page and the JSON API, through Flask's test client."""

from __future__ import annotations

import html
import json
import os
import random
import re
import socket
import threading
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest
import searchkit.web
from click.testing import CliRunner
from corpora import PAGED, SCRIPT, Built, OddIds
from flask import redirect, url_for

from searchkit.build.index import build
from searchkit.cli import main
from searchkit.errors import IndexBusyError, IndexDamagedError, QueryError, SearchkitError
from searchkit.search.searcher import MAX_LIMIT, MAX_PAGE, Searcher
from searchkit.webapp import app as web
from searchkit.webapp import webserver
from searchkit.webapp.app import create_app
from searchkit.webapp.pages import page_numbers

NEU_GUONG = "004_a29b889078a98f24.txt"
# The one script a page loads: the completions under the search box.
OUR_SCRIPT = '<script src="/static/complete.js" defer>'


@pytest.fixture(scope="module")
def client(seeds_index: Path):
    return create_app(index_dir=seeds_index).test_client()


@pytest.fixture(scope="module")
def hostile_client(hostile: Built):
    return create_app(index_dir=hostile.index).test_client()


def text_of(response) -> str:
    return response.get_data(as_text=True)


def hit_paths(page: str) -> list[str]:
    """The articles a results page lists, in order, read from their title links (no id is shown)."""
    return [unquote(i) for i in re.findall(r'<h2 class="hit-title"><a href="/articles/([^"?]*)', page)]


# --- the search page ---------------------------------------------------------------------------


def test_home_page_shows_the_search_box_and_query_help(client):
    response = client.get("/")
    page = text_of(response)
    assert response.status_code == 200
    assert '<html lang="vi">' in page
    assert 'name="q"' in page and "Tìm kiếm" in page
    assert "Cách viết truy vấn" in page and "title:" in page
    # One script, the completions' own file; the form works without it (see test_browser.py).
    assert re.findall(r"<script\b[^>]*>", page) == [OUR_SCRIPT]
    assert "onclick" not in page and "javascript:" not in page


def test_unaccented_query_ranks_the_neu_guong_article_first_with_marks(client):
    page = text_of(client.get("/", query_string={"q": "neu guong"}))
    assert hit_paths(page)[0] == NEU_GUONG
    first = page.split('<li class="hit">')[1]
    assert "<mark>nêu gương</mark>" in first


def test_search_page_keeps_the_query_and_counts_in_vietnamese(client):
    page = text_of(client.get("/?q=neu+guong"))
    assert 'value="neu guong"' in page
    # The count is exact: no "Khoảng" (about) before it.
    assert re.search(r'<p class="stats">4 kết quả \(\d+,\d\d giây\)</p>', page)
    assert "<title>neu guong – Tìm kiếm</title>" in page


def test_query_without_results_says_so_kindly(client):
    response = client.get("/?q=zzqxw")
    assert response.status_code == 200
    assert "Không tìm thấy kết quả nào cho <q>zzqxw</q>" in text_of(response)


def test_result_titles_link_to_the_article_with_the_query(client):
    page = text_of(client.get("/?q=neu+guong"))
    assert f'href="/articles/{NEU_GUONG}?q=neu+guong"' in page


def test_results_come_ten_a_page_with_links_between_pages(hostile_client):
    first = text_of(hostile_client.get("/?q=phuong"))
    assert '<p class="stats">27 kết quả' in first
    assert len(hit_paths(first)) == 10
    assert 'aria-current="page">1<' in first
    assert 'rel="next" href="/?q=phuong&amp;page=2"' in first
    assert 'rel="prev"' not in first
    last = text_of(hostile_client.get("/?q=phuong&page=3"))
    assert len(hit_paths(last)) == PAGED - 20
    assert 'rel="prev" href="/?q=phuong&amp;page=2"' in last and 'rel="next"' not in last
    assert '<ol class="hits" start="21">' in last
    everything = set()
    for page in (1, 2, 3):
        everything |= set(hit_paths(text_of(hostile_client.get(f"/?q=phuong&page={page}"))))
    assert len(everything) == PAGED


def test_a_page_past_the_last_says_so(hostile_client):
    response = hostile_client.get("/?q=phuong&page=9")
    assert response.status_code == 200
    assert "Trang 9 không có kết quả" in text_of(response)


@pytest.mark.parametrize(
    ("current", "last", "expected"),
    [
        (1, 1, [1]),
        (1, 3, [1, 2, 3]),
        (1, 20, [1, 2, 3, None, 20]),
        (10, 20, [1, None, 8, 9, 10, 11, 12, None, 20]),
        (20, 20, [1, None, 18, 19, 20]),
        (4, 20, [1, 2, 3, 4, 5, 6, None, 20]),
    ],
)
def test_page_numbers_show_the_ends_and_the_neighbourhood(current, last, expected):
    assert page_numbers(current, last) == expected


def test_suggestion_is_a_link_that_runs_it(client, monkeypatch):
    original = Searcher.search

    def with_suggestion(self, text, **options):
        results = original(self, text, **options)
        results.suggestion = "nêu gương"
        return results

    monkeypatch.setattr(Searcher, "search", with_suggestion)
    page = text_of(client.get("/?q=neu+guong"))
    assert "Có phải bạn muốn tìm:" in page
    assert f'href="/?q={quote("nêu gương").replace("%20", "+")}"' in page


def test_no_suggestion_line_without_a_suggestion(client, monkeypatch):
    original = Searcher.search

    def without_suggestion(self, text, **options):
        results = original(self, text, **options)
        results.suggestion = None
        return results

    monkeypatch.setattr(Searcher, "search", without_suggestion)
    assert "Có phải bạn muốn tìm" not in text_of(client.get("/?q=neu+guong"))


def test_page_and_api_offer_the_restored_query_learnt_from_the_seeds(client):
    page = text_of(client.get("/?q=neu+guong"))
    assert "Có phải bạn muốn tìm:" in page
    assert f'href="/?q={quote("nêu gương").replace("%20", "+")}"' in page
    assert client.get("/api/search?q=neu+guong").get_json()["suggestion"] == "nêu gương"
    assert client.get("/api/search?q=nêu+gương").get_json()["suggestion"] is None
    assert "Có phải bạn muốn tìm" not in text_of(client.get("/?q=nêu+gương"))


# --- the article page --------------------------------------------------------------------------


def test_article_page_shows_the_whole_article_with_the_matches_marked(client, seeds_dir: Path):
    response = client.get(f"/articles/{NEU_GUONG}?q=neu+guong")
    page = text_of(response)
    assert response.status_code == 200
    assert "<h1>Tạo chuyển biến mới về trách nhiệm <mark>nêu gương</mark>" in page
    assert page.count("<mark>") > 3
    assert "chỗ khớp với <q>neu guong</q>" in page
    last_line = (seeds_dir / NEU_GUONG).read_text(encoding="utf-8").strip().splitlines()[-1]
    assert last_line.split()[-1] in page
    assert 'href="/?q=neu+guong"' in page


def test_article_page_marks_an_unaccented_query_as_restored(client):
    page = text_of(client.get("/articles/000_f290433a7163aea1.txt?q=chi+thi+05"))
    assert "<mark>Chỉ thị 05</mark>" in page
    assert "Hồ Chí Minh" in page and "<mark>Chí</mark>" not in page
    # An article with no date, source, tags or address has nothing under its title: no id, no empty line.
    assert "hit-path" not in page and '<p class="meta">' not in page
    assert "<mark>Chí</mark>" in text_of(client.get("/articles/000_f290433a7163aea1.txt?q=chi"))


def test_article_page_without_a_query_shows_the_article_unmarked(client):
    page = text_of(client.get(f"/articles/{NEU_GUONG}"))
    assert "<mark>" not in page
    assert "Tạo chuyển biến mới về trách nhiệm nêu gương" in page


def test_article_page_with_an_unrunnable_query_still_shows_the_article(client):
    response = client.get(f"/articles/{NEU_GUONG}?q=-foo")
    assert response.status_code == 200
    assert "Tạo chuyển biến mới" in text_of(response)


def test_ids_with_folders_spaces_and_hashes_round_trip_through_links(hostile_client):
    page = text_of(hostile_client.get("/?q=dong+ha"))
    found = re.search(r'<h2 class="hit-title"><a href="([^"]*)">Bài trong thư mục con', page)
    link = found.group(1)
    assert "%23" in link and "%3F" in link and " " not in link
    response = hostile_client.get(link.replace("&amp;", "&"))
    assert response.status_code == 200
    assert "Bài trong thư mục con" in text_of(response)
    assert unquote(urlsplit(html.unescape(link)).path.removeprefix("/articles/")) == "thư mục/con/bài #1 ?.txt"
    jsonl = hostile_client.get("/articles/corpus.jsonl%23xq-001")
    assert jsonl.status_code == 200 and "Tin có nguồn" in text_of(jsonl)


def test_missing_article_is_a_friendly_404(client):
    response = client.get("/articles/khong-co.txt")
    assert response.status_code == 404
    assert "Không tìm thấy bài viết" in text_of(response)


def test_unknown_address_is_a_friendly_404(client):
    response = client.get("/khong-co")
    assert response.status_code == 404
    assert "Không tìm thấy trang này" in text_of(response)


# --- the JSON API --------------------------------------------------------------------------------


def test_api_answers_exactly_like_query_json(client, seeds_index: Path, seeds_dir: Path):
    cli = CliRunner().invoke(
        main,
        ["query", "neu guong", "--json", "--index", str(seeds_index), "--seeds", str(seeds_dir)],
    )
    assert cli.exit_code == 0, cli.output
    response = client.get("/api/search?q=neu+guong")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == json.loads(cli.output)
    assert list(response.get_json()) == list(json.loads(cli.output))
    assert response.get_json()["results"][0]["id"] == NEU_GUONG


def test_api_pages_through_the_hits(hostile_client):
    first = hostile_client.get("/api/search?q=phuong&limit=5").get_json()
    second = hostile_client.get("/api/search?q=phuong&limit=5&page=2").get_json()
    assert first["total"] == second["total"] == PAGED
    assert [r["rank"] for r in first["results"]] == [1, 2, 3, 4, 5]
    assert [r["rank"] for r in second["results"]] == [6, 7, 8, 9, 10]
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}


@pytest.mark.parametrize(
    ("query_string", "message", "code"),
    [
        ("q=", "the query is empty", "query_empty"),
        ("", "the query is empty", "query_empty"),
        ("q=%20%20", "the query is empty", "query_empty"),
        ("q=-foo", "only excludes", "query_only_excludes"),
        ("q=(((", "no word", "query_no_word"),
        ("q=" + "a" * 1001, "too long", "query_too_long"),
        ("q=" + "+".join(["a"] * 70), "too many words", "query_too_many_words"),
        ("q=neu&page=0", f"page must be between 1 and {MAX_PAGE}", "page_range"),
        ("q=neu&page=-1", "page must be", "page_range"),
        ("q=neu&page=abc", "page must be", "page_range"),
        ("q=neu&page=1.5", "page must be", "page_range"),
        ("q=neu&page=%EF%BC%91", "page must be", "page_range"),  # a full-width "1"
        ("q=neu&page=1_0", "page must be", "page_range"),
        ("q=neu&page=%202", "page must be", "page_range"),
        (f"q=neu&page={MAX_PAGE + 1}", "page must be", "page_range"),
        ("q=neu&page=99999999999999999999999", "page must be", "page_range"),
        ("q=neu&limit=0", f"limit must be between 1 and {MAX_LIMIT}", "limit_range"),
        (f"q=neu&limit={MAX_LIMIT + 1}", "limit must be", "limit_range"),
        ("q=neu&limit=ten", "limit must be", "limit_range"),
    ],
)
def test_api_bad_parameters_are_a_400_json_error_with_a_code(client, query_string, message, code):
    response = client.get("/api/search?" + query_string)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    error = response.get_json()
    assert message in error["error"]
    assert error["code"] == code and error["status"] == 400


def test_api_unknown_address_is_a_json_404(client):
    response = client.get("/api/khong-co")
    assert response.status_code == 404
    assert response.get_json()["status"] == 404
    assert response.get_json()["code"] == "not_found"
    wrong_method = client.post("/api/search?q=neu")
    assert wrong_method.status_code == 405 and wrong_method.get_json()["code"] == "method_not_allowed"


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("q=neu&page=abc", "Số trang phải là một số nguyên từ 1 đến 1.000."),
        ("q=neu&page=0", "Số trang phải là một số nguyên từ 1 đến 1.000."),
        ("q=" + "a" * 1200, "Truy vấn quá dài (1.200 ký tự; tối đa 1.000 ký tự)."),
        ("q=-foo", "Truy vấn chỉ loại trừ từ"),
        ("q=(((", "Truy vấn không có từ nào để tìm"),
        ("q=" + "+".join(["a"] * 70), "Truy vấn có quá nhiều từ (tối đa 64 từ)."),
    ],
)
def test_page_bad_parameters_are_a_friendly_400_in_vietnamese(client, query_string, message):
    response = client.get("/?" + query_string)
    assert response.status_code == 400
    page = text_of(response)
    assert message in page
    assert "Cách viết truy vấn" in page


def test_an_overlong_query_is_not_echoed_whole(client):
    page = text_of(client.get("/?q=" + "a" * 5000))
    assert "a" * 1000 in page and "a" * 1001 not in page


# --- escaping ------------------------------------------------------------------------------------


def test_script_in_an_article_is_shown_as_text(hostile_client):
    results = text_of(hostile_client.get("/?q=neu+guong"))
    article = text_of(hostile_client.get("/articles/script.txt?q=neu+guong"))
    for page in (results, article):
        assert re.findall(r"<script\b[^>]*>", page) == [OUR_SCRIPT] and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt; &amp; &quot;trích dẫn&quot;" in article
    api = hostile_client.get("/api/search?q=neu+guong").get_json()
    snippet = api["results"][0]["snippet"]
    assert "<script" not in snippet and "&lt;script&gt;" in snippet


@pytest.mark.parametrize(
    "query",
    [SCRIPT, f"neu {SCRIPT}", '"><script>alert(1)</script>', "' onfocus='alert(1)", "-" + SCRIPT],
)
def test_script_in_a_query_is_shown_as_text(hostile_client, query):
    for url in ("/", f"/articles/{quote('script.txt')}", "/khong-co"):
        page = text_of(hostile_client.get(url, query_string={"q": query}))
        assert "<script>" not in page and "onfocus='" not in page
        assert 'value="' + query not in page


def test_a_quote_in_the_query_cannot_leave_the_value_attribute(client):
    page = text_of(client.get("/", query_string={"q": 'neu" autofocus onfocus="alert(1)'}))
    assert 'value="neu&#34; autofocus onfocus=&#34;alert(1)"' in page


def test_only_web_addresses_become_source_links(hostile_client):
    hostile_page = text_of(hostile_client.get("/articles/corpus.jsonl%23xq-000"))
    assert "javascript:" not in hostile_page
    assert "Bài gốc" not in hostile_page
    plain = text_of(hostile_client.get("/articles/corpus.jsonl%23xq-001"))
    assert 'href="https://example.org/hue"' in plain


def test_pages_forbid_other_scripts_and_framing(client):
    # The one script allowed is the site's own file (the completions): nothing inline, nothing
    # from elsewhere, so markup slipping into a page could still not run.
    for url in ("/", "/?q=neu", f"/articles/{NEU_GUONG}", "/api/search?q=neu", "/khong-co"):
        response = client.get(url)
        policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
        assert policy["default-src"] == "'none'"
        assert policy["script-src"] == "'self'"
        assert policy["connect-src"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        scripts = re.findall(r"<script\b[^>]*>", response.get_data(as_text=True))
        assert set(scripts) <= {OUR_SCRIPT}, scripts


def test_a_phrase_distance_that_is_no_number_is_a_400_in_either_language(client):
    answer = client.get("/api/search", query_string={"q": '"nêu gương"~-5'})
    assert answer.status_code == 400
    assert answer.get_json()["code"] == "query_phrase_distance"
    page = client.get("/", query_string={"q": '"nêu gương"~-5'})
    assert page.status_code == 400
    assert "Sau dấu ~ của một cụm từ phải là một số nguyên" in html.unescape(page.get_data(as_text=True))
    assert "“~-5”" in html.unescape(page.get_data(as_text=True))


def test_frames_are_refused_for_browsers_without_frame_ancestors_too(client):
    for url in ("/", "/?q=neu", f"/articles/{NEU_GUONG}", "/api/search?q=neu", "/khong-co"):
        assert client.get(url).headers["X-Frame-Options"] == "DENY"


def test_pages_and_answers_are_never_kept_but_static_files_are_revalidated(client):
    # Made from the index as it is now: a kept copy would show articles removed since.
    dynamic = (
        "/",
        "/?q=neu+guong",
        "/?q=",
        "/?q=neu&page=abc",
        f"/articles/{NEU_GUONG}",
        f"/articles/{NEU_GUONG}?q=neu",
        "/articles/khong-co.txt",
        "/api/search?q=neu",
        "/api/search?q=",
        "/api/complete?q=ne",
        "/khong-co",
    )
    for url in dynamic:
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    static = client.get("/static/style.css")
    assert static.status_code == 200
    assert "no-store" not in static.headers.get("Cache-Control", "")
    assert static.headers["ETag"] and static.headers["Last-Modified"]
    assert client.get("/static/style.css", headers={"If-None-Match": static.headers["ETag"]}).status_code == 304


def test_the_app_never_runs_in_debug_mode(seeds_index: Path):
    app = create_app(index_dir=seeds_index)
    assert not app.debug and not app.testing


# --- nothing is a 500 ---------------------------------------------------------------------------

# fmt: off
ODD_QUERIES = [
    "*", "**", "a*", "*a", "-", "--", "- -", "NOT", "AND", "OR", "AND OR NOT", "NOT NOT x", "OR a",
    '"', '""', '"a', 'a"~', '"nêu gương"~', '"nêu gương"~99999999999999999999999', "~3", "title:",
    "title:title:", 'title:""', "title:(", "title:-x", "(", ")", "()", "((((a", "a))))", "x:y",
    "\\",
    "%", "%%", "&", "&amp;", "\x00", "a\x00b", "\t\n", "\u200b", "\ufeff", "🙂", "🙂 nêu", "שלום",
    "ﷺ", "n\u0302", "Ð", "İ", "ß", "ǅ", "ǂ", "\U0010ffff", "1/2", "05-CT/TW", "TP.HCM", "a" * 1000,
    " ".join(["nêu"] * 64), " ".join(["nêu"] * 65), "a " * 499, "-a " * 300,
]
# fmt: on


def _random_queries(count: int) -> list[str]:
    alphabet = 'aăâeêoôơuưiyđnêgươ ÀÁẢÃẠàáảãạ"()*-~:ANDORNOTtitle\u0300\u0301\u0303\u0309\u0323'
    rng = random.Random(20240501)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(count)]


def test_no_query_string_makes_a_500(client):
    for query in ODD_QUERIES + _random_queries(150):
        for url in ("/", "/api/search", f"/articles/{NEU_GUONG}"):
            response = client.get(url, query_string={"q": query, "page": "1"})
            assert response.status_code in (200, 400), (url, query, response.status_code)


@pytest.mark.parametrize(
    "raw",
    [
        "q=%ED%A0%80",
        "q=%FF%FE",
        "q=%00",
        "q=%",
        "q=%zz",
        "q",
        "q=a&q=",
        "page=2",
        "&&&=&",
        "q=neu&page=",
        "q=neu&limit=&page=",
        "q=neu;page=2",
    ],
)
def test_malformed_query_strings_are_not_a_500(client, raw):
    for url in ("/", "/api/search", f"/articles/{NEU_GUONG}"):
        response = client.get(f"{url}?{raw}")
        assert response.status_code in (200, 400), (url, raw)


# --- the index behind the app ---------------------------------------------------------------------


def test_a_missing_index_is_explained_without_naming_server_folders(tmp_path: Path):
    client = create_app(index_dir=tmp_path / "no-index").test_client()
    page = client.get("/?q=neu")
    assert page.status_code == 503
    assert "Chỉ mục tìm kiếm chưa sẵn sàng" in text_of(page)
    assert str(tmp_path) not in text_of(page)
    api = client.get("/api/search?q=neu")
    assert api.status_code == 503 and "searchkit index" in api.get_json()["error"]
    assert api.get_json()["code"] == "index_missing"
    assert str(tmp_path) not in api.get_json()["error"]
    assert client.get(f"/articles/{NEU_GUONG}").status_code == 503


def test_a_rebuilt_index_is_searched_without_a_restart(tmp_path: Path):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "a.txt").write_text("Tin Đông Hà\n\nNội dung.\n", encoding="utf-8")
    build(seeds, index_dir, procs=1)
    client = create_app(index_dir=index_dir, seeds_dir=seeds).test_client()
    assert client.get("/api/search?q=phong+nha").get_json()["total"] == 0
    (seeds / "b.txt").write_text("Tin Phong Nha\n\nHang động Phong Nha.\n", encoding="utf-8")
    build(seeds, index_dir, procs=1)
    assert client.get("/api/search?q=phong+nha").get_json()["results"][0]["id"] == "b.txt"


def test_threads_searching_at_once_get_the_same_answers(seeds_index: Path):
    app = create_app(index_dir=seeds_index)
    queries = ["neu guong", "đông hà", "chỉ thị", "học tập", "đảng bộ"]
    client = app.test_client()
    expected = {q: client.get("/api/search", query_string={"q": q}).get_json() for q in queries}
    failures: list[str] = []

    def worker(offset: int) -> None:
        client = app.test_client()
        for i in range(10):
            q = queries[(offset + i) % len(queries)]
            if client.get("/api/search", query_string={"q": q}).get_json() != expected[q]:
                failures.append(q)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_templates_and_static_files_come_from_the_package(seeds_index: Path):
    app = create_app(index_dir=seeds_index)
    package = Path(searchkit.web.__file__).parent
    assert Path(app.template_folder).resolve() == (package / "templates").resolve()
    assert app.test_client().get("/static/style.css").status_code == 200


# --- searchkit serve ------------------------------------------------------------------------------


class FakeServer:
    effective_host, effective_port = "127.0.0.1", 8000

    def __init__(self, app, host, port):
        self.app, self.host, self.port = app, host, port
        self.ran = self.closed = False

    def run(self) -> None:
        self.ran = True

    def close(self) -> None:
        self.closed = True


def test_serve_builds_a_missing_index_and_listens_on_localhost(tmp_path, seeds_dir, monkeypatch):
    servers: list[FakeServer] = []

    def fake_make_server(app, host="127.0.0.1", port=8000, limits=None):
        assert limits == webserver.Limits()
        servers.append(FakeServer(app, host, port))
        return servers[-1]

    monkeypatch.setattr(web, "make_server", fake_make_server)
    index_dir = tmp_path / "index"
    result = CliRunner().invoke(
        main, ["serve", "--workers", "1", "--index", str(index_dir), "--seeds", str(seeds_dir)]
    )
    assert result.exit_code == 0, result.output
    (server,) = servers
    assert (server.host, server.port) == ("127.0.0.1", 8000)
    assert server.ran and server.closed
    assert "Serving on http://127.0.0.1:8000/" in result.output
    assert not server.app.debug
    reply = server.app.test_client().get("/api/search?q=neu+guong").get_json()
    assert reply["results"][0]["id"] == NEU_GUONG


def test_serve_reports_a_busy_port_in_one_line(seeds_index, seeds_dir):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            main,
            ["serve", "--port", str(port), "--index", str(seeds_index), "--seeds", str(seeds_dir)],
        )
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_server_urls_bracket_ipv6_addresses():
    class Listening:
        effective_listen = [("127.0.0.1", 8000), ("::1", 8000)]

    assert web.server_urls(Listening()) == ["http://127.0.0.1:8000/", "http://[::1]:8000/"]


# --- errors by code -------------------------------------------------------------------------------


def raising(monkeypatch, error: Exception) -> None:
    """Makes every search and article lookup raise ``error``, as the library would."""

    def fail(self, *args, **kwargs):
        raise error

    for name in ("search", "document", "highlighted"):
        monkeypatch.setattr(Searcher, name, fail)


@pytest.mark.parametrize(
    ("error", "vietnamese"),
    [
        (QueryError("the query nests too deeply", code="query_too_deep", limit=32), "tối đa 32 lớp"),
        (QueryError("too costly", code="query_too_costly", limit=5000), "quá nhiều công sức"),
        (QueryError("ran too long", code="query_timeout", limit=2.5), "quá 2,5 giây"),
        (QueryError("huge", code="query_too_long", length=12345, limit=1000), "(12.345 ký tự; tối đa 1.000"),
        # A code the page does not know yet, and a known one missing its details: a general sentence.
        (QueryError("the query is odd", code="query_odd"), "Không chạy được truy vấn này"),
        (QueryError("nests", code="query_too_deep"), "Không chạy được truy vấn này"),
    ],
)
def test_query_errors_are_translated_by_code_and_the_api_keeps_the_english(client, monkeypatch, error, vietnamese):
    raising(monkeypatch, error)
    page = client.get("/?q=neu")
    assert page.status_code == 400
    assert vietnamese in text_of(page)
    assert str(error) not in text_of(page)
    api = client.get("/api/search?q=neu")
    assert api.status_code == 400
    assert api.get_json() == {"error": str(error), "code": error.code, "status": 400}


def test_a_damaged_index_is_a_503_in_vietnamese_and_a_coded_api_error(client, monkeypatch, seeds_index):
    raising(monkeypatch, IndexDamagedError(f"the index in {seeds_index} is damaged"))
    for url in ("/?q=neu", f"/articles/{NEU_GUONG}", f"/articles/{NEU_GUONG}?q=neu"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert "Chỉ mục tìm kiếm bị hỏng" in text_of(response)
        assert "searchkit index --rebuild" in text_of(response)
        assert str(seeds_index) not in text_of(response)
    api = client.get("/api/search?q=neu")
    assert api.status_code == 503
    assert api.get_json()["code"] == "index_damaged"
    assert "--rebuild" in api.get_json()["error"] and str(seeds_index) not in api.get_json()["error"]


@pytest.mark.parametrize(
    ("error", "vietnamese", "code"),
    [
        (IndexBusyError("another build is updating /srv/ix"), "đang được cập nhật", "index_busy"),
        (SearchkitError("/srv/x broke", code="disk_on_fire"), "Chỉ mục tìm kiếm chưa sẵn sàng", "disk_on_fire"),
    ],
)
def test_other_index_errors_are_a_503_without_the_english(client, monkeypatch, error, vietnamese, code):
    raising(monkeypatch, error)
    page = client.get("/?q=neu")
    assert page.status_code == 503 and vietnamese in text_of(page) and "/srv/" not in text_of(page)
    api = client.get("/api/search?q=neu").get_json()
    assert api["code"] == code and api["status"] == 503 and "/srv/" not in api["error"]


# --- article ids as links -------------------------------------------------------------------------

def test_every_article_id_opens_from_the_link_on_the_results_page(odd_ids: OddIds):
    client = create_app(index_dir=odd_ids.index).test_client()
    for doc_id, word in odd_ids.words.items():
        results = f"http://localhost/?q={word}"
        page = text_of(client.get(results))
        hrefs = re.findall(r'<h2 class="hit-title"><a href="([^"]*)">', page)
        assert len(hrefs) == 1, (doc_id, page)
        # Resolved as a browser resolves it: entities decoded, "." and ".." segments removed.
        link = urljoin(results, html.unescape(hrefs[0]))
        assert link.startswith("http://localhost/articles/"), (doc_id, link)
        response = client.get(link[len("http://localhost") :])
        assert response.status_code == 200, (doc_id, link)
        assert f"<mark>{word}</mark>" in text_of(response)
        # The id is the link's, not shown on the page.
        assert unquote(urlsplit(link).path.removeprefix("/articles/")) == doc_id
        assert "hit-path" not in text_of(response)


# --- redirects and the Host header ----------------------------------------------------------------


def test_doubled_slashes_never_redirect_to_the_host_header(client):
    for path in (f"/articles//{NEU_GUONG}", "/articles//x", "//articles/x", "/static//style.css", "/api//search"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert not 300 <= response.status_code < 400, (path, response.status_code)
        assert "evil.example" not in response.headers.get("Location", "")
        assert "evil.example" not in text_of(response)


def test_any_redirect_stays_on_the_site_whatever_the_host_header(seeds_index: Path):
    app = create_app(index_dir=seeds_index)

    @app.get("/old/<path:rest>")
    def moved(rest: str):
        # An absolute address, as url_for(_external=True) and Werkzeug's own redirects build them.
        return redirect(url_for("search_page", q=rest, _external=True), 308)

    client = app.test_client()
    response = client.get("/old/neu", headers={"Host": "evil.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/?q=neu"
    response = client.get("/old/x", headers={"Host": "evil.example"})
    assert response.headers["Location"] == "/?q=x"


def test_a_redirect_path_never_starts_with_two_slashes(seeds_index: Path):
    app = create_app(index_dir=seeds_index)

    @app.get("/odd/<int:n>")
    def odd(n: int):
        return redirect(["http://localhost//evil.example/x", "/\\evil.example/x", "http://localhost"][n])

    client = app.test_client()
    assert client.get("/odd/0").headers["Location"] == "/evil.example/x"
    assert client.get("/odd/1").headers["Location"] == "/evil.example/x"
    assert client.get("/odd/2").headers["Location"] == "/"


# --- the stale index notice -----------------------------------------------------------------------

STALE = "Chỉ mục tìm kiếm cũ hơn thư mục bài viết"


def test_the_page_says_when_the_articles_changed_since_the_build(tmp_path: Path):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "a.txt").write_text("Tin Đông Hà\n\nNội dung về Đông Hà.\n", encoding="utf-8")
    build(seeds, index_dir, procs=1)
    client = create_app(index_dir=index_dir, seeds_dir=seeds, stale_check_seconds=0).test_client()

    def notice(url: str = "/?q=dong+ha") -> bool:
        page = text_of(client.get(url))
        return STALE in page and "<code>searchkit index</code>" in page

    assert not notice() and not notice("/")
    info = (seeds / "a.txt").stat()
    os.utime(seeds / "a.txt", ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))
    assert notice() and notice("/") and notice("/articles/a.txt")
    build(seeds, index_dir, procs=1)
    assert not notice()
    (seeds / "b.txt").write_text("Tin Huế\n\nNội dung về Huế.\n", encoding="utf-8")
    assert notice()
    build(seeds, index_dir, procs=1)
    assert not notice()
    (seeds / "b.txt").unlink()
    assert notice()
    assert client.get("/api/search?q=dong+ha").get_json()["total"] == 1  # the API answers as before
    build(seeds, index_dir, procs=1)
    assert not notice()


def test_the_page_checks_the_folder_only_every_few_seconds(tmp_path: Path):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "a.txt").write_text("Tin Đông Hà\n\nNội dung về Đông Hà.\n", encoding="utf-8")
    build(seeds, index_dir, procs=1)
    client = create_app(index_dir=index_dir, seeds_dir=seeds, stale_check_seconds=3600).test_client()
    assert STALE not in text_of(client.get("/"))
    (seeds / "b.txt").write_text("Tin Huế\n\nNội dung về Huế.\n", encoding="utf-8")
    assert STALE not in text_of(client.get("/"))  # the answer from a moment ago
