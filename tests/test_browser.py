"""The search page in a real headless Chromium, served by waitress as `searchkit serve` serves it.

CI must run this test: there, a missing Chromium or Playwright is a failure, not a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from corpora import OddIds, odd_title

from searchkit.build.index import build
from searchkit.webapp.app import create_app, make_server, server_urls

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEU_GUONG = "004_a29b889078a98f24.txt"
# Debian's chromium, started the way it works in containers: no sandbox, no GPU, nothing fetched.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 375, "height": 740}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI: run 'make test')")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    chromium = shutil.which("chromium")
    if chromium is None:
        _unavailable("chromium is not installed (scripts/install-browser.sh)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(seeds_index: Path) -> Iterator[str]:
    """The site on a free localhost port, served by waitress from a background thread."""
    server = make_server(create_app(index_dir=seeds_index), host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server_urls(server)[0]
    server.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.errors = []
    page.on("console", lambda message: message.type == "error" and page.errors.append(message.text))
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    context.close()


def hit_ids(page) -> list[str]:
    """The articles the results list, in order, read from their title links (no id is shown)."""
    links = page.locator(".hit .hit-title a")
    return [unquote(urlsplit(href).path.removeprefix("/articles/")) for href in links.evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )]


def search(page, site: str, text: str) -> None:
    page.goto(site)
    page.fill("input[name=q]", text)
    with page.expect_navigation():
        page.press("input[name=q]", "Enter")


def test_typing_neu_guong_finds_the_article_and_opens_it(page, site):
    search(page, site, "neu guong")
    assert re.search(r"[?&]q=neu\+guong", page.url)
    assert page.input_value("input[name=q]") == "neu guong"
    # An exact count, said without "Khoảng" (about).
    assert re.fullmatch(r"4 kết quả \(\d+,\d\d giây\)", page.inner_text(".stats"))
    first = page.locator(".hit").first
    assert hit_ids(page)[0] == NEU_GUONG and NEU_GUONG not in first.inner_text()
    marks = first.locator(".hit-snippet mark")
    assert marks.count() >= 1
    assert "nêu gương" in marks.all_inner_texts()

    title = first.locator(".hit-title a")
    expected_title = title.inner_text()
    with page.expect_navigation():
        title.click()
    assert f"/articles/{NEU_GUONG}" in page.url
    assert page.inner_text("h1") == expected_title
    assert page.locator("h1 mark").count() >= 1
    assert page.locator(".article-text mark").count() >= 3
    assert page.errors == []


def test_an_unaccented_query_marks_its_restored_words_not_those_folding_alike(page, site):
    search(page, site, "chi thi 05")
    snippets = page.locator(".hit-snippet mark").all_inner_texts()
    assert "Chỉ thị 05" in snippets and "Chí" not in snippets
    with page.expect_navigation():
        page.locator(".hit-title a", has_text="An Khê").click()
    marked = page.locator(".article-text mark").all_inner_texts()
    assert "Chỉ thị 05" in marked and "Chí" not in marked
    assert "Hồ Chí Minh" in page.inner_text(".article-text")
    assert page.errors == []


def test_markup_typed_as_a_query_is_shown_as_text(page, site):
    query = '<script>alert("zzxss")</script>'
    search(page, site, query)
    assert page.input_value("input[name=q]") == query
    assert page.title() == f"{query} – Tìm kiếm"
    assert page.inner_text(".notice h1 q") == query
    assert page.inner_text(".notice h1").startswith("Không tìm thấy kết quả nào cho")
    search(page, site, "<img src=x onerror=alert(1)> nêu gương")
    assert page.locator("main script, main img").count() == 0
    assert page.dialogs == []
    assert page.errors == []


def test_the_page_works_without_javascript(browser, site):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(site)
        page.fill("input[name=q]", "nêu gương")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert hit_ids(page)[0] == NEU_GUONG
        with page.expect_navigation():
            page.locator(".hit-title a").first.click()
        assert page.locator(".article-text mark").count() >= 3
    finally:
        context.close()


def test_results_fit_a_phone_screen(browser, site):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        for path in ("", "?q=neu+guong", f"articles/{NEU_GUONG}?q=neu+guong", "?q=-khong"):
            page.goto(site + path)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, overflow)
        page.goto(site + "?q=neu+guong")
        box = page.locator("#q").bounding_box()
        button = page.locator(".searchbox button").bounding_box()
        assert box["width"] > PHONE["width"] / 2
        assert button["x"] + button["width"] <= PHONE["width"]
    finally:
        context.close()


# Ids a browser could mangle: a newline, "?", "#" and "%" in a file name, ".." in a JSON Lines id.
MANGLED = ["new\nline.txt", "hỏi? #1 & 100%.txt", "corpus.jsonl#a/../b"]


@pytest.fixture(scope="module")
def odd_site(odd_ids: OddIds) -> Iterator[str]:
    server = make_server(create_app(index_dir=odd_ids.index, seeds_dir=odd_ids.seeds), host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server_urls(server)[0]
    server.close()


def test_articles_with_odd_ids_open_from_their_links(page, odd_site, odd_ids: OddIds):
    for doc_id in MANGLED:
        word = odd_ids.words[doc_id]
        search(page, odd_site, word)
        assert page.locator(".hit").count() == 1, doc_id
        with page.expect_navigation():
            page.locator(".hit-title a").click()
        assert page.inner_text("h1") == odd_title(word), (doc_id, page.url)
        # The article is the one its link names; its id is not shown under the title.
        assert unquote(urlsplit(page.url).path.split("/articles/", 1)[1]) == doc_id
        assert page.locator(".meta .hit-path").count() == 0
    assert page.errors == []


# --- news: filters, sort and facets ------------------------------------------------------------------


@pytest.fixture(scope="module")
def news_site(news_index: Path) -> Iterator[str]:
    server = make_server(create_app(index_dir=news_index), host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server_urls(server)[0]
    server.close()


def shown_paths(page) -> list[str]:
    return hit_ids(page)


def test_facets_chips_sort_and_dates_narrow_the_news_and_live_in_the_address(page, news_site):
    page.set_viewport_size({"width": 1280, "height": 900})
    search(page, news_site, "việt nam")
    assert page.locator(".filters-panel summary").is_hidden()  # a sidebar, always open, on a wide screen
    source = page.locator(".facet-source a", has_text="VnExpress")
    assert source.locator(".count").inner_text() == "2"
    with page.expect_navigation():
        source.click()
    assert "source=VnExpress" in page.url
    assert sorted(shown_paths(page)) == ["tin.jsonl#vne-1", "tin.jsonl#vne-2"]
    assert [" ".join(chip.split()) for chip in page.locator(".chip").all_text_contents()] == ["Nguồn: VnExpress×"]
    # The other sources stay countable under the chosen one; the sort switch orders by date.
    assert page.locator(".facet-source .facet-value").all_inner_texts() == ["Tuổi Trẻ", "Thanh Niên", "✓ VnExpress"]
    with page.expect_navigation():
        page.click(".sort-switch a:text('Cũ nhất')")
    assert page.locator(".hit-date").all_inner_texts() == ["30/12/2023", "15/05/2024"]
    # A date range from the form, typed day first, keeps the source and the order.
    page.fill("input[name=since]", "01/01/2024")
    with page.expect_navigation():
        page.click(".dates button")
    assert shown_paths(page) == ["tin.jsonl#vne-1"]
    assert page.locator(".hit-source").all_inner_texts() == ["VnExpress"]
    bookmarked = page.url
    assert parse_qs(urlsplit(bookmarked).query)["since"] == ["01/01/2024"] and "sort=oldest" in bookmarked
    # Each chip removes its own filter.
    with page.expect_navigation():
        page.locator(".chip", has_text="Nguồn").click()
    assert len(shown_paths(page)) == 5 and "source=" not in page.url
    assert parse_qs(urlsplit(page.url).query)["since"] == ["01/01/2024"]
    # The bookmarked address gives the same search again.
    page.goto(bookmarked)
    assert shown_paths(page) == ["tin.jsonl#vne-1"]
    assert page.input_value("input[name=q]") == "việt nam"
    assert page.errors == []


def test_a_new_search_keeps_the_filters_and_an_empty_one_browses(page, news_site):
    page.goto(news_site + "?q=vi%E1%BB%87t+nam&tag=gi%C3%A1o+d%E1%BB%A5c")
    page.fill("input[name=q]", "trường học")
    with page.expect_navigation():
        page.press("input[name=q]", "Enter")
    assert shown_paths(page) == ["tin.jsonl#tn-2"] and "tag=gi" in page.url
    page.fill("input[name=q]", "")
    with page.expect_navigation():
        page.press("input[name=q]", "Enter")
    assert shown_paths(page) == ["tuoi-tre-tuyen-sinh.md", "tin.jsonl#tt-2", "tin.jsonl#tn-2"]
    assert page.title() == "Lọc bài viết – Tìm kiếm"


def test_filters_fold_into_a_block_to_open_on_a_phone(browser, news_site):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(news_site + "?q=vi%E1%BB%87t+nam&source=vnexpress&since=2023-01-01")
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        summary = page.locator(".filters-panel summary")
        assert summary.is_visible() and summary.inner_text() == "Bộ lọc và sắp xếp 2"
        assert page.locator(".facet-source").is_hidden()
        # The results come first on the screen, not below the facets.
        assert page.locator(".hit").first.bounding_box()["y"] < PHONE["height"] / 2
        summary.click()
        assert page.locator(".facet-source").is_visible() and page.locator(".chip").count() == 2
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    finally:
        context.close()


def test_a_bad_date_in_the_address_is_explained_on_the_page(page, news_site):
    response = page.goto(news_site + "?q=vi%E1%BB%87t+nam&until=2024-13-45")
    assert response.status == 400
    assert page.inner_text(".notice-error p") == (
        "Ngày “2024-13-45” không đọc được: hãy viết theo dạng 22/05/2024 hoặc 2024-05-22."
    )
    with page.expect_navigation():
        page.locator(".chip").click()
    assert len(shown_paths(page)) == 8
    # Chromium reports the page's own 400 status on the console; nothing else may appear there.
    assert [error for error in page.errors if "status of 400" not in error] == []


def test_tag_and_year_facets_add_filters_and_newest_first_orders_by_date(page, news_site):
    page.set_viewport_size({"width": 1280, "height": 900})
    search(page, news_site, "việt nam")
    with page.expect_navigation():
        page.locator(".facet-tags a", has_text="giáo dục").click()
    assert sorted(shown_paths(page)) == ["tin.jsonl#tn-2", "tin.jsonl#tt-2", "tuoi-tre-tuyen-sinh.md"]
    with page.expect_navigation():
        page.locator(".facet-year a", has_text="2024").click()
    assert "since=2024-01-01" in page.url and "until=2024-12-31" in page.url
    with page.expect_navigation():
        page.click(".sort-switch a:text('Mới nhất')")
    assert page.locator(".hit-date").all_inner_texts() == ["22/05/2024", "01/01/2024"]
    assert page.locator(".hit-source").all_inner_texts() == ["Tuổi Trẻ", "Tuoi Tre"]
    chips = [" ".join(chip.split()) for chip in page.locator(".chip").all_text_contents()]
    assert chips == ["Chủ đề: giáo dục×", "Từ ngày: 01/01/2024×", "Đến ngày: 31/12/2024×"]


# --- completions under the search box ---------------------------------------------------------------


def completions(page) -> list[str]:
    return page.locator("#q-completions [role=option]").all_inner_texts()


def completions_of(page, typed: str) -> list[str]:
    """The completions shown once the page has those of ``typed``: on a slow machine the typing can
    pause after an earlier prefix, whose completions show until the answer for the whole text arrives."""
    page.wait_for_function(
        "typed => { const box = document.querySelector('#q-completions');"
        " return box && !box.hidden && box.dataset.query === typed; }",
        arg=typed,
    )
    return completions(page)


def test_completions_appear_as_you_type_and_enter_searches_the_chosen_one(page, site):
    page.goto(site)
    box = page.locator("#q")
    assert box.get_attribute("role") == "combobox"
    assert box.get_attribute("aria-expanded") == "false"
    box.press_sequentially("neu g", delay=30)
    listbox = page.locator("#q-completions")
    listbox.wait_for(state="visible")
    assert listbox.get_attribute("role") == "listbox"
    assert box.get_attribute("aria-controls") == "q-completions"
    assert box.get_attribute("aria-expanded") == "true"
    assert completions_of(page, "neu g")[0] == "nêu gương"

    box.press("ArrowDown")
    first = page.locator("#q-completions [role=option]").first
    assert first.get_attribute("aria-selected") == "true"
    assert box.get_attribute("aria-activedescendant") == first.get_attribute("id")
    assert page.evaluate("document.activeElement.id") == "q"  # the focus stays in the box
    box.press("ArrowUp")  # back to the text as typed
    assert box.get_attribute("aria-activedescendant") is None
    assert first.get_attribute("aria-selected") == "false"
    box.press("ArrowDown")
    with page.expect_navigation():
        box.press("Enter")
    assert re.search(r"[?&]q=n%C3%AAu\+g%C6%B0%C6%A1ng", page.url)
    assert page.input_value("#q") == "nêu gương"
    assert hit_ids(page)[0] == NEU_GUONG
    assert page.errors == []


def test_escape_closes_the_completions_and_enter_then_searches_what_was_typed(page, site):
    page.goto(site)
    box = page.locator("#q")
    box.press_sequentially("dang v", delay=30)
    page.locator("#q-completions").wait_for(state="visible")
    assert "đảng viên" in completions_of(page, "dang v")
    box.press("Escape")
    page.locator("#q-completions").wait_for(state="hidden")
    assert box.get_attribute("aria-expanded") == "false"
    assert box.input_value() == "dang v"
    with page.expect_navigation():
        box.press("Enter")
    assert re.search(r"[?&]q=dang\+v(&|$)", page.url)
    assert page.errors == []


def test_a_completion_can_be_clicked(page, site):
    page.goto(site + "?q=x")  # the box in the header of a results page
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially("Thanh u", delay=30)
    option = page.locator("#q-completions [role=option]", has_text="Thành ủy")
    with page.expect_navigation():
        option.click()
    assert page.input_value("#q") == "Thành ủy"
    assert page.errors == []


def test_typing_fast_asks_once_per_pause(page, site):
    asked: list[str] = []
    page.on("request", lambda request: "/api/complete" in request.url and asked.append(request.url))
    page.goto(site)
    page.locator("#q").press_sequentially("hoc tap", delay=10)
    page.locator("#q-completions").wait_for(state="visible")
    assert len(asked) == 1 and asked[0].endswith("q=hoc%20tap")
    assert completions(page)[0].startswith("học tập")


def test_an_article_lists_related_articles(page, site):
    page.goto(site + f"articles/{NEU_GUONG}")
    related = page.locator("aside.related")
    assert related.locator("h2").inner_text() == "Bài liên quan"
    links = related.locator("a")
    assert 1 <= links.count() <= 5
    title = links.first.inner_text()
    with page.expect_navigation():
        links.first.click()
    assert page.inner_text("h1") == title
    assert page.errors == []


# --- what the results say, on a small collection with and without dates ------------------------------

RICE = (
    "---\ntitle: Giá lúa tăng mạnh ở đồng bằng sông Cửu Long\ndate: 2024-05-20\nsource: Báo Nông nghiệp\n"
    "tags: [kinh tế]\nurl: https://www.nongnghiep.example/gia-lua-tang\n---\n# Giá lúa tăng mạnh\n\n"
    "Những ngày qua, giá lúa ở đồng bằng sông Cửu Long tăng mạnh. Thương lái thu mua lúa tươi với giá cao "
    "hơn tuần trước. Nông dân phấn khởi vì vụ lúa được mùa được giá.\n"
)
FARM = "?q=lua&source=B%C3%A1o+N%C3%B4ng+nghi%E1%BB%87p&tag=kinh+t%E1%BA%BF"
DATED_SEED = "003_b3e0a07a9f4fc9ac.txt"


def serve_folder(seeds: Path, index_dir: Path) -> Iterator[str]:
    build(seeds, index_dir, procs=1)
    server = make_server(create_app(index_dir=index_dir), host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server_urls(server)[0]
    server.close()


@pytest.fixture(scope="module")
def farm_site(seeds_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeds and an article about rice (lúa) with a source, a tag, a date and an address."""
    seeds = tmp_path_factory.mktemp("farm-seeds")
    for path in seeds_dir.iterdir():
        shutil.copy(path, seeds / path.name)
    (seeds / "gia-lua.md").write_text(RICE, encoding="utf-8")
    yield from serve_folder(seeds, tmp_path_factory.mktemp("farm-index"))


