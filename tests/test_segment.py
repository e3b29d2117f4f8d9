"""Word segmentation: searchkit.text.segmentation and analysis.words give exactly what pyvi itself gives.

The reference is pyvi's own ``ViTokenizer.tokenize`` and, for ``words``, the implementation it replaced: pyvi's
output aligned back onto the syllables of the text. The index's word field depends on every detail of both.
"""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from corpora import NEWS, news_records
from pristine_seeds import pristine_seeds

from searchkit.corpus.articles import Article, read_articles
from searchkit.text import segmentation as segment
from searchkit.text.analysis import Token, nfc, syllables, word_terms, words

ROOT = Path(__file__).resolve().parents[1]
SEEDS = pristine_seeds()
# The shared data sits next to the project, never inside it.
NEWS_ARTICLES = 400


@pytest.fixture(scope="module")
def pyvi_tokenize():
    from pyvi import ViTokenizer

    return ViTokenizer.tokenize


def pyvi_words(tokenized: str, text: str) -> list[Token]:
    """What ``analysis.words(text)`` returned before segment.py: ``tokenized`` (pyvi's output for the NFC ``text``)
    aligned back onto the text's syllables."""
    ours = syllables(text)
    found: list[Token] = []
    cursor = 0
    for piece in tokenized.split():
        parts = [token.text for token in syllables(piece)]
        if not parts:
            continue
        start = None
        for candidate in range(cursor, min(cursor + 8, len(ours) - len(parts) + 1)):
            if all(ours[candidate + k].text == part for k, part in enumerate(parts)):
                start = candidate
                break
        if start is None:
            continue
        end = start + len(parts)
        cursor = end
        if "_" in piece and len(parts) > 1:
            found.append(Token("_".join(parts), ours[start].start, ours[end - 1].end))
    return found


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


