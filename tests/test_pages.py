"""A long article is shown a page at a time, cut after paragraphs; a page costs what it shows."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pristine_seeds import pristine_seeds

from searchkit.build.index import build
from searchkit.search.highlight import Matcher
from searchkit.search.pages import PAGE_CHARS, first_marked_page, page_count, page_span, page_start
from searchkit.search.searcher import Searcher
from searchkit.text.analysis import fold
from searchkit.webapp.app import create_app

SEEDS = pristine_seeds()
# Seed 002 never writes "nêu" (nor "nếu", "nều"…); seed 004 writes it four times ("nêu gương").
FILLER = SEEDS / "002_9dfebe253e7ee071.txt"
NEU_GUONG = SEEDS / "004_a29b889078a98f24.txt"
LONG = "dai.txt"
# About 217,000 characters: eight pages.
REPEATS = 36


def long_text() -> tuple[str, int]:
    """A long article of real news paragraphs, "nêu" first written past its middle; where."""
    filler = FILLER.read_text(encoding="utf-8").split("\n", 1)[1].strip() + "\n"
    assert "neu" not in fold(filler).split()
    middle = REPEATS * 6 // 10
    body = "".join(filler for _ in range(middle)) + NEU_GUONG.read_text(encoding="utf-8").split("\n", 1)[1] + "\n"
    text = "Bản tin dài: nhiều bài báo nối nhau\n\n" + body + "".join(filler for _ in range(REPEATS - middle))
    return text, next(m.start() for m in re.finditer(r"\w+", text) if fold(m.group()) == "neu")


@pytest.fixture(scope="module")
def long_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    seeds = tmp_path_factory.mktemp("long-seeds")
    for path in SEEDS.iterdir():
        shutil.copy(path, seeds / path.name)
    (seeds / LONG).write_text(long_text()[0], encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("long-index")
    build(seeds, index_dir, procs=1)
    return index_dir


@pytest.fixture(scope="module")
def client(long_index: Path):
    return create_app(index_dir=long_index, seeds_dir=long_index).test_client()


def test_pages_are_cut_after_paragraphs_and_hold_the_whole_text_once():
    text, _ = long_text()
    pages = page_count(text)
    assert pages == -(-len(text) // PAGE_CHARS) > 5
    spans = [page_span(text, n) for n in range(1, pages + 1)]
    assert "".join(text[a:b] for a, b in spans) == text
    for a, b in spans[:-1]:
        assert text[b - 1] == "\n" and PAGE_CHARS * 3 // 4 <= b - a <= PAGE_CHARS * 5 // 4
    # Each page is found by itself, as the one before it ends.
    assert [page_start(text, n - 1) for n in range(1, pages + 1)] == [a for a, _ in spans]


def test_a_text_without_line_breaks_is_cut_after_a_space_or_where_it_must():
    words = "nêu gương " * 10_000
    assert words[page_start(words, 1) - 1] == " "
    assert page_start("x" * 100_000, 1) == PAGE_CHARS
    assert page_count("") == page_count("ngắn") == 1


def test_the_first_marked_page_is_the_one_holding_the_first_match():
    text, first = long_text()
    number = first_marked_page(text, Matcher(["nêu"]))
    start, end = page_span(text, number)
    assert number > 1 and start <= first < end
    assert first_marked_page(text, Matcher(["khongcotu"])) is None


def test_a_long_article_page_is_one_page_with_a_link_to_the_next(client):
    response = client.get(f"/articles/{LONG}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    # The article is 217,000 characters; its page holds one page of it.
    assert len(response.data) < 2 * PAGE_CHARS + 20_000
    assert f"Trang 1/{page_count(long_text()[0])}" in page
    assert f'<a rel="next" href="/articles/{LONG}?page=2">Trang sau ›</a>' in page
    assert 'rel="prev"' not in page


def test_the_next_page_continues_the_article_and_links_back(client):
    text, _ = long_text()
    page = client.get(f"/articles/{LONG}?page=2").get_data(as_text=True)
    start, end = page_span(text, 2)
    first_line = text[start:end].strip().splitlines()[0]
    assert first_line[:60] in page.replace("&#34;", '"').replace("&#39;", "'")
    assert f'<a rel="prev" href="/articles/{LONG}?page=1">‹ Trang trước</a>' in page


def test_with_a_query_the_page_shown_holds_the_first_match_marked(client):
    text, first = long_text()
    number = next(n for n in range(1, page_count(text) + 1) if page_span(text, n)[0] <= first < page_span(text, n)[1])
    page = client.get(f"/articles/{LONG}?q=n%C3%AAu").get_data(as_text=True)
    assert number > 1
    assert f"Trang {number}/" in page
    assert "<mark>nêu</mark>" in page
    assert "được tô màu trên trang này" in page
    # The links to the other pages keep the query, so they are marked too.
    assert re.search(rf'href="/articles/{LONG}\?page={number + 1}&amp;q=n%C3%AAu"', page)
    elsewhere = client.get(f"/articles/{LONG}?page=1&q=n%C3%AAu").get_data(as_text=True)
    assert "Trang này không có chỗ nào khớp với <q>nêu</q>" in elsewhere


def test_a_page_past_the_last_is_explained_in_vietnamese(client):
    pages = page_count(long_text()[0])
    for asked in (str(pages + 1), "0", "hai"):
        response = client.get(f"/articles/{LONG}?page={asked}")
        assert response.status_code == 400
        assert "Số trang phải là một số nguyên từ 1 đến" in response.get_data(as_text=True)
    assert f"từ 1 đến {pages}." in client.get(f"/articles/{LONG}?page={pages + 1}").get_data(as_text=True)


def test_a_short_article_is_one_page_without_page_links(client):
    page = client.get(f"/articles/{NEU_GUONG.name}?q=neu+guong").get_data(as_text=True)
    assert "article-pages" not in page and "chỗ khớp với <q>neu guong</q> được tô màu." in page


def test_the_library_shows_the_first_marked_page(long_index: Path):
    with Searcher(long_index) as searcher:
        found = searcher.article(LONG, searcher.matcher("nêu"))
        assert found is not None and found.page > 1 and found.matches >= 1
        assert len(found.body.text()) <= PAGE_CHARS * 5 // 4 + 1
        assert searcher.article(LONG).page == 1
