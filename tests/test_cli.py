"""The `searchkit query` command, through Click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchkit.cli import main

NEU_GUONG = "004_a29b889078a98f24.txt"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def query(index_dir: Path, seeds_dir: Path, *args: str) -> tuple[int, str, str]:
    return run("query", *args, "--index", str(index_dir), "--seeds", str(seeds_dir))


def test_query_prints_ranked_results_with_marked_snippet(seeds_index: Path, seeds_dir: Path):
    code, out, _ = query(seeds_index, seeds_dir, "neu guong")
    assert code == 0
    first = next(block for block in out.split("\n\n") if block.startswith("1. "))
    assert first.startswith("1. Tạo chuyển biến mới về trách nhiệm nêu gương")
    assert NEU_GUONG in first
    assert "**nêu gương**" in first


def test_query_json_has_the_documented_shape(seeds_index: Path, seeds_dir: Path):
    code, out, _ = query(seeds_index, seeds_dir, "nêu gương", "--json", "--limit", "3")
    assert code == 0
    data = json.loads(out)
    assert {"query", "total", "results"} <= set(data)
    assert data["query"] == "nêu gương" and data["total"] == 4
    assert [r["rank"] for r in data["results"]] == [1, 2, 3]
    top = data["results"][0]
    assert set(top) == {"rank", "id", "path", "title", "score", "snippet"}
    assert top["path"] == NEU_GUONG
    assert "<mark>nêu gương</mark>" in top["snippet"]


def test_query_pages(seeds_index: Path, seeds_dir: Path):
    _, out, _ = query(seeds_index, seeds_dir, "Hồ Chí Minh", "--json", "--limit", "2", "--page", "3")
    assert [r["rank"] for r in json.loads(out)["results"]] == [5]


def test_query_finds_thanh_uy(seeds_index: Path, seeds_dir: Path):
    _, out, _ = query(seeds_index, seeds_dir, "thành ủy", "--json")
    assert "003_b3e0a07a9f4fc9ac.txt" in [r["path"] for r in json.loads(out)["results"]]


def test_no_match_says_so_and_exits_zero(seeds_index: Path, seeds_dir: Path):
    code, out, _ = query(seeds_index, seeds_dir, "xylophone")
    assert code == 0
    assert "No results" in out


def test_empty_query_is_a_usage_error(seeds_index: Path, seeds_dir: Path):
    code, _, err = query(seeds_index, seeds_dir, "  ")
    assert code == 2
    assert "empty" in err


@pytest.mark.parametrize("text", ['"', "AND", "(", "title:", "-", "*", "x" * 5000])
def test_bad_syntax_never_gives_a_traceback(seeds_index: Path, seeds_dir: Path, text: str):
    result = CliRunner().invoke(main, ["query", text, "--index", str(seeds_index), "--seeds", str(seeds_dir)])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 2)
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()[-1]) < 200


def test_query_builds_the_index_when_missing(seeds_dir: Path, tmp_path: Path):
    index_dir = tmp_path / "fresh-index"
    code, out, err = query(index_dir, seeds_dir, "nêu gương", "--json")
    assert code == 0
    assert json.loads(out)["results"][0]["path"] == NEU_GUONG
    assert any(index_dir.iterdir())


def test_help_documents_the_query_syntax():
    code, out, _ = run("query", "--help")
    assert code == 0
    for form in ("OR", "-word", '"nêu gương"~3', "title:", "học*"):
        assert form in out
