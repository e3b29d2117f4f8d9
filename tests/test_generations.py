"""The index folder's generations: damage is named, `--rebuild` always recovers, nothing half-done is seen."""

from __future__ import annotations

import errno
import io
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from commands import run
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

from searchkit.build import index
from searchkit.corpus import freshness
from searchkit.engines import spellings
from searchkit.engines.whoosh import generations
from searchkit.engines.whoosh.execute import Executor
from searchkit.errors import IndexDamagedError, IndexMissingError, SearchkitError
from searchkit.search.searcher import Searcher
from searchkit.webapp.app import create_app

ROOT = Path(__file__).resolve().parents[1]
NEU_GUONG = "004_a29b889078a98f24.txt"


def query(seeds: Path, index_dir: Path, text: str = "nêu gương") -> tuple[int, str, str]:
    return run("query", text, "--seeds", str(seeds), "--index", str(index_dir))


def current_files(index_dir: Path) -> Path:
    generation = generations.current(index_dir)
    assert generation is not None
    return generation.path


def junk_toc(index_dir: Path) -> None:
    (current_files(index_dir) / "_MAIN_99.toc").write_text("junk\n")


def truncated_toc(index_dir: Path) -> None:
    (toc,) = current_files(index_dir).glob("_MAIN_*.toc")
    toc.write_bytes(toc.read_bytes()[: toc.stat().st_size // 2])


def truncated_segment(index_dir: Path) -> None:
    largest = max(current_files(index_dir).glob("MAIN_*"), key=lambda p: p.stat().st_size)
    largest.write_bytes(largest.read_bytes()[: largest.stat().st_size // 2])


def missing_segment(index_dir: Path) -> None:
    next(current_files(index_dir).glob("MAIN_*.pst")).unlink()


def junk_pointer(index_dir: Path) -> None:
    (index_dir / generations.POINTER).write_text("../../etc\n")


def long_pointer(index_dir: Path) -> None:
    (index_dir / generations.POINTER).write_text("gen-" + "9" * 300 + "\n")


def pointer_folder(index_dir: Path) -> None:
    (index_dir / generations.POINTER).unlink()
    (index_dir / generations.POINTER / "x").mkdir(parents=True)


DAMAGE = [junk_toc, truncated_toc, truncated_segment, missing_segment, junk_pointer, long_pointer, pointer_folder]


def scrambled(path: Path, share: float = 0.02) -> None:
    """Changes ``share`` of the file's bytes in place: the size stays, the manifest's sizes still match."""
    data = bytearray(path.read_bytes())
    rng = random.Random(22)
    for place in rng.sample(range(len(data)), max(1, int(len(data) * share))):
        data[place] ^= rng.randrange(1, 256)
    path.write_bytes(bytes(data))


def scrambled_postings(index_dir: Path) -> None:
    scrambled(next(current_files(index_dir).glob("MAIN_*.pst")))


def scrambled_stored(index_dir: Path) -> None:
    scrambled(next(current_files(index_dir).glob("MAIN_*._stored.col")))


def foreign_spellings(index_dir: Path) -> None:
    """Another SQLite file of the same size, written over the generation's accent statistics."""
    target = current_files(index_dir) / spellings.FILE
    other = index_dir.parent / "other.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (text TEXT)")
    data = other.read_bytes()
    size = target.stat().st_size
    with open(target, "r+b") as handle:  # in place: a server holding the file open reads the new bytes
        handle.write(data + bytes(size - len(data)))


SAME_SIZE_DAMAGE = [scrambled_postings, scrambled_stored, foreign_spellings]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda d: d.__name__)
def test_a_damaged_index_is_named_and_rebuild_recovers(folders: tuple[Path, Path], damage):
    seeds, index_dir = folders
    damage(index_dir)

    code, out, err = query(seeds, index_dir)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert f"the index in {index_dir} is damaged" in err and "searchkit index --rebuild" in err
    with pytest.raises(IndexDamagedError):
        Searcher(index_dir)
    client = create_app(index_dir, seeds).test_client()
    for url in ("/api/search?q=nêu gương", "/api/complete?q=nêu g"):
        response = client.get(url)
        assert response.status_code == 503 and response.json["code"] == "index_damaged", url
    assert client.get(f"/articles/{NEU_GUONG}").status_code == 503
    # An update would build on the damaged files: it says so instead.
    code, _, err = run("index", "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 1 and "--rebuild" in err and "Traceback" not in err

    code, out, err = run("index", "--rebuild", "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 0, err
    assert "added 5" in out
    code, out, _ = query(seeds, index_dir)
    assert code == 0 and NEU_GUONG in out


@pytest.mark.parametrize("damage", SAME_SIZE_DAMAGE, ids=lambda d: d.__name__)
def test_damage_that_keeps_every_size_is_named_and_an_update_refuses_it(folders: tuple[Path, Path], damage):
    seeds, index_dir = folders
    damaged = generations.current(index_dir)
    damage(index_dir)
    generations.check(index_dir, damaged)  # every size is as the manifest says

    code, out, err = query(seeds, index_dir, "nêu gương")
    assert code == 1 and out == "" and err.count("\n") == 1, err
    file = damaged.name + "/"
    assert f"the index in {index_dir} is damaged ({file}" in err and "run 'searchkit index --rebuild'" in err
    client = create_app(index_dir, seeds).test_client()
    for url in ("/api/search?q=nêu gương", "/api/complete?q=nêu g"):
        response = client.get(url)
        if response.status_code == 200:  # this damage lies in no file that request reads
            continue
        assert response.status_code == 503 and response.json["code"] == "index_damaged", url
    page = client.get("/?q=nêu gương")
    assert page.status_code == 503 and "Chỉ mục tìm kiếm bị hỏng" in page.get_data(as_text=True)

    # An update would carry the damaged file into the next generation: it says to rebuild instead.
    (seeds / "new.txt").write_text("Khánh thành cầu mới\n\nCầu mới ở Đà Nẵng khánh thành.\n", encoding="utf-8")
    for command in (["index"], ["add", str(seeds / "new.txt")]):
        code, _, err = run(*command, "--seeds", str(seeds), "--index", str(index_dir))
        assert code == 1 and err.count("\n") == 1 and "searchkit index --rebuild" in err, (command, err)
        assert generations.current(index_dir) == damaged

    code, out, err = run("index", "--rebuild", "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 0, err
    assert "added 6" in out
    code, out, _ = query(seeds, index_dir)
    assert code == 0 and NEU_GUONG in out
    assert client.get("/api/search?q=nêu gương").json["results"][0]["id"] == NEU_GUONG


def test_the_article_page_of_damaged_stored_text_says_so_in_vietnamese(folders: tuple[Path, Path]):
    seeds, index_dir = folders
    scrambled_stored(index_dir)
    response = create_app(index_dir, seeds).test_client().get(f"/articles/{NEU_GUONG}")
    assert response.status_code == 503
    assert "Chỉ mục tìm kiếm bị hỏng" in response.get_data(as_text=True)


def test_a_fault_of_the_code_is_not_called_damage(folders: tuple[Path, Path], monkeypatch):
    _, index_dir = folders

    def broken(self, *args, **kwargs):
        raise KeyError("a bug, not a damaged file")

    monkeypatch.setattr(Executor, "run", broken)
    with Searcher(index_dir) as searcher, pytest.raises(KeyError, match="a bug"):
        searcher.search("nêu gương")


def test_a_manifest_holds_every_file_s_checksum(folders: tuple[Path, Path]):
    _, index_dir = folders
    generation = generations.current(index_dir)
    meta = generations.read_meta(generation)
    assert meta[generations.CHECKSUMS].keys() == meta["files"].keys()
    assert spellings.FILE in meta[generations.CHECKSUMS]
    generations.verify(index_dir, generation)


def test_rebuild_replaces_a_folder_where_the_lock_file_belongs(folders: tuple[Path, Path]):
    seeds, index_dir = folders
    (index_dir / generations.LOCK).unlink()
    (index_dir / generations.LOCK / "inside").mkdir(parents=True)
    code, out, err = run("index", "--rebuild", "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 0, err
    assert (index_dir / generations.LOCK).is_file() and NEU_GUONG in query(seeds, index_dir)[1]


def test_a_lock_held_by_a_running_build_is_still_respected(folders: tuple[Path, Path]):
    seeds, index_dir = folders
    with generations.build_lock(index_dir):
        code, _, err = run("index", "--rebuild", "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 3 and "another build" in err


def test_an_index_of_the_layout_before_generations_asks_for_a_rebuild(folders: tuple[Path, Path]):
    seeds, index_dir = folders
    old = current_files(index_dir)
    # What an older version left: Whoosh's files and its meta file straight in the folder.
    for path in old.iterdir():
        if path.name != spellings.FILE:  # kept in the index then
            shutil.copy(path, index_dir / path.name)
    shutil.rmtree(old)
    (index_dir / generations.POINTER).unlink()

    assert generations.state(index_dir) == "outdated"
    with pytest.raises(IndexMissingError, match="built by another version: run 'searchkit index --rebuild'"):
        Searcher(index_dir)
    code, _, err = query(seeds, index_dir)
    assert code == 1 and "--rebuild" in err
    code, out, err = run("index", "--rebuild", "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 0, err
    assert sorted(p.name for p in index_dir.iterdir() if not p.name.startswith(".")) == sorted(
        [generations.POINTER, generations.current(index_dir).name, generations.LOCK, freshness.SNAPSHOT_FILE]
    )
    assert NEU_GUONG in query(seeds, index_dir)[1]


def test_builds_keep_two_generations_and_never_touch_the_current_one(folders: tuple[Path, Path], monkeypatch):
    seeds, index_dir = folders
    monkeypatch.setattr(generations, "GRACE_SECONDS", 0.0)
    first = generations.current(index_dir)
    before = {p.name: p.stat().st_size for p in first.path.iterdir()}
    with Searcher(index_dir) as old:
        (seeds / "new.txt").write_text("Khánh thành cầu mới\n\nCầu mới ở Đà Nẵng khánh thành.\n", encoding="utf-8")
        index.build(seeds, index_dir)
        # The searcher opened before the build still answers from its generation, whole.
        assert old.search("khanh thanh").total == 0
        assert {p.name: p.stat().st_size for p in first.path.iterdir()} == before
        index.build(seeds, index_dir, rebuild=True)
        (seeds / "new.txt").unlink()
        index.build(seeds, index_dir)
    folders_left = sorted(p.name for p in index_dir.glob("gen-*"))
    assert len(folders_left) == generations.KEEP
    assert folders_left[-1] == generations.current(index_dir).name
    assert not first.path.exists()


def test_an_update_links_the_current_files_instead_of_copying_them(folders: tuple[Path, Path]):
    seeds, index_dir = folders
    first = generations.current(index_dir)
    (seeds / "new.txt").write_text("Khánh thành cầu mới\n\nCầu mới ở Đà Nẵng.\n", encoding="utf-8")
    index.build(seeds, index_dir)
    second = generations.current(index_dir)
    shared = [p for p in first.path.glob("MAIN_*.*") if (second.path / p.name).exists()]
    assert shared and all((second.path / p.name).stat().st_ino == p.stat().st_ino for p in shared)


def test_index_under_a_file_is_a_one_line_error(folders: tuple[Path, Path], tmp_path: Path):
    seeds, _ = folders
    (tmp_path / "README.md").write_text("not a folder\n")
    target = tmp_path / "README.md" / "ix"
    for command in ("index", "query"):
        args = [command, "--seeds", str(seeds), "--index", str(target)]
        code, out, err = run(*(args if command == "index" else [command, "nêu gương", *args[1:]]))
        assert code == 1 and err.count("\n") == 1, (command, err)
        assert str(target) in err and "Not a directory" in err


@pytest.fixture
def immutable(tmp_path: Path):
    """Makes a folder immutable (chattr +i) for the test's length; skips where that is not allowed."""
    made: list[Path] = []

    def make(folder: Path) -> None:
        if shutil.which("chattr") is None:
            pytest.skip("chattr is not installed")
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
        if done.returncode != 0:
            pytest.skip("this file system does not allow immutable folders here")
        made.append(folder)

    yield make
    for folder in made:
        subprocess.run(["chattr", "-i", str(folder)], check=False)


def test_an_unwritable_index_folder_is_a_one_line_error(folders: tuple[Path, Path], immutable, tmp_path: Path):
    seeds, index_dir = folders
    fresh = tmp_path / "ro"
    fresh.mkdir()
    immutable(fresh)
    code, _, err = run("index", "--seeds", str(seeds), "--index", str(fresh))
    assert code == 1 and err.count("\n") == 1 and str(fresh) in err and "not permitted" in err

    immutable(index_dir)
    (seeds / "new.txt").write_text("Khánh thành cầu mới\n\nCầu mới ở Đà Nẵng.\n", encoding="utf-8")
    code, _, err = run("index", "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 1 and err.count("\n") == 1 and str(index_dir) in err
    assert NEU_GUONG in query(seeds, index_dir)[1]  # the index still answers


def test_add_copies_nothing_when_the_index_cannot_take_the_article(
    folders: tuple[Path, Path], immutable, tmp_path: Path
):
    seeds, index_dir = folders
    article = tmp_path / "incoming" / "cau-moi.md"
    article.parent.mkdir()
    article.write_text("# Khánh thành cầu mới\n\nCầu mới ở Đà Nẵng khánh thành.\n", encoding="utf-8")

    junk_toc(index_dir)
    code, _, err = run("add", str(article), "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 1 and "damaged" in err and err.count("\n") == 1
    assert not (seeds / article.name).exists()

    run("index", "--rebuild", "--seeds", str(seeds), "--index", str(index_dir))
    immutable(index_dir)
    code, _, err = run("add", str(article), "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 1 and err.count("\n") == 1
    assert not (seeds / article.name).exists()


def test_add_takes_a_file_whose_name_is_near_the_limit(folders: tuple[Path, Path], tmp_path: Path):
    seeds, index_dir = folders
    long_name = tmp_path / ("c" * 247 + ".txt")
    long_name.write_text("Khánh thành cầu mới\n\nCầu mới ở Đà Nẵng khánh thành.\n", encoding="utf-8")
    code, out, err = run("add", str(long_name), "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 0, err
    assert "added 1" in out and (seeds / long_name.name).exists()
    assert not [p for p in seeds.iterdir() if p.name.startswith(".")]


def test_a_generation_out_of_use_for_less_than_the_grace_period_is_kept(folders: tuple[Path, Path]):
    seeds, index_dir = folders
    first = generations.current(index_dir)
    for _ in range(3):
        index.build(seeds, index_dir, rebuild=True)
    # A request that opened the first generation just before these builds can still read it.
    assert first.path.exists() and len(list(index_dir.glob("gen-*"))) == 4


def test_a_rebuild_killed_midway_leaves_a_working_index(folders: tuple[Path, Path], monkeypatch):
    seeds, index_dir = folders
    monkeypatch.setattr(generations, "GRACE_SECONDS", 0.0)
    published = generations.current(index_dir)
    command = (
        "import os, signal\n"
        "from searchkit.build import index\n"
        "def stop(done, total):\n"
        "    if done >= 2: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"index.build({str(seeds)!r}, {str(index_dir)!r}, rebuild=True, procs=1, progress=stop)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", command], env=env, capture_output=True, timeout=300)
    assert done.returncode == -9, done.stderr
    assert generations.current(index_dir) == published
    assert [hit.id for hit in Searcher(index_dir).search("nêu gương").hits][0] == NEU_GUONG
    assert index.build(seeds, index_dir, rebuild=True).added == 5
    assert len(list(index_dir.glob("gen-*"))) == generations.KEEP


class FillingFile(io.FileIO):
    """A file written on a disk that has ``room[0]`` bytes left, shared by every file written."""

    def __init__(self, path: str, room: list[int]):
        super().__init__(path, "w")
        self.room = room

    def write(self, data) -> int:
        if self.room[0] <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        written = super().write(memoryview(data)[: self.room[0]])
        self.room[0] -= written
        return written


def fill_disk(patch: pytest.MonkeyPatch, room: int) -> list[int]:
    """Every file Whoosh or the manifest writes goes through buffered files over a disk with ``room``
    bytes left (the accent statistics are SQLite's: ``max_page_count`` stands for their disk)."""
    left = [room]

    def create_file(self, name, excl=False, mode="wb", **kwargs):
        return StructFile(io.BufferedWriter(FillingFile(self._fpath(name), left)), name=name, **kwargs)

    def opened(path, mode="r", *args, **kwargs):
        if "w" not in mode:
            return open(path, mode, *args, **kwargs)
        written = io.BufferedWriter(FillingFile(str(path), left))
        return written if "b" in mode else io.TextIOWrapper(written, encoding=kwargs.get("encoding"))

    patch.setattr(FileStorage, "create_file", create_file)
    patch.setattr(generations, "open", opened, raising=False)
    return left


def test_a_full_disk_at_any_point_of_a_commit_is_one_line_and_keeps_the_last_index(
    folders: tuple[Path, Path], monkeypatch
):
    seeds, index_dir = folders
    (seeds / "new.txt").write_text("Khánh thành cầu mới\n\nCầu mới ở Đà Nẵng khánh thành.\n", encoding="utf-8")
    with monkeypatch.context() as patch:  # what an update writes, with room for all of it
        unlimited = 1 << 40
        left = fill_disk(patch, unlimited)
        index.build(seeds, index_dir, procs=1)
        needed = unlimited - left[0]
    (seeds / "new.txt").write_text("Khánh thành cầu mới\n\nCầu mới ở Huế khánh thành.\n", encoding="utf-8")
    published = generations.current(index_dir)

    levels = sorted({*range(0, needed, max(1, needed // 24)), needed - 1})
    for room in levels:
        with monkeypatch.context() as patch:
            fill_disk(patch, room)
            with pytest.raises(SearchkitError) as raised:
                index.build(seeds, index_dir, procs=1)
        assert raised.value.code == "index_unwritable" and "No space left" in str(raised.value), room
        assert generations.current(index_dir) == published and sorted(index_dir.glob("gen-*"))[-1] == published.path
    real_connect = sqlite3.connect

    def full(path, *args, **kwargs):  # SQLite says "database or disk is full" as soon as the file grows
        db = real_connect(path, *args, **kwargs)
        db.execute("PRAGMA max_page_count = 1")
        return db

    # New pairs of syllables, so that the update's counts need new pages.
    syllables = "cầu sông phố huế đò mới cũ xa gần bến chợ làng núi rừng biển đảo mưa nắng gió mây".split()
    pairs = " ".join(f"{a} {b}." for a in syllables for b in syllables)
    (seeds / "new.txt").write_text(f"Khánh thành cầu mới\n\nCầu mới ở Huế khánh thành. {pairs}\n", encoding="utf-8")
    for rebuild in (False, True):
        with monkeypatch.context() as patch:
            patch.setattr(spellings.sqlite3, "connect", full)
            with pytest.raises(SearchkitError, match="cannot write the index .*: database or disk is full"):
                index.build(seeds, index_dir, procs=1, rebuild=rebuild)
    assert generations.current(index_dir) == published
    generations.verify(index_dir, published)
    with Searcher(index_dir) as searcher:
        assert searcher.search("khánh thành").total == 1
    assert index.build(seeds, index_dir, procs=1).updated == 1


PROBE = """
import re, sys
def anonymous_kb():
    # Copies are anonymous memory; pages of a memory-mapped file are the system's to share or drop.
    return int(re.search(r"RssAnon:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
from searchkit.search.searcher import Searcher
before = anonymous_kb()
searcher = Searcher(sys.argv[1])
print(anonymous_kb() - before)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc/self/status")
def test_opening_a_multi_segment_index_adds_memory_well_below_its_size(tmp_path: Path):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    for batch in range(3):  # three builds: three segments
        for n in range(50):
            number = batch * 50 + n
            (seeds / f"{number:03}.txt").write_text(
                f"Bản tin số {number} về Đảng bộ thành phố Đông Hà\n\n"
                + " ".join(
                    f"Nội dung {number} đoạn {k}, mã {number * 1000 + k}: cán bộ, đảng viên nêu gương học tập."
                    for k in range(150)
                )
                + "\n",
                encoding="utf-8",
            )
        index.build(seeds, index_dir, procs=1)
    generation = generations.current(index_dir)
    assert len(list(generation.path.glob("*.toc"))) == 1 and len(list(generation.path.glob("*.pst"))) >= 2
    size_kb = sum(p.stat().st_size for p in generation.path.iterdir()) / 1024
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(index_dir)], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    added_kb = int(done.stdout)
    assert added_kb < 0.1 * size_kb, (added_kb, size_kb)


def test_a_generation_records_the_articles_it_was_built_from(folders: tuple[Path, Path], tmp_path: Path):
    seeds, index_dir = folders
    before = generations.current(index_dir)
    moved = Path(shutil.move(seeds, tmp_path / "moved"))
    report = index.build(moved, index_dir)
    # Nothing to write, but the index now answers for the folder where it is.
    assert report.unchanged == 5 and report.added == report.removed == 0
    assert generations.current(index_dir) != before
    assert index.built_from(index_dir) == str(moved.resolve())
    index.build(moved, index_dir)
    assert generations.current(index_dir).number == before.number + 1  # the next no-op publishes nothing
