"""The index as Xapian shards: the same hits as the embedded index, incremental builds, statistics.

Three ``xapian-tcpsrv`` servers run on 127.0.0.1 in temporary folders (``tests/conftest.py``);
``make test`` installs them (``scripts/install-xapian.sh``).
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_correction import ARTICLES

from searchkit.build.index import build
from searchkit.build.shards import build as build_shards
from searchkit.cli import main
from searchkit.engines.xapian.connection import Shard, open_one, parse_shards
from searchkit.engines.xapian.servers import LocalShards
from searchkit.engines.xapian.statistics import cache_folder, versions
from searchkit.engines.xapian.terms import id_key, shard_of
from searchkit.errors import SearchkitError
from searchkit.search.filters import Filters
from searchkit.search.searcher import Searcher

NEU_GUONG = "004_a29b889078a98f24.txt"
DONG_HA = "003_b3e0a07a9f4fc9ac.txt"
AN_KHE = "000_f290433a7163aea1.txt"

# The seed tests' queries (tests/test_search.py, test_suggest.py, test_keystrokes.py, test_acronyms.py):
# unaccented finds accented, tone-mark placement, đ, phrases, exclusions, fields, prefixes,
# questions, bad syntax, keys, acronyms.
SEED_QUERIES = [
    "nêu gương",
    "neu guong",
    "nêu guong",
    "neeu guwowng",
    "thành ủy",
    "thành uỷ",
    "dong ha",
    "Đông Hà",
    '"học tập và làm theo"',
    '"hoc tap va lam theo"',
    '"theo làm và tập học"',
    '"nêu gương"~3',
    "Chỉ thị",
    "Chỉ thị -gương",
    'chi thi -"an khe"',
    "chi thi -title:khe",
    "title:-khe chi thi",
    "chi thi -(khe OR luc)",
    "chi thi (khe OR luc)",
    "title:gương",
    'title:"Chỉ thị"',
    "hoc*",
    "học* gương",
    "Hồ Chí Minh",
    "xylophone",
    "Đông Hà Phước nào",
    "Đông Hà Phước Long?",
    "Dong Ha Phuoc gi",
    "ccvc",
    "cbdv",
    "cán bộ OR đảng viên",
    "nêu) (gương",
    "OR OR",
    '"',
    "trách nhiệm của người đứng đầu trong việc nêu gương là gì",
    # A long keyword query no article holds whole, searched again as a question; a word folding alike.
    "trách nhiệm nêu gương của người đứng đầu ở Nghệ An hôm qua",
    "nếu gương",
]


@pytest.fixture(scope="module")
def both(seeds_index: Path, seeds_shards, tmp_path_factory: pytest.TempPathFactory):
    cache = cache_folder(tmp_path_factory.mktemp("shard-client"))
    with Searcher(seeds_index) as embedded, Searcher(shards=seeds_shards.shards, cache=cache) as shards:
        yield embedded, shards


def ids(results) -> list[str]:
    return [hit.id for hit in results.hits]


@pytest.mark.parametrize("text", SEED_QUERIES)
def test_shards_give_the_embedded_index_s_hits(both, text: str):
    embedded, shards = both
    try:
        ours = embedded.search(text, limit=10)
    except SearchkitError as refused:
        with pytest.raises(SearchkitError) as caught:
            shards.search(text, limit=10)
        assert caught.value.code == refused.code
        return
    theirs = shards.search(text, limit=10)
    assert theirs.total == ours.total
    assert set(ids(theirs)) == set(ids(ours))
    assert theirs.suggestion == ours.suggestion
    assert [a.to_dict() for a in theirs.acronyms] == [a.to_dict() for a in ours.acronyms]
    snippets = {hit.id: hit.snippet.html() for hit in ours.hits}
    for hit in theirs.hits:
        assert hit.snippet.html() == snippets[hit.id]


@pytest.mark.parametrize(
    ("text", "first"),
    [("nêu gương", NEU_GUONG), ("neu guong", NEU_GUONG), ("thành ủy", DONG_HA), ("Đông Hà Phước nào", DONG_HA)],
)
def test_the_article_about_it_ranks_first_on_shards_too(both, text: str, first: str):
    embedded, shards = both
    assert ids(shards.search(text))[0] == ids(embedded.search(text))[0] == first


@pytest.mark.parametrize(
    ("text", "first"),
    [("nêu gươg", NEU_GUONG), ("thành ủy đôg hà", DONG_HA), ("binh lcu", "001_4485d4bbea077518.txt")],
)
def test_a_typo_is_corrected_on_shards_as_on_the_embedded_index(both, text: str, first: str):
    # The statistics are the client's: the same words are corrected, and the corrected query finds the article.
    embedded, shards = both
    ours, theirs = embedded.search(text), shards.search(text)
    assert theirs.corrected == ours.corrected != []
    assert theirs.suggestion == ours.suggestion
    assert ids(theirs)[0] == ids(ours)[0] == first
    assert theirs.total == ours.total


@pytest.fixture(scope="module")
def typos_both(tmp_path_factory: pytest.TempPathFactory):
    """test_correction's constructed articles, on the embedded index and on three shards."""
    seeds = tmp_path_factory.mktemp("typos-seeds")
    for name, text in ARTICLES.items():
        (seeds / name).write_text(text, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("typos-index")
    build(seeds, index_dir, procs=1)
    with LocalShards(tmp_path_factory.mktemp("typos-shard-servers"), 3) as servers:
        build_shards(seeds, servers.shards, procs=1)
        cache = cache_folder(tmp_path_factory.mktemp("typos-client"))
        with Searcher(index_dir) as embedded, Searcher(shards=servers.shards, cache=cache) as shards:
            yield embedded, shards


def fixes(results) -> dict[str, str]:
    return {c.typed: c.corrected for c in results.corrected}


@pytest.mark.parametrize(
    ("text", "corrected", "order"),
    [
        # The query as typed is searched too: the one article writing the typo first, the corrected word's after.
        ("ngiên cứu", {"ngiên": "nghiên"}, ["sai-chinh-ta.txt", "nghien-cuu.txt"]),
        ("phác triển", {"phác": "phát"}, ["nghien-cuu.txt"]),
        ("sử lý vi phạm", {"sử": "xử"}, ["xu-ly.txt"]),  # a confusion, where the pairs say so
        ("tuyen tinh", {"tinh": "sinh"}, ["giao-duc.txt"]),  # a written word, the query finding nothing as typed
        ("lịch sử", {}, ["lich-su.txt"]),  # real words stay
        ("covid iphone", {}, ["rac-thai.txt"]),
    ],
)
def test_typos_are_corrected_and_ranked_on_shards_as_on_the_embedded_index(typos_both, text, corrected, order):
    embedded, shards = typos_both
    ours, theirs = embedded.search(text), shards.search(text)
    assert fixes(theirs) == fixes(ours) == corrected
    assert ids(theirs) == ids(ours) == order
    assert theirs.suggestion == ours.suggestion
    assert theirs.to_dict()["corrected"] == ours.to_dict()["corrected"]


def test_a_query_finding_nothing_drops_its_blocking_word_on_shards_too(typos_both):
    embedded, shards = typos_both
    for searcher in typos_both:
        results = searcher.search("rác thải nghiên")
        assert (results.total, results.dropped, results.without.query) == (0, "nghiên", "rác thải")
        assert ids(results.without) == ["rac-thai.txt"]
    assert shards.search("sử giao thông").dropped == embedded.search("sử giao thông").dropped == "sử"
    assert shards.search("rác -thải").dropped is None


@pytest.mark.parametrize("typed", ["nêu gươg t", "neu guogn t", "thành ủy đôg h"])
def test_completion_tolerates_a_typo_on_shards_too(both, typed: str):
    embedded, shards = both
    assert shards.complete(typed) == embedded.complete(typed) != []


def test_the_article_marks_the_corrected_word_on_shards_too(both):
    embedded, shards = both
    _, title, body = shards.highlighted(NEU_GUONG, "nêu gươg")
    assert "gương" in body.marked and "nêu gương" in title.marked + body.marked
    _, ours_title, ours_body = embedded.highlighted(NEU_GUONG, "nêu gươg")
    assert (title.html(), body.html()) == (ours_title.html(), ours_body.html())


def test_unaccented_query_finds_accented_article_with_marked_snippet(both):
    _, shards = both
    hit = shards.search("neu guong").hits[0]
    assert hit.id == NEU_GUONG
    assert "<mark>nêu gương</mark>" in hit.snippet.html()


def test_an_unaccented_query_marks_words_as_restored_on_shards_too(both):
    _, shards = both
    marked = [syllable for hit in shards.search("chi thi 05").hits for syllable in hit.snippet.marked]
    assert "Chỉ thị 05" in marked and "Chí" not in marked
    assert "Chí" not in shards.highlighted(AN_KHE, "chi thi 05")[2].marked


def test_bad_syntax_is_the_same_error_on_shards(both):
    embedded, shards = both
    for text in ["", "-khe", "NOT khe", "a" * 5000]:
        with pytest.raises(SearchkitError) as ours:
            embedded.search(text)
        with pytest.raises(SearchkitError) as theirs:
            shards.search(text)
        assert theirs.value.code == ours.value.code


def test_statistics_read_through_the_same_interface(both):
    embedded, shards = both
    for prefix in ["nêu g", "chi t", "đảng v", "ho"]:
        assert shards.complete(prefix) == embedded.complete(prefix)
    assert shards.converted("neeu guwowng") == embedded.converted("neeu guwowng") == "nêu gương"
    assert shards.glossary().by_short == embedded.glossary().by_short and len(embedded.glossary()) > 0


def test_pages_articles_and_related_articles(both):
    embedded, shards = both
    first, second = shards.search("Hồ Chí Minh", limit=2), shards.search("Hồ Chí Minh", limit=2, page=2)
    assert first.total == second.total == 5
    assert not set(ids(first)) & set(ids(second)) and [h.rank for h in second.hits] == [3, 4]
    assert shards.document(NEU_GUONG) == embedded.document(NEU_GUONG)
    assert shards.document("no-such-article.txt") is None
    assert {h.id for h in shards.related(NEU_GUONG)} == {h.id for h in embedded.related(NEU_GUONG)}
    assert NEU_GUONG not in {h.id for h in shards.related(NEU_GUONG)}
    marked = shards.highlighted(NEU_GUONG, "neu guong")
    assert marked is not None and "nêu gương" in marked[2].marked


def test_each_article_is_on_the_shard_its_id_hashes_to(seeds_shards, seeds_dir: Path):
    names = sorted(p.name for p in seeds_dir.iterdir())
    held = [versions(open_one(shard)) for shard in seeds_shards.shards]
    assert sum(len(h) for h in held) == len(names) == 5
    for name in names:
        assert id_key(name) in held[shard_of(name, 3)]


def test_a_document_s_terms_are_those_of_the_embedded_index_s_analyzers(seeds_dir: Path):
    from searchkit.corpus.articles import Article, read_articles
    from searchkit.engines.whoosh.analyzers import exact_analyzer, folded_analyzer
    from searchkit.engines.xapian.connection import xapian
    from searchkit.engines.xapian.terms import analysed

    article = next(a for a in read_articles(seeds_dir) if isinstance(a, Article))
    # NFD, a tone mark placed the other way, an English word and a number.
    article = dataclasses.replace(article, title=unicodedata.normalize("NFD", "Thành uỷ Đông Hà: iPhone 15 (CBĐV)"))
    doc = xapian().Document.unserialise(analysed(article)[1])
    held = {item.term.decode("utf-8"): (item.wdf, list(item.positer)) for item in doc.termlist()}
    expected: dict[str, tuple[int, list[int]]] = {}
    for prefix, text in (("", article.text), ("S", article.title)):
        for token in folded_analyzer()(text, positions=True):
            wdf, where = expected.get(prefix + token.text, (0, []))
            expected[prefix + token.text] = (wdf + 1, [*where, token.pos + 1])
    for prefix, text in (("XE", article.text), ("XT", article.title)):
        for token in exact_analyzer()(text):
            wdf, _ = expected.get(prefix + token.text, (0, []))
            expected[prefix + token.text] = (wdf + 1, [])

    def of_fields(terms: dict) -> dict:
        return {t: v for t, v in terms.items() if not t[:1].isupper() or t[:1] == "S" or t[:2] in ("XE", "XT")}

    assert of_fields(held) == expected
    assert held["Sthanh"] == (1, [1]) and held["Sdong"] == (1, [3]) and held["Siphone"][0] == 1


def test_the_shard_of_an_id_is_stable():
    # The same on every machine and every version: an update or removal must find the article again.
    assert [shard_of(name, 3) for name in ("a.txt", "tin.jsonl#42", "Nêu gương.md")] == [
        int(id_key(name)[:16], 16) % 3 for name in ("a.txt", "tin.jsonl#42", "Nêu gương.md")
    ]
    assert shard_of("a.txt", 3) == 2 and shard_of("a.txt", 2) == 1 and shard_of("tin.jsonl#42", 3) == 0
    spread = [shard_of(f"{n}.txt", 3) for n in range(3000)]
    assert all(900 < spread.count(i) < 1100 for i in range(3))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8001", [Shard("127.0.0.1", 8001)]),
        ("a.example:1, b.example:2", [Shard("a.example", 1), Shard("b.example", 2)]),
        ("[::1]:9000", [Shard("::1", 9000)]),
    ],
)
def test_shard_addresses_are_parsed(text: str, expected: list[Shard]):
    assert parse_shards(text) == expected


