"""Passages: a question's words held together in a few dozen syllables count more than the same
words scattered over a long article, and a syllable spelt as typed more than one folding alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchkit.search import parse as q
from searchkit.search.passages import Words, best_window, for_question, question_words, restored_spellings, word_pairs
from searchkit.search.questions import asks_number
from searchkit.search.ranking import Weights
from searchkit.search.restoration import Restoration, Restored
from searchkit.search.searcher import Searcher
from searchkit.text.analysis import Token
from tests.test_ranking import FILLER, make_index


class _Counts:
    """Term statistics of a hundred articles: ``nêu`` is rarer spelt so than folded (``nếu`` is common)."""

    frequencies = {
        ("body", "neu"): 60,
        ("body_exact", "nêu"): 5,
        ("body", "guong"): 10,
        ("body_exact", "gương"): 10,
        ("body", "cua"): 95,
        ("body_exact", "của"): 90,
    }

    def doc_count(self) -> int:
        return 100

    def doc_frequency(self, fieldname: str, text: str) -> int:
        return self.frequencies.get((fieldname, text), 0)


@pytest.fixture
def words() -> Words:
    return question_words(["nêu", "gương", "của", "nêu"], _Counts(), loose=0.3)


def test_a_syllable_typed_with_marks_weighs_its_own_spelling(words: Words):
    assert words.folded == ("neu", "guong", "cua")
    assert words.spelt == ("nêu", "gương", "của")
    neu, guong, cua = words.exact
    assert neu > guong > cua > 0  # "nêu" is rarer spelt so than "gương"; "của" is in most articles
    assert words.loose[0] == pytest.approx(0.3 * question_words(["neu"], _Counts(), loose=0.3).exact[0])


def test_the_words_together_hold_the_whole_question(words: Words):
    assert best_window("Cán bộ phải nêu gương của người đứng đầu.", words, 40) == pytest.approx(1.0)


def test_the_words_apart_hold_only_what_one_window_reaches(words: Words):
    text = "Cán bộ phải nêu ý kiến. " + FILLER * 2 + "Soi gương mỗi sáng."
    together = best_window("Cán bộ phải nêu gương.", words, 40)
    assert best_window(text, words, 40) < together
    assert best_window(text, words, 400) == pytest.approx(1.0)  # with "của" from the filler


def test_a_word_folding_alike_counts_less_than_the_spelling_typed(words: Words):
    exact = best_window("Đảng viên nêu gương.", words, 40)
    alike = best_window("Nếu gương vỡ thì thay.", words, 40)
    assert 0 < alike < exact


def test_typed_without_marks_any_spelling_counts_fully():
    words = question_words(["neu", "guong"], _Counts(), loose=0.3)
    assert best_window("Nếu gương vỡ.", words, 40) == pytest.approx(best_window("Nêu gương.", words, 40))


def test_typed_without_marks_a_syllable_weighs_the_spelling_restoration_reads():
    words = question_words(["neu", "guong"], _Counts(), loose=0.3, restored={"neu": "nêu"}, restored_loose=0.3)
    assert words.spelt == ("nêu", None)
    read = best_window("Đảng viên nêu gương.", words, 40)
    assert read == pytest.approx(1.0)
    assert 0 < best_window("Nếu gương vỡ thì thay.", words, 40) < read


def test_restoration_s_reading_counts_where_it_leaves_a_syllable_as_typed():
    # "do" read as "do" (because of) is not "đỏ"; a name keeps no reading; a syllable typed with marks is the
    # question's own spelling, not restoration's.
    typed = "do Nixon mau đỏ"
    tokens = [Token(m, typed.index(m), typed.index(m) + len(m)) for m in typed.split()]
    restoration = Restoration(
        typed, tuple(Restored(t, form, 0.9) for t, form in zip(tokens, ["do", "nixon", "màu", "đỏ"], strict=True))
    )
    assert restored_spellings(restoration) == {"do": "do", "mau": "màu"}


def test_a_number_counts_in_the_window_of_a_question_asking_how_many():
    typed = ["huyện", "có", "người", "dân"]
    counting = question_words(typed, _Counts(), loose=0.3, number=1.0)
    assert counting.number == pytest.approx(sum(counting.exact) / 4)
    answer, other = "Huyện có 11.713 người dân.", "Huyện có nhiều người dân."
    assert best_window(answer, counting, 40) == pytest.approx(1.0)
    assert best_window(other, counting, 40) == pytest.approx(0.8)
    # A question asking nothing of the kind holds both whole; a number it writes itself is one of its words.
    plain = question_words(typed, _Counts(), loose=0.3)
    assert best_window(answer, plain, 40) == best_window(other, plain, 40) == pytest.approx(1.0)
    dated = question_words(["năm", "2010"], _Counts(), loose=0.3, number=1.0)
    assert best_window("Năm 2010.", dated, 40) == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("Huyện có bao nhiêu người dân?", True),
        ("Huyen co bao nhieu nguoi dan?", True),
        ("Tesla mất năm nào?", True),
        ("tesla mat nam nao", True),
        ("Khi nào nhà máy đóng cửa?", True),
        ("Có mấy loại lục lạp?", True),
        ("Mất bao lâu để đến nơi?", True),
        # Unaccented, "may" is as often "máy" (a machine) as "mấy".
        ("co may loai luc lap", False),
        ("Ai là tổng thống đầu tiên?", False),
        ("Nhà máy nào đóng cửa?", False),
    ],
)
def test_a_question_asking_how_many_or_when_is_told_apart(text: str, asks: bool):
    assert asks_number(q.parse(text)) is asks


def test_a_question_ranks_the_article_holding_its_words_together_above_one_holding_them_scattered(tmp_path: Path):
    articles = {
        "together.txt": "Tổng kết thể thao\n\n"
        + FILLER * 4
        + "Đội tuyển Tây Ban Nha giành chức vô địch giải bóng đá thế giới năm 2010. "
        + FILLER * 4,
        # Each of the question's words as often or more, each paragraph apart.
        "scattered.txt": "Tổng kết thể thao\n\n"
        + (
            "Đội tuyển trẻ tập luyện. "
            + FILLER
            + "Chức vô địch còn xa. "
            + FILLER
            + "Giải bóng đá phong trào năm nay. "
            + FILLER
            + "Năm 2010 có nhiều đổi mới, họ giành vé. "
        )
        * 2,
    }
    # Enough other articles for the syllables' frequencies to tell common words from rare ones.
    others = {
        f"other-{i}.txt": f"Tin số {i}\n\nBản tin địa phương số {i} về thời tiết và giao thông." for i in range(100)
    }
    with Searcher(make_index(tmp_path, articles | others)) as searcher:
        for typed in (
            "Đội tuyển nào giành chức vô địch giải bóng đá năm 2010?",
            "Doi tuyen nao gianh chuc vo dich giai bong da nam 2010?",
        ):
            assert [hit.id for hit in searcher.search(typed).hits] == ["together.txt", "scattered.txt"]


class _Words(_Counts):
    """Term statistics where the articles write ``phủ quyết`` and ``nghị viện`` as words (pyvi's), not ``quyền phủ``."""

    frequencies = {
        ("body", "phu"): 30,
        ("body", "quyet"): 30,
        ("body", "quyen"): 30,
        ("words", "phu_quyet"): 3,
        ("words", "nghi_vien"): 8,
    }


def test_the_question_s_neighbours_written_as_one_word_are_its_word_pairs():
    tree = q.parse("Nghị viện có quyền phủ quyết những luật nào?")
    assert word_pairs(tree, _Words()) == [("nghi", "vien"), ("phu", "quyet")]


def test_a_syllable_found_in_another_word_counts_less_than_in_the_word_the_question_writes():
    tree = q.parse("Nghị viện có quyền phủ quyết những luật nào?")
    words = for_question(tree, _Words(), Weights(), None)
    together = best_window("Nghị viện có quyền phủ quyết những luật.", words, 40)
    apart = best_window("Nghị viện có quyền; chính phủ họp và quyết định những luật.", words, 40)
    assert together == pytest.approx(1.0)
    assert apart < together
    unweighed = for_question(tree, _Words(), Weights(passage_apart=1.0), None)
    assert best_window("Nghị viện có quyền; chính phủ họp và quyết định những luật.", unweighed, 40) == 1.0


def test_typed_without_marks_a_question_s_syllables_count_wherever_found():
    tree = q.parse("nghi vien co quyen phu quyet nhung luat nao?")
    words = for_question(tree, _Words(), Weights(), None)
    assert best_window("Nghị viện có quyền; chính phủ họp và quyết định những luật.", words, 40) == pytest.approx(1.0)
