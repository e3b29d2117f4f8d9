"""Ranked search with snippets, on the real seed articles and on tiny constructed corpora."""

from __future__ import annotations

import json
import string
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from corpora import NEWS, news_records

from searchkit.build.index import build
from searchkit.cli import main
from searchkit.cli.query import QUERY_HELP
from searchkit.engines import compiled as cq
from searchkit.engines import fields as f
from searchkit.engines.compiled import MAX_PREFIX_TERMS
from searchkit.errors import QueryError
from searchkit.search.parse import MAX_DEPTH, MAX_QUERY_CHARS, parse
from searchkit.search.questions import is_question
from searchkit.search.ranking import Weights, compile_query
from searchkit.search.searcher import DEFAULT_BUDGET, MAX_PREFIXES, MAX_TERMS, Searcher, search

NEU_GUONG = "004_a29b889078a98f24.txt"
DONG_HA = "003_b3e0a07a9f4fc9ac.txt"


def make_index(tmp_path: Path, articles: dict[str, str]) -> Path:
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    for name, text in articles.items():
        (seeds / name).write_text(text, encoding="utf-8")
    build(seeds, index_dir, procs=1)
    return index_dir


def ids(results) -> list[str]:
    return [hit.id for hit in results.hits]


def test_accented_query_ranks_the_article_about_it_first(seeds_index: Path):
    results = search(seeds_index, "nêu gương")
    assert ids(results)[0] == NEU_GUONG
    assert "nêu gương" in results.hits[0].snippet.marked


def test_unaccented_query_finds_accented_article(seeds_index: Path):
    results = search(seeds_index, "neu guong")
    assert ids(results)[0] == NEU_GUONG
    assert "nêu gương" in results.hits[0].snippet.marked


def test_snippet_marks_exactly_the_original_words(seeds_index: Path):
    hit = search(seeds_index, "neu guong").hits[0]
    html = hit.snippet.html()
    assert "<mark>nêu gương</mark>" in html
    for marked in hit.snippet.marked:
        assert unicodedata.normalize("NFC", marked).lower().replace("ê", "e").replace("ư", "u").replace("ơ", "o") in (
            "neu",
            "guong",
            "neu guong",
        )


def test_old_and_new_tone_placement_find_the_same_articles(seeds_index: Path):
    new, old = search(seeds_index, "thành ủy"), search(seeds_index, "thành uỷ")
    assert DONG_HA in ids(new)
    assert ids(new)[0] == DONG_HA
    assert ids(old) == ids(new)


def test_nfd_query_matches_like_nfc(seeds_index: Path):
    nfd = unicodedata.normalize("NFD", "nêu gương")
    assert ids(search(seeds_index, nfd)) == ids(search(seeds_index, "nêu gương"))


def test_d_bar_folds_to_d(seeds_index: Path):
    assert DONG_HA in ids(search(seeds_index, "dong ha"))


def test_quoted_phrase_needs_adjacent_syllables(seeds_index: Path):
    phrase = search(seeds_index, '"học tập và làm theo"')
    assert phrase.total >= 4
    # The same words out of order appear in no article as a phrase.
    assert search(seeds_index, '"theo làm và tập học"').total == 0


def test_phrase_matches_without_diacritics(seeds_index: Path):
    assert ids(search(seeds_index, '"hoc tap va lam theo"')) == ids(search(seeds_index, '"học tập và làm theo"'))


def test_excluded_word_removes_articles(seeds_index: Path):
    everything = set(ids(search(seeds_index, "Chỉ thị")))
    without = set(ids(search(seeds_index, "Chỉ thị -gương")))
    assert NEU_GUONG in everything and NEU_GUONG not in without


def test_title_field_restricts_to_titles(seeds_index: Path):
    assert ids(search(seeds_index, "title:gương")) == [NEU_GUONG]


