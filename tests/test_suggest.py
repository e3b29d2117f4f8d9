"""Accent restoration: "Có phải bạn muốn tìm: nêu gương" for a query typed without diacritics."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit.build.index import build, open_spellings
from searchkit.cli import main
from searchkit.search.filters import Filters
from searchkit.search.restoration import restore_query, restore_text, suggest, with_case
from searchkit.search.searcher import Searcher
from searchkit.text.analysis import accent_terms


class FakeLexicon:
    """Spelling counts given directly (``searchkit.engines.spellings.Spellings``), of a few sentences."""

    def __init__(self, text: str):
        self.counts = Counter(accent_terms(text))

    def spellings(self, key: str) -> dict[str, int]:
        return {term: n for term, n in sorted(self.counts.items()) if term.startswith(key)}

    def count(self, term: str) -> int:
        return self.counts[term]

    def total(self) -> float:
        return sum(self.counts.values())


@pytest.fixture(scope="module")
def seeds_reader(seeds_index: Path):
    counts = open_spellings(seeds_index)
    yield counts
    counts.close()


def make_index(tmp_path: Path, articles: dict[str, str]) -> tuple[Path, Path]:
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    for name, text in articles.items():
        (seeds / name).write_text(text, encoding="utf-8")
    build(seeds, index_dir, procs=1)
    return seeds, index_dir


# --- what the index counts ---------------------------------------------------------------------


def test_accent_terms_count_syllables_and_pairs_in_one_clause():
    assert accent_terms("Thành uỷ Đông Hà") == [
        "thanh|thành",
        "uy|ủy",
        "thanh uy|thành ủy",
        "dong|đông",
        "uy dong|ủy đông",
        "ha|hà",
        "dong ha|đông hà",
    ]


def test_accent_terms_never_pair_across_punctuation_or_lines():
    terms = accent_terms("chính trị - xã hội, nêu gương\nĐảng viên")
    assert "tri xa|trị xã" not in terms
    assert "hoi neu|hội nêu" not in terms
    assert "guong dang|gương đảng" not in terms
    assert "xa hoi|xã hội" in terms and "dang vien|đảng viên" in terms


# --- restoring real seed phrases ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "restored"),
    [
        ("neu guong", "nêu gương"),
        ("dang vien", "đảng viên"),
        ("thanh uy", "thành ủy"),
        ("can bo dang vien neu guong", "cán bộ đảng viên nêu gương"),
        ("Thanh uy Dong Ha", "Thành ủy Đông Hà"),
        ("hoc tap va lam theo tu tuong Ho Chi Minh", "học tập và làm theo tư tưởng Hồ Chí Minh"),
        ("NEU GUONG", "NÊU GƯƠNG"),
    ],
)
def test_unaccented_seed_phrases_are_restored(seeds_reader, typed: str, restored: str):
    assert suggest(seeds_reader, typed) == restored


def test_wrong_accents_are_corrected_by_context(seeds_reader):
    assert suggest(seeds_reader, "nếu gương") == "nêu gương"


def test_neighbours_decide_between_spellings():
    lexicon = FakeLexicon("Đảng viên. Đang học. Đang làm. Đang đi. Đang về.")
    # Alone, "dang" is far more often "đang"; beside "vien", only "đảng" was ever seen.
    assert suggest(lexicon, "dang") == "đang"
    assert suggest(lexicon, "dang vien") == "đảng viên"


def test_a_lone_ambiguous_word_gets_no_suggestion():
    lexicon = FakeLexicon("Đảng viên. Đảng bộ. Đang học. Đang làm. Dáng đi.")
    restoration = restore_query(lexicon, "dang")
    assert restoration.syllables[0].confidence < 0.6
    assert restoration.suggestion is None


# --- when there is nothing to suggest ------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["nêu gương", "đảng viên", "Thành uỷ", "thành ủy Đông Hà", "Hồ Chí Minh"]
)
def test_no_suggestion_for_a_query_already_in_its_best_form(seeds_reader, typed: str):
    assert suggest(seeds_reader, typed) is None


@pytest.mark.parametrize("typed", ["Kuechly", "xyzzy plugh", "2024", "CBĐV"])
def test_no_suggestion_for_words_the_corpus_lacks_or_cannot_respell(seeds_reader, typed: str):
    assert suggest(seeds_reader, typed) is None


def test_unknown_words_are_kept_as_typed(seeds_reader):
    assert suggest(seeds_reader, "neu guong Kuechly") == "nêu gương Kuechly"


def test_query_syntax_survives_in_the_suggestion(seeds_reader):
    typed = 'title:"dang vien" OR (thanh uy) -neu hoc* "nêu gương"~3'
    assert suggest(seeds_reader, typed) == 'title:"đảng viên" OR (thành ủy) -nêu hoc* "nêu gương"~3'


def test_operators_are_never_respelt(seeds_reader):
    assert suggest(seeds_reader, "dang vien NOT neu guong") == "đảng viên NOT nêu gương"


def test_letter_case_follows_the_typed_word():
    assert with_case("Dang", "đảng") == "Đảng"
    assert with_case("DANG", "đảng") == "ĐẢNG"
    assert with_case("dAng", "đảng") == "đẢng"


def test_plain_text_restoration_breaks_runs_at_punctuation(seeds_reader):
    restoration = restore_text(seeds_reader, "can bo, dang vien.")
    assert [s.form for s in restoration.syllables] == ["cán", "bộ", "đảng", "viên"]
    assert restoration.restored_text() == "cán bộ, đảng viên."


# --- results, JSON and CLI -----------------------------------------------------------------------


def test_results_carry_the_suggestion(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        assert searcher.search("neu guong").suggestion == "nêu gương"
        assert searcher.search("nêu gương").suggestion is None
        assert searcher.search("neu guong", suggest=False).suggestion is None


def test_json_has_the_suggestion_after_the_results_and_null_without_one(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        data = searcher.search("dang vien").to_dict()
        none = json.loads(json.dumps(searcher.search("đảng viên").to_dict()))
    assert list(data)[-2:] == ["results", "suggestion"]
    assert data["suggestion"] == "đảng viên"
    assert none["suggestion"] is None


def test_cli_offers_the_accented_query(seeds_index: Path, seeds_dir: Path):
    options = ["--index", str(seeds_index), "--seeds", str(seeds_dir)]
    shown = CliRunner().invoke(main, ["query", "neu guong", *options])
    assert shown.exit_code == 0
    assert shown.stdout.startswith("Có phải bạn muốn tìm: nêu gương\n")
    plain = CliRunner().invoke(main, ["query", "nêu gương", *options])
    assert "Có phải bạn muốn tìm" not in plain.stdout
    as_json = CliRunner().invoke(main, ["query", "neu guong", "--json", *options])
    assert json.loads(as_json.stdout)["suggestion"] == "nêu gương"


# --- ranking and updates -------------------------------------------------------------------------


def test_unaccented_query_ranks_the_restored_spelling_above_fold_alikes(tmp_path: Path):
    # "con đường" is how the corpus writes "con duong"; the fold-alike "con dương" (a goat) is rare
    # but, short and repeated, would win on folded matching alone.
    _, index_dir = make_index(
        tmp_path,
        {
            "a.txt": "Làng quê\n\nCon đường làng hôm nay đã được trải nhựa, người dân rất vui.",
            "b.txt": "Chăn nuôi\n\nCon dương con dương con dương.",
            "c.txt": "Giao thông\n\nCon đường mới. Con đường cũ. Con đường lớn.",
            "d.txt": "Du lịch\n\nCon đường di sản miền Trung, con đường xanh.",
        },
    )
    with Searcher(index_dir) as searcher:
        folded_only = [h.id for h in searcher.search("con duong", suggest=False).hits]
        restored = searcher.search("con duong")
    ranked = [h.id for h in restored.hits]
    assert restored.suggestion == "con đường"
    assert folded_only.index("b.txt") < folded_only.index("a.txt")
    assert ranked.index("a.txt") < ranked.index("b.txt")
    assert set(ranked) == set(folded_only) == {"a.txt", "b.txt", "c.txt", "d.txt"}


def test_incremental_indexing_keeps_the_statistics_current(tmp_path: Path):
    seeds, index_dir = make_index(tmp_path, {"a.txt": "Tin tức\n\nHôm nay trời đẹp."})
    with Searcher(index_dir) as searcher:
        assert searcher.search("giao su Ngo Bao Chau").suggestion is None
    (seeds / "b.txt").write_text("Toán học\n\nGiáo sư Ngô Bảo Châu giảng bài.", encoding="utf-8")
    build(seeds, index_dir, procs=1)
    with Searcher(index_dir) as searcher:
        assert searcher.search("giao su Ngo Bao Chau").suggestion == "giáo sư Ngô Bảo Châu"


# --- the suggestion beside filtered results -------------------------------------------------------


@pytest.mark.parametrize("engine", ["embedded", "shards"])
def test_a_suggestion_stands_only_where_a_filtered_hit_spells_it(engine, seeds_index: Path, request, tmp_path: Path):
    if engine == "shards":
        searcher = Searcher(shards=request.getfixturevalue("seeds_shards").shards, cache=tmp_path / "cache")
    else:
        searcher = Searcher(seeds_index)
    with searcher:
        # Every seed but Đông Hà's (22/05/2024) is undated; it writes "lựa chọn".
        assert searcher.search("lua").suggestion == "lựa"
        assert searcher.search("lua").exact  # five articles: counted, not estimated, on either engine
        assert searcher.has_dates()  # Đông Hà's dateline: the page offers date order and a range
        kept = searcher.search("lua", filters=Filters.parse(since="2024-05-22"))
        assert [h.id for h in kept.hits] == ["003_b3e0a07a9f4fc9ac.txt"] and kept.suggestion == "lựa"
        # No hit under the filter at all: nothing spells it, nothing is suggested.
        assert searcher.search("lua", filters=Filters.parse(until="2024-05-21")).suggestion is None