@pytest.mark.parametrize("text", ["", "host", "host:", "host:0", "host:70000", ":80", "a:1,a:1", "a:1;b:2"])
def test_a_bad_shard_address_is_refused_in_one_line(text: str):
    with pytest.raises(SearchkitError) as caught:
        parse_shards(text)
    assert caught.value.code == "shards_invalid" and "\n" not in str(caught.value)


def copied(seeds_dir: Path, tmp_path: Path, shards: list[Shard]) -> Path:
    """A copy of the seed articles a test may change, built into ``shards``."""
    seeds = tmp_path / "seeds"
    shutil.copytree(seeds_dir, seeds)
    build_shards(seeds, shards, procs=1)
    return seeds


def assert_same_statistics(theirs: Searcher, ours: Searcher) -> None:
    for table in ("counts", "acronyms", "phrases"):
        assert sorted(theirs.spellings.all(table)) == sorted(ours.spellings.all(table))


def write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_builds_are_incremental_and_keep_one_copy_of_each_article(seeds_dir: Path, shard_servers, tmp_path: Path):
    seeds = tmp_path / "seeds"
    shutil.copytree(seeds_dir, seeds)
    shards = shard_servers.shards
    first = build_shards(seeds, shards, procs=1)
    assert (first.added, first.updated, first.removed) == (5, 0, 0)
    again = build_shards(seeds, shards, procs=1)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 5)
    write(seeds, "moi.txt", "Bài mới về chuyển đổi số\n\nHội nghị bàn về chuyển đổi số ở Quảng Trị.")
    text = (seeds / NEU_GUONG).read_text(encoding="utf-8")
    write(seeds, NEU_GUONG, text + "\nThêm đoạn về kinh tế tuần hoàn.")
    (seeds / AN_KHE).unlink()
    update = build_shards(seeds, shards, procs=1)
    assert (update.added, update.updated, update.removed, update.unchanged) == (1, 1, 1, 3)
    build(seeds, tmp_path / "index", procs=1)
    with Searcher(shards=shards, cache=tmp_path / "cache") as searcher, Searcher(tmp_path / "index") as embedded:
        assert ids(searcher.search('"ban ve chuyen doi so"')) == ["moi.txt"]
        assert ids(searcher.search('"kinh tế tuần hoàn"')) == [NEU_GUONG]
        assert searcher.search('"An Khê"').total == 0
        for text in ("nêu gương", "Hồ Chí Minh", "chi thi", "đảng viên"):
            assert set(ids(searcher.search(text))) == set(ids(embedded.search(text)))


