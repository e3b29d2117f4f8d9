"""Ranking on constructed articles: words together beat words apart, typed accents are information,
and the start of a title finds its article, however long."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchkit.build.index import build
from searchkit.engines import compiled as cq
from searchkit.engines import fields as f
from searchkit.search import parse as q
from searchkit.search import ranking
from searchkit.search.ranking import Weights, compile_query
from searchkit.search.searcher import Searcher
from searchkit.text.analysis import could_take_accents

FILLER = (
    "Hội nghị tổng kết công tác năm của tỉnh diễn ra trong hai ngày với sự tham dự của các sở, ban, ngành. "
    "Các đại biểu thảo luận về kết quả phát triển kinh tế, xã hội và những nhiệm vụ trọng tâm của năm tới. "
)

# The same two syllables, folded alike, in every arrangement: the phrase as typed (title, body of a
# long article), the folded phrase spelt otherwise ("nếu gương", with "nêu" elsewhere), the words
# far apart, and another word before "gương" ("noi gương").
NEU_GUONG = {
    "title-phrase.txt": "Trách nhiệm nêu gương của cán bộ\n\n" + FILLER * 2,
    "body-phrase-long.txt": "Hội nghị cán bộ tỉnh\n\n" + FILLER * 12 + "Mỗi đảng viên phải nêu gương trong công việc. "
    + FILLER * 12,
    "body-phrase-short.txt": "Họp chi bộ\n\nĐảng viên nêu gương, làm trước.",
    "folds-alike.txt": "Nếu gương vỡ thì sao\n\nNếu gương vỡ, nếu gương mờ, hãy thay. Anh nêu ý kiến về gương mặt "
    "mới; nếu gương nứt thì bỏ.",
    "apart.txt": "Soi gương mỗi sáng\n\nSoi gương mỗi sáng, nếu thấy mệt thì nghỉ; nếu trời mờ thì lau gương, gương "
    "sạch, gương sáng, nếu rảnh thì soi gương.",
    "noi-guong.txt": "Hãy noi gương thầy\n\nHọc trò noi gương thầy giáo; nếu chăm chỉ, các em sẽ thành "
    "gương sáng, như gương của thầy.",
}

TITLE = "Hủy nhiều văn bản vì dùng con dấu chưa có hiệu lực"
# Articles that hold the words of the title's start many times, apart, in short texts.
KNOWN_ITEM = {
    "target.txt": f"{TITLE}\n\nSở Tư pháp vừa thu hồi các quyết định ban hành sai thẩm quyền trong năm qua.",
    **{
        f"distractor-{i}.txt": f"Tin văn bản số {i}\n\nNhiều văn bản bị hủy; văn bản cũ, văn bản mới, dùng nhiều "
        f"lần, hủy nhiều lần vì dùng sai. Vì văn bản nhiều nên dùng máy hủy văn bản, hủy nhiều, dùng nhiều."
        for i in range(8)
    },
    "other-title.txt": "Nhiều văn bản bị hủy vì dùng sai mẫu\n\nCơ quan hủy nhiều văn bản trong năm.",
}


def make_index(folder: Path, articles: dict[str, str]) -> Path:
    seeds, index_dir = folder / "seeds", folder / "index"
    seeds.mkdir()
    for name, text in articles.items():
        (seeds / name).write_text(text, encoding="utf-8")
    build(seeds, index_dir, procs=1)
    return index_dir


@pytest.fixture(scope="module")
def neu_guong(tmp_path_factory: pytest.TempPathFactory):
    with Searcher(make_index(tmp_path_factory.mktemp("neu-guong"), NEU_GUONG)) as searcher:
        yield searcher


@pytest.fixture(scope="module")
def known_item(tmp_path_factory: pytest.TempPathFactory):
    with Searcher(make_index(tmp_path_factory.mktemp("known-item"), KNOWN_ITEM)) as searcher:
        yield searcher


def ids(results) -> list[str]:
    return [hit.id for hit in results.hits]


def test_the_phrase_as_typed_ranks_first_title_before_body(neu_guong: Searcher):
    found = ids(neu_guong.search("nêu gương"))
    # The title before the bodies, the short body before the long one; then the rest.
    assert found[:3] == ["title-phrase.txt", "body-phrase-short.txt", "body-phrase-long.txt"]
    assert set(found) == set(NEU_GUONG)


def test_a_word_folding_alike_never_outranks_the_spelling_typed(neu_guong: Searcher):
    found = ids(neu_guong.search("nêu gương"))
    # "nếu gương" is the folded phrase, and "nêu" stands elsewhere in it: below every "nêu gương".
    assert found.index("folds-alike.txt") == 3
    # Typed "nếu gương", the article writing it comes first, the "nêu gương" ones after it.
    assert ids(neu_guong.search("nếu gương"))[0] == "folds-alike.txt"
    # Articles holding only "nếu", far from "gương", still match, last.
    assert set(found[4:]) == {"apart.txt", "noi-guong.txt"}


def test_typed_without_accents_the_phrase_beats_the_words_apart(neu_guong: Searcher):
    found = ids(neu_guong.search("neu guong"))
    # The folded phrase in a title first, then in a body, however it is spelt; the words apart last.
    assert set(found[:2]) == {"title-phrase.txt", "folds-alike.txt"}
    assert set(found[2:4]) == {"body-phrase-short.txt", "body-phrase-long.txt"}
    assert set(found[4:]) == {"apart.txt", "noi-guong.txt"}


def test_the_snippet_marks_the_spelling_typed_not_a_word_folding_alike(neu_guong: Searcher):
    hits = {hit.id: hit for hit in neu_guong.search("nêu gương").hits}
    apart = hits["apart.txt"].snippet
    assert "gương" in apart.marked and "nếu" not in " ".join(apart.marked).lower()
    assert "<mark>nêu gương</mark>" in hits["body-phrase-long.txt"].snippet.html()
    # Typed without accents, every spelling is a match.
    bare = {hit.id: hit for hit in neu_guong.search("neu guong").hits}
    assert any(text.lower().startswith("nếu") for text in bare["apart.txt"].snippet.marked)


def test_the_article_page_marks_only_the_spelling_typed(neu_guong: Searcher):
    _, title, body = neu_guong.highlighted("folds-alike.txt", "nêu gương")
    assert not any("nếu" in text.lower() for text in title.marked + body.marked)
    assert "nêu" in body.marked


@pytest.mark.parametrize(
    ("typed", "total"),
    [
        ("hủy nhiều văn bản vì dùng", len(KNOWN_ITEM)),
        ("huy nhieu van ban vi dung", len(KNOWN_ITEM)),
        # Every word is needed, as in any keyword query.
        ("Hủy nhiều văn bản vì dùng con dấu chưa", 1),
    ],
)
def test_a_long_title_start_finds_its_article_first(known_item: Searcher, typed: str, total: int):
    results = known_item.search(typed)
    assert ids(results)[0] == "target.txt"
    assert results.total == total


def test_a_long_query_that_no_article_holds_whole_still_finds_the_nearest(known_item: Searcher):
    # No article holds "ngân sách"; searched as a question, the article holding most of the words
    # together leads.
    results = known_item.search("hủy nhiều văn bản vì dùng con dấu ngân sách")
    assert results.total > 0
    assert ids(results)[0] == "target.txt"


def test_the_spelling_is_read_wherever_the_folded_phrase_stands(tmp_path: Path):
    # "nếu gương" before "nêu gương" in the same body, and "nêu" and "gương" elsewhere in the other:
    # only where the folded phrase stands does the spelling count.
    articles = {
        "later.txt": "Chuyện nhà\n\n" + FILLER + "Nếu gương vỡ thì thay. " + FILLER + "Cha mẹ phải nêu gương.",
        "elsewhere.txt": "Chuyện xóm\n\nNếu gương vỡ thì thay. Anh nêu ý kiến về gương mặt mới của xóm.",
    }
    with Searcher(make_index(tmp_path, articles)) as searcher:
        assert ids(searcher.search("nêu gương")) == ["later.txt", "elsewhere.txt"]
        assert ids(searcher.search("nếu gương"))[0] == "elsewhere.txt"


# A question's words that ask ("gì", "bao nhiêu", "ai" in "Ai đã …") are not what its answer writes: an article
# holding them (a page of readers' questions) is no answer for holding them.
ASKED = {
    "answer.txt": "Dụng cụ khí tượng\n\nPhong kế là dụng cụ đo tốc độ gió; phong kế đặt trên cột cao ở trạm.",
    "asks.txt": "Hỏi đáp cuối tuần\n\nMưa đá là gì? Phong kế là gì? Bạn đọc hỏi gì, chúng tôi đáp nấy.",
    **{f"other-{i}.txt": f"Tin số {i}\n\nBản tin địa phương số {i} là tin về thời tiết." for i in range(6)},
}


@pytest.mark.parametrize("typed", ["Phong kế là gì?", "phong ke la gi", "Phong kế là gì"])
def test_the_words_a_question_asks_with_count_for_nothing(tmp_path: Path, typed: str):
    with Searcher(make_index(tmp_path, ASKED)) as searcher:
        assert ids(searcher.search(typed))[:2] == ["answer.txt", "asks.txt"]


# A name written as one syllable ("Lindisfarne") beside a question's common two-syllable words ("âm nhạc"): the
# article about the name answers, the one holding the common words side by side does not.
NAMED = {
    "answer.txt": "Ban nhạc của thành phố\n\nLindisfarne là ban nhạc rock dân gian của thành phố, nổi tiếng từ năm "
    "1970; album đầu của Lindisfarne ra đời năm 1970. " + FILLER,
    "frame.txt": "Đêm nhạc cuối tuần\n\nĐêm âm nhạc ở nhà hát thành phố có nhiều ca sĩ trẻ biểu diễn đến khuya. "
    + FILLER,
    **{f"other-{i}.txt": f"Tin số {i}\n\nBản tin địa phương số {i}: " + FILLER for i in range(6)},
}


@pytest.mark.parametrize("typed", ["Lindisfarne thuộc thể loại âm nhạc nào?", "lindisfarne thuoc the loai am nhac nao"])
def test_a_name_in_a_question_outweighs_its_common_words_side_by_side(tmp_path: Path, typed: str):
    with Searcher(make_index(tmp_path, NAMED)) as searcher:
        assert ids(searcher.search(typed))[:2] == ["answer.txt", "frame.txt"]


def test_only_a_question_s_words_with_no_vietnamese_shape_count_as_names():
    def named(text: str, *, question: bool) -> set[str]:
        compiled = compile_query(q.parse(text), Weights(), accents=True, question=question)
        boosts = compiled.optional.parts if isinstance(compiled, cq.AndMaybe) else ()
        return {part.text for part in boosts if isinstance(part, cq.Term) and part.field == f.BODY}

    assert named("Năm 1973 Nixon chọn ai làm bộ trưởng?", question=True) == {"1973", "nixon"}
    assert named("Nixon chọn bộ trưởng năm 1973", question=False) == set()


def test_a_name_of_several_syllables_shares_one_name_weight():
    def named(text: str) -> dict[str, float]:
        compiled = compile_query(q.parse(text), Weights(), accents=True, question=True)
        boosts = compiled.optional.parts if isinstance(compiled, cq.AndMaybe) else ()
        return {part.text: part.boost for part in boosts if isinstance(part, cq.Term) and part.field == f.BODY}

    name = Weights().name
    assert named("Tên của cháu gái Doctor Who là gì?") == {"doctor": name / 2, "who": name / 2}
    assert named("Nixon chọn ai làm bộ trưởng năm 1973?") == {"nixon": name, "1973": name}
    assert named("Ai hát quốc ca tại Super Bowl 50?") == {"super": name / 3, "bowl": name / 3, "50": name / 3}


# A two-word name asked about: the article writing it whole three times says nothing of what the question asks
# ("cháu gái"); the one that answers writes the name's first word and the words asked. Counted per syllable, the
# name's second word ("Who", written only where the name is whole) outweighed the question's own words.
SERIES = {
    "niece.txt": "Nhân vật chính của loạt phim\n\nTrong tập đầu, Doctor có một cháu gái tên là Susan, người đi cùng "
    "Doctor trong những chuyến đầu tiên; Doctor gọi cô là cháu. " + FILLER,
    "stage.txt": "Loạt phim trên sân khấu\n\nDoctor Who đã lên sân khấu nhiều lần: vở Doctor Who và người máy được "
    "dựng năm 1974, rồi Doctor Who trở lại nhà hát năm 1989. " + FILLER,
    **{
        f"doctor-{i}.txt": f"Tập phim số {i}\n\nTrong tập số {i}, Doctor du hành một mình đến hành tinh khác. " + FILLER
        for i in range(4)
    },
    **{f"other-{i}.txt": f"Tin số {i}\n\nBản tin địa phương số {i}: " + FILLER for i in range(6)},
}


def test_a_question_about_a_name_of_two_words_ranks_the_words_it_asks_above_the_name_repeated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    index_dir = make_index(tmp_path, SERIES)
    with Searcher(index_dir) as searcher:
        assert ids(searcher.search("Tên của cháu gái Doctor Who là gì?"))[:2] == ["niece.txt", "stage.txt"]
    # Each of the name's words weighing as a name of its own, "Who" three times over wins.
    monkeypatch.setattr(ranking, "_names", lambda folded: [(s, 1.0) for s in folded if not could_take_accents(s)])
    with Searcher(index_dir) as searcher:
        assert ids(searcher.search("Tên của cháu gái Doctor Who là gì?"))[:2] == ["stage.txt", "niece.txt"]


# Restoration's readings of a question's words typed without marks in its passages: "co mau" read as "có màu"
# (written so in the other articles), so the article writing "có màu" answers, not the one writing "có mẫu", which
# folding alike holds as much (and, a few syllables shorter, scored higher). Only the words that say count, so the
# other articles say "có màu" with no word of the question beside it.
COLOUR = {
    "colour.txt": "Đội bóng của làng\n\nLá cờ của đội bóng làng có màu xanh lá, treo ở sân vận động. " + FILLER,
    "model.txt": "Đội bóng của làng\n\nLá cờ của đội bóng làng có mẫu lá mới, treo ở sân. " + FILLER,
    # Enough articles for passages to be placed (their frequencies tell common words from rare ones).
    **{
        f"other-{i}.txt": f"Tin số {i}\n\nBản tin địa phương số {i}"
        + (": bầu trời có màu xanh." if i % 5 == 0 else " về thời tiết và giao thông.")
        for i in range(100)
    },
}


@pytest.mark.parametrize(
    "typed",
    [
        "Lá cờ của đội bóng làng có màu gì?",
        "La co cua doi bong lang co mau gi?",
        # One word typed without its marks among words typed with them: read from them.
        "Lá cờ của đội bóng làng có mau gì?",
    ],
)
def test_a_question_s_words_typed_without_marks_weigh_in_passages_as_restoration_reads_them(
    tmp_path: Path, typed: str
):
    with Searcher(make_index(tmp_path, COLOUR)) as searcher:
        assert ids(searcher.search(typed))[:2] == ["colour.txt", "model.txt"]


# A question asking how many: the paragraph writing a number answers it, not the one holding its words alone
# (and one of them twice).
COUNTED = {
    "count.txt": "Dân số của huyện\n\nNăm ngoái huyện miền núi có 11.713 người dân sống ở các xã. " + FILLER,
    "many.txt": "Dân số của huyện\n\nNăm ngoái huyện miền núi có nhiều người dân sống ở các xã của huyện. " + FILLER,
    **{f"other-{i}.txt": f"Tin số {i}\n\nBản tin địa phương số {i} về thời tiết và giao thông." for i in range(100)},
}


@pytest.mark.parametrize("typed", ["Huyện miền núi có bao nhiêu người dân?", "Huyen mien nui co bao nhieu nguoi dan?"])
def test_a_question_asking_how_many_ranks_the_passage_writing_a_number_first(tmp_path: Path, typed: str):
    with Searcher(make_index(tmp_path, COUNTED)) as searcher:
        assert ids(searcher.search(typed))[:2] == ["count.txt", "many.txt"]


# A question typed with accents whose two syllables form one word ("phủ quyết"): the article writing the word
# answers, not the shorter one holding "phủ" only in "chính phủ" and "quyết" only in "quyết định" and "quyết toán".
VETO = {
    "veto.txt": "Quyền của nghị viện\n\nTheo hiến pháp, nghị viện có quyền phủ quyết các đạo luật về thuế do nội "
    "các trình. Hội nghị tổng kết công tác năm của tỉnh.",
    "government.txt": "Chính phủ và nghị viện\n\nChính phủ có quyền quyết định; chính phủ trình nghị viện các luật, "
    "chính phủ duyệt quyết toán.",
    **{
        f"other-{i}.txt": f"Tin số {i}\n\nBản tin địa phương số {i}"
        + (": chính phủ họp bàn." if i % 4 == 0 else " về thời tiết và giao thông.")
        for i in range(100)
    },
}
VETO_QUESTION = "Nghị viện có quyền phủ quyết những luật nào?"


def test_a_syllable_of_a_word_the_question_writes_counts_less_inside_another_word(tmp_path: Path):
    index_dir = make_index(tmp_path, VETO)
    with Searcher(index_dir) as searcher:
        assert ids(searcher.search(VETO_QUESTION))[:2] == ["veto.txt", "government.txt"]
    # Without it, "phủ" three times over in "chính phủ" ranks the shorter article first.
    with Searcher(index_dir, weights=Weights(bound=1.0, passage_apart=1.0)) as searcher:
        assert ids(searcher.search(VETO_QUESTION))[:2] == ["government.txt", "veto.txt"]


def test_a_question_typed_without_marks_keeps_its_syllables_weights(tmp_path: Path):
    index_dir = make_index(tmp_path, VETO)
    folded = "nghi vien co quyen phu quyet nhung luat nao?"
    with Searcher(index_dir) as searcher, Searcher(index_dir, weights=Weights(bound=1.0, passage_apart=1.0)) as off:
        ranked = [(hit.id, hit.score) for hit in searcher.search(folded).hits]
        assert ranked == [(hit.id, hit.score) for hit in off.search(folded).hits]
