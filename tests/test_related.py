"""Related articles: an article's most distinctive words, searched for."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pristine_seeds import pristine_seeds

from searchkit.build.index import build
from searchkit.engines import fields as f
from searchkit.search.related import Distinctive, alike, by_chance, distinctive
from searchkit.search.searcher import Searcher
from searchkit.webapp.app import create_app

BALLOONS = {
    "khinh-khi-cau-1.txt": "Lễ hội khinh khí cầu ở Huế\n\nHàng chục khinh khí cầu bay trên sông Hương.",
    "khinh-khi-cau-2.txt": "Khinh khí cầu bay đêm\n\nDu khách ngắm Huế từ khinh khí cầu trong lễ hội.",
    "khinh-khi-cau-3.txt": "Bay khinh khí cầu\n\nGiá vé bay khinh khí cầu ở Đà Lạt.",
}
OTHERS = {
    f"bong-da-{n}.txt": f"Bóng đá {n}\n\nĐội tuyển bóng đá thắng trận thứ {n} trên sân nhà ở Huế."
    for n in range(6)
}


def make_index(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, text in {**BALLOONS, **OTHERS}.items():
        (seeds / name).write_text(text + "\n", encoding="utf-8")
    build(seeds, tmp_path / "index", procs=1)
    return tmp_path / "index"


def test_an_article_is_related_to_those_sharing_its_distinctive_words(tmp_path: Path):
    with Searcher(make_index(tmp_path)) as searcher:
        related = searcher.related("khinh-khi-cau-1.txt")
        assert [hit.id for hit in related[:2]] == ["khinh-khi-cau-2.txt", "khinh-khi-cau-3.txt"]
        assert "khinh-khi-cau-1.txt" not in [hit.id for hit in related]
        assert len(searcher.related("bong-da-0.txt")) == 5
        assert all(hit.id.startswith("bong-da") for hit in searcher.related("bong-da-0.txt"))
        assert searcher.related("khong-co.txt") == []


def test_distinctive_words_are_the_article_s_own_not_the_common_ones():
    # How many of 200 articles hold each term; a term of this article alone is held by it only.
    held = {"o": 150, "bay": 10, "khinh": 3, "khi": 40, "cau": 30, "khinh_khi": 2, "khi_cau": 4, "hue": 25}

    def frequency(field: str, term: str) -> int:
        return held.get(term, 1)

    words = distinctive(
        "Bay khinh khí cầu",
        "Bay khinh khí cầu ở Huế, khinh khí cầu ở Huế.",
        frequency,
        200,
        syllable_field=f.BODY,
        word_field=f.WORDS,
    )
    assert [(w.field, w.term) for w in words[:3]] == [(f.WORDS, "khinh_khi"), (f.BODY, "khinh"), (f.WORDS, "khi_cau")]
    terms = {w.term for w in words}
    assert "o" not in terms  # in most articles
    assert "bay_khinh" not in terms  # in this article only: it leads nowhere


def test_the_article_page_lists_related_articles(tmp_path: Path):
    client = create_app(index_dir=make_index(tmp_path)).test_client()
    page = client.get("/articles/khinh-khi-cau-2.txt").get_data(as_text=True)
    assert "<h2 id=\"related-heading\">Bài liên quan</h2>" in page
    assert '<a href="/articles/khinh-khi-cau-1.txt">Lễ hội khinh khí cầu ở Huế</a>' in page
    assert page.count("/articles/bong-da-") + page.count("/articles/khinh-khi-cau-") <= 5


def test_a_long_article_is_described_by_its_beginning_without_reading_the_rest():
    import tracemalloc

    from searchkit.search.related import MAX_SYLLABLES

    seeds = pristine_seeds()
    text = "".join(path.read_text(encoding="utf-8") for path in sorted(seeds.iterdir())) * 50  # 2 million characters
    held = {}

    def frequency(field: str, term: str) -> int:
        return held.setdefault((field, term), 2 + len(held) % 7)

    def described(body: str) -> list:
        return distinctive("Nêu gương", body, frequency, 200, syllable_field=f.BODY, word_field=f.WORDS)

    tracemalloc.start()
    try:
        found = described(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert found
    # The syllables of the first MAX_SYLLABLES only (a list of every syllable of it would take 60 MB).
    assert peak < 5_000_000
    beginning = text[: text.index(" ", sum(len(s) + 1 for s in text.split()[: MAX_SYLLABLES + 10]))]
    assert described(beginning) == found


RICE = (
    "---\ntitle: Giá lúa tăng mạnh ở đồng bằng sông Cửu Long\nsource: Báo Nông nghiệp\n---\n# Giá lúa tăng mạnh\n\n"
    "Những ngày qua, giá lúa ở đồng bằng sông Cửu Long tăng mạnh. Thương lái thu mua lúa tươi với giá cao "
    "hơn tuần trước. Nông dân phấn khởi vì vụ lúa được mùa được giá.\n"
)
DIRECTIVE_05 = {  # the four seeds about Directive 05 that share its rare words (An Khê's, Bình Lục's...)
    "000_f290433a7163aea1.txt",
    "001_4485d4bbea077518.txt",
    "002_9dfebe253e7ee071.txt",
    "003_b3e0a07a9f4fc9ac.txt",
}


def word(held: int) -> Distinctive:
    return Distinctive("body", f"w{held}", 1.0, held)


def test_shared_words_count_by_how_many_others_would_hold_them_all_by_chance():
    # 3,000 articles: two words held by 31 each come together in about 0.3 others at random.
    assert by_chance([word(31), word(31)], 3000) == pytest.approx(2999 * (30 / 2999) ** 2)
    assert by_chance([], 3000) == 2999  # sharing nothing: any other article would do
    # A single word, however rare, is no subject; two rare ones are (0.03 others by chance), two
    # commoner ones not (0.3), and every word that describes an article always is.
    rare, common = [word(11), word(11), word(2)], [word(31), word(31), word(5)]
    assert not alike(rare[2:], rare, 3000) and alike(rare[:2], rare, 3000)
    assert not alike(common[:2], common, 3000) and alike(common, common, 3000)
    # Six articles: sharing words held by five of them is what any would do.
    assert not alike([word(5), word(5), word(5)], [word(5)] * 4, 6)


@pytest.fixture(scope="module")
def farm(seeds_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    seeds = tmp_path_factory.mktemp("farm-seeds")
    for path in seeds_dir.iterdir():
        shutil.copy(path, seeds / path.name)
    (seeds / "gia-lua.md").write_text(RICE, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("farm-index")
    build(seeds, index_dir, procs=1)
    return index_dir


def test_an_article_sharing_only_common_words_has_no_related_articles(farm: Path):
    with Searcher(farm) as searcher:
        # Its words in the others are "ở", "sống" for "sông", "lựa" for "lúa", "cứu" for "Cửu"...
        assert searcher.related("gia-lua.md") == []
        for doc_id in DIRECTIVE_05:
            related = [hit.id for hit in searcher.related(doc_id)]
            assert related and set(related) <= DIRECTIVE_05 - {doc_id}


def test_the_article_page_shows_no_related_block_below_the_threshold(farm: Path):
    client = create_app(index_dir=farm).test_client()
    assert "Bài liên quan" not in client.get("/articles/gia-lua.md").get_data(as_text=True)
    page = client.get("/articles/000_f290433a7163aea1.txt").get_data(as_text=True)
    assert "Bài liên quan" in page and "gia-lua.md" not in page