@pytest.mark.parametrize(
    ("rebuild", "summary"),
    [
        (False, "added 0, updated 0, removed 1, unchanged 4, skipped 0"),
        (True, "added 4, updated 0, removed 1, unchanged 0, skipped 0"),
    ],
)
def test_a_shard_build_counts_what_it_wrote_when_files_vanish_between_its_readings(
    seeds_dir: Path, shard_servers, tmp_path: Path, monkeypatch, rebuild: bool, summary: str
):
    from searchkit.build import files

    shards = shard_servers.shards
    seeds = copied(seeds_dir, tmp_path, shards)
    write(seeds, "moi.txt", "Bài mới về chuyển đổi số\n\nHội nghị bàn về chuyển đổi số ở Quảng Trị.")
    changed = seeds / NEU_GUONG
    changed.write_text(changed.read_text(encoding="utf-8") + "\nThêm đoạn về kinh tế tuần hoàn.", encoding="utf-8")
    readings = []
    read = files.read_articles

    def vanishing(*args, **kwargs):
        readings.append(1)
        if len(readings) == 2:  # after the first reading decided what to write
            (seeds / "moi.txt").unlink()
            changed.unlink()
        return read(*args, **kwargs)

    monkeypatch.setattr(files, "read_articles", vanishing)
    report = build_shards(seeds, shards, procs=1, rebuild=rebuild)
    assert len(readings) == 2
    assert report.summary() == summary  # as the embedded index counts it (tests/test_index.py)
    monkeypatch.undo()
    assert build_shards(seeds, shards, procs=1).summary() == "added 0, updated 0, removed 0, unchanged 4, skipped 0"
    held = set().union(*(versions(open_one(shard)) for shard in shards))
    assert len(held) == 4 and id_key(NEU_GUONG) not in held and id_key("moi.txt") not in held


