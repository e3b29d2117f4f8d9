"""Building and updating the index: incremental by content hash, robust to odd files, atomic."""

from __future__ import annotations

import codecs
import errno
import json
import shutil
import unicodedata
from pathlib import Path

import pytest

from searchkit.build import files, index
from searchkit.engines.whoosh import generations
from searchkit.engines.whoosh.codec.writing import CompactSegmentWriter
from searchkit.errors import IndexBusyError, IndexMissingError, SearchkitError
from searchkit.search.searcher import Searcher, search

DA_NANG = "Cầu mới ở Đà Nẵng\n\nThành phố Đà Nẵng khánh thành cây cầu mới bắc qua sông Hàn.\n"
HUE = "Lễ hội ở Huế\n\nFestival Huế thu hút đông đảo du khách đến với cố đô.\n"
# Worker processes from two articles on, so that a few articles take the parallel path.
FROM_TWO = index.Workers(min_articles=2)


@pytest.fixture
def seeds(seeds_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the seed articles, free to change."""
    return Path(shutil.copytree(seeds_dir, tmp_path / "seeds"))


@pytest.fixture
def built(seeds_index: Path, tmp_path: Path) -> Path:
    """A private copy of the seed articles' index, so a test can update it cheaply."""
    return Path(shutil.copytree(seeds_index, tmp_path / "index"))


def small_seeds(folder: Path) -> Path:
    """Two short articles: cheaper to index from scratch than the seed articles."""
    folder.mkdir()
    (folder / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    (folder / "hue.txt").write_text(HUE, encoding="utf-8")
    return folder


def paths(index_dir: Path, text: str) -> list[str]:
    return [hit.path for hit in search(index_dir, text, limit=100).hits]


def generation(index_dir: Path) -> int:
    return index.open_index(index_dir).latest_generation()


# --- incremental updates ----------------------------------------------------------------------


def test_add_change_and_delete_follow_the_folder(seeds: Path, built: Path):
    (seeds / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    report = index.build(seeds, built)
    assert report.summary() == "added 1, updated 0, removed 0, unchanged 5, skipped 0"
    assert paths(built, "khanh thanh") == ["da-nang.txt"]

    (seeds / "da-nang.txt").write_text(DA_NANG.replace("sông Hàn", "bến Marina"), encoding="utf-8")
    report = index.build(seeds, built)
    assert report.summary() == "added 0, updated 1, removed 0, unchanged 5, skipped 0"
    assert paths(built, "marina") == ["da-nang.txt"]
    assert "da-nang.txt" not in paths(built, "song han")

    (seeds / "da-nang.txt").unlink()
    report = index.build(seeds, built)
    assert report.summary() == "added 0, updated 0, removed 1, unchanged 5, skipped 0"
    assert paths(built, "khanh thanh") == []
    assert len(paths(built, "dang")) == 5


def test_updates_one_article_at_a_time_keep_every_article(seeds: Path, built: Path):
    """Enough one-article updates that Whoosh's merge policy folds the small segments together."""
    for n in range(8):
        text = f"Tin số {n}\n\nNêu gương đảng viên ở Đông Hà, bài {n}.\n"
        (seeds / f"tin-{n}.txt").write_text(text, encoding="utf-8")
        assert index.build(seeds, built).added == 1
    with index.open_index(built).reader() as reader:
        assert len(list(reader.leaf_readers())) < 9  # some segments were merged
    assert sorted(paths(built, '"neu guong dang vien"')) == [f"tin-{n}.txt" for n in range(8)]
    assert len(paths(built, "dong ha")) >= 8


def test_an_unchanged_folder_writes_nothing(seeds: Path, built: Path):
    before = generation(built)
    report = index.build(seeds, built)
    assert report.summary() == "added 0, updated 0, removed 0, unchanged 5, skipped 0"
    assert generation(built) == before


def test_rebuild_reindexes_everything_in_one_commit(seeds: Path, built: Path):
    (seeds / "000_f290433a7163aea1.txt").unlink()
    report = index.build(seeds, built, rebuild=True)
    assert (report.added, report.removed, report.unchanged) == (4, 1, 0)
    assert len(paths(built, "dang")) == 4


def test_jsonl_records_are_articles_named_by_file_and_id(tmp_path: Path):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    records = [
        {"id": "dn", "title": "Cầu mới ở Đà Nẵng", "text": DA_NANG, "date": "2024-05-01"},
        {"id": "hue", "title": "Lễ hội ở Huế", "text": HUE, "source": "Báo Huế"},
    ]
    corpus = seeds / "corpus.jsonl"
    corpus.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8"
    )
    assert index.build(seeds, index_dir).added == 2
    assert paths(index_dir, "festival") == ["corpus.jsonl#hue"]
    with Searcher(index_dir) as searcher:
        assert searcher.document("corpus.jsonl#dn").date == "2024-05-01"

    records[1]["text"] = HUE.replace("Festival", "Lễ hội")
    corpus.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records[1:]), encoding="utf-8"
    )
    report = index.build(seeds, index_dir)
    assert (report.added, report.updated, report.removed) == (0, 1, 1)
    assert paths(index_dir, "festival") == []
    assert paths(index_dir, "khanh thanh") == []


