"""Typos: a mistyped word still finds its article (``nêu gươg`` → ``nêu gương``), the way Vietnamese is misspelt."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit.build.index import build
from searchkit.cli import main
from searchkit.engines import compiled as cq
from searchkit.search import corrected, correction, result_cache
from searchkit.search.filters import RELEVANCE, Filters
from searchkit.search.neighbours import Syllables, confusions, edits
from searchkit.search.searcher import Searcher
from searchkit.webapp.app import create_app

NEU_GUONG = "004_a29b889078a98f24.txt"
BINH_LUC = "001_4485d4bbea077518.txt"
DONG_HA = "003_b3e0a07a9f4fc9ac.txt"

# Constructed articles: each word a confusion may reach written often, the confused spelling never; a pair a
# written word is read into is written over ten times (correction.PAIR_ODDS).
ARTICLES = {
    "xu-ly.txt": "Xử lý vi phạm giao thông\n\n" + "Công an tỉnh xử lý vi phạm giao thông trên quốc lộ. " * 12,
    "lich-su.txt": "Lịch sử của làng\n\n" + "Cuốn sách kể lịch sử của làng, nhà sử học đọc sử cũ. " * 6,
    "nghien-cuu.txt": "Nghiên cứu khoa học\n\n"
    + "Các nhà khoa học nghiên cứu phát triển nông nghiệp, phòng chống dịch bệnh với trách nhiệm cao. " * 30,
    "giao-duc.txt": "Giáo dục và quy định mới\n\n"
    + "Ngành giáo dục ban hành quy định mới về tuyển sinh; mỗi lớp có ghế mới, giường mới cho ký túc xá. " * 12,
    "rac-thai.txt": "Rác thải ở thành phố\n\n"
    + "Rác thải được thu gom mỗi ngày. " * 6
    + "Covid và iPhone 15 được nói tới năm 2024, UBND quận họp.",
    "sai-chinh-ta.txt": "Một bài viết sai chính tả\n\nBài này viết ngiên cứu sai chính tả một lần.",
}


@pytest.fixture(scope="module")
def typos_seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    seeds = tmp_path_factory.mktemp("typos-seeds")
    for name, text in ARTICLES.items():
        (seeds / name).write_text(text, encoding="utf-8")
    return seeds


@pytest.fixture(scope="module")
def typos_index(typos_seeds: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    index_dir = tmp_path_factory.mktemp("typos-index")
    build(typos_seeds, index_dir, procs=1)
    return index_dir


@pytest.fixture(scope="module")
def typos(typos_index: Path):
    with Searcher(typos_index) as searcher:
        yield searcher


@pytest.fixture(scope="module")
def seeds(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        yield searcher


def searcher_over(tmp_path_factory: pytest.TempPathFactory, name: str, texts: dict[str, str]):
    """A searcher over an index of ``texts`` (file name -> text), built once for a module's tests."""
    articles, index_dir = tmp_path_factory.mktemp(name), tmp_path_factory.mktemp(f"{name}-index")
    for file_name, text in texts.items():
        (articles / file_name).write_text(text, encoding="utf-8")
    build(articles, index_dir, procs=1)
    with Searcher(index_dir) as searcher:
        yield searcher


def fixed(results) -> dict[str, str]:
    return {c.typed: c.corrected for c in results.corrected}


# --- the edits -----------------------------------------------------------------------------------------------


def test_one_edit_reaches_each_kind_of_neighbour():
    found = edits("guong")
    assert {"gung", "guongg", "gunog", "guonh"} <= found  # deletion, insertion, transposition, substitution
    assert "guong" not in found and "gnuog" not in found  # itself, and two swaps away


def test_syllables_one_edit_away_from_four_letters_two_from_eight():
    syllables = Syllables([("guong|gương", 5), ("luc|lục", 3), ("nghieng|nghiêng", 2), ("ba|ba", 9)])
    assert syllables.neighbours("guog") == {"guong": 1}
    assert syllables.neighbours("lcu") == {"luc": 1}  # three letters that are no syllable
    assert syllables.neighbours("bao") == {}  # three letters shaped as a syllable: as typed
    assert syllables.neighbours("nghienng") == {"nghieng": 1}
    assert syllables.neighbours("ngkhienng") == {"nghieng": 2}