def test_statistics_follow_every_update_exactly(seeds_dir: Path, shard_servers, tmp_path: Path):
    shards = shard_servers.shards
    seeds = copied(seeds_dir, tmp_path, shards)
    (seeds / NEU_GUONG).unlink()
    build_shards(seeds, shards, procs=1)
    embedded = tmp_path / "index"
    build(seeds, embedded, procs=1)
    with Searcher(shards=shards, cache=tmp_path / "cache") as theirs, Searcher(embedded) as ours:
        assert_same_statistics(theirs, ours)


def test_more_shards_move_articles_without_copies(seeds_dir: Path, shard_servers, tmp_path: Path):
    two, three = shard_servers.shards[:2], shard_servers.shards
    build_shards(seeds_dir, two, procs=1)
    moved = build_shards(seeds_dir, three, procs=1)
    assert moved.added + moved.updated + moved.unchanged == 5
    held = [versions(open_one(shard)) for shard in three]
    assert sum(len(h) for h in held) == 5
    with Searcher(shards=three, cache=tmp_path / "cache") as searcher:
        assert searcher.search("Hồ Chí Minh").total == 5


def test_a_large_build_analyses_in_worker_processes(shard_servers, tmp_path: Path):
    seeds = tmp_path / "many"
    seeds.mkdir()
    for n in range(60):
        write(seeds, f"{n:03}.txt", f"Bài số {n}\n\nTỉnh ủy họp lần thứ {n} về công tác cán bộ, đảng viên.")
    report = build_shards(seeds, shard_servers.shards, procs=2)
    assert report.added == 60
    with Searcher(shards=shard_servers.shards, cache=tmp_path / "cache") as searcher:
        assert searcher.search('"tỉnh ủy họp"').total == 60
        assert ids(searcher.search('"lần thứ 42"'))[0] == "042.txt"


