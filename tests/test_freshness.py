"""Whether the index is older than the articles folder: snapshots of names, sizes and times."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from searchkit.build import index
from searchkit.corpus import freshness
from searchkit.corpus.freshness import SNAPSHOT_FILE, StaleCheck, snapshot, stale
from searchkit.engines.whoosh.codec.writing import CompactSegmentWriter
from searchkit.errors import SearchkitError

DONG_HA = "Tin Đông Hà\n\nThành uỷ Đông Hà họp bàn về công tác cán bộ.\n"
PHONG_NHA = "Tin Phong Nha\n\nHang động Phong Nha đón khách trở lại.\n"


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of two articles (one in a sub-folder) and its freshly built index."""
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    (seeds / "tỉnh").mkdir(parents=True)
    (seeds / "dong-ha.txt").write_text(DONG_HA, encoding="utf-8")
    (seeds / "tỉnh" / "phong-nha.txt").write_text(PHONG_NHA, encoding="utf-8")
    index.build(seeds, index_dir, procs=1)
    return seeds, index_dir


def later(path: Path) -> None:
    """Moves ``path``'s modification time a second on, as an editor saving it unchanged would."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))


def test_snapshot_lists_every_file_below_the_folder_with_size_and_time(tmp_path: Path):
    (tmp_path / "thư mục" / "con").mkdir(parents=True)
    (tmp_path / "a.txt").write_text(DONG_HA, encoding="utf-8")
    (tmp_path / "thư mục" / "con" / "b #1.md").write_text(PHONG_NHA, encoding="utf-8")
    (tmp_path / "ảnh.png").write_bytes(b"\x89PNG")  # skipped by the build, still part of the folder
    (tmp_path / ".hidden.txt").write_text("x", encoding="utf-8")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref", encoding="utf-8")
    files = snapshot(tmp_path)
    assert sorted(files) == ["a.txt", "thư mục/con/b #1.md", "ảnh.png"]
    size, mtime = files["a.txt"]
    assert size == len(DONG_HA.encode("utf-8"))
    assert mtime == (tmp_path / "a.txt").stat().st_mtime_ns


def test_snapshot_of_a_single_file_names_it_alone(tmp_path: Path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": "1", "text": "Tin Huế"}\n', encoding="utf-8")
    assert list(snapshot(corpus)) == ["corpus.jsonl"]
    assert snapshot(tmp_path / "khong-co") == {}


def test_snapshot_does_not_follow_a_link_to_a_folder(tmp_path: Path):
    (tmp_path / "a.txt").write_text(DONG_HA, encoding="utf-8")
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    assert list(snapshot(tmp_path)) == ["a.txt"]


def test_a_fresh_build_is_not_stale(built: tuple[Path, Path]):
    seeds, index_dir = built
    assert not stale(seeds, index_dir)
    recorded = json.loads((index_dir / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    assert sorted(recorded["files"]) == ["dong-ha.txt", "tỉnh/phong-nha.txt"]


def test_a_touched_file_makes_the_index_stale_until_the_next_build(built: tuple[Path, Path]):
    seeds, index_dir = built
    later(seeds / "tỉnh" / "phong-nha.txt")
    assert stale(seeds, index_dir)
    # Same text: nothing to re-index, but the index has caught up with the folder.
    assert index.build(seeds, index_dir, procs=1).unchanged == 2
    assert not stale(seeds, index_dir)


def test_a_changed_size_is_seen_even_within_the_same_time(built: tuple[Path, Path]):
    seeds, index_dir = built
    path = seeds / "dong-ha.txt"
    info = path.stat()
    path.write_text(DONG_HA + "Thêm một câu.\n", encoding="utf-8")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert stale(seeds, index_dir)


def test_an_added_or_removed_file_makes_the_index_stale(built: tuple[Path, Path]):
    seeds, index_dir = built
    (seeds / "tỉnh" / "hue.txt").write_text("Tin Huế\n\nMưa lớn ở Huế.\n", encoding="utf-8")
    assert stale(seeds, index_dir)
    index.build(seeds, index_dir, procs=1)
    assert not stale(seeds, index_dir)
    (seeds / "dong-ha.txt").unlink()
    assert stale(seeds, index_dir)
    index.build(seeds, index_dir, procs=1)
    assert not stale(seeds, index_dir)


def test_hidden_files_never_make_the_index_stale(built: tuple[Path, Path]):
    seeds, index_dir = built
    (seeds / ".dong-ha.txt.swp").write_text("x", encoding="utf-8")
    (seeds / ".adding").mkdir()
    assert not stale(seeds, index_dir)


def test_another_folder_or_no_snapshot_is_never_called_stale(built: tuple[Path, Path], tmp_path: Path):
    seeds, index_dir = built
    other = Path(shutil.copytree(seeds, tmp_path / "other"))
    (other / "extra.txt").write_text(PHONG_NHA, encoding="utf-8")
    assert not stale(other, index_dir)
    later(seeds / "dong-ha.txt")
    assert stale(seeds, index_dir)
    # An index built before snapshots were kept: its state is unknown, so no alarm.
    (index_dir / SNAPSHOT_FILE).unlink()
    assert not stale(seeds, index_dir)
    (index_dir / SNAPSHOT_FILE).write_text("{not json", encoding="utf-8")
    assert not stale(seeds, index_dir)


def test_a_single_file_corpus_is_watched_too(tmp_path: Path):
    corpus, index_dir = tmp_path / "corpus.jsonl", tmp_path / "index"
    corpus.write_text('{"id": "1", "title": "Tin Huế", "text": "Mưa lớn ở Huế."}\n', encoding="utf-8")
    index.build(corpus, index_dir, procs=1)
    assert not stale(corpus, index_dir)
    with corpus.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "2", "title": "Tin Vinh", "text": "Nắng nóng ở Vinh."}\n')
    assert stale(corpus, index_dir)


def test_adding_files_updates_only_their_entries(built: tuple[Path, Path], tmp_path: Path):
    seeds, index_dir = built
    new = tmp_path / "hue.txt"
    new.write_text("Tin Huế\n\nMưa lớn ở Huế.\n", encoding="utf-8")
    index.add_files([new], seeds, index_dir, procs=1)
    assert not stale(seeds, index_dir)
    # A change 'searchkit add' did not index is still pending after the next add.
    later(seeds / "dong-ha.txt")
    other = tmp_path / "vinh.txt"
    other.write_text("Tin Vinh\n\nNắng nóng ở Vinh.\n", encoding="utf-8")
    index.add_files([other], seeds, index_dir, procs=1)
    assert stale(seeds, index_dir)
    recorded = json.loads((index_dir / SNAPSHOT_FILE).read_text(encoding="utf-8"))["files"]
    assert sorted(recorded) == ["dong-ha.txt", "hue.txt", "tỉnh/phong-nha.txt", "vinh.txt"]
    assert recorded["vinh.txt"] == list(snapshot(seeds)["vinh.txt"])
    index.build(seeds, index_dir, procs=1)
    assert not stale(seeds, index_dir)


def test_adding_to_a_folder_without_an_index_records_the_whole_folder(tmp_path: Path):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "dong-ha.txt").write_text(DONG_HA, encoding="utf-8")
    new = tmp_path / "hue.txt"
    new.write_text("Tin Huế\n\nMưa lớn ở Huế.\n", encoding="utf-8")
    index.add_files([new], seeds, index_dir, procs=1)
    assert not stale(seeds, index_dir)
    (seeds / "dong-ha.txt").unlink()
    assert stale(seeds, index_dir)


def test_a_failed_build_leaves_the_index_stale(built: tuple[Path, Path], monkeypatch):
    seeds, index_dir = built
    (seeds / "hue.txt").write_text("Tin Huế\n\nMưa lớn ở Huế.\n", encoding="utf-8")

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(CompactSegmentWriter, "add_document", disk_full)
    with pytest.raises(SearchkitError, match="No space left on device"):
        index.build(seeds, index_dir, procs=1)
    assert stale(seeds, index_dir)


def test_the_check_is_asked_again_only_after_its_interval(built: tuple[Path, Path], monkeypatch):
    seeds, index_dir = built
    now = [100.0]
    asked: list[int] = []
    real = freshness.stale

    def counted(*args):
        asked.append(1)
        return real(*args)

    monkeypatch.setattr(freshness, "stale", counted)
    check = StaleCheck(seeds, index_dir, every=5.0, clock=lambda: now[0])
    assert check() is False and len(asked) == 1
    later(seeds / "dong-ha.txt")
    now[0] += 4.9
    assert check() is False and len(asked) == 1  # cached: the folder is not walked per request
    now[0] += 0.1
    assert check() is True and len(asked) == 2


def test_a_file_name_that_is_not_utf8_is_recorded_and_watched(built: tuple[Path, Path]):
    seeds, index_dir = built
    odd = seeds / os.fsdecode(b"caf\xe9.txt")
    odd.write_text(DONG_HA, encoding="utf-8")
    report = index.build(seeds, index_dir, procs=1)  # once raised UnicodeEncodeError saving the snapshot
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("caf\\xe9.txt", "file name is not UTF-8 (rename the file)")
    ]
    recorded = json.loads((index_dir / SNAPSHOT_FILE).read_text(encoding="utf-8"))["files"]
    assert sorted(recorded) == ["caf\udce9.txt", "dong-ha.txt", "tỉnh/phong-nha.txt"]  # the bytes, escaped
    assert not stale(seeds, index_dir)
    odd.unlink()
    assert stale(seeds, index_dir)


def test_a_folder_whose_name_is_not_utf8_can_be_the_articles_folder(tmp_path: Path):
    seeds, index_dir = tmp_path / os.fsdecode(b"b\xe0i"), tmp_path / "index"
    seeds.mkdir()
    (seeds / "dong-ha.txt").write_text(DONG_HA, encoding="utf-8")
    assert index.build(seeds, index_dir, procs=1).added == 1
    assert not stale(seeds, index_dir)
    later(seeds / "dong-ha.txt")
    assert stale(seeds, index_dir)


def test_snapshot_of_a_very_deep_folder_lists_what_the_build_reads(tmp_path: Path, nest):
    from searchkit.corpus.articles import read_articles
    from searchkit.corpus.folder import MAX_DEPTH

    (tmp_path / "a.txt").write_text(DONG_HA, encoding="utf-8")
    (nest(tmp_path, MAX_DEPTH) / "b.txt").write_text(PHONG_NHA, encoding="utf-8")
    (nest(tmp_path, 1200) / "c.txt").write_text(PHONG_NHA, encoding="utf-8")
    files = snapshot(tmp_path)  # once a RecursionError
    assert sorted(files) == ["a.txt", "d/" * MAX_DEPTH + "b.txt"]
    assert sorted(files) == sorted(a.id for a in read_articles(tmp_path) if hasattr(a, "id"))


def test_the_check_is_asked_again_at_once_after_a_build(built: tuple[Path, Path]):
    seeds, index_dir = built
    now = [100.0]
    check = StaleCheck(seeds, index_dir, every=5.0, clock=lambda: now[0])
    later(seeds / "dong-ha.txt")
    assert check() is True
    index.build(seeds, index_dir, procs=1)  # a watcher's build, seconds before the interval ends
    now[0] += 0.1
    assert check() is False  # the notice goes with the build, not up to five seconds after it