def test_no_match_is_an_empty_result(seeds_index: Path):
    results = search(seeds_index, "xylophone")
    assert results.total == 0 and results.hits == []


def test_pages_do_not_overlap(seeds_index: Path):
    first = search(seeds_index, "Hồ Chí Minh", limit=2, page=1)
    second = search(seeds_index, "Hồ Chí Minh", limit=2, page=2)
    assert first.total == second.total == 5
    assert not set(ids(first)) & set(ids(second))
    assert [h.rank for h in second.hits] == [3, 4]


def test_page_past_the_end_is_empty(seeds_index: Path):
    assert search(seeds_index, "Hồ Chí Minh", limit=10, page=3).hits == []


@pytest.mark.parametrize("text", ['"', "AND", "(", "title:", "-", "*", "a" * 5000, "OR OR", "nêu) (gương"])
def test_bad_syntax_gives_results_or_a_query_error(seeds_index: Path, text: str):
    try:
        search(seeds_index, text)
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)


def test_json_shape(seeds_index: Path):
    data = search(seeds_index, "nêu gương", limit=2).to_dict()
    assert set(data) >= {"query", "total", "results"}
    assert data["query"] == "nêu gương"
    assert set(data["results"][0]) == {
        "rank", "id", "path", "title", "date", "source", "tags", "url", "score", "snippet"
    }
    assert data["results"][0]["path"] == NEU_GUONG


def test_each_accented_query_puts_its_own_article_first(tmp_path: Path):
    index_dir = make_index(
        tmp_path,
        {
            "ban-do.txt": "Tấm bản đồ\n\nNhà trường treo tấm bản đồ mới trong lớp học.",
            "ban-do-2.txt": "Chiếc bàn đỡ\n\nNhà trường mua chiếc bàn đỡ mới cho lớp học.",
        },
    )
    with Searcher(index_dir) as searcher:
        assert ids(searcher.search("bản đồ"))[0] == "ban-do.txt"
        assert ids(searcher.search("bàn đỡ"))[0] == "ban-do-2.txt"
        assert set(ids(searcher.search("ban do"))) == {"ban-do.txt", "ban-do-2.txt"}


def test_title_match_ranks_above_body_match(tmp_path: Path):
    index_dir = make_index(
        tmp_path,
        {
            "a.txt": "Tin địa phương\n\nHội nghị bàn về nông nghiệp; nêu gương được nhắc một lần.",
            "b.txt": "Trách nhiệm nêu gương\n\nHội nghị bàn về nông nghiệp và trách nhiệm của cán bộ.",
        },
    )
    assert ids(search(index_dir, "nêu gương"))[0] == "b.txt"


def test_adjacent_syllables_rank_above_scattered_ones(tmp_path: Path):
    index_dir = make_index(
        tmp_path,
        {
            "scattered.txt": "Tin một\n\nGương sáng của thôn được mọi người nêu ra tại cuộc họp tháng trước.",
            "adjacent.txt": "Tin hai\n\nCán bộ phải nêu gương trong công việc hằng ngày của thôn.",
        },
    )
    assert ids(search(index_dir, "neu guong"))[0] == "adjacent.txt"


def test_a_compound_word_ranks_above_the_same_syllables_across_a_boundary(tmp_path: Path):
    index_dir = make_index(
        tmp_path,
        {
            "split.txt": "Tin một\n\nBuổi chiều em ở nhà học. Tập thể dục vào sáng sớm giúp khỏe người.",
            "word.txt": "Tin hai\n\nBuổi chiều em ở nhà chăm chỉ học tập để thi cuối kỳ cho tốt.",
        },
    )
    assert ids(search(index_dir, "hoc tap"))[0] == "word.txt"


def test_long_question_ranks_partial_matches(seeds_index: Path):
    # No article holds every word of this question; the best partial matches still come back.
    results = search(seeds_index, "trách nhiệm nêu gương của người đứng đầu ở Nghệ An là gì hôm qua")
    assert results.total > 0
    assert ids(results)[0] == NEU_GUONG


