"""What a results page tells a reader, through Flask's test client: each hit's source, date and site
(never the index's id), an exact count said as exact, a suggestion only where the results bear it
out, and date controls only where some article has a date, written dd/mm/yyyy."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from urllib.parse import unquote

import pytest

from searchkit.build.index import build
from searchkit.search.searcher import Searcher, SearchResults
from searchkit.webapp.app import create_app
from searchkit.webapp.templating import host

NEU_GUONG = "004_a29b889078a98f24.txt"
DONG_HA = "003_b3e0a07a9f4fc9ac.txt"  # the one seed with a dateline
RICE_ID = "gia-lua.md"
RICE = (
    "---\ntitle: Giá lúa tăng mạnh ở đồng bằng sông Cửu Long\ndate: 2024-05-20\nsource: Báo Nông nghiệp\n"
    "tags: [kinh tế]\nurl: https://www.nongnghiep.example/gia-lua-tang\n---\n# Giá lúa tăng mạnh\n\n"
    "Những ngày qua, giá lúa ở đồng bằng sông Cửu Long tăng mạnh. Thương lái thu mua lúa tươi với giá cao "
    "hơn tuần trước. Nông dân phấn khởi vì vụ lúa được mùa được giá.\n"
)
FARM = {"q": "lua", "source": "Báo Nông nghiệp", "tag": "kinh tế"}


@pytest.fixture(scope="module")
def farm(seeds_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five seeds (four of them write "lựa chọn") and one article about rice (lúa), with metadata."""
    seeds = tmp_path_factory.mktemp("farm-seeds")
    for path in seeds_dir.iterdir():
        shutil.copy(path, seeds / path.name)
    (seeds / RICE_ID).write_text(RICE, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("farm-index")
    build(seeds, index_dir, procs=1)
    return index_dir


@pytest.fixture(scope="module")
def client(farm: Path):
    return create_app(index_dir=farm).test_client()


@pytest.fixture(scope="module")
def undated_client(seeds_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The seeds without the one that has a date: no article of the index has one."""
    seeds = tmp_path_factory.mktemp("undated-seeds")
    for path in seeds_dir.iterdir():
        if path.name != DONG_HA:
            shutil.copy(path, seeds / path.name)
    index_dir = tmp_path_factory.mktemp("undated-index")
    build(seeds, index_dir, procs=1)
    return create_app(index_dir=index_dir).test_client()


def page(client, params: dict | str) -> str:
    response = client.get("/", query_string=params)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def hit_ids(body: str) -> list[str]:
    return [unquote(i) for i in re.findall(r'<h2 class="hit-title"><a href="/articles/([^"?]*)', body)]


def shown(body: str) -> str:
    """The page's text as a reader sees it: no tags, no attributes (links keep the ids)."""
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", body)))


def meta(body: str) -> list[str]:
    return [shown(m).strip() for m in re.findall(r'<p class="hit-meta">(.*?)</p>', body, re.S)]


# --- the suggestion under filters -----------------------------------------------------------------


def test_the_suggestion_is_offered_when_results_spell_it(client):
    body = page(client, {"q": "lua"})
    assert "Có phải bạn muốn tìm:" in body and "<strong>lựa</strong>" in body


def test_no_suggestion_that_none_of_the_filtered_hits_spells(client):
    body = page(client, FARM)
    assert hit_ids(body) == [RICE_ID]
    assert "Có phải bạn muốn tìm" not in body and "lựa" not in body
    api = client.get("/api/search", query_string=FARM).get_json()
    assert api["suggestion"] is None and [r["id"] for r in api["results"]] == [RICE_ID]


def test_the_suggestion_stays_under_filters_that_keep_articles_spelling_it(client):
    api = client.get("/api/search", query_string={"q": "lua", "until": "2030-01-01"}).get_json()
    # The two dated articles: the rice one, and Đông Hà's, which writes "lựa chọn".
    assert {r["id"] for r in api["results"]} == {RICE_ID, DONG_HA}
    assert api["suggestion"] == "lựa"


# --- what a hit shows -----------------------------------------------------------------------------


def test_a_hit_shows_its_source_date_and_site_and_never_its_id(client):
    body = page(client, FARM)
    assert meta(body) == ["Báo Nông nghiệp · 20/05/2024 · nongnghiep.example"]
    assert RICE_ID not in shown(body)
    # The title still leads to the article's page.
    assert f'<a href="/articles/{RICE_ID}?q=lua">Giá lúa tăng mạnh ở đồng bằng sông Cửu Long</a>' in body


def test_hits_without_metadata_show_no_id_either(client):
    body = page(client, {"q": "neu guong"})
    assert hit_ids(body)[0] == NEU_GUONG
    assert not re.search(r"\d{3}_[0-9a-f]{16}\.txt", shown(body))
    assert "hit-path" not in body
    assert "22/05/2024" in meta(body)  # the seed whose dateline gives its date


def test_the_api_keeps_ids_and_paths(client):
    hit = client.get("/api/search", query_string=FARM).get_json()["results"][0]
    assert (hit["id"], hit["path"], hit["url"]) == (RICE_ID, RICE_ID, "https://www.nongnghiep.example/gia-lua-tang")


@pytest.mark.parametrize(
    ("url", "site"),
    [
        ("https://www.nongnghiep.example/gia-lua", "nongnghiep.example"),
        ("http://tuoitre.vn:8080/a?b=c", "tuoitre.vn"),
        ("javascript:alert(1)", ""),
        ("http://[", ""),
        (None, ""),
    ],
)
def test_a_site_is_the_host_of_a_web_address_only(url, site):
    assert host(url) == site


# --- counts -----------------------------------------------------------------------------------------


def test_an_exact_count_is_said_without_about(client):
    assert re.search(r'<p class="stats">1 kết quả \(\d+,\d\d giây\)</p>', page(client, FARM))


def test_an_estimated_count_is_said_as_about(client, monkeypatch):
    original = Searcher.search

    def estimated(self, text, **options) -> SearchResults:
        results = original(self, text, **options)
        results.exact = False  # as Xapian's estimate on shards
        return results

    monkeypatch.setattr(Searcher, "search", estimated)
    assert re.search(r'<p class="stats">Khoảng 1 kết quả', page(client, FARM))


# --- date controls ----------------------------------------------------------------------------------


def test_without_any_dated_article_there_is_no_date_order_or_range(undated_client):
    body = page(undated_client, {"q": "chi thi"})
    assert hit_ids(body)
    assert "Sắp xếp" not in body and "Mới nhất" not in body and "Khoảng thời gian" not in body
    assert 'name="since"' not in body


def test_with_a_dated_article_the_date_controls_show(client):
    body = page(client, {"q": "chi thi"})
    assert "Mới nhất" in body and "Khoảng thời gian" in body


def test_date_fields_are_text_written_day_first(client):
    body = page(client, {"q": "lua", "since": "2024-05-01"})
    field = re.search(r'<input id="since"[^>]*>', body).group()
    assert 'type="text"' in field and 'placeholder="dd/mm/yyyy"' in field and 'value="01/05/2024"' in field
    assert "pattern=" in field and 'type="date"' not in body


@pytest.mark.parametrize("since", ["21/05/2024", "21-5-2024", "2024-05-21", " 21/05/2024 "])
def test_a_date_typed_day_first_or_as_iso_filters_alike(client, since):
    body = page(client, {"q": "lua", "since": since})
    assert hit_ids(body) == [DONG_HA]  # 22/05/2024; the rice article is of 20/05/2024
    assert "Từ ngày: 21/05/2024" in shown(body)


def test_a_date_not_day_first_is_explained_in_vietnamese(client):
    response = client.get("/", query_string={"q": "lua", "since": "05/32/2024"})
    assert response.status_code == 400
    assert "05/32/2024" in shown(response.get_data(as_text=True))