@pytest.mark.parametrize(
    ("typed", "confused"),
    [
        ("su", "xu"),
        ("xu", "su"),
        ("chach", "trach"),
        ("dao", "giao"),
        ("dac", "rac"),
        ("ruong", "giuong"),
        ("long", "nong"),
        ("nghieng", "nghien"),
        ("phon", "phong"),
        ("phac", "phat"),
        ("qui", "quy"),
        ("ngien", "nghien"),
        ("ge", "ghe"),
    ],
)
def test_the_spelling_confusions_vietnamese_writers_make(typed: str, confused: str):
    assert confused in confusions(typed)


# --- each confusion, on articles that write the other spelling ---------------------------------------------


@pytest.mark.parametrize(
    ("typed", "word", "meant", "article"),
    [
        ("sử lý vi phạm", "sử", "xử", "xu-ly.txt"),  # s/x, a word the index writes, read by its pair
        ("chách nhiệm", "chách", "trách", "nghien-cuu.txt"),  # tr/ch
        ("dáo dục", "dáo", "giáo", "giao-duc.txt"),  # d/gi
        ("dác thải", "dác", "rác", "rac-thai.txt"),  # d/r
        ("rường mới", "rường", "giường", "giao-duc.txt"),  # gi/r
        ("lông nghiệp", "lông", "nông", "nghien-cuu.txt"),  # l/n
        ("nghiêng cứu", "nghiêng", "nghiên", "nghien-cuu.txt"),  # final n/ng
        ("phòn chống", "phòn", "phòng", "nghien-cuu.txt"),  # final ng/n
        ("phác triển", "phác", "phát", "nghien-cuu.txt"),  # final c/t
        ("qui định", "qui", "quy", "giao-duc.txt"),  # i/y
        ("ngiên cứu khoa học", "ngiên", "nghiên", "nghien-cuu.txt"),  # ng/ngh
        ("gế mới", "gế", "ghế", "giao-duc.txt"),  # g/gh
    ],
)
def test_each_confusion_finds_the_article_spelling_it_right(typos, typed: str, word: str, meant: str, article: str):
    results = typos.search(typed)
    assert fixed(results) == {word: meant}
    assert article in [hit.id for hit in results.hits]


def test_a_real_word_is_never_corrected(typos):
    for typed in ("lịch sử", "sử", "nhà sử học", "covid", "iphone", "Covid iPhone", "2024", "15", "UBND", "UBNF"):
        assert typos.search(typed).corrected == [], typed
    assert "lich-su.txt" in [hit.id for hit in typos.search("lịch sử").hits]


def test_the_query_as_typed_is_searched_too_and_its_matches_come_first(typos):
    # One article writes the typo; the corpus writes the word often: its articles follow.
    results = typos.search("ngiên cứu")
    assert fixed(results) == {"ngiên": "nghiên"}
    assert [hit.id for hit in results.hits] == ["sai-chinh-ta.txt", "nghien-cuu.txt"]
    assert results.suggestion == "nghiên cứu"


# --- each edit kind, and the seeds' cases ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "corrected", "article", "suggestion"),
    [
        ("nêu gươg", {"gươg": "gương"}, NEU_GUONG, "nêu gương"),  # deletion
        ("thành ủy đôg hà", {"đôg": "đông"}, DONG_HA, "thành ủy đông hà"),  # deletion
        ("binh lcu", {"lcu": "luc"}, BINH_LUC, "bình lục"),  # transposition
        ("ngien cuu", {"ngien": "nghien"}, None, "nghiên cứu"),  # a confusion
        ("nêu gưương", {"gưương": "gương"}, NEU_GUONG, "nêu gương"),  # insertion
        ("nêu gươnh", {"gươnh": "gương"}, NEU_GUONG, "nêu gương"),  # substitution
        ("neu guogn", {"guogn": "guong"}, NEU_GUONG, "nêu gương"),  # with accents restored
        ("neeu gươg", {"gươg": "gương"}, NEU_GUONG, "nêu gương"),  # with Telex keys read
    ],
)
def test_the_seeds_typos_find_their_articles(seeds, typed, corrected, article, suggestion):
    results = seeds.search(typed)
    assert fixed(results) == corrected
    assert results.total > 0
    if article is not None:
        assert results.hits[0].id == article
    assert results.suggestion == suggestion