# --- encodings and odd files ------------------------------------------------------------------


def test_odd_files_are_skipped_and_the_rest_indexed(tmp_path: Path):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "utf8.txt").write_text(DA_NANG, encoding="utf-8")
    (seeds / "bom.txt").write_bytes(codecs.BOM_UTF8 + HUE.encode("utf-8"))
    utf16 = "Nước mắm Phú Quốc\n\nNghề làm nước mắm truyền thống ở đảo ngọc.\n"
    (seeds / "utf16.txt").write_bytes(utf16.encode("utf-16"))  # with BOM
    nfd = "Đường phố Hội An\n\nPhố cổ Hội An rực rỡ đèn lồng mỗi đêm rằm.\n"
    (seeds / "nfd.md").write_text(unicodedata.normalize("NFD", nfd), encoding="utf-8")
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (seeds / "latin1.txt").write_bytes(
        "Garçon, café crème à la française".encode("latin-1") + b"\x81\x8d"
    )
    (seeds / "big.txt").write_text("Hà Nội " * 2000, encoding="utf-8")

    report = index.build(seeds, index_dir, max_bytes=10_000)

    assert (report.added, len(report.skipped)) == (4, 4)
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.txt", "binary.txt", "latin1.txt", "big.txt"}
    assert reasons["empty.txt"] == "empty file" and reasons["binary.txt"] == "binary file"
    assert "decode" in reasons["latin1.txt"] and "--max-bytes" in reasons["big.txt"]
    assert paths(index_dir, "nuoc mam") == ["utf16.txt"]
    assert paths(index_dir, "den long") == ["nfd.md"]
    assert paths(index_dir, "festival") == ["bom.txt"]
    hit = search(index_dir, "hoi an").hits[0]
    # Stored as NFC, so the snippet marks whole letters of the original words.
    assert hit.snippet.marked == ["Hội An"] and hit.title == "Đường phố Hội An"


def test_a_date_that_is_no_date_is_a_warning_and_the_article_is_indexed_without_it(news_dir: Path, tmp_path: Path):
    report = index.build(news_dir, tmp_path / "index", procs=1)
    assert (report.added, report.skipped) == (8, [])
    reason = "date '2024-13-45' is not a date (indexed without one)"
    assert report.warnings == [index.BuildWarning("ngay-hong.md", reason)]
    assert report.summary().endswith("skipped 0, warnings 1")
    assert report.to_dict()["warnings"] == [{"path": "ngay-hong.md", "reason": reason}]
    hit = search(tmp_path / "index", "mưa lớn").hits[0]
    assert (hit.id, hit.date, hit.source) == ("ngay-hong.md", None, "Tuổi Trẻ")
    # Read again on every build, as a skipped file is, so an unchanged folder still reports it.
    again = index.build(news_dir, tmp_path / "index", procs=1)
    assert (again.unchanged, len(again.warnings)) == (8, 1)


