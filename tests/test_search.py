"""Ranked search with snippets, on the real seed articles and on tiny constructed corpora."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from searchkit.errors import QueryError
from searchkit.index import build
from searchkit.search import Searcher, search

NEU_GUONG = "004_a29b889078a98f24.txt"
DONG_HA = "003_b3e0a07a9f4fc9ac.txt"


def make_index(tmp_path: Path, articles: dict[str, str]) -> Path:
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    for name, text in articles.items():
        (seeds / name).write_text(text, encoding="utf-8")
    build(seeds, index_dir, procs=1)
    return index_dir


def ids(results) -> list[str]:
    return [hit.id for hit in results.hits]


def test_accented_query_ranks_the_article_about_it_first(seeds_index: Path):
    results = search(seeds_index, "nêu gương")
    assert ids(results)[0] == NEU_GUONG
    assert "nêu gương" in results.hits[0].snippet.marked


def test_unaccented_query_finds_accented_article(seeds_index: Path):
    results = search(seeds_index, "neu guong")
    assert ids(results)[0] == NEU_GUONG
    assert "nêu gương" in results.hits[0].snippet.marked


def test_snippet_marks_exactly_the_original_words(seeds_index: Path):
    hit = search(seeds_index, "neu guong").hits[0]
    html = hit.snippet.html()
    assert "<mark>nêu gương</mark>" in html
    for marked in hit.snippet.marked:
        assert unicodedata.normalize("NFC", marked).lower().replace("ê", "e").replace("ư", "u").replace(
            "ơ", "o"
        ) in ("neu", "guong", "neu guong")


def test_old_and_new_tone_placement_find_the_same_articles(seeds_index: Path):
    new, old = search(seeds_index, "thành ủy"), search(seeds_index, "thành uỷ")
    assert DONG_HA in ids(new)
    assert ids(new)[0] == DONG_HA
    assert ids(old) == ids(new)


def test_nfd_query_matches_like_nfc(seeds_index: Path):
    nfd = unicodedata.normalize("NFD", "nêu gương")
    assert ids(search(seeds_index, nfd)) == ids(search(seeds_index, "nêu gương"))


def test_d_bar_folds_to_d(seeds_index: Path):
    assert DONG_HA in ids(search(seeds_index, "dong ha"))


def test_quoted_phrase_needs_adjacent_syllables(seeds_index: Path):
    phrase = search(seeds_index, '"học tập và làm theo"')
    assert phrase.total >= 4
    # The same words out of order appear in no article as a phrase.
    assert search(seeds_index, '"theo làm và tập học"').total == 0


def test_phrase_matches_without_diacritics(seeds_index: Path):
    assert ids(search(seeds_index, '"hoc tap va lam theo"')) == ids(search(seeds_index, '"học tập và làm theo"'))


def test_excluded_word_removes_articles(seeds_index: Path):
    everything = set(ids(search(seeds_index, "Chỉ thị")))
    without = set(ids(search(seeds_index, "Chỉ thị -gương")))
    assert NEU_GUONG in everything and NEU_GUONG not in without


def test_title_field_restricts_to_titles(seeds_index: Path):
    assert ids(search(seeds_index, "title:gương")) == [NEU_GUONG]


def test_no_match_is_an_empty_result(seeds_index: Path):
    results = search(seeds_index, "xylophone")
    assert results.total == 0 and results.hits == []


def test_pages_do_not_overlap(seeds_index: Path):
    first = search(seeds_index, "Hồ Chí Minh", limit=2, page=1)
    second = search(seeds_index, "Hồ Chí Minh", limit=2, page=2)
    assert first.total == second.total == 5
    assert not set(ids(first)) & set(ids(second))
    assert [h.rank for h in second.hits] == [3, 4]


def test_page_past_the_end_is_empty(seeds_index: Path):
    assert search(seeds_index, "Hồ Chí Minh", limit=10, page=3).hits == []


@pytest.mark.parametrize("text", ['"', "AND", "(", "title:", "-", "*", "a" * 5000, "OR OR", "nêu) (gương"])
def test_bad_syntax_gives_results_or_a_query_error(seeds_index: Path, text: str):
    try:
        search(seeds_index, text)
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)


def test_json_shape(seeds_index: Path):
    data = search(seeds_index, "nêu gương", limit=2).to_dict()
    assert set(data) >= {"query", "total", "results"}
    assert data["query"] == "nêu gương"
    assert set(data["results"][0]) == {"rank", "id", "path", "title", "score", "snippet"}
    assert data["results"][0]["path"] == NEU_GUONG


def test_each_accented_query_puts_its_own_article_first(tmp_path: Path):
    index_dir = make_index(
        tmp_path,
        {
            "ban-do.txt": "Tấm bản đồ\n\nNhà trường treo tấm bản đồ mới trong lớp học.",
            "ban-do-2.txt": "Chiếc bàn đỡ\n\nNhà trường mua chiếc bàn đỡ mới cho lớp học.",
        },
    )
    with Searcher(index_dir) as searcher:
        assert ids(searcher.search("bản đồ"))[0] == "ban-do.txt"
        assert ids(searcher.search("bàn đỡ"))[0] == "ban-do-2.txt"
        assert set(ids(searcher.search("ban do"))) == {"ban-do.txt", "ban-do-2.txt"}


def test_title_match_ranks_above_body_match(tmp_path: Path):
    index_dir = make_index(
        tmp_path,
        {
            "a.txt": "Tin địa phương\n\nHội nghị bàn về nông nghiệp; nêu gương được nhắc một lần.",
            "b.txt": "Trách nhiệm nêu gương\n\nHội nghị bàn về nông nghiệp và trách nhiệm của cán bộ.",
        },
    )
    assert ids(search(index_dir, "nêu gương"))[0] == "b.txt"


def test_adjacent_syllables_rank_above_scattered_ones(tmp_path: Path):
    index_dir = make_index(
        tmp_path,
        {
            "scattered.txt": "Tin một\n\nGương sáng của thôn được mọi người nêu ra tại cuộc họp tháng trước.",
            "adjacent.txt": "Tin hai\n\nCán bộ phải nêu gương trong công việc hằng ngày của thôn.",
        },
    )
    assert ids(search(index_dir, "neu guong"))[0] == "adjacent.txt"


def test_a_compound_word_ranks_above_the_same_syllables_across_a_boundary(tmp_path: Path):
    index_dir = make_index(
        tmp_path,
        {
            "split.txt": "Tin một\n\nBuổi chiều em ở nhà học. Tập thể dục vào sáng sớm giúp khỏe người.",
            "word.txt": "Tin hai\n\nBuổi chiều em ở nhà chăm chỉ học tập để thi cuối kỳ cho tốt.",
        },
    )
    assert ids(search(index_dir, "hoc tap"))[0] == "word.txt"


def test_long_question_ranks_partial_matches(seeds_index: Path):
    # No article holds every word of this question; the best partial matches still come back.
    results = search(seeds_index, "trách nhiệm nêu gương của người đứng đầu ở Nghệ An là gì hôm qua")
    assert results.total > 0
    assert ids(results)[0] == NEU_GUONG


def test_article_page_highlights_the_query(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        document, title, body = searcher.highlighted(NEU_GUONG, "neu guong")
    assert document.path == NEU_GUONG
    assert "nêu gương" in title.marked
    assert body.text().startswith("(Baonghean.vn)")
    assert len(body.marked) >= 3


def test_short_question_ranks_partial_matches(seeds_index: Path):
    # No article names both towns, so as keywords nothing matches…
    assert search(seeds_index, "Đông Hà Phước Long").total == 0
    assert search(seeds_index, "Đông Hà Phước").total == 0
    # …but a question word typed with its accents, or a final "?", asks for the best partial matches.
    asked = search(seeds_index, "Đông Hà Phước nào")
    assert asked.total >= 2 and ids(asked)[0] == DONG_HA
    assert search(seeds_index, "Đông Hà Phước Long?").total >= 2
    # Unaccented, "gi" may be another word: the query still needs every word.
    assert search(seeds_index, "Dong Ha Phuoc gi").total == 0