TRICKY = [
    "",
    " \n\t ",
    "...!?—“”",
    "Tại TP.HCM có 11.713 cán bộ, đảng viên học tập và làm theo tấm gương đạo đức Hồ Chí Minh.",
    "CBĐV và ĐVTN tham gia; Tp. Hồ Chí Minh, Mr. Smith, Mrs. Brown, ThS. Nguyễn Văn An, Dr. Lê.",
    nfd("Thành uỷ Đông Hà chỉ đạo đẩy mạnh học tập và làm theo tư tưởng Hồ Chí Minh."),
    "Apple ra mắt iPhone 15 Pro Max tại Hà Nội, giá từ 34.990.000 đồng; CEO Tim Cook cho biết doanh số tăng.",
    "Tuyến đường dài 1.5km, rộng 2,5m, qua 3.200ha đất nông nghiệp của huyện Đông Anh.",
    "Liên hệ ban biên tập qua hotro@baomoi.com.vn hoặc toa.soan@gmail.comđể được giải đáp.",
    "Biến foo_bar và học_tập, 1_000 người, xem http://vnexpress.net/thoi_su/chinh_tri.html ngay.",
    "Hà\nNội\n\nlà thủ đô\r\ncủa nước Cộng hoà xã hội chủ nghĩa Việt Nam\n",
    "==> Xem thêm -> tin tức >> thời sự ... hết rồi",
    "chính trị – xã hội … “nêu gương” «cán bộ» (đảng viên) [học tập]",
    # The token "km" of "1.5km" is not a syllable of the text: aligned by its text, pyvi's output once took the
    # later "km" for it and lost "học_tập" in between. The index holds that, so the same must come out.
    "Con đường dài 1.5km giúp học tập tốt hơn, km cuối cùng",
    "Giá xăng RON95 tăng 1.000đồng/lít từ 15h ngày 20/11/2017, theo Bộ Công Thương.",
    "ΑΣ ΣΟΦΙΑ thi đấu tại Đà Nẵng, İstanbul và Straße",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tokenize_matches_pyvi(pyvi_tokenize, text: str):
    assert segment.tokenize(text) == pyvi_tokenize(text)


@pytest.mark.parametrize("text", TRICKY)
def test_words_match_pyvi_aligned_onto_syllables(pyvi_tokenize, text: str):
    assert words(text) == pyvi_words(pyvi_tokenize(nfc(text)), nfc(text))


def test_tokens_carry_their_offsets():
    text = "Tại TP.HCM có 11.713 cán bộ\n\n  ghi chú: CBĐV…"
    found = segment.tokens(text)
    assert found.texts == ["Tại", "TP.", "HCM", "có", "11.713", "cán", "bộ", "\n", "\n", "ghi", "chú", ":", "CBĐV", "…"]
    assert [text[start : start + len(token)] for token, start in zip(*found, strict=True)] == found.texts


def test_words_find_compounds_beside_what_pyvi_keeps_whole():
    text = "Tại TP.HCM có 11.713 cán bộ, đảng viên học tập nêu gương."
    found = words(text)
    assert [w.text for w in found] == ["cán_bộ", "đảng_viên", "học_tập"]
    assert all(text[w.start : w.end].replace(" ", "_") == w.text for w in found)


def test_words_where_a_token_cuts_a_syllable_are_placed_by_their_text(pyvi_tokenize):
    # pyvi reads "1.5km" as "1.5" and "km" while the syllables are "1" and "5km": the words around it must still
    # be those of pyvi's output aligned onto the syllables.
    text = "Đường dài 1.5km nối trung tâm thành phố với khu công nghiệp."
    assert segment.tokens(text).texts[2:4] == ["1.5", "km"]
    assert [s.text for s in syllables(text)][2:4] == ["1", "5km"]
    found = words(text)
    assert [w.text for w in found] == ["trung_tâm", "thành_phố", "công_nghiệp"]
    assert found == pyvi_words(pyvi_tokenize(text), text)
    assert all(text[w.start : w.end].replace(" ", "_") == w.text for w in found)


def seed_articles() -> list[Article]:
    return [a for a in read_articles(SEEDS) if isinstance(a, Article)]


def test_seed_articles_segment_as_pyvi_does(pyvi_tokenize):
    articles = seed_articles()
    assert len(articles) == 5
    for article in articles:
        text = nfc(article.title + "\n" + article.text)
        tokenized = pyvi_tokenize(text)
        assert segment.tokenize(text) == tokenized, article.id
        assert words(text) == pyvi_words(tokenized, text), article.id


def test_word_terms_are_folded_words_in_text_order():
    article = next(a for a in seed_articles() if a.id.startswith("000_"))
    terms = word_terms(article.title + "\n" + article.text).split()
    assert terms[:6] == ["dang_bo", "thi_xa", "an_khe", "lanh_dao", "chi_dao", "sau_sat"]
    assert {"hoc_tap", "ho_chi_minh", "chi_thi"} <= set(terms)


@pytest.mark.slow
@pytest.mark.skipif(not NEWS.exists(), reason=f"the news corpus is not here ({NEWS} is absent)")
def test_news_articles_segment_as_pyvi_does(pyvi_tokenize):
    # Every 88th of the 35,425 articles, so every category is in; pyvi itself takes most of the time.
    # tests/bench/segmentation.py compares the first 2,000 in full.
    records = news_records(NEWS_ARTICLES, every=88)
    assert len(records) == NEWS_ARTICLES
    differing = []
    for record in records:
        text = nfc(record["title"] + "\n" + record["text"])
        tokenized = pyvi_tokenize(text)
        if segment.tokenize(text) != tokenized or words(text) != pyvi_words(tokenized, text):
            differing.append(record["id"])
    assert differing == []


def test_segmenting_does_not_import_scikit_learn():
    code = (
        "import sys\n"
        "from searchkit.text.analysis import words\n"
        "assert [w.text for w in words('Đảng viên học tập.')] == ['Đảng_viên', 'học_tập']\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'sklearn_crfsuite', 'scipy')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