def test_a_correctly_typed_query_keeps_its_results_and_order(seeds, monkeypatch):
    queries = ["nêu gương", "neu guong", "bình lục", "thành ủy đông hà", "học tập", "hocj taapj", "chỉ thị 05", "CBĐV"]
    corrected = {q: [(h.id, h.score) for h in seeds.search(q).hits] for q in queries}
    assert all(seeds.search(q).corrected == [] for q in queries)
    monkeypatch.setattr(correction, "correct", lambda *args, **kwargs: None)
    assert {q: [(h.id, h.score) for h in seeds.search(q).hits] for q in queries} == corrected


# --- nothing found at all ----------------------------------------------------------------------------------


def test_a_query_finding_nothing_is_answered_without_its_blocking_word(typos):
    results = typos.search("rác thải nghiên")
    assert (results.total, results.hits, results.dropped) == (0, [], "nghiên")
    assert results.without.query == "rác thải"
    assert [hit.id for hit in results.without.hits] == ["rac-thai.txt"]
    assert typos.search("rác thải").dropped is None
    assert typos.search("rác thải nghiên", drop=False).without is None
    # The rarest word goes first: "sử" is written in one article, "giao thông" in another.
    assert typos.search("sử giao thông").dropped == "sử"
    # Operators and quotes are the user's: nothing is left out of them.
    assert typos.search("rác -thải").total == 0 and typos.search("rác -thải").dropped is None


def test_the_cli_and_json_say_what_was_corrected_and_left_out(typos_index: Path, typos_seeds: Path):
    runner = CliRunner()
    args = ["--seeds", str(typos_seeds), "--index", str(typos_index)]
    out = runner.invoke(main, ["query", "nghiêng cứu", *args]).output
    assert "Có phải bạn muốn tìm: nghiên cứu\n" in out
    assert "Đã sửa lỗi gõ: nghiêng → nghiên\n" in out
    out = runner.invoke(main, ["query", "rác thải nghiên", *args]).output
    assert "Không có kết quả cho cả 'rác thải nghiên'; kết quả không có: nghiên\n" in out
    client = create_app(index_dir=typos_index).test_client()
    data = client.get("/api/search", query_string={"q": "phác triển"}).get_json()
    assert data["corrected"] == [{"typed": "phác", "corrected": "phát"}]
    assert data["suggestion"] == "phát triển" and data["dropped"] is None
    dropped = client.get("/api/search", query_string={"q": "rác thải nghiên"}).get_json()
    assert dropped["total"] == 0 and dropped["results"] == []
    assert dropped["dropped"]["word"] == "nghiên" and dropped["dropped"]["query"] == "rác thải"
    assert [hit["id"] for hit in dropped["dropped"]["results"]] == ["rac-thai.txt"]
    assert client.get("/api/search", query_string={"q": "rác thải"}).get_json()["corrected"] == []


def test_the_page_shows_the_correction_escaped(typos_index: Path):
    client = create_app(index_dir=typos_index).test_client()
    page = client.get("/", query_string={"q": "phác triển"}).get_data(as_text=True)
    assert '<p class="corrected">Đã sửa lỗi gõ:' in page
    assert "<del>phác</del> → <ins>phát</ins>" in page
    assert "Có phải bạn muốn tìm:" in page
    page = client.get("/", query_string={"q": "rác & thải nghiên"}).get_data(as_text=True)
    assert "Không có kết quả cho cả <q>rác &amp; thải nghiên</q>; kết quả không có: <strong>nghiên</strong>" in page
    assert "Rác thải ở thành phố" in page
    assert 'class="corrected"' not in client.get("/", query_string={"q": "rác thải"}).get_data(as_text=True)