@pytest.fixture(scope="module")
def undated_site(seeds_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The seeds but the one with a dateline: no article has a date."""
    seeds = tmp_path_factory.mktemp("undated-seeds")
    for path in seeds_dir.iterdir():
        if path.name != DATED_SEED:
            shutil.copy(path, seeds / path.name)
    yield from serve_folder(seeds, tmp_path_factory.mktemp("undated-index"))


def test_a_hit_reads_as_source_date_and_site_and_its_heading_stands_apart(page, farm_site):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(farm_site + FARM)
    assert page.inner_text(".stats").startswith("1 kết quả (")
    assert page.inner_text(".hit-meta") == "Báo Nông nghiệp · 20/05/2024 · nongnghiep.example"
    assert "gia-lua.md" not in page.inner_text(".hits")
    snippet = page.inner_text(".hit-snippet")
    assert snippet.startswith("Giá lúa tăng mạnh · Những ngày qua") and not snippet.endswith(".…")
    # The only hit is about lúa: no "did you mean lựa".
    assert page.locator(".suggestion").count() == 0
    with page.expect_navigation():
        page.locator(".hit-title a").click()
    assert "/articles/gia-lua.md" in page.url
    # Beside the articles about Directive 05 it shares only common words: no related articles.
    assert page.locator("aside.related").count() == 0
    assert page.errors == []


def test_the_suggestion_shows_where_the_hits_spell_it(page, farm_site):
    page.goto(farm_site + "?q=lua")
    assert page.inner_text(".suggestion strong") == "lựa"


def test_without_dated_articles_there_is_no_date_order_or_range(page, undated_site):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(undated_site + "?q=chi+thi")
    assert hit_ids(page) and page.locator(".hit-date").count() == 0
    assert page.locator(".sort-switch").count() == 0 and page.locator("form.dates").count() == 0
    assert "Sắp xếp" not in page.inner_text("aside.filters")
    assert page.errors == []


def test_dates_are_shown_and_typed_day_first(page, farm_site):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(farm_site + "?q=lua&since=2024-05-01")  # an ISO date in the address still reads
    since, until = page.locator("#since"), page.locator("#until")
    assert since.input_value() == "01/05/2024" and since.get_attribute("placeholder") == "dd/mm/yyyy"
    assert since.get_attribute("type") == "text"
    # The browser refuses what is no day-first date before sending it (and says how to write one).
    until.fill("5/21/2024x")
    assert until.evaluate("field => field.validity.patternMismatch")
    until.fill("21/05/2024")
    assert not until.evaluate("field => field.validity.patternMismatch")
    with page.expect_navigation():
        page.click(".dates button")
    assert hit_ids(page) == ["gia-lua.md"]  # 20/05/2024; Đông Hà's article is of 22/05/2024
    chips = [" ".join(chip.split()) for chip in page.locator(".chip").all_text_contents()]
    assert chips == ["Từ ngày: 01/05/2024×", "Đến ngày: 21/05/2024×"]
    assert page.locator("#until").input_value() == "21/05/2024"
    assert page.errors == []


def test_results_and_filters_read_well_on_a_375_pixel_phone(browser, farm_site, tmp_path: Path):
    context = browser.new_context(viewport=SMALL_PHONE, is_mobile=True, has_touch=True, locale="vi-VN")
    page = context.new_page()
    try:
        page.goto(farm_site + "?q=lua&source=B%C3%A1o+N%C3%B4ng+nghi%E1%BB%87p")
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        meta = page.locator(".hit-meta").first.bounding_box()
        assert page.locator(".hit-title").first.bounding_box()["y"] < SMALL_PHONE["height"] / 2
        assert meta["x"] + meta["width"] <= SMALL_PHONE["width"]
        page.screenshot(path=str(tmp_path / "results-375.png"))
        page.locator(".filters-panel summary").click()
        for control in ("#since", "#until", ".dates button", ".sort-switch"):
            box = page.locator(control).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= SMALL_PHONE["width"], control
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
        page.screenshot(path=str(tmp_path / "filters-375.png"), full_page=True)
    finally:
        context.close()