def test_article_page_highlights_the_query(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        document, title, body = searcher.highlighted(NEU_GUONG, "neu guong")
    assert document.path == NEU_GUONG
    assert "nêu gương" in title.marked
    assert body.text().startswith("(Baonghean.vn)")
    assert len(body.marked) >= 3


def test_an_unaccented_query_marks_no_lone_word_its_restoration_does_not_read(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        results = searcher.search("chi thi 05")
        assert results.suggestion == "chỉ thị 05"
        marked = [syllable for hit in results.hits for syllable in hit.snippet.marked]
        assert "Chỉ thị 05" in marked
        assert {"Chí", "chí", "chi", "thì"}.isdisjoint(marked)  # Hồ Chí Minh, chi bộ
        assert "Chí" in [m for hit in searcher.search("chi").hits for m in hit.snippet.marked]
        # The article's page marks as its snippet does.
        _, _, body = searcher.highlighted(AN_KHE, "chi thi 05")
        assert "Chỉ thị 05" in body.marked and "Chí" not in body.marked
        assert "Chí" in searcher.highlighted(AN_KHE, "chi")[2].marked


def test_short_question_ranks_partial_matches(seeds_index: Path):
    # No article names both towns, so as keywords nothing matches…
    assert search(seeds_index, "Đông Hà Phước Long").total == 0
    assert search(seeds_index, "Đông Hà Phước").total == 0
    # …but a question word typed with its accents, or a final "?", asks for the best partial matches.
    asked = search(seeds_index, "Đông Hà Phước nào")
    assert asked.total >= 2 and ids(asked)[0] == DONG_HA
    assert search(seeds_index, "Đông Hà Phước Long?").total >= 2
    # Unaccented, "gi" may be another word: the query still needs every word.
    assert search(seeds_index, "Dong Ha Phuoc gi").total == 0


# --- exclusions: every form leaves out what it names --------------------------------------------------------------

AN_KHE = "000_f290433a7163aea1.txt"
CHI_THI_ARTICLES = {AN_KHE, "001_4485d4bbea077518.txt", "002_9dfebe253e7ee071.txt", DONG_HA, NEU_GUONG}


@pytest.mark.parametrize(
    "text",
    [
        'chi thi -"an khe"',
        'chi thi NOT "an khe"',
        'chi thi AND -"an khe"',
        "chi thi -title:khe",
        'chi thi -title:"an khe"',
        "title:-khe chi thi",
        'chi thi -(khe OR "an khe")',
        "chi thi -title:khê*",
    ],
)
def test_each_exclusion_form_leaves_out_the_an_khe_article(seeds_index: Path, text: str):
    assert set(ids(search(seeds_index, "chi thi"))) == CHI_THI_ARTICLES
    assert set(ids(search(seeds_index, text))) == CHI_THI_ARTICLES - {AN_KHE}


def test_excluded_group_leaves_out_every_article_matching_it(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        either = set(ids(searcher.search("chi thi (khe OR luc)")))
        assert either and either < CHI_THI_ARTICLES
        assert set(ids(searcher.search("chi thi -(khe OR luc)"))) == CHI_THI_ARTICLES - either


@pytest.mark.parametrize("text", ['-"an khe"', "-(khe OR luc)", "-title:khe", "NOT khe", "title:-khe"])
def test_query_of_exclusions_only_is_refused(seeds_index: Path, text: str):
    with pytest.raises(QueryError) as caught:
        search(seeds_index, text)
    assert caught.value.code == "query_only_excludes"


def test_cli_refuses_a_bad_query_in_one_line_with_status_2(seeds_dir: Path, seeds_index: Path):
    for text in ["NOT khe", "(" * 245 + "kinh" + ")" * 245]:
        result = CliRunner().invoke(main, ["query", "--seeds", str(seeds_dir), "--index", str(seeds_index), text])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert len([line for line in result.output.splitlines() if line.startswith("Error:")]) == 1


# --- questions: question words count only with their accents -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("bao ve", False),
        ("bao cao", False),
        ("ngoi sao", False),
        ("ngôi sao", False),
        ("bảo vệ", False),
        ("bao nhieu", False),
        ("tai sao", False),
        ("Dong Ha gi", False),
        ("bao nhiêu", True),
        ("Đông Hà bao giờ", True),
        ("tại sao", True),
        ("vì sao", True),
        ("làm sao", True),
        ("NASUWT là gì", True),
        ("năm nào", True),
        ("ở đâu", True),
        ("mấy người", True),
        ("bao ve?", True),
        # Length alone makes no question: a long query is as often the start of a title.
        ("một hai ba bốn năm", False),
        ("hủy nhiều văn bản vì dùng con dấu", False),
        ("huy nhieu van ban vi dung con dau", False),
        # Typed without accents, a long query holding a question expression, or ending with a question word.
        ("dan so cua jacksonville nam 2010 la bao nhieu", True),
        ("x 25 su dung loai mang nao", True),
        ("Bá tước của Melfi là ai", True),
        ("Kể tên một nhánh cao cấp của Toyota", True),
        # A question word left out or restricted to the title asks nothing of the body.
        ("Đông Hà -gì", False),
        # Typed without accents, "la gi" at the end asks, however short the query.
        ("decnet la gi", True),
        ("internet2 la gi", True),
        ("gia vang", False),
        ("chi gi", False),
    ],
)
def test_question_words_count_only_typed_with_their_accents(text: str, question: bool):
    assert is_question(text, parse(text)) is question


def test_unaccented_words_spelling_question_words_are_all_required(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        for text in ["bao ve", "bao cao", "ngoi sao"]:
            both = searcher.search(text.replace(" ", " AND "))
            either = searcher.search(text.replace(" ", " OR "))
            assert ids(searcher.search(text)) == ids(both), text
            assert either.total > both.total, text
        assert searcher.search("ngôi sao").total == 0


# --- accents are decided syllable by syllable --------------------------------------------------------------------

NEU_GUONG_ARTICLES = {
    "a.txt": "Hội nghị cán bộ tỉnh\n\nHội nghị yêu cầu mỗi cán bộ, đảng viên phải nêu gương trong công việc, học "
    "tập và rèn luyện hằng ngày; lãnh đạo các sở, ban, ngành báo cáo kết quả thực hiện nhiệm vụ năm qua.",
    "b.txt": "Chuyện ở xóm\n\nAnh nêu vài câu gượng gạo, cười gượng, gượng dậy rồi gượng bước đi về.",
    "c.txt": "Tấm gương sáng\n\nTấm gương sáng của thầy giáo làng là gương mẫu cho học trò; các em soi gương, học "
    "theo tấm gương ấy mỗi ngày.",
}


def exact_terms(query) -> set[tuple[str, str]]:
    return {(name, text) for name, text in cq.terms(query) if name in f.EXACT.values()}


def test_mixed_query_restores_its_unaccented_syllables():
    tree = parse("nêu guong")
    weights = Weights(restored=1.0)
    compiled = compile_query(tree, weights, accents=True, restored={"guong": ("gương", 0.9)})
    assert exact_terms(compiled) == {(f.EXACT[name], s) for name in f.TEXT_FIELDS for s in ("nêu", "gương")}
    # Without a restored spelling, no exact clause for the bare "guong" either.
    assert exact_terms(compile_query(tree, weights, accents=True, restored={})) == {
        (f.EXACT[name], "guong") for name in f.TEXT_FIELDS
    } | {(f.EXACT[name], "nêu") for name in f.TEXT_FIELDS}


def test_bare_syllable_restoration_keeps_stays_exact_in_an_accented_query():
    # "Chi bộ": the writer typed accents and chose none for "chi"; restoration agrees.
    compiled = compile_query(parse("Chi bộ"), Weights(), accents=True, restored={})
    assert {text for _, text in exact_terms(compiled)} == {"chi", "bộ"}
    # Typed without any accent, "chi" is no choice: only restoration may spell it.
    assert exact_terms(compile_query(parse("chi bo"), Weights(), accents=False, restored={})) == set()


def test_mixed_query_ranks_the_restored_spelling_first(tmp_path: Path):
    index_dir = make_index(tmp_path, NEU_GUONG_ARTICLES)
    with Searcher(index_dir) as searcher:
        # b.txt holds "gượng" four times in a short text; a.txt "nêu gương" once in a longer one.
        assert ids(searcher.search("nêu gượng"))[0] == "b.txt"
        assert ids(searcher.search("nêu gương"))[0] == "a.txt"
        # "guong" typed without accents is restored as "gương", beside "nêu" typed with them.
        mixed = searcher.search("nêu guong")
        assert mixed.suggestion == "nêu gương"
        assert ids(mixed) == ["a.txt", "b.txt"]
        assert ids(searcher.search("neu guong")) == ["a.txt", "b.txt"]


# --- bounded cost ---------------------------------------------------------------------------------------------------

NEWS_ARTICLES = 200
ONE_LETTER_PREFIXES = " ".join(f"{letter}*" for letter in (string.ascii_lowercase * 3)[:63])
EIGHT_PREFIXES = "a* b* c* d* e* g* h* k*"


@pytest.fixture(scope="module")
def baomoi_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the first news articles of the shared corpus."""
    if not NEWS.is_file():
        pytest.fail(f"the news corpus is missing: {NEWS}")
    folder = tmp_path_factory.mktemp("news")
    corpus = folder / "news.jsonl"
    with corpus.open("w", encoding="utf-8") as out:
        for record in news_records(NEWS_ARTICLES):
            out.write(json.dumps({k: record[k] for k in ("id", "title", "text")}, ensure_ascii=False) + "\n")
    report = build(corpus, folder / "index", procs=1)
    assert report.added == NEWS_ARTICLES
    return folder / "index"


class Clock:
    """A processor clock that moves one second each time it is read, and counts the readings: the run
    reads it before each step it takes, so the readings count the work done."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return float(self.readings)


def test_query_with_too_many_prefixes_is_refused_at_once(baomoi_index: Path):
    with Searcher(baomoi_index) as searcher:
        clock = Clock()
        with pytest.raises(QueryError) as caught:
            searcher.search(ONE_LETTER_PREFIXES, clock=clock)
        # Refused before a single step of the run: the clock was read only when the budget started.
        assert clock.readings == 1
        assert caught.value.code == "query_too_costly"
        assert caught.value.details["prefixes"] == 63
        assert caught.value.details["limit"] == MAX_PREFIXES
        assert str(MAX_PREFIXES) in str(caught.value)
        # As many prefixes as allowed still run.
        assert searcher.search(EIGHT_PREFIXES).total > 0


def test_query_past_its_time_budget_stops_with_a_query_error(baomoi_index: Path):
    text = EIGHT_PREFIXES + " kinh tế"
    with Searcher(baomoi_index) as searcher:
        whole = Clock()
        assert searcher.search(text, budget=1e9, clock=whole).total > 0
        clock = Clock()
        with pytest.raises(QueryError) as caught:
            searcher.search(text, budget=10, clock=clock)
        # Stopped between two steps once the ten seconds were spent, long before the query would have ended.
        assert clock.readings == 12 and whole.readings > 10 * clock.readings
        assert caught.value.code == "query_timeout"
        assert caught.value.details["limit"] == 10
        # The same query, given the default budget of the thread's own processor time, runs to the end.
        assert searcher.search(text).total > 0


def test_query_help_states_every_limit():
    assert f"{MAX_QUERY_CHARS} characters" in QUERY_HELP
    assert f"{MAX_TERMS} words" in QUERY_HELP
    assert f"{MAX_PREFIXES} prefixes" in QUERY_HELP
    assert f"its {MAX_PREFIX_TERMS} most frequent words" in QUERY_HELP
    assert f"{MAX_DEPTH} levels of nesting" in QUERY_HELP
    assert f"{DEFAULT_BUDGET:g} seconds" in QUERY_HELP


# Invisible characters and fullwidth forms, as pasted from a web page or a word processor or typed with an East
# Asian input method: each query looks as "nêu gương" or "neu guong" does on screen.
LOOKS_LIKE_NEU_GUONG = {
    "zero-width joiners": "nê\u200du gư\u200dơng",
    "zero-width spaces": "nêu\u200b gư\u200bơng",
    "zero-width non-joiners": "n\u200cêu g\u200cương",
    "soft hyphens": "nêu gư\u00adơng",
    "byte order mark and word joiner": "\ufeffnê\u2060u gương",
    "fullwidth letters": "ｎêｕ ｇươｎｇ",
    "unaccented, zero-width joiners": "ne\u200du gu\u200dong",
    "unaccented, fullwidth": "ｎｅｕ ｇｕｏｎｇ",
}


@pytest.mark.parametrize("name", LOOKS_LIKE_NEU_GUONG)
def test_a_query_finds_what_the_query_it_looks_like_finds(seeds_index: Path, name: str):
    typed = LOOKS_LIKE_NEU_GUONG[name]
    plain = "neu guong" if name.startswith("unaccented") else "nêu gương"
    results, expected = search(seeds_index, typed), search(seeds_index, plain)
    assert ids(results) == ids(expected) and ids(results)[0] == NEU_GUONG
    assert "nêu gương" in results.hits[0].snippet.marked
    assert results.suggestion == expected.suggestion


def test_the_suggestion_for_a_query_with_zero_width_joiners_is_the_plain_one(seeds_index: Path):
    assert search(seeds_index, "neu guong").suggestion == "nêu gương"
    assert search(seeds_index, "ne\u200du gu\u200dong").suggestion == "nêu gương"
    assert search(seeds_index, "Ne\u200du gu\u200dong \u200b").suggestion == "Nêu gương"


def test_an_article_with_invisible_characters_inside_words_is_found_and_marked_as_written(tmp_path: Path):
    text = "Phong trào thi đua\n\nCán bộ nê\u200bu gư\u00adơng sáng về đạo đức, lối sống.\n"
    index_dir = make_index(tmp_path, {"a.txt": text, "b.txt": "Chuyện khác\n\nMột bài viết về mùa lúa.\n"})
    for query in ("nêu gương", "neu guong", '"nêu gương"', "gư\u200dơng"):
        results = search(index_dir, query)
        assert ids(results) == ["a.txt"], query
    assert "nê\u200bu gư\u00adơng" in search(index_dir, "nêu gương").hits[0].snippet.marked


def test_the_time_budget_covers_the_snippets(seeds_index: Path, monkeypatch: pytest.MonkeyPatch):
    import searchkit.search.results

    # A clock that only moves while snippets are made: three seconds for each.
    now = [0.0]
    made = searchkit.search.results.snippet

    def slow_snippet(*args, **kwargs):
        now[0] += 3.0
        return made(*args, **kwargs)

    monkeypatch.setattr(searchkit.search.results, "snippet", slow_snippet)
    with Searcher(seeds_index) as searcher:
        assert searcher.search("nêu gương", snippets=False, clock=lambda: now[0]).total > 1
        with pytest.raises(QueryError) as caught:
            searcher.search("nêu gương", clock=lambda: now[0])
    assert caught.value.code == "query_timeout"
    assert now[0] == 3.0  # stopped after the first snippet over the budget, not after all of them
