"""Autocompletion: ``neu g`` → ``nêu gương``, from the articles' own words and titles."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

from searchkit.build import index
from searchkit.search.complete import MAX_COMPLETIONS, completions, title_phrases
from searchkit.search.searcher import Searcher
from searchkit.webapp.app import create_app


@pytest.fixture(scope="module")
def searcher(seeds_index: Path):
    with Searcher(seeds_index) as opened:
        yield opened


def test_title_phrases_are_runs_of_two_and_three_words_and_lone_foreign_words():
    assert title_phrases("Chỉ thị 05: iPhone mới") == [
        "chi thi|chỉ thị",
        "chi thi 05|chỉ thị 05",
        "thi 05|thị 05",
        "05|05",
        "iphone|iPhone",
        "iphone moi|iPhone mới",
    ]


@pytest.mark.parametrize(
    ("typed", "first"),
    [
        ("neu g", "nêu gương"),
        ("nêu g", "nêu gương"),
        ("NEU G", "NÊU GƯƠNG"),
        ("neu ", "nêu gương"),
        ("Thanh u", "Thành ủy"),
        ("dang v", "đảng viên"),
        ("hoc t", "học tập"),
        ("ho chi m", "hồ chí minh"),
        ("chi thi 0", "chỉ thị 05"),  # a number, from the titles
        ("trach nhiem neu g", "trach nhiệm nêu gương"),  # the last two words and the one being typed
        ('"neu g', '"nêu gương'),
        ("neeu g", "nêu gương"),  # Telex keys before the word being typed
    ],
)
def test_the_last_words_are_completed_as_the_articles_spell_them(searcher: Searcher, typed: str, first: str):
    assert searcher.complete(typed)[0] == first


def test_completions_are_the_most_frequent_first_and_at_most_ten(searcher: Searcher):
    found = searcher.complete("c")
    assert len(found) == MAX_COMPLETIONS
    counts = Counter(searcher.spellings.spellings("c"))
    frequency = [sum(n for term, n in counts.items() if term.endswith("|" + word)) for word in found]
    assert frequency == sorted(frequency, reverse=True)
    assert found[:2] == ["các", "của"]


def test_a_word_typed_with_its_accents_keeps_them(searcher: Searcher):
    assert not [c for c in searcher.complete("nếu g") if c.startswith("nêu")]
    assert searcher.complete("nếu k")[0] == "nếu không"


def test_nothing_to_complete_gives_no_completion(searcher: Searcher):
    for typed in ("", "   ", "xyzzyq", "(", "nêu gương -", '"nêu gương"'):
        assert searcher.complete(typed) == [], typed


def test_an_update_adds_and_removes_completions(seeds_dir: Path, seeds_index: Path, tmp_path: Path):
    seeds = Path(shutil.copytree(seeds_dir, tmp_path / "seeds"))
    index_dir = Path(shutil.copytree(seeds_index, tmp_path / "index"))
    article = seeds / "hoi-thao.txt"
    article.write_text("Lễ hội khinh khí cầu iPhone 15\n\nKhinh khí cầu bay trên phố.\n", encoding="utf-8")
    index.build(seeds, index_dir)
    with Searcher(index_dir) as searcher:
        assert searcher.complete("khinh kh")[0] == "khinh khí"
        assert searcher.complete("iph") == ["iPhone"]  # spelt as written
        assert searcher.complete("iphone ")[0] == "iPhone 15"
    article.unlink()
    index.build(seeds, index_dir)
    with Searcher(index_dir) as searcher:
        assert "khinh khí" not in searcher.complete("khinh kh")
        assert searcher.complete("iph") == []


def test_completions_differing_only_in_case_are_one_written_as_most_often(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n, title in enumerate(["iPhone mới", "iPhone 8 ra mắt", "IPHONE giảm giá", "Iphone cũ"]):
        (seeds / f"{n}.txt").write_text(f"{title}\n\nBài viết số {n}.\n", encoding="utf-8")
    index.build(seeds, tmp_path / "index", procs=1)
    with Searcher(tmp_path / "index") as searcher:
        assert searcher.complete("iph") == ["iPhone"]


def test_completions_from_a_fake_store():
    class Store:
        def prefixed(self, table: str, prefix: str, *, words: int, limit: int) -> list[tuple[str, int]]:
            rows = {"counts": [("neu guong|nêu gương", 5), ("neu gia|nêu giá", 9), ("neu|nêu", 20)]}[table] if (
                table == "counts"
            ) else []
            found = [(t, n) for t, n in rows if t.startswith(prefix) and (t.count(" ") == 0) == (words == 1)]
            return sorted(found, key=lambda row: -row[1])[:limit]

    assert completions(Store(), "neu g") == ["nêu giá", "nêu gương"]
    assert completions(Store(), "neu g", limit=1) == ["nêu giá"]


def test_the_api_completes_the_query(seeds_index: Path):
    client = create_app(index_dir=seeds_index).test_client()
    data = client.get("/api/complete", query_string={"q": "neu g"}).get_json()
    assert data["query"] == "neu g"
    assert data["completions"][0] == "nêu gương"
    assert client.get("/api/complete").get_json() == {"query": "", "completions": []}
    refused = client.get("/api/complete", query_string={"q": "a" * 1001})
    assert refused.status_code == 400
    assert refused.get_json()["code"] == "query_too_long"
