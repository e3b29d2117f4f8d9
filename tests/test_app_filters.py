"""Filters, sort orders and facets on the search page and in ``/api/search``, through Flask's test client.

The news archive of ``conftest.py`` (eight articles mentioning "Việt Nam"); the same searches as
``test_filters.py`` and ``test_cli.py`` run through the library and the terminal.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from searchkit.build.index import build
from searchkit.search import filters
from searchkit.search.filters import MAX_VALUES
from searchkit.webapp import failures as web
from searchkit.webapp.app import create_app

TUYEN_SINH = "tuoi-tre-tuyen-sinh.md"


@pytest.fixture(scope="module")
def client(news_index: Path):
    return create_app(index_dir=news_index).test_client()


def hit_ids(body: str) -> list[str]:
    """The articles a results page lists, in order, read from their title links."""
    return [unquote(i) for i in re.findall(r'<h2 class="hit-title"><a href="/articles/([^"?]*)', body)]


def api(client, **params) -> dict:
    response = client.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def page(client, query_string: str) -> str:
    response = client.get("/?" + query_string)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def paths(data: dict) -> list[str]:
    return sorted(hit["path"] for hit in data["results"])


def links(page_html: str, css_class: str) -> dict[str, dict[str, list[str]]]:
    """Each link inside elements of ``css_class``: its text (spaces collapsed) -> its query string."""
    found = {}
    for block in re.findall(rf'<section class="[^"]*\b{css_class}\b[^"]*">(.*?)</section>', page_html, re.S):
        for href, text in re.findall(r'<a[^>]* href="([^"]*)"[^>]*>(.*?)</a>', block, re.S):
            label = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())
            found[label] = parse_qs(urlsplit(html.unescape(href)).query)
    return found


# --- the JSON API ----------------------------------------------------------------------------------------


def test_api_filters_repeat_and_combine(client):
    assert len(api(client, q="việt nam", limit=20)["results"]) == 8
    assert paths(api(client, q="việt nam", since="2024-05-22")) == ["tin.jsonl#tn-1", TUYEN_SINH]
    assert paths(api(client, q="việt nam", until="31/12/2023")) == ["tin.jsonl#vne-2"]
    both = client.get("/api/search?q=viet+nam&source=vnexpress&source=THANH+NIEN").get_json()
    assert paths(both) == ["tin.jsonl#tn-1", "tin.jsonl#tn-2", "tin.jsonl#vne-1", "tin.jsonl#vne-2"]
    tags = client.get("/api/search?q=viet+nam&tag=the+thao&tag=Gi%C3%A1+v%C3%A0ng").get_json()
    assert paths(tags) == ["tin.jsonl#tn-1", "tin.jsonl#vne-1"]
    assert paths(api(client, q="việt nam", tag="giáo dục", since="2024-01-01")) == ["tin.jsonl#tt-2", TUYEN_SINH]


def test_api_sorts_and_browses_newest_first_without_text(client):
    oldest = api(client, q="việt nam", sort="oldest", limit=3)
    assert oldest["sort"] == "oldest" and [hit["date"] for hit in oldest["results"]] == [
        "2023-12-30", "2024-01-01", "2024-04-15"
    ]
    browsed = api(client, source="tuổi trẻ")
    assert browsed["query"] == "" and browsed["sort"] == "newest" and browsed["total"] == 3
    assert [hit["path"] for hit in browsed["results"]] == [TUYEN_SINH, "tin.jsonl#tt-2", "ngay-hong.md"]


def test_api_hits_carry_metadata_and_the_object_carries_facets(client):
    data = api(client, q="tuyển sinh")
    hit = data["results"][0]
    assert {key: hit[key] for key in ("date", "source", "tags", "url")} == {
        "date": "2024-05-22",
        "source": "Tuổi Trẻ",
        "tags": ["giáo dục", "Hà Nội"],
        "url": "https://tuoitre.example/tuyen-sinh",
    }
    assert list(data)[-1] == "facets"
    facets = api(client, q="việt nam", source="VnExpress", since="2024-01-01")["facets"]
    assert facets == {
        # The source facet ignores the source filter; every facet but the year's applies the dates.
        "source": [
            {"value": "Tuổi Trẻ", "count": 2},
            {"value": "Thanh Niên", "count": 1},
            {"value": "VnExpress", "count": 1},
        ],
        "tags": [{"value": "giá vàng", "count": 1}, {"value": "kinh tế", "count": 1}],
        "year": [{"value": 2024, "count": 1}, {"value": 2023, "count": 1}],
    }


@pytest.mark.parametrize(
    ("query_string", "code", "message"),
    [
        ("q=viet&since=2024-13-45", "date_invalid", "since is not a date: '2024-13-45'"),
        ("q=viet&until=h%C3%B4m+qua", "date_invalid", "until is not a date: 'hôm qua'"),
        ("since=31/02/2024", "date_invalid", "since is not a date"),
        ("q=viet&since=2024-06-01&until=2024-05-01", "date_range", "the date range ends before it starts"),
        ("q=viet&sort=popular", "sort_unknown", "unknown sort 'popular'"),
        ("sort=newest", "query_empty", "the query is empty"),
        ("q=viet&" + "&".join(f"tag=t{n}" for n in range(MAX_VALUES + 1)), "filter_too_many", "too many tag filters"),
        ("q=viet&source=" + "x" * 201, "filter_too_long", "a source filter is too long"),
    ],
)
def test_api_bad_filters_and_sorts_are_a_400_json_error_with_a_code(client, query_string, code, message):
    response = client.get("/api/search?" + query_string)
    assert response.status_code == 400 and response.mimetype == "application/json"
    error = response.get_json()
    assert (error["code"], error["status"]) == (code, 400)
    assert error["error"].startswith(message)


# --- the page ----------------------------------------------------------------------------------------------


def test_each_result_shows_its_date_and_source(client):
    body = page(client, "q=tuy%E1%BB%83n+sinh")
    assert '<time class="hit-date" datetime="2024-05-22">22/05/2024</time>' in body
    assert '<span class="hit-source">Tuổi Trẻ</span>' in body


def test_facets_are_links_adding_a_filter_with_their_counts(client):
    body = page(client, "q=vi%E1%BB%87t+nam&tag=kinh+t%E1%BA%BF")
    sources = links(body, "facet-source")
    assert sources == {
        "VnExpress 2": {"q": ["việt nam"], "source": ["VnExpress"], "tag": ["kinh tế"]},
    }
    tags = links(body, "facet-tags")
    assert tags["✓ kinh tế 2"] == {"q": ["việt nam"]}  # the chosen value removes itself
    assert tags["giáo dục 3"] == {"q": ["việt nam"], "tag": ["kinh tế", "giáo dục"]}
    years = links(body, "facet-year")
    assert years == {
        "2023 1": {"q": ["việt nam"], "tag": ["kinh tế"], "since": ["2023-01-01"], "until": ["2023-12-31"]},
        "2024 1": {"q": ["việt nam"], "tag": ["kinh tế"], "since": ["2024-01-01"], "until": ["2024-12-31"]},
    }


def test_active_filters_are_chips_that_each_remove_one(client):
    body = page(client, "q=vi%E1%BB%87t+nam&source=vnexpress&source=Thanh+Ni%C3%AAn&since=1%2F1%2F2024&sort=newest")
    chips = links(body, "chips-group")
    assert chips == {
        "Nguồn: vnexpress ×": {"q": ["việt nam"], "source": ["Thanh Niên"], "since": ["1/1/2024"], "sort": ["newest"]},
        "Nguồn: Thanh Niên ×": {"q": ["việt nam"], "source": ["vnexpress"], "since": ["1/1/2024"], "sort": ["newest"]},
        "Từ ngày: 01/01/2024 ×": {"q": ["việt nam"], "source": ["vnexpress", "Thanh Niên"], "sort": ["newest"]},
        "Bỏ mọi bộ lọc": {"q": ["việt nam"], "sort": ["newest"]},
    }
    assert 'class="badge">3<' in body


def test_the_sort_switch_and_the_date_form_keep_everything_else(client):
    body = page(client, "q=vi%E1%BB%87t+nam&tag=gi%C3%A1o+d%E1%BB%A5c&since=2024-01-01")
    assert links(body, "sort") == {
        "Mới nhất": {"q": ["việt nam"], "tag": ["giáo dục"], "since": ["2024-01-01"], "sort": ["newest"]},
        "Cũ nhất": {"q": ["việt nam"], "tag": ["giáo dục"], "since": ["2024-01-01"], "sort": ["oldest"]},
    }
    assert '<span class="current" aria-current="true">Liên quan nhất</span>' in body
    form = re.search(r'<form class="filter-group dates".*?</form>', body, re.S).group()
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form)
    assert hidden == [("q", "việt nam"), ("tag", "giáo dục")]
    assert re.search(r'name="since" type="text"[^>]*placeholder="dd/mm/yyyy"[^>]*value="01/01/2024"', form)
    assert re.search(r'name="until" type="text"[^>]*value=""', form)
    # A new search from the box keeps the filters, which stay removable beside the results.
    box = re.search(r'<form class="searchbox".*?</form>', body, re.S).group()
    kept = re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', box)
    assert kept == [("tag", "giáo dục"), ("since", "2024-01-01")]


def test_filters_alone_browse_newest_first_without_the_relevance_switch(client):
    body = page(client, "until=2024-04-30")
    assert hit_ids(body) == ["ban-tin.txt", "tin.jsonl#tt-2", "tin.jsonl#vne-2"]
    assert "<title>Lọc bài viết – Tìm kiếm</title>" in body
    assert "Liên quan nhất" not in body and '<span class="current" aria-current="true">Mới nhất</span>' in body
    assert 'href="/articles/tin.jsonl%23tt-2"' in body  # no empty query on the article links


def test_page_links_carry_the_filters(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    lines = [
        json.dumps({"id": f"t{n}", "title": f"Tin số {n}", "text": "Tin về Huế.", "source": "Báo Huế", "date": day})
        for n, day in enumerate(f"2024-05-{n + 1:02d}" for n in range(25))
    ]
    (seeds / "tin.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build(seeds, tmp_path / "index", procs=1)
    body = create_app(index_dir=tmp_path / "index").test_client().get("/?source=bao+hue").get_data(as_text=True)
    assert [i.removeprefix("tin.jsonl#") for i in hit_ids(body)][:2] == ["t24", "t23"]
    assert 'rel="next" href="/?source=bao+hue&amp;page=2"' in body


def test_a_bad_filter_gets_a_vietnamese_message_and_a_chip_to_remove_it(client):
    response = client.get("/?q=vi%E1%BB%87t+nam&since=h%C3%B4m+qua")
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Ngày “hôm qua” không đọc được: hãy viết theo dạng 22/05/2024 hoặc 2024-05-22." in body
    assert links(body, "chips-group") == {"Từ ngày: hôm qua ×": {"q": ["việt nam"]}}
    assert '<details class="filters-panel" open>' in body


@pytest.mark.parametrize(
    ("query_string", "message"),
    [
        ("q=viet&until=2024-13-45", "Ngày “2024-13-45” không đọc được"),
        ("q=viet&since=2024-06-01&until=2024-05-01", "ngày bắt đầu (01/06/2024) sau ngày kết thúc (01/05/2024)"),
        ("q=viet&sort=popular", "Không có cách sắp xếp “popular”"),
        ("source=" + "x" * 201, "Giá trị của bộ lọc quá dài (tối đa 200 ký tự)."),
    ],
)
def test_page_bad_filters_are_a_400_in_vietnamese(client, query_string, message):
    response = client.get("/?" + query_string)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_every_filter_error_code_has_a_vietnamese_message():
    source = Path(filters.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'code="([a-z_]+)"', source))
    assert codes == {"date_invalid", "date_range", "sort_unknown", "filter_too_many", "filter_too_long"}
    assert codes <= set(web._VIETNAMESE)


def test_no_text_and_no_filter_is_still_the_home_page(client):
    body = page(client, "q=&source=&since=")
    assert 'class="home"' in body and "Tìm trong các bài viết" in body


def test_sources_and_tags_from_articles_are_escaped(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    record = {
        "id": "x",
        "title": "Tin lạ",
        "text": "Tin về Huế.",
        "source": '<b onclick="x()">Báo</b>',
        "tags": ['"><script>alert(1)</script>'],
    }
    (seeds / "tin.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    build(seeds, tmp_path / "index", procs=1)
    client = create_app(index_dir=tmp_path / "index").test_client()
    body = client.get("/", query_string={"q": "huế", "tag": '"><script>alert(1)</script>'}).get_data(as_text=True)
    assert "<script>" not in body and "<b onclick" not in body
    assert "&lt;b onclick=&#34;x()&#34;&gt;Báo&lt;/b&gt;" in body
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_article_page_shows_its_date_source_and_site_under_the_title_never_its_id(client):
    body = client.get(f"/articles/{TUYEN_SINH}").get_data(as_text=True)
    meta = re.search(r'<p class="meta">(.*?)</p>', body, re.S).group(1)
    assert TUYEN_SINH not in meta and "hit-path" not in body
    assert "22/05/2024" in meta and ">Tuổi Trẻ</a>" in meta
    site = r'<a class="article-site" href="https://tuoitre.example/tuyen-sinh"[^>]*>Bài gốc \(tuoitre.example\)</a>'
    assert re.search(site, meta)


def test_the_article_page_links_its_source_and_tags_to_the_articles_sharing_them(client):
    body = client.get(f"/articles/{TUYEN_SINH}").get_data(as_text=True)
    assert '<time datetime="2024-05-22">22/05/2024</time>' in body
    source = re.search(r'<a class="article-source" href="([^"]+)">Tuổi Trẻ</a>', body).group(1)
    tags = re.findall(r'<a class="article-tag" href="([^"]+)">#([^<]+)</a>', body)
    assert [tag for _, tag in tags] == ["giáo dục", "Hà Nội"]
    browsed = page(client, urlsplit(html.unescape(source)).query)
    assert hit_ids(browsed) == [TUYEN_SINH, "tin.jsonl#tt-2", "ngay-hong.md"]
    browsed = page(client, urlsplit(html.unescape(tags[1][0])).query)
    assert hit_ids(browsed) == [TUYEN_SINH]