# --- autocompletion ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "completion"),
    [
        ("nêu gươg t", "nêu gương trong"),  # a deletion, typed with marks
        ("neu guogn t", "nêu gương trong"),  # a transposition, typed bare
        ("binh lcu d", "bình lục đẩy"),
        ("ngien c", "nghiên cứu"),  # a confusion
        ("thành ủy đôg h", "thành ủy đông hà"),
    ],
)
def test_autocompletion_tolerates_one_typo_in_the_words_before(seeds, typed: str, completion: str):
    assert completion in seeds.complete(typed)


def test_autocompletion_keeps_numbers_and_words_written_as_typed(seeds):
    assert all(c.startswith("2024 ") for c in seeds.complete("2024 n"))
    assert seeds.complete("neu g")[0] == "nêu gương"


def test_a_word_typed_with_marks_keeps_them_when_corrected(seeds):
    assert correction.agrees("gươg", "gương") and correction.agrees("gưương", "gương")
    assert not correction.agrees("gươg", "gượng") and not correction.agrees("ngôi", "nội")
    # "ngôi" (no seed writes it) is one letter from "nội", "nói", "nơi", none of them with its marks.
    assert seeds.search("ngôi sao").corrected == []


def test_a_query_finding_nothing_reads_a_written_word_as_a_typo_where_the_pairs_say_so(typos):
    # "tỉnh" is written, but never beside "tuyển": the query finds nothing as typed, and "tuyển sinh" is written.
    for typed in ("tuyển tinh", "tuyen tinh"):
        results = typos.search(typed)
        assert fixed(results) == {"tinh": "sinh"}
        assert [hit.id for hit in results.hits] == ["giao-duc.txt"]
    # Found as typed: nothing else is read.
    assert typos.search("công an tỉnh").corrected == []


def test_the_article_page_marks_the_corrected_word(seeds, seeds_index: Path):
    _, title, body = seeds.highlighted(NEU_GUONG, "nêu gươg")
    assert "gương" in body.marked and "nêu gương" in title.marked + body.marked
    page = create_app(index_dir=seeds_index).test_client().get(f"/articles/{NEU_GUONG}", query_string={"q": "nêu gươg"})
    assert "<mark>nêu gương</mark>" in page.get_data(as_text=True)


def test_a_word_beside_a_number_only_is_corrected_without_pair_evidence(typos):
    # Numbers have no pairs counted: "15 đượcc" is read on the word's frequency, as a query of one word is.
    results = typos.search("iphone 15 đượcc")
    assert fixed(results) == {"đượcc": "được"}
    assert [hit.id for hit in results.hits] == ["rac-thai.txt"]


def test_the_typed_and_corrected_queries_tiers_share_levels(typos):
    # Xapian weighs levels as powers of one number: the typed query's levels and the corrected one's share
    # levels rather than follow each other, and order the matches the same.
    backend = typos.backend
    match = functools.partial(backend.match, filters=Filters())
    prepared, found = corrected.searched("ngiên cứu", typos.prepared, match, backend.overlaps, None, retry=True)
    typed, fixed = typos.prepared("ngiên cứu", correct=False), prepared.corrected
    assert len(prepared.tiers) == 2 + max(len(typed.tiers), len(fixed.tiers)) < len(typed.tiers) + len(fixed.tiers)
    own = typed.compiled
    one_after_other = ((own,), *(tuple(cq.And((c, own)) for c in level) for level in typed.tiers), *fixed.tiers)
    ranked = [backend.ranked(found, sort=RELEVANCE, levels=levels) for levels in (prepared.tiers, one_after_other)]
    assert ranked[0] == ranked[1] and len(ranked[0]) == 2