def test_filters_and_date_order_on_shards(news_dir: Path, news_index: Path, shard_servers, tmp_path: Path):
    build_shards(news_dir, shard_servers.shards, procs=1)
    with Searcher(news_index) as embedded, Searcher(shards=shard_servers.shards, cache=tmp_path / "cache") as shards:
        for filters in [
            Filters.parse(since="2024-05-01"),
            Filters.parse(until="2024-05-20"),
            Filters.parse(since="2024-01-01", until="2024-12-31"),
            Filters.parse(sources=["Tuổi Trẻ"]),
            Filters.parse(tags=["giáo dục"]),
        ]:
            for text in ["Việt Nam", ""]:
                ours = embedded.search(text, filters=filters, limit=20)
                theirs = shards.search(text, filters=filters, limit=20)
                assert set(ids(theirs)) == set(ids(ours)) and theirs.total == ours.total
        for sort in ("newest", "oldest"):
            ours = embedded.search("Việt Nam", sort=sort, limit=20)
            theirs = shards.search("Việt Nam", sort=sort, limit=20)
            assert [h.date for h in theirs.hits] == [h.date for h in ours.hits]


def test_cli_commands_take_shards(seeds_dir: Path, shard_servers, tmp_path: Path):
    runner = CliRunner()
    address = shard_servers.address
    seeds = tmp_path / "seeds"
    shutil.copytree(seeds_dir, seeds)
    common = ["--seeds", str(seeds), "--index", str(tmp_path / "client"), "--shards", address]
    # Empty shards are filled from --seeds first, as a missing embedded index is built.
    found = runner.invoke(main, ["query", "neu guong", "--json", *common])
    assert found.exit_code == 0, found.output
    assert '"id": "004_a29b889078a98f24.txt"' in found.output
    extra = tmp_path / "extra.txt"
    extra.write_text("Chuyển đổi số ở Cam Lộ\n\nHuyện Cam Lộ đẩy mạnh chuyển đổi số.", encoding="utf-8")
    added = runner.invoke(main, ["add", str(extra), "--json", *common])
    assert added.exit_code == 0 and '"added": 1' in added.output
    assert '"unchanged": 5' in added.output  # the other articles, left alone
    indexed = runner.invoke(main, ["index", "--json", *common])
    assert indexed.exit_code == 0 and '"unchanged": 6' in indexed.output
    assert "extra.txt" in runner.invoke(main, ["query", "cam lo", *common]).output


