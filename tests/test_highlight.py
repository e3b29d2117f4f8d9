"""Snippets and whole-article highlighting mark the same syllables, by folded form, phrases whole."""

from __future__ import annotations

from pathlib import Path

from searchkit.analysis import nfc, syllable_texts, syllables
from searchkit.corpus import Article, read_articles
from searchkit.highlight import Matcher, highlight, snippet

ROOT = Path(__file__).resolve().parents[1]


def marked_syllables(fragments) -> list[str]:
    return [syllable for text, marked in fragments if marked for syllable in syllable_texts(text)]


def test_a_snippet_marks_what_the_whole_article_marks_within_it():
    matcher = Matcher(["neu", "guong", "Đảng"], prefixes=["chi"], phrases=[["cán", "bộ", "đảng", "viên"]])
    seen = 0
    for article in (item for item in read_articles(ROOT / "seeds") if isinstance(item, Article)):
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