# A typo making another written word: "ngoi" (written once, in a title) for "nguoi".
WRITTEN_TYPO = {
    "nguoi-dan.txt": "Người dân góp ý dự thảo luật đất đai\n\n"
    + "Người dân góp ý dự thảo luật đất đai tại hội nghị. " * 12,
    "ngoi-nha.txt": "Chuyện ngôi nhà cổ trong làng\n\n"
    + "Căn nhà cổ nằm giữa làng. Dân làng kể chuyện xưa. Ai cũng góp sức giữ gìn, mỗi người một ý. "
    "Bản dự án trùng tu được soạn thảo kỹ theo luật di sản. " * 8,
    "viet-sai.txt": "Thư bạn đọc\n\nBạn đọc viết: nguoii dân góp ý dự thảo, xin sửa lại.",
}


@pytest.fixture(scope="module")
def written_typo(tmp_path_factory: pytest.TempPathFactory):
    yield from searcher_over(tmp_path_factory, "written-typo", WRITTEN_TYPO)


def test_the_typed_words_scattered_rank_below_the_corrected_words_as_a_title_phrase(written_typo):
    # The query as typed finds the long article holding its words apart; the corrected words' phrase, in a
    # title, is what was meant.
    for typed in ("ngoi dan gop y du thao", "ngoi dan gop y"):
        results = written_typo.search(typed)
        assert fixed(results) == {"ngoi": "nguoi"}
        assert [hit.id for hit in results.hits] == ["nguoi-dan.txt", "ngoi-nha.txt"], typed


def test_the_typed_words_as_a_phrase_still_rank_first(written_typo):
    results = written_typo.search("nguoii dan gop y du thao")
    assert fixed(results) == {"nguoii": "nguoi"}
    assert [hit.id for hit in results.hits][:2] == ["viet-sai.txt", "nguoi-dan.txt"]


# Typos making another word the articles write often, read from the words beside them: "ngồi" and "pha"
# are written often, "ngồi dân" once and "pha hiện" never; "người dân" and "phát hiện" far more often.
REAL_WORD_TYPO = {
    "nguoi-dan.txt": "Người dân góp ý dự thảo luật\n\n" + "Người dân góp ý dự thảo luật đất đai tại hội nghị. " * 12,
    "ghe-da.txt": "Ghế đá trong công viên\n\n"
    + "Buổi chiều ai cũng ngồi trên ghế đá. Dân phố góp sức trồng cây, mỗi người một ý. " * 8,
    "phat-hien.txt": "Phát hiện kho hàng lậu\n\n" + "Công an phát hiện kho hàng lậu ở cảng. " * 12,
    "pha-tra.txt": "Pha trà mời khách\n\n" + "Hiện nay ông vẫn pha trà trong kho, bà pha cà phê mời khách hàng. " * 8,
    # A rare name in its own words: "Mùi" is one letter from "Mai", written far more often beside "bà" and "bán".
    "ba-mai.txt": "Bà Mai bán hàng ở chợ\n\n" + "Bà Mai bán hàng ở chợ Bến Thành. " * 40,
    "ba-mui.txt": "Chuyện bà Mùi\n\n" + "Bà Mùi bán hàng rong đầu ngõ. Bà Mùi bán bánh đúc. ",
    "ubnd.txt": "UBND phường họp dân\n\n" + "UBND phường họp dân năm 2024, ngồi nghe 15 ý kiến. " * 3,
    "quan-nho.txt": "Quán nhỏ đầu hẻm\n\nQuán cho khách ngồi dân dã bên vỉa hè.",
    # "Người dân" written over a hundred times as often as "ngồi dân": what the model asks of a word one edit away.
    "tin-vui.txt": "Tin vui\n\n" + "Người dân vui. " * 200,
    # "Đứt" is one final letter from "Đức" (a confusion), written far more often after "nước".
    "nuoc-duc.txt": "Nước Đức và châu Âu\n\n" + "Nước Đức đã đón khách. " * 300,
    "vang.txt": "Vàng trong nước đứt đà tăng\n\nGiá vàng trong nước đứt đà tăng sau ba phiên, đứt mạch giảm.",
}


@pytest.fixture(scope="module")
def real_word_typo(tmp_path_factory: pytest.TempPathFactory):
    yield from searcher_over(tmp_path_factory, "real-word-typo", REAL_WORD_TYPO)


