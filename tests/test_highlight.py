"""Snippets and whole-article highlighting mark the same syllables, by folded form, phrases whole."""

from __future__ import annotations

from pathlib import Path

from pristine_seeds import pristine_seeds

from searchkit.corpus.articles import Article, read_articles
from searchkit.corpus.markdown import read_markdown
from searchkit.search.highlight import (
    PARAGRAPH_MARK,
    SCAN_CHARS,
    WINDOW_CHARS,
    Matcher,
    highlight,
    matcher_for,
    snippet,
)
from searchkit.search.parse import parse
from searchkit.text.analysis import fold, nfc, syllable_texts, syllables

ROOT = Path(__file__).resolve().parents[1]


def marked_syllables(fragments) -> list[str]:
    return [syllable for text, marked in fragments if marked for syllable in syllable_texts(text)]


def test_a_snippet_marks_what_the_whole_article_marks_within_it():
    matcher = Matcher(["neu", "guong", "Đảng"], prefixes=["chi"], phrases=[["cán", "bộ", "đảng", "viên"]])
    seen = 0
    for article in (item for item in read_articles(pristine_seeds()) if isinstance(item, Article)):
        text = nfc(article.text)
        whole = marked_syllables(highlight(text, matcher).fragments)
        assert whole == [t.text for t in matcher.marks(text, syllables(text))]
        cut = marked_syllables(snippet(text, matcher).fragments)
        assert bool(cut) == bool(whole)
        # The snippet's marks are a run of the article's own, in order.
        assert any(whole[i : i + len(cut)] == cut for i in range(len(whole) - len(cut) + 1))
        seen += len(cut)
    assert seen > 10


def test_a_phrase_is_marked_only_where_its_words_stand_together():
    text = "Công chức, viên chức học tập; viên gạch và công an."
    matcher = Matcher([], phrases=[["cong", "chuc", "vien", "chuc"]])
    assert marked_syllables(snippet(text, matcher).fragments) == ["Công", "chức", "viên", "chức"]
    assert [t.text for t in matcher.marks(text, syllables(text))] == ["Công", "chức", "viên", "chức"]


def test_accents_never_hide_a_match_and_each_form_is_marked_everywhere():
    text = "Nêu gương, nếu gương mẫu thì NÊU GƯƠNG."
    assert marked_syllables(snippet(text, Matcher(["neu"])).fragments) == ["Nêu", "nếu", "NÊU"]


# The opening of seed 000: "chi", "thi" fold alike in "Chỉ thị", "thị xã", "chỉ đạo" and "Hồ Chí Minh".
AN_KHE = (
    "Hai năm qua, Đảng bộ thị xã An Khê đã lãnh đạo, chỉ đạo sâu sát, kịp thời việc thực hiện Chỉ thị 05-CT/TW "
    "của Bộ Chính trị về đẩy mạnh học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh."
)
CHI_THI_05 = {"chi": {"chỉ"}, "thi": {"thị"}, "05": {"05"}}


def marks(text: str, matcher: Matcher) -> list[str]:
    return marked_syllables(highlight(text, matcher).fragments)


def test_an_unaccented_word_beside_others_is_marked_alone_only_as_restoration_reads_it():
    matcher = matcher_for(parse("chi thi 05"), CHI_THI_05)
    assert marks(AN_KHE, matcher) == ["thị", "chỉ", "Chỉ", "thị", "05"]
    assert marked_syllables(snippet(AN_KHE, matcher).fragments) == ["thị", "chỉ", "Chỉ", "thị", "05"]
    # Without a reading, every spelling, "Chí" of Hồ Chí Minh too.
    assert "Chí" in marks(AN_KHE, matcher_for(parse("chi thi 05")))


def test_a_word_read_as_typed_marks_no_other_spelling_alone():
    text = "Việt Nam đón hơn 17 triệu lượt khách quốc tế trong năm 2024, miền Nam đông nhất."
    matcher = matcher_for(parse("viet nam"), {"viet": {"việt"}, "nam": {"nam"}})
    assert marks(text, matcher) == ["Việt", "Nam", "Nam"]


def test_the_typed_words_standing_together_are_marked_in_any_spelling():
    text = "Cán bộ phải nêu gương; nếu gương mẫu thì quần chúng noi theo, nếu không thì khó."
    matcher = matcher_for(parse("neu guong"), {"neu": {"nêu"}, "guong": {"gương"}})
    assert marks(text, matcher) == ["nêu", "gương", "nếu", "gương"]
    # A word typed with its marks keeps its spelling inside the words standing together too.
    mixed = matcher_for(parse("nêu guong"), {"guong": {"gương"}})
    assert marks(text, mixed) == ["nêu", "gương", "gương"]


def test_a_word_typed_alone_marks_every_spelling():
    matcher = matcher_for(parse("chi"), {"chi": {"chỉ"}})
    assert marks(AN_KHE, matcher) == ["chỉ", "Chỉ", "Chí"]
    # Alone beside OR too: "chi OR thi" is two words each typed alone.
    assert "Chí" in marks(AN_KHE, matcher_for(parse("chi OR thi"), {"chi": {"chỉ"}, "thi": {"thị"}}))


