"""Acronyms learnt from the articles: ``công chức, viên chức (CCVC)`` makes CCVC and the long form find each other."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit.build import index
from searchkit.cli import main
from searchkit.search import parse as q
from searchkit.search.acronyms import Acronym, Glossary, definitions, expand, initial, key
from searchkit.search.searcher import Searcher
from searchkit.webapp.app import create_app

BINH_LUC = "001_4485d4bbea077518.txt"


# --- learning --------------------------------------------------------------------------------------


def test_seed_001_defines_its_acronyms(seeds_dir: Path):
    text = (seeds_dir / BINH_LUC).read_text(encoding="utf-8")
    assert list(dict.fromkeys(definitions(text))) == [
        Acronym("CBĐV", "cán bộ, đảng viên"),
        Acronym("CCVC", "công chức, viên chức"),
        Acronym("BTV", "ban thường vụ"),
        Acronym("TCĐ", "tổ chức đảng"),
    ]


@pytest.mark.parametrize(
    ("text", "learnt"),
    [
        ("Ngân hàng Nhà nước (NHNN) vừa công bố", [Acronym("NHNN", "ngân hàng nhà nước")]),
        ("Hội đồng nhân dân (HĐND) tỉnh", [Acronym("HĐND", "hội đồng nhân dân")]),
        ("Ủy ban nhân dân ( UBND ) tỉnh", [Acronym("UBND", "ủy ban nhân dân")]),
        ("mặt trận chính trị - xã hội (CTXH)", [Acronym("CTXH", "chính trị - xã hội")]),
        ("Tổ chức Y tế Thế giới (WHO) khuyến cáo", []),  # letters of another language's name
        ("theo Nghị định 15 (NĐ) mới", []),  # "15" is no syllable of a name
        ("cán bộ. Đảng viên (CBĐV)", []),  # a sentence ends between them
        ("cán bộ, đảng viên, (CBĐV)", []),  # something else before the parenthesis
        ("viên chức (CCVC)", []),  # too few syllables
        ("công chức, viên chức (ccvc)", []),  # an acronym is written in capitals
    ],
)
def test_an_acronym_is_learnt_where_its_letters_are_the_initials_before_it(text: str, learnt: list[Acronym]):
    assert list(definitions(text)) == learnt


def test_initials_keep_d_bar_apart_and_drop_other_marks():
    assert [initial(s) for s in ("đảng", "Đông", "dân", "Ủy", "ước")] == ["Đ", "Đ", "D", "U", "U"]
    assert key("CBĐV") == key("cbdv") == key("CbĐv") == "cbdv"


def test_the_index_learns_the_seeds_acronyms(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        glossary = searcher.glossary()
    assert glossary.meanings("CCVC") == [(Acronym("CCVC", "công chức, viên chức"), 1.0)]
    assert glossary.shorts(("cán", "bộ", "đảng", "viên")) == [(Acronym("CBĐV", "cán bộ, đảng viên"), 1.0)]
    assert len(glossary) == 4


def test_several_meanings_are_shared_by_how_often_each_is_defined():
    glossary = Glossary(
        [(Acronym("TS", "tiến sĩ"), 3), (Acronym("TS", "thí sinh"), 1), (Acronym("BA", "ban an ninh"), 1)]
    )
    assert glossary.meanings("TS") == [(Acronym("TS", "tiến sĩ"), 0.75), (Acronym("TS", "thí sinh"), 0.25)]
    assert glossary.meanings("ts") == glossary.meanings("TS")
    # A Vietnamese word typed in lower case is that word, not an acronym.
    assert glossary.meanings("ba") == []
    assert glossary.meanings("BA") == [(Acronym("BA", "ban an ninh"), 1.0)]


def test_a_long_form_written_without_its_accents_is_the_same_meaning():
    learnt = [(Acronym("HS", "học sinh"), 20), (Acronym("HS", "hoc sinh"), 1), (Acronym("HS", "hải sản"), 3)]
    glossary = Glossary(learnt)
    assert glossary.meanings("HS") == [(Acronym("HS", "học sinh"), 21 / 24), (Acronym("HS", "hải sản"), 3 / 24)]
    assert glossary.shorts(("hoc", "sinh")) == [(Acronym("HS", "học sinh"), 1.0)]


def test_expansion_keeps_the_query_as_typed_first():
    glossary = Glossary([(Acronym("UBND", "ủy ban nhân dân"), 2)])
    tree, used = expand(q.parse("uy ban nhan dan tinh -UBND"), glossary)
    assert used == [Acronym("UBND", "ủy ban nhân dân")] * 2
    assert tree == q.Group(
        (
            q.Expansion((q.Group(tuple(q.Term(w) for w in "uy ban nhan dan".split())), q.Term("UBND")), (1.0, 1.0)),
            q.Term("tinh"),
            q.Not(q.Expansion((q.Term("UBND"), q.Phrase(("ủy", "ban", "nhân", "dân"))), (1.0, 1.0))),
        )
    )
    assert expand(q.parse("UBND*"), glossary)[1] == []


# --- searching -------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["CCVC", "ccvc"])
def test_an_acronym_finds_the_articles_writing_its_long_form(seeds_index: Path, typed: str):
    with Searcher(seeds_index) as searcher:
        results = searcher.search(typed)
        long_form = searcher.search('"công chức viên chức"')
    assert results.acronyms == [Acronym("CCVC", "công chức, viên chức")]
    assert results.to_dict()["acronyms"] == [{"short": "CCVC", "long": "công chức, viên chức"}]
    assert {h.id for h in long_form.hits} <= {h.id for h in results.hits}
    assert results.total > 1
    for hit in results.hits:
        marked = hit.snippet.marked
        assert "CCVC" in marked or ("công chức" in marked and "viên chức" in marked), hit.id
    # Only the whole long form is marked, never a lone "công".
    assert all(m in ("CCVC", "công chức", "viên chức", "Công chức") for h in results.hits for m in h.snippet.marked)


@pytest.fixture
def ubnd(tmp_path: Path) -> tuple[Path, Path]:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "dinh-nghia.txt").write_text(
        "Họp báo\n\nChủ tịch Ủy ban nhân dân (UBND) tỉnh Quảng Trị chủ trì buổi họp.\n", encoding="utf-8"
    )
    (seeds / "viet-tat.txt").write_text("Cầu mới\n\nUBND huyện Cam Lộ khánh thành cầu mới.\n", encoding="utf-8")
    (seeds / "viet-du.txt").write_text("Đường mới\n\nỦy ban nhân dân xã Cam Thủy mở đường mới.\n", encoding="utf-8")
    (seeds / "khac.txt").write_text("Tin khác\n\nBan nhân dân thôn họp bàn về đường.\n", encoding="utf-8")
    index_dir = tmp_path / "index"
    index.build(seeds, index_dir, procs=1)
    return seeds, index_dir


def ids(results) -> set[str]:
    return {hit.id for hit in results.hits}


def test_a_long_form_finds_an_article_that_only_writes_the_acronym(ubnd):
    _, index_dir = ubnd
    with Searcher(index_dir) as searcher:
        results = searcher.search("ủy ban nhân dân")
        unaccented = searcher.search("uy ban nhan dan")
    assert ids(results) == ids(unaccented) == {"dinh-nghia.txt", "viet-tat.txt", "viet-du.txt"}
    assert results.acronyms == [Acronym("UBND", "ủy ban nhân dân")]
    only_short = next(h for h in results.hits if h.id == "viet-tat.txt")
    assert only_short.snippet.marked == ["UBND"]
    # The articles writing the words typed come first.
    assert results.hits[-1].id == "viet-tat.txt"


def test_an_acronym_finds_an_article_that_only_writes_the_long_form(ubnd):
    _, index_dir = ubnd
    with Searcher(index_dir) as searcher:
        results = searcher.search("ubnd")
        plain = searcher.search("ubnd", acronyms=False)
    assert ids(plain) == {"dinh-nghia.txt", "viet-tat.txt"}
    assert ids(results) == {"dinh-nghia.txt", "viet-tat.txt", "viet-du.txt"}
    assert next(h for h in results.hits if h.id == "viet-du.txt").snippet.marked == ["Ủy ban nhân dân"]


def test_a_question_expands_the_acronyms_it_holds_but_not_its_long_forms(ubnd):
    _, index_dir = ubnd
    with Searcher(index_dir) as searcher:
        assert searcher.search("chủ tịch ủy ban nhân dân tỉnh là ai?").acronyms == []
        asked = searcher.search("UBND huyện nào khánh thành cầu mới?")
    assert asked.acronyms == [Acronym("UBND", "ủy ban nhân dân")]
    assert "viet-du.txt" in ids(asked)


def test_an_update_that_removes_the_defining_article_forgets_the_acronym(ubnd):
    seeds, index_dir = ubnd
    (seeds / "dinh-nghia.txt").unlink()
    report = index.build(seeds, index_dir)
    assert report.removed == 1
    with Searcher(index_dir) as searcher:
        assert len(searcher.glossary()) == 0
        results = searcher.search("ủy ban nhân dân")
    assert ids(results) == {"viet-du.txt"}
    assert results.acronyms == []


def test_an_update_that_changes_a_definition_learns_the_new_one(ubnd):
    seeds, index_dir = ubnd
    (seeds / "viet-du.txt").write_text(
        "Đường mới\n\nỦy ban nhân dân (UBND) xã Cam Thủy mở đường mới.\n", encoding="utf-8"
    )
    (seeds / "dinh-nghia.txt").write_text("Họp báo\n\nỦy ban Nhân dân (UBND) họp.\n", encoding="utf-8")
    index.build(seeds, index_dir)
    with Searcher(index_dir) as searcher:
        assert searcher.glossary().by_short["ubnd"] == [(Acronym("UBND", "ủy ban nhân dân"), 2)]


def test_worker_processes_learn_as_one_process_does(ubnd, tmp_path: Path):
    seeds, index_dir = ubnd
    for n in range(3):
        shutil.copy(seeds / "dinh-nghia.txt", seeds / f"dinh-nghia-{n}.txt")
    index.build(seeds, tmp_path / "parallel", procs=2, workers=index.Workers(min_articles=2, batch=1))
    with Searcher(tmp_path / "parallel") as searcher:
        assert searcher.glossary().by_short["ubnd"] == [(Acronym("UBND", "ủy ban nhân dân"), 4)]


def test_weighted_meanings_rank_the_more_often_defined_first(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n in range(3):
        (seeds / f"ts-{n}.txt").write_text(f"Hội thảo {n}\n\nCác tiến sĩ (TS) dự hội thảo.\n", encoding="utf-8")
    (seeds / "thi.txt").write_text("Kỳ thi\n\nCác thí sinh (TS) dự thi.\n", encoding="utf-8")
    # The rarer "thí sinh" would score higher, and its article comes first on a tie.
    (seeds / "a.txt").write_text("Tin một\n\nMột thí sinh trẻ.\n", encoding="utf-8")
    (seeds / "b.txt").write_text("Tin hai\n\nMột tiến sĩ trẻ.\n", encoding="utf-8")
    index.build(seeds, tmp_path / "index", procs=1)
    with Searcher(tmp_path / "index") as searcher:
        results = searcher.search("TS")
    order = [h.id for h in results.hits]
    assert results.acronyms == [Acronym("TS", "tiến sĩ"), Acronym("TS", "thí sinh")]
    assert {"a.txt", "b.txt"} <= set(order)
    assert order.index("b.txt") < order.index("a.txt")


def test_the_api_lists_the_acronyms_used(seeds_index: Path):
    client = create_app(index_dir=seeds_index).test_client()
    data = client.get("/api/search", query_string={"q": "cbdv"}).get_json()
    assert data["acronyms"] == [{"short": "CBĐV", "long": "cán bộ, đảng viên"}]
    assert client.get("/api/search", query_string={"q": "nêu gương"}).get_json()["acronyms"] == []


def test_the_page_and_the_cli_say_what_else_was_searched_for(seeds_dir: Path, seeds_index: Path):
    client = create_app(index_dir=seeds_index).test_client()
    page = client.get("/", query_string={"q": "CCVC"}).get_data(as_text=True)
    assert '<p class="acronyms">Tìm cả:' in page
    assert "<abbr>CCVC</abbr> = công chức, viên chức" in page
    assert 'class="acronyms"' not in client.get("/", query_string={"q": "nêu gương"}).get_data(as_text=True)
    result = CliRunner().invoke(main, ["query", "cbdv", "--seeds", str(seeds_dir), "--index", str(seeds_index)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Tìm cả: CBĐV = cán bộ, đảng viên\n")


def test_the_article_page_marks_the_long_form_of_the_acronym_searched(seeds_index: Path):
    client = create_app(index_dir=seeds_index).test_client()
    page = client.get("/articles/000_f290433a7163aea1.txt", query_string={"q": "CBĐV"}).get_data(as_text=True)
    assert "<mark>cán bộ</mark>, <mark>đảng viên</mark>" in page