@pytest.mark.parametrize(
    ("typed", "corrected", "article"),
    [
        ("ngoi dan gop y", {"ngoi": "nguoi"}, "nguoi-dan.txt"),  # a deletion making "ngồi", written once before "dân"
        ("ngoi dan gop", {"ngoi": "nguoi"}, "nguoi-dan.txt"),
        ("pha hien kho hang", {"pha": "phat"}, "phat-hien.txt"),  # three letters: a deletion making "pha"
    ],
)
def test_a_typo_making_another_written_word_is_read_from_the_words_beside_it(
    real_word_typo, monkeypatch, typed, corrected, article
):
    # The query as typed finds an article holding its words apart: it is still searched, but the words meant
    # come first.
    results = real_word_typo.search(typed)
    assert fixed(results) == corrected
    assert results.hits[0].id == article
    monkeypatch.setattr(correction, "correct", lambda *args, **kwargs: None)
    result_cache.of(real_word_typo).clear()  # the same query run again without correction, not its kept page
    as_typed = [hit.id for hit in real_word_typo.search(typed).hits]
    assert as_typed and article not in as_typed
    assert set(as_typed) < {hit.id for hit in results.hits}


def test_a_written_word_beside_the_words_it_is_written_with_is_never_read_otherwise(real_word_typo, monkeypatch):
    # "bà Mùi bán" is written (twice), "bà Mai bán" forty times: a real rare word in its own words stays, and so
    # do a number, an acronym and the words beside them (no pairs are counted with those).
    # "ngoi dan" and "nuoc dut da" are phrases an article writes, if once: read as typed.
    queries = [
        "ba mui ban hang",
        "bà Mùi bán",
        "ngồi trên ghế đá",
        "pha trà",
        "ngoi 15",
        "UBND ngoi",
        "UBNF dan",
        "2024 ngoi",
        "hien nay ong",
        "ngoi dan",
        "vang trong nuoc dut da tang",
        "nuoc dut da",
    ]
    results = {q: real_word_typo.search(q) for q in queries}
    assert {q: r.corrected for q, r in results.items()} == {q: [] for q in queries}
    assert [hit.id for hit in results["ba mui ban hang"].hits] == ["ba-mui.txt"]
    assert [hit.id for hit in results["vang trong nuoc dut da tang"].hits] == ["vang.txt"]
    monkeypatch.setattr(correction, "correct", lambda *args, **kwargs: None)
    assert {q: [(h.id, h.score) for h in real_word_typo.search(q).hits] for q in queries} == {
        q: [(h.id, h.score) for h in r.hits] for q, r in results.items()
    }


# "Ông An" is written more often than "mang án", "tuýt còi" alone of the words one letter from "tyt".
FIRST_LETTERS = {
    "mang-an.txt": "Mang án tù vì trộm cắp\n\n" + "Bị cáo mang án tù. " * 12,
    "ong-an.txt": "Ông An kể chuyện làng\n\n" + "Ông An kể chuyện làng. " * 20,
    "tuyt-coi.txt": "Tuýt còi mãn cuộc\n\n" + "Trọng tài tuýt còi mãn cuộc. " * 12,
}


@pytest.fixture(scope="module")
def first_letters(tmp_path_factory: pytest.TempPathFactory):
    yield from searcher_over(tmp_path_factory, "first-letters", FIRST_LETTERS)


def test_a_typo_seldom_changes_the_first_letter(first_letters):
    results = first_letters.search("mng an")
    assert fixed(results) == {"mng": "mang"}
    assert results.hits[0].id == "mang-an.txt"


def test_three_letters_beside_another_word_may_be_a_typo_whatever_their_shape(first_letters):
    results = first_letters.search("tyt coi")
    assert fixed(results) == {"tyt": "tuyt"}
    assert [hit.id for hit in results.hits] == ["tuyt-coi.txt"]
    assert first_letters.search("tyt").corrected == []  # alone, three letters shaped as a syllable stay as typed


# --- keys or a typo ------------------------------------------------------------------------------------------