def test_a_file_that_becomes_unreadable_keeps_its_last_good_version(seeds: Path, built: Path):
    (seeds / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    index.build(seeds, built)
    (seeds / "da-nang.txt").write_bytes(bytes(range(256)))
    report = index.build(seeds, built)
    assert [s.path for s in report.skipped] == ["da-nang.txt"] and report.removed == 0
    assert paths(built, "khanh thanh") == ["da-nang.txt"]


# --- atomic writes, interruptions, concurrency ------------------------------------------------


def test_an_interrupted_build_leaves_the_previous_index(seeds: Path, built: Path):
    for n in range(3):
        (seeds / f"extra-{n}.txt").write_text(DA_NANG, encoding="utf-8")

    def interrupt(done: int, total: int) -> None:
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index.build(seeds, built, progress=interrupt)
    assert paths(built, "khanh thanh") == [] and len(paths(built, "dang")) == 5
    assert index.build(seeds, built).added == 3  # the lock was released
    assert len(paths(built, "khanh thanh")) == 3


@pytest.mark.parametrize("procs", [1, 2])
def test_a_write_error_leaves_the_previous_index(seeds: Path, built: Path, monkeypatch, procs):
    for n in range(8):
        (seeds / f"da-nang-{n}.txt").write_text(DA_NANG, encoding="utf-8")

    def disk_full(self, **fields):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(CompactSegmentWriter, "add_document", disk_full)
        with pytest.raises(SearchkitError, match="cannot write the index .*No space left"):
            index.build(seeds, built, procs=procs, workers=FROM_TWO)
    assert paths(built, "khanh thanh") == [] and len(paths(built, "dang")) == 5
    assert index.build(seeds, built, procs=procs, workers=FROM_TWO).added == 8
    assert not (built / "MAIN.tmp").exists()


def test_an_interrupted_first_build_is_finished_by_the_next(tmp_path: Path):
    seeds, index_dir = small_seeds(tmp_path / "seeds"), tmp_path / "index"

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index.build(seeds, index_dir, progress=interrupt)
    assert not index.exists(index_dir)
    with pytest.raises(IndexMissingError, match="no index"):
        index.open_index(index_dir)
    assert index.build(seeds, index_dir).added == 2
    assert index.exists(index_dir)


def test_a_generation_a_killed_build_left_is_removed_by_the_next(seeds: Path, built: Path):
    published = generations.current(built)
    left = generations.begin(built, fresh=True)  # what a build killed before publishing leaves
    (left.path / "_MAIN_1.toc").write_bytes(b"half")
    assert generations.current(built) == published and len(paths(built, "dang")) == 5
    (seeds / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    assert index.build(seeds, built).added == 1
    assert not left.path.exists() or generations.current(built).path == left.path
    assert paths(built, "khanh thanh") == ["da-nang.txt"]


def test_a_second_build_at_the_same_time_is_refused(seeds: Path, built: Path):
    (seeds / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    refused = []

    def second_build(done: int, total: int) -> None:
        with pytest.raises(IndexBusyError, match="another build is updating"):
            index.build(seeds, built)
        refused.append(done)

    assert index.build(seeds, built, progress=second_build).added == 1
    assert refused


def test_queries_during_a_build_answer_from_the_last_commit(seeds: Path, built: Path):
    (seeds / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    seen = []
    with Searcher(built) as searcher:

        def query(done: int, total: int) -> None:
            seen.append(searcher.search("khanh thanh").total)
            seen.append(search(built, "khanh thanh").total)

        index.build(seeds, built, progress=query)
        searcher.refresh()
        assert set(seen) == {0}
        assert searcher.search("khanh thanh").total == 1


def test_an_index_of_another_version_asks_for_a_rebuild(tmp_path: Path):
    seeds, built = small_seeds(tmp_path / "seeds"), tmp_path / "index"
    index.build(seeds, built)
    meta = generations.current(built).path / generations.META
    meta.write_text(meta.read_text().replace('"schema": ', '"schema": 1000'))
    assert not index.exists(built)
    with pytest.raises(IndexMissingError, match="--rebuild"):
        index.build(seeds, built)
    assert index.build(seeds, built, rebuild=True).added == 2
    assert index.exists(built)


# --- worker processes ---------------------------------------------------------------------------


def test_worker_processes_give_the_same_index(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for n in range(12):
        text = DA_NANG if n % 2 else HUE
        (seeds / f"{n:02}.txt").write_text(text.replace("\n\n", f" số {n}\n\n"), encoding="utf-8")
    progress: list[tuple[int, int]] = []
    index.build(seeds, tmp_path / "serial", procs=1)
    report = index.build(
        seeds, tmp_path / "parallel", procs=2, progress=lambda *p: progress.append(p), workers=FROM_TWO
    )
    assert report.added == 12 and progress[-1] == (12, 12)
    for query in ("khanh thanh", "festival hue", "so 7", "cau moi"):
        # Equal articles tie, and ties come in document order, which differs.
        assert sorted(paths(tmp_path / "parallel", query)) == sorted(
            paths(tmp_path / "serial", query)
        )

    for n in range(8):
        (seeds / f"{n:02}.txt").write_text(
            HUE.replace("\n\n", f" bản mới {n}\n\n"), encoding="utf-8"
        )
    (seeds / "11.txt").unlink()
    report = index.build(seeds, tmp_path / "parallel", procs=2, workers=FROM_TWO)
    assert (report.updated, report.removed, report.unchanged) == (8, 1, 3)
    assert len(paths(tmp_path / "parallel", "ban moi")) == 8
    assert sorted(paths(tmp_path / "parallel", "khanh thanh")) == ["09.txt"]


# --- adding files -----------------------------------------------------------------------------


def test_add_files_copies_and_indexes_only_them(seeds: Path, built: Path, tmp_path: Path):
    new = tmp_path / "incoming" / "da-nang.txt"
    new.parent.mkdir()
    new.write_text(DA_NANG, encoding="utf-8")
    report = index.add_files([new], seeds, built)
    # The five seed articles are left alone, and counted so: the report says what the index holds.
    assert report.summary() == "added 1, updated 0, removed 0, unchanged 5, skipped 0"
    assert (seeds / "da-nang.txt").read_bytes() == new.read_bytes()
    assert paths(built, "khanh thanh") == ["da-nang.txt"]
    assert index.add_files([new], seeds, built).summary() == (  # the same file again
        "added 0, updated 0, removed 0, unchanged 6, skipped 0"
    )
    assert index.add_files([new], seeds, built).unchanged == index.build(seeds, built).unchanged


def test_add_files_refuses_to_overwrite_a_different_file(seeds: Path, built: Path, tmp_path: Path):
    (seeds / "da-nang.txt").write_text(HUE, encoding="utf-8")
    good, new = tmp_path / "good.txt", tmp_path / "da-nang.txt"
    good.write_text(HUE, encoding="utf-8")
    new.write_text(DA_NANG, encoding="utf-8")
    with pytest.raises(SearchkitError, match="already exists with different content"):
        index.add_files([good, new], seeds, built)
    assert not (seeds / "good.txt").exists()  # nothing copied
    assert (seeds / "da-nang.txt").read_text(encoding="utf-8") == HUE


def test_add_files_refuses_a_file_without_an_article(seeds: Path, built: Path, tmp_path: Path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(SearchkitError, match="empty file"):
        index.add_files([empty], seeds, built)
    assert not (seeds / "empty.txt").exists()


def test_add_files_without_an_index_indexes_the_whole_folder(tmp_path: Path):
    seeds = small_seeds(tmp_path / "seeds")
    new = tmp_path / "new.txt"
    new.write_text(DA_NANG.replace("Đà Nẵng", "Hội An"), encoding="utf-8")
    report = index.add_files([new], seeds, tmp_path / "index")
    assert report.added == 3
    assert index.exists(tmp_path / "index")


def test_add_files_refuses_a_hidden_file_the_next_build_would_remove(seeds: Path, built: Path, tmp_path: Path):
    hidden = tmp_path / "in" / ".da-nang.txt"
    hidden.parent.mkdir()
    hidden.write_text(DA_NANG, encoding="utf-8")
    with pytest.raises(SearchkitError, match=r"hidden files \(names starting with '.'\) are not read"):
        index.add_files([hidden], seeds, built)
    assert not (seeds / ".da-nang.txt").exists()
    assert index.build(seeds, built).summary() == "added 0, updated 0, removed 0, unchanged 5, skipped 0"


def test_add_files_onto_a_folder_of_the_same_name_is_refused(seeds: Path, built: Path, tmp_path: Path):
    (seeds / "da-nang.txt").mkdir()
    (seeds / "da-nang.txt" / "cu.txt").write_text(HUE, encoding="utf-8")
    new = tmp_path / "da-nang.txt"
    new.write_text(DA_NANG, encoding="utf-8")
    with pytest.raises(SearchkitError, match=r"da-nang.txt is a folder \(rename the file\)$"):
        index.add_files([new], seeds, built)
    assert (seeds / "da-nang.txt" / "cu.txt").read_text(encoding="utf-8") == HUE


def test_add_files_onto_an_unreadable_file_of_the_same_size_is_refused(
    seeds: Path, built: Path, tmp_path: Path, monkeypatch
):
    (seeds / "da-nang.txt").write_text(DA_NANG.replace("Hàn", "Hán"), encoding="utf-8")  # as many bytes
    new = tmp_path / "da-nang.txt"
    new.write_text(DA_NANG, encoding="utf-8")
    assert new.stat().st_size == (seeds / "da-nang.txt").stat().st_size
    opened = Path.open

    def refuse(self, *args, **kwargs):
        # Root reads whatever the permissions say: refuse the file in the folder as a chmod 000 would.
        if self == seeds / "da-nang.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return opened(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(SearchkitError, match=r"cannot read .*da-nang.txt: Permission denied$"):
        index.add_files([new], seeds, built)
    monkeypatch.undo()
    assert "Hán" in (seeds / "da-nang.txt").read_text(encoding="utf-8")


def test_add_files_refuses_an_article_whose_id_another_file_gives(seeds: Path, built: Path, tmp_path: Path):
    record = {"id": "hue.txt", "title": "Lễ hội ở Huế", "text": HUE}
    (seeds / "tin.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert index.build(seeds, built).added == 1
    clash = tmp_path / "tin.jsonl#hue.txt"  # its id would be the record's
    clash.write_text(DA_NANG, encoding="utf-8")
    with pytest.raises(SearchkitError, match=r"its article tin.jsonl#hue.txt would have the same id as one read from "):
        index.add_files([clash], seeds, built)
    assert not (seeds / clash.name).exists()
    assert paths(built, "festival") == ["tin.jsonl#hue.txt"]
    # Both at once: the second refused for the first.
    jsonl = tmp_path / "moi.jsonl"
    jsonl.write_text(json.dumps({**record, "id": "a.txt"}, ensure_ascii=False) + "\n", encoding="utf-8")
    other = tmp_path / "moi.jsonl#a.txt"
    other.write_text(DA_NANG, encoding="utf-8")
    with pytest.raises(SearchkitError, match="moi.jsonl#a.txt would have the same id as one read from moi.jsonl"):
        index.add_files([jsonl, other], seeds, built)
    assert not (seeds / "moi.jsonl").exists()


@pytest.mark.parametrize(
    ("rebuild", "summary"),
    [
        (False, "added 0, updated 0, removed 1, unchanged 4, skipped 0"),
        (True, "added 4, updated 0, removed 1, unchanged 0, skipped 0"),
    ],
)
def test_a_build_counts_the_articles_it_wrote_when_files_vanish_between_its_readings(
    seeds: Path, built: Path, monkeypatch, rebuild: bool, summary: str
):
    (seeds / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    changed = seeds / "001_4485d4bbea077518.txt"
    changed.write_text(HUE, encoding="utf-8")
    readings = []
    read = files.read_articles

    def vanishing(*args, **kwargs):
        readings.append(1)
        if len(readings) == 2:  # after the first reading decided what to write
            (seeds / "da-nang.txt").unlink()
            changed.unlink()
        return read(*args, **kwargs)

    monkeypatch.setattr(files, "read_articles", vanishing)
    report = index.build(seeds, built, rebuild=rebuild)
    assert len(readings) == 2
    assert report.summary() == summary
    monkeypatch.undo()
    assert index.build(seeds, built).summary() == "added 0, updated 0, removed 0, unchanged 4, skipped 0"
    assert paths(built, "festival") == paths(built, "khanh thanh") == []


def test_an_article_read_through_a_link_out_of_the_folder_is_removed_by_the_next_build(
    seeds: Path, built: Path, tmp_path: Path
):
    outside = tmp_path / "ngoai" / "hue.txt"
    outside.parent.mkdir()
    outside.write_text(HUE, encoding="utf-8")
    (seeds / "hue.txt").symlink_to(outside)
    (seeds / "ban-sao.txt").symlink_to("001_4485d4bbea077518.txt")
    assert index.build(seeds, built, follow_links=True).added == 1  # as a build that followed every link did
    assert paths(built, "festival") == ["hue.txt"]
    report = index.build(seeds, built)
    assert report.summary() == "added 0, updated 0, removed 1, unchanged 5, skipped 2"
    assert paths(built, "festival") == []


def test_two_articles_with_one_id_are_reported_and_the_next_build_changes_nothing(seeds: Path, built: Path):
    record = {"id": "hue.txt", "title": "Lễ hội ở Huế", "text": HUE}
    (seeds / "tin.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    (seeds / "tin.jsonl#hue.txt").write_text(HUE.replace("Festival", "Lễ hội"), encoding="utf-8")
    report = index.build(seeds, built)
    assert report.summary() == "added 1, updated 0, removed 0, unchanged 5, skipped 1"
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("tin.jsonl#hue.txt", "same id as tin.jsonl#line 1 (rename one of them)")
    ]
    again = index.build(seeds, built)
    assert again.summary() == "added 0, updated 0, removed 0, unchanged 6, skipped 1"