def test_eval_over_shards_ranks_as_the_embedded_index(seeds_dir: Path, seeds_index: Path, seeds_shards, tmp_path):
    queries, qrels = tmp_path / "queries.jsonl", tmp_path / "qrels.tsv"
    queries.write_text(
        '{"id": "q1", "text": "trách nhiệm nêu gương"}\n{"id": "q2", "text": "Đông Hà thành ủy"}\n'
        '{"id": "q3", "text": "thị xã An Khê"}\n',
        encoding="utf-8",
    )
    qrels.write_text(f"q1\t{NEU_GUONG}\t1\nq2\t{DONG_HA}\t1\nq3\t{AN_KHE}\t1\n", encoding="utf-8")
    runner = CliRunner()
    common = ["eval", "--queries", str(queries), "--qrels", str(qrels), "--seeds", str(seeds_dir), "--json"]
    ours = runner.invoke(main, [*common, "--index", str(seeds_index), "--per-query"])
    theirs = runner.invoke(
        main, [*common, "--index", str(tmp_path / "client"), "--per-query", "--shards", seeds_shards.address]
    )
    assert ours.exit_code == theirs.exit_code == 0, theirs.output
    report, embedded = json.loads(theirs.stdout), json.loads(ours.stdout)
    assert report["per_query"] == embedded["per_query"] and report["mrr_at_10"] == 1.0


def test_serve_over_shards_sees_every_build(seeds_dir: Path, shard_servers, tmp_path: Path):
    from tests.test_serve import ask, serve

    seeds = copied(seeds_dir, tmp_path, shard_servers.shards)
    with serve(seeds, tmp_path / "client", tmp_path, "--workers", "2", "--shards", shard_servers.address) as server:
        connection = server.connect()
        assert ask(connection, "neu guong")[0] == NEU_GUONG
        assert ask(connection, "ca giong ho tram") == []
        write(seeds, "ca-giong.txt", "Thả cá giống xuống hồ tràm\n\nXã thả cá giống xuống hồ Tràm.")
        build_shards(seeds, shard_servers.shards, procs=1)
        assert ask(connection, "ca giong ho tram")[0] == "ca-giong.txt"


def test_a_rebuild_rewrites_every_article_and_recounts(seeds_dir: Path, shard_servers, tmp_path: Path):
    shards = shard_servers.shards
    seeds = copied(seeds_dir, tmp_path, shards)
    (seeds / AN_KHE).unlink()
    rebuilt = build_shards(seeds, shards, rebuild=True, procs=1)
    assert (rebuilt.added, rebuilt.removed) == (4, 1)
    assert sum(len(versions(open_one(shard))) for shard in shards) == 4
    build(seeds, tmp_path / "index", procs=1)
    with Searcher(shards=shards, cache=tmp_path / "cache") as theirs, Searcher(tmp_path / "index") as ours:
        assert_same_statistics(theirs, ours)
        assert set(ids(theirs.search("chi thi"))) == set(ids(ours.search("chi thi")))