# A typo may spell Telex keys: ``lujng`` (``lung`` with a ``j``) types ``lụng``, ``thanr`` (``thanh``, ``h`` hit as
# ``r``) types ``thản``; the articles write those syllables, but never beside ``linh`` or ``pho``.
KEYS_OR_TYPOS = {
    "lung-linh.txt": "Phố cổ lung linh đêm rằm\n\n" + "Đèn lồng lung linh khắp phố cổ. " * 12,
    "lung-thung.txt": "Áo rộng lụng thụng\n\n" + "Chiếc áo lụng thụng, anh thản nhiên cười. " * 12,
    "thanh-pho.txt": "Thành phố mở đường mới\n\n" + "Thành phố mở đường mới qua phố cổ. " * 12,
    "hoc-tap.txt": "Học tập suốt đời\n\n" + "Học tập suốt đời, học tập mỗi ngày. " * 12,
    "da-thua.txt": "Đội bóng đã thua trận\n\n" + "Đội bóng đã thua trận cuối. " * 12 + "Họ thừa nhận sai từ thủa nhỏ.",
}


@pytest.fixture(scope="module")
def keys_or_typos(tmp_path_factory: pytest.TempPathFactory):
    yield from searcher_over(tmp_path_factory, "keys-or-typos", KEYS_OR_TYPOS)


@pytest.mark.parametrize(
    ("typed", "typo", "meant", "article"),
    [("lujng linh", "lujng", "lung", "lung-linh.txt"), ("thanr pho", "thanr", "thanh", "thanh-pho.txt")],
)
def test_a_typo_spelling_keys_is_read_as_a_typo_where_the_words_beside_it_say_so(
    keys_or_typos, typed: str, typo: str, meant: str, article: str
):
    assert keys_or_typos.converted(typed) == typed  # the keys' syllable is never written beside the other word
    results = keys_or_typos.search(typed)
    assert fixed(results) == {typo: meant}
    assert results.hits[0].id == article


@pytest.mark.parametrize(
    ("typed", "keys", "article"),
    [
        ("lujng thujng", "lụng thụng", "lung-thung.txt"),
        ("thanr nhieen", "thản nhiên", "lung-thung.txt"),
        ("hocj taapj", "học tập", "hoc-tap.txt"),
    ],
)
def test_keys_typing_a_syllable_written_beside_its_neighbours_stay_keys(keys_or_typos, typed, keys, article):
    assert keys_or_typos.converted(typed) == keys
    results = keys_or_typos.search(typed)
    assert results.suggestion == keys
    assert results.corrected == []
    assert results.hits[0].id == article


@pytest.mark.parametrize(
    ("typed", "keys"),
    [("ddax thuar", "đã thủa"), ("da thuwaf", "da thừa"), ("ddax thuwaf", "đã thừa")],
)
def test_keys_plainly_typed_stay_keys_though_rarely_written_beside_their_neighbours(keys_or_typos, typed, keys):
    # ``đã thua`` is written, ``đã thủa`` and ``đã thừa`` never; a mark, or another word typed as keys, says keys.
    assert keys_or_typos.converted(typed) == keys


def test_a_lone_word_spelling_keys_is_read_as_keys(keys_or_typos):
    assert keys_or_typos.converted("lujng") == "lụng"  # no word beside it to say otherwise


# ``văn`` is written twice as often as ``vàng``: ``vagn`` is one edit from each, and keeps every letter of ``vàng``.
SWAPS = {
    "vang-sjc.txt": "Giá vàng SJC tăng\n\n" + "Giá vàng SJC tăng mạnh. " * 10,
    "van-hoa.txt": "Văn hóa làng\n\n" + "Văn hóa làng, văn nghệ. " * 10,
}


@pytest.fixture(scope="module")
def swaps(tmp_path_factory: pytest.TempPathFactory):
    yield from searcher_over(tmp_path_factory, "swaps", SWAPS)


@pytest.mark.parametrize("typed", ["vagn", "vagn SJC", "gia vagn"])
def test_two_letters_swapped_are_read_before_a_more_written_word_missing_one(swaps, typed: str):
    results = swaps.search(typed)
    assert fixed(results) == {"vagn": "vang"}
    assert results.hits[0].id == "vang-sjc.txt"