def long_article(repeats: int) -> str:
    """``repeats`` times 6,000 characters of real news paragraphs, then "Hà" (of Đông Hà), which they never write."""
    filler = (pristine_seeds() / "002_9dfebe253e7ee071.txt").read_text(encoding="utf-8")
    assert "ha" not in fold(filler).split()
    dong_ha = (pristine_seeds() / "003_b3e0a07a9f4fc9ac.txt").read_text(encoding="utf-8")
    return nfc(filler * repeats + dong_ha + filler * 3)


def test_a_snippet_of_a_long_article_reads_a_window_of_it(monkeypatch):
    import searchkit.search.highlight

    text = long_article(50)
    assert len(text) > 30 * WINDOW_CHARS
    read: list[int] = []
    spans = searchkit.search.highlight.syllable_spans

    def counted(part: str):
        read.append(len(part))
        return spans(part)

    monkeypatch.setattr(searchkit.search.highlight, "syllable_spans", counted)
    found = snippet(text, Matcher([], phrases=[["dong", "ha"]]))
    assert marked_syllables(found.fragments)[:2] == ["Đông", "Hà"]
    assert found.fragments[0] == ("…", False) and found.fragments[-1] == ("…", False)
    # Only windows were ever read syllable by syllable, never the article's 320,000 characters.
    assert read and max(read) <= 2 * WINDOW_CHARS


def test_a_long_article_matching_past_the_scanned_part_gives_its_beginning():
    text = long_article(100)
    assert text.index("Đông Hà") > SCAN_CHARS
    found = snippet(text, Matcher(["ha"]))
    assert not found.marked and found.fragments[-1] == ("…", False)
    # Its words as written, the heading "Search" kept apart from the paragraph by the paragraph mark.
    assert found.text().split()[:9] == [*text.split()[:1], PARAGRAPH_MARK.strip(), *text.split()[1:8]]
    assert snippet(text[SCAN_CHARS:], Matcher(["ha"])).marked


RICE = (
    "---\ntitle: Giá lúa\n---\n# Giá lúa tăng mạnh\n\nNhững ngày qua, giá lúa ở đồng bằng sông Cửu Long tăng mạnh.\n"
    "Thương lái thu mua lúa tươi với giá cao hơn tuần trước.\n\nNông dân phấn khởi vì vụ lúa được mùa được giá.\n"
)


def test_a_heading_does_not_run_into_its_paragraph_in_a_snippet():
    text = read_markdown(RICE).text
    shown = snippet(text, Matcher(["lua"])).text()
    assert shown.startswith(f"Giá lúa tăng mạnh{PARAGRAPH_MARK}Những ngày qua")
    # A paragraph its full stop ends, and a line break inside a paragraph, are only spaces.
    assert "tăng mạnh. Thương lái" in shown and "tuần trước. Nông dân" in shown
    assert shown.endswith("được mùa được giá.") and "  " not in shown


def test_a_snippet_cut_after_a_full_stop_ends_without_an_ellipsis():
    text = (
        "Đảng ủy phường An Phú xác định và lựa chọn 2 nội dung đột phá để triển khai thực hiện nhằm tạo sự chuyển "
        "biến trong việc học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh trên địa bàn. Theo đó, các "
        "chi bộ đăng ký nội dung làm theo gắn với nhiệm vụ chính trị của từng đơn vị."
    )
    found = snippet(text, Matcher(["lua"]))
    assert found.text().endswith("phong cách Hồ Chí Minh trên địa bàn.")
    # Cut inside a sentence, it still says that the text goes on.
    assert snippet(text, Matcher(["lua"]), size=10).text().endswith("…")


def test_the_snippet_shows_the_words_together_rather_than_one_of_them_beside_the_other_apart():
    filler = "Các đại biểu thảo luận về kết quả phát triển kinh tế, xã hội và nhiệm vụ của năm tới. " * 6
    text = (
        "Mọi người cần nêu cao tinh thần trách nhiệm, nêu rõ việc làm, soi gương mỗi ngày. "
        + filler
        + "Vì thế cán bộ phải nêu gương trong công việc hằng ngày. "
        + filler
    )
    cut = snippet(text, matcher_for(parse("nêu gương")))
    assert "nêu gương" in cut.marked
    assert "nêu cao" not in cut.text() and "soi gương" not in cut.text()


def test_the_words_together_open_the_snippet_rather_than_end_it_after_a_lone_word():
    # As a news article writes it: a lone "nêu" a sentence before the phrase, close enough to share its window.
    text = (
        "Các đại biểu thảo luận về kết quả phát triển kinh tế, xã hội và nhiệm vụ của năm tới. " * 4
        + "Cần tuyên truyền để mỗi công dân hiểu, tự nêu cao ý thức trách nhiệm. Rồi giải pháp căn cơ nữa là bản "
        "thân những người thực thi nhiệm vụ phải có sự cương quyết, xử phạt để nêu gương, góp phần nêu cao ý "
        "thức của người dân đối với môi trường công cộng. Cảm ơn ông!"
    )
    cut = snippet(text, matcher_for(parse("nêu gương")))
    assert cut.marked[0] == "nêu gương"
    assert "tự nêu cao" not in cut.text()
