"""Snippets and whole-article highlighting mark the same syllables, by folded form, phrases whole."""

from __future__ import annotations

from pathlib import Path

from pristine_seeds import pristine_seeds

from searchkit.analysis import fold, nfc, syllable_texts, syllables
from searchkit.corpus import Article, read_articles
from searchkit.highlight import SCAN_CHARS, WINDOW_CHARS, Matcher, highlight, snippet

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


def long_article(repeats: int) -> str:
    """``repeats`` times 6,000 characters of real news paragraphs, then "Hà" (of Đông Hà), which they never write."""
    filler = (pristine_seeds() / "002_9dfebe253e7ee071.txt").read_text(encoding="utf-8")
    assert "ha" not in fold(filler).split()
    dong_ha = (pristine_seeds() / "003_b3e0a07a9f4fc9ac.txt").read_text(encoding="utf-8")
    return nfc(filler * repeats + dong_ha + filler * 3)


def test_a_snippet_of_a_long_article_reads_a_window_of_it(monkeypatch):
    import searchkit.highlight

    text = long_article(50)
    assert len(text) > 30 * WINDOW_CHARS
    read: list[int] = []
    spans = searchkit.highlight.syllable_spans

    def counted(part: str):
        read.append(len(part))
        return spans(part)

    monkeypatch.setattr(searchkit.highlight, "syllable_spans", counted)
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
    assert found.text().split()[:8] == text.split()[:8]
    assert snippet(text[SCAN_CHARS:], Matcher(["ha"])).marked
