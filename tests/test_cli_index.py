"""The `searchkit index` and `searchkit add` commands, through Click's test runner."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit import generations, index
from searchkit.cli import main

DA_NANG = "Cầu mới ở Đà Nẵng\n\nThành phố Đà Nẵng khánh thành cây cầu mới bắc qua sông Hàn.\n"


@pytest.fixture
def folders(seeds_dir: Path, seeds_index: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Private copies of the seed articles and their index."""
    seeds = Path(shutil.copytree(seeds_dir, tmp_path / "seeds"))
    return seeds, Path(shutil.copytree(seeds_index, tmp_path / "index"))


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def found(seeds: Path, index_dir: Path, text: str) -> list[str]:
    code, out, _ = run("query", text, "--json", "--seeds", seeds, "--index", index_dir)
    assert code == 0
    return [hit["path"] for hit in json.loads(out)["results"]]


def test_index_reports_each_step_and_queries_follow(folders: tuple[Path, Path]):
    seeds, index_dir = folders
    where = ("--seeds", seeds, "--index", index_dir)
    (seeds / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    assert run("index", *where)[:2] == (
        0,
        "added 1, updated 0, removed 0, unchanged 5, skipped 0\n",
    )
    assert found(seeds, index_dir, "khanh thanh") == ["da-nang.txt"]

    (seeds / "da-nang.txt").write_text(DA_NANG.replace("sông Hàn", "bến Marina"), encoding="utf-8")
    code, out, _ = run("index", *where, "--json")
    assert code == 0
    assert json.loads(out) == {
        "added": 0,
        "updated": 1,
        "removed": 0,
        "unchanged": 5,
        "skipped": [],
        "warnings": [],
    }
    assert found(seeds, index_dir, "marina") == ["da-nang.txt"]

    (seeds / "da-nang.txt").unlink()
    assert run("index", *where)[:2] == (
        0,
        "added 0, updated 0, removed 1, unchanged 5, skipped 0\n",
    )
    assert found(seeds, index_dir, "khanh thanh") == []


def test_index_names_skipped_files_and_completes(folders: tuple[Path, Path]):
    seeds, index_dir = folders
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "image.txt").write_bytes(bytes(range(256)) * 8)
    (seeds / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    code, out, err = run("index", "--seeds", seeds, "--index", index_dir)
    assert code == 0
    assert out == "added 1, updated 0, removed 0, unchanged 5, skipped 2\n"
    assert "skipped empty.txt: empty file" in err and "skipped image.txt: binary file" in err


def test_index_max_bytes_skips_large_files(folders: tuple[Path, Path]):
    seeds, index_dir = folders
    code, out, _ = run(
        "index", "--seeds", seeds, "--index", index_dir, "--max-bytes", "7000", "--json"
    )
    assert code == 0
    skipped = json.loads(out)["skipped"]
    assert len(skipped) == 3 and all("--max-bytes" in s["reason"] for s in skipped)


def test_a_second_build_stops_with_a_one_line_message(folders: tuple[Path, Path]):
    seeds, index_dir = folders
    with generations.build_lock(index_dir):
        code, out, err = run("index", "--seeds", seeds, "--index", index_dir)
    assert code == 3 and out == ""
    assert err == f"Error: another build is updating {index_dir}; try again when it has finished\n"


def test_index_of_a_missing_folder_is_a_one_line_error(tmp_path: Path):
    code, _, err = run("index", "--seeds", tmp_path / "nowhere", "--index", tmp_path / "index")
    assert code == 1 and err.count("\n") == 1 and "articles folder not found" in err


def test_add_copies_files_into_seeds_and_indexes_them(folders: tuple[Path, Path], tmp_path: Path):
    seeds, index_dir = folders
    new = tmp_path / "da-nang.txt"
    new.write_text(DA_NANG, encoding="utf-8")
    code, out, _ = run("add", new, "--seeds", seeds, "--index", index_dir)
    assert (code, out) == (0, "added 1, updated 0, removed 0, unchanged 0, skipped 0\n")
    assert (seeds / "da-nang.txt").read_text(encoding="utf-8") == DA_NANG
    assert found(seeds, index_dir, "khanh thanh") == ["da-nang.txt"]


def test_add_refuses_to_overwrite_a_different_file(folders: tuple[Path, Path], tmp_path: Path):
    seeds, index_dir = folders
    clash = tmp_path / "000_f290433a7163aea1.txt"
    clash.write_text(DA_NANG, encoding="utf-8")
    code, out, err = run("add", clash, "--seeds", seeds, "--index", index_dir, "--json")
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "already exists with different content" in err
    assert found(seeds, index_dir, "khanh thanh") == []


def test_query_finishes_an_interrupted_first_build(tmp_path: Path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    index_dir = tmp_path / "index"

    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        index.build(seeds, index_dir, progress=interrupt)
    assert found(seeds, index_dir, "khanh thanh") == ["da-nang.txt"]


def test_help_documents_add_and_concurrent_builds():
    code, out, _ = run("index", "--help")
    assert code == 0 and "--max-bytes" in out and "exit status 3" in out
    code, out, _ = run("add", "--help")
    assert code == 0 and "FILES" in out and "--seeds" in out


def test_index_prints_each_warning_on_stderr(news_dir: Path, tmp_path: Path):
    code, out, err = run("index", "--seeds", news_dir, "--index", tmp_path / "index")
    assert code == 0
    assert out == "added 8, updated 0, removed 0, unchanged 0, skipped 0, warnings 1\n"
    assert "warning ngay-hong.md: date '2024-13-45' is not a date (indexed without one)\n" in err
