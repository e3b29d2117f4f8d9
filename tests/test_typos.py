"""Typos read from the titles and pairs around them: the next reading, foreign neighbours, questions, and a typo
making another written word whose pairs are written often (``kinh hang xe`` for ``kinh hoàng xe``)."""

from __future__ import annotations

import pytest
from test_correction import fixed, searcher_over

from searchkit.search import correction

# Constructed articles. "như" is written far more often than "nhất", and between "sĩ" and "đột" too, but only a
# title writes "sĩ Nhật đột"; "gam" is a Vietnamese word written often, "Games" a foreign one written beside "SEA" in a
# title; "hàng" is written beside "kính" (six times) and before "xe" (often), "hoàng" beside "kinh" far more often.
ARTICLES = {
    "ca-si.txt": "Nữ ca sĩ Nhật đột tử\n\nNữ ca sĩ Nhật đột tử tại nhà riêng ở Tokyo.",
    "nhu.txt": "Trời mưa như trút\n\n" + "Trời mưa như trút, người nghệ sĩ như đột nhiên quên lời. " * 20,
    "sea-games.txt": "Bóng đá nam dự SEA Games\n\nĐội tuyển bóng đá nam đã dự SEA Games với nhiều cầu thủ trẻ.",
    "gam.txt": "Giá vàng mỗi gam\n\n" + "Mỗi gam vàng tăng giá, mỗi gam bạc giảm giá. " * 20,
    "kinh-hoang.txt": "Kinh hoàng xe máy tông nhau\n\n" + "Kinh hoàng cảnh xe máy tông nhau. Kinh hoàng quá. " * 40,
    "hang-xe.txt": "Hãng xe ra mắt mẫu mới\n\n" + "Hãng xe ra mắt mẫu mới, hàng xe chờ đầy bãi. " * 30,
    "kinh-hang.txt": "Cửa kính hàng quán\n\n" + "Cửa kính hàng quán vỡ, người bán lau kính hàng ngày. " * 3,
    "mat-ngu.txt": "Làm gì để không bị mất ngủ\n\nLàm gì để không bị mất ngủ: ngủ đúng giờ, không uống cà phê.",
    "khong.txt": "Không khí mùa thu\n\n" + "Không khí mùa thu không lạnh, không nóng. " * 20,
}


@pytest.fixture(scope="module")
def titled(tmp_path_factory: pytest.TempPathFactory):
    yield from searcher_over(tmp_path_factory, "titled-typos", ARTICLES)


def test_a_title_writing_the_words_around_a_typo_with_the_next_reading_reads_it(titled):
    results = titled.search("ca si nht dot tu")
    assert fixed(results) == {"nht": "nhat"}
    assert results.hits[0].id == "ca-si.txt"


def test_a_typo_beside_a_foreign_word_reads_the_neighbour_a_title_writes_beside_it(titled):
    # No pairs are counted beside "SEA" in the articles: the title's pair is the evidence.
    results = titled.search("du sea gams")
    assert fixed(results) == {"gams": "games"}
    assert results.hits[0].id == "sea-games.txt"


def test_a_typo_making_a_word_written_often_beside_its_neighbours_is_read_from_the_titles(titled):
    results = titled.search("kinh hang xe may tong nhau")
    assert fixed(results) == {"hang": "hoang"}
    assert results.hits[0].id == "kinh-hoang.txt"


@pytest.mark.parametrize(
    "typed",
    [
        "kinh hoang xe may tong nhau",
        "hang xe ra mat",
        "cua kinh hang quan",  # the words a title writes: read as typed
        "kinh hang",  # written beside each other, and no title writes "kinh hoang" alone with nothing after
    ],
)
def test_words_written_beside_each_other_are_never_read_from_the_titles_otherwise(titled, typed):
    assert fixed(titled.search(typed)) == {}


def test_a_question_s_word_never_written_is_corrected(titled):
    # Six words with "gì": searched as a question, partial matches ranked.
    results = titled.search("lam gi de krhong bi mat ngu")
    assert fixed(results) == {"krhong": "khong"}
    assert results.hits[0].id == "mat-ngu.txt"


def test_a_question_s_written_words_are_never_corrected(titled):
    # "hàng" is rarely written beside "kính" here: in a keyword query that may be a typo, in a question no.
    assert fixed(titled.search("vi sao kinh hang quan lai vo?")) == {}
    assert correction.correctable("krhong")


def test_a_word_read_from_the_titles_alone_stays_beside_another_typo(titled):
    # Beside a word never written, the query as typed is no phrase written whether "hang" was meant or not.
    assert fixed(titled.search("kinh hang xe may tongg nhau")) == {"tongg": "tong"}