def test_query_and_eval_refuse_shards_of_other_articles_than_their_seeds(seeds_shards, tmp_path: Path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": "p1", "title": "Kinh tế", "text": "Giá xăng dầu tăng mạnh."}\n', encoding="utf-8")
    queries, qrels = tmp_path / "queries.jsonl", tmp_path / "qrels.tsv"
    queries.write_text('{"id": "a", "text": "giá xăng"}\n', encoding="utf-8")
    qrels.write_text("a\tp1\t1\n", encoding="utf-8")
    common = ["--seeds", str(corpus), "--index", str(tmp_path / "client"), "--shards", seeds_shards.address]
    runner = CliRunner()
    for args in (["query", "giá xăng"], ["eval", "--queries", str(queries), "--qrels", str(qrels)]):
        result = runner.invoke(main, [*args, *common])
        assert result.exit_code == 1 and result.stdout == "" and result.stderr.count("\n") == 1, result.output
        assert f"no article of {corpus} is in the shards {seeds_shards.address}" in result.stderr
        assert f"run 'searchkit index --seeds {corpus} --shards {seeds_shards.address}'" in result.stderr


# --- facets and the order of the best hits, embedded and on three shards ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("việt nam", {}),
        ("việt nam", {"sources": ["tuoi tre"]}),
        ("việt nam", {"tags": ["giáo dục"], "since": "2024-01-01"}),
        ("vàng OR gạo", {}),
        ("", {"sources": ["VnExpress", "Thanh Niên"]}),
    ],
)
def test_facets_over_three_shards_count_as_the_embedded_index(news_index: Path, news_shards, tmp_path, text, options):
    filters = Filters.parse(**options)
    with Searcher(news_index) as embedded, Searcher(shards=news_shards.shards, cache=tmp_path / "cache") as shards:
        ours = embedded.search(text, filters=filters, facets=True, limit=20)
        theirs = shards.search(text, filters=filters, facets=True, limit=20)
    assert ours.facets is not None and ours.facets.source
    assert theirs.facets == ours.facets
    assert theirs.total == ours.total and set(ids(theirs)) == set(ids(ours))


# Where the tiers tie, Xapian's BM25 normalises a title's words by the whole article's length, the embedded
# index's BM25F by the title's: these seed queries, all on "chi thi" in the titles, order the tied articles apart.
TITLE_LENGTH_DECIDES = {
    "Chỉ thị",
    'chi thi -"an khe"',
    "chi thi -title:khe",
    "title:-khe chi thi",
    'title:"Chỉ thị"',
    "hoc*",  # and a prefix's words, expanded by each shard server, keep Xapian's own idf
}


@pytest.mark.parametrize("text", [t for t in SEED_QUERIES if t not in TITLE_LENGTH_DECIDES])
def test_the_best_hit_is_the_same_on_shards(both, text: str):
    # Each term weighs with the embedded index's idf on shards too (``XapianBackend.idf_ratio``): with Xapian's
    # own, the question below put 004 first over shards and 003 first embedded.
    embedded, shards = both
    try:
        ours = embedded.search(text, snippets=False)
    except SearchkitError:
        return  # refused alike: see test_shards_give_the_embedded_index_s_hits
    assert ids(shards.search(text, snippets=False))[:1] == ids(ours)[:1]


@pytest.mark.xfail(
    strict=True,
    reason="Xapian 1.4's BM25 normalises by one length per document, Whoosh's BM25F by one length per field: with "
    "every seed holding 'chi' and 'thi', the title's share decides, and the shards put 002 first",
)
def test_the_best_hit_of_chi_thi_without_khe_is_the_same_on_shards(both):
    embedded, shards = both
    assert ids(shards.search("chi thi -khe"))[0] == ids(embedded.search("chi thi -khe"))[0] == NEU_GUONG
