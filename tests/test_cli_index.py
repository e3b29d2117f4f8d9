"""The `searchkit index` and `searchkit add` commands, through Click's test runner."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from commands import run

from searchkit.build import index
from searchkit.engines.whoosh import generations

DA_NANG = "Cầu mới ở Đà Nẵng\n\nThành phố Đà Nẵng khánh thành cây cầu mới bắc qua sông Hàn.\n"


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
    # The five seed articles were left alone: unchanged 5, as 'searchkit index' would say.
    assert (code, out) == (0, "added 1, updated 0, removed 0, unchanged 5, skipped 0\n")
    assert (seeds / "da-nang.txt").read_text(encoding="utf-8") == DA_NANG
    assert found(seeds, index_dir, "khanh thanh") == ["da-nang.txt"]


def test_add_refuses_to_overwrite_a_different_file(folders: tuple[Path, Path], tmp_path: Path):
    seeds, index_dir = folders
    clash = tmp_path / "000_f290433a7163aea1.txt"
    clash.write_text(DA_NANG, encoding="utf-8")
    code, out, err = run("add", clash, "--seeds", seeds, "--index", index_dir)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "already exists with different content" in err
    # Under --json the same error is the API's JSON error on stdout, with the same exit status.
    code, out, err = run("add", clash, "--seeds", seeds, "--index", index_dir, "--json")
    assert (code, err) == (1, "")
    assert json.loads(out) == {"error": f"cannot add {clash}: {seeds / clash.name} already exists with different "
                               "content (rename the file, or edit the article in place and run 'searchkit index')",
                               "code": "error", "status": 503}
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


SECRET = "Mật khẩu\n\nroot:x:0:0:root:/root:/bin/bash\n"


def test_index_skips_links_out_of_the_folder_and_the_page_never_shows_them(
    folders: tuple[Path, Path], tmp_path: Path
):
    from searchkit.webapp.app import create_app

    seeds, index_dir = folders
    secret = tmp_path / "etc" / "passwd"
    secret.parent.mkdir()
    secret.write_text(SECRET, encoding="utf-8")
    (seeds / "passwd.txt").symlink_to(secret)
    (seeds / "len.txt").symlink_to("../etc/passwd")
    code, out, err = run("index", "--seeds", seeds, "--index", index_dir)
    assert (code, out) == (0, "added 0, updated 0, removed 0, unchanged 5, skipped 2\n")
    why = "link to a file outside the articles folder (not read; --follow-links reads it)"
    assert err == f"skipped len.txt: {why}\nskipped passwd.txt: {why}\n"
    assert found(seeds, index_dir, "bin bash") == []
    page = create_app(index_dir=index_dir, seeds_dir=seeds).test_client().get("/articles/passwd.txt")
    assert page.status_code == 404 and "/bin/bash" not in page.get_data(as_text=True)

    code, out, _ = run("index", "--seeds", seeds, "--index", index_dir, "--follow-links")
    assert (code, out) == (0, "added 2, updated 0, removed 0, unchanged 5, skipped 0\n")
    assert sorted(found(seeds, index_dir, "bin bash")) == ["len.txt", "passwd.txt"]


def test_index_completes_past_files_that_would_exhaust_a_parser(folders: tuple[Path, Path], tmp_path: Path, nest):
    seeds, _ = folders
    (seeds / os.fsdecode(b"caf\xe9.txt")).write_text(DA_NANG, encoding="utf-8")
    good = json.dumps({"id": "dn", "text": DA_NANG}, ensure_ascii=False)
    deep = '{"id": "sau", "text": "x", "n": ' + "[" * 5000 + "]" * 5000 + "}"
    huge = '{"id": "so", "text": "x", "n": ' + "9" * 5001 + "}"
    (seeds / "tin.jsonl").write_text("\n".join([deep, huge, good]) + "\n", encoding="utf-8")
    (seeds / "dau.md").write_text("---\nx: " + "[" * 3000 + "]" * 3000 + "\n---\n# Tin\n\nnội dung\n", encoding="utf-8")
    (nest(seeds, 1200) / "sau.txt").write_text(DA_NANG, encoding="utf-8")
    # A fresh checkout: the first query builds the index.
    index_dir = tmp_path / "new-index"
    code, out, err = run("query", "khanh thanh", "--json", "--seeds", seeds, "--index", index_dir)
    assert code == 0, err
    assert [hit["path"] for hit in json.loads(out)["results"]] == ["tin.jsonl#dn"]
    lines = err.splitlines()
    assert [line for line in lines if line.startswith("skipped ")] == [
        "skipped caf\\xe9.txt: file name is not UTF-8 (rename the file)",
        f"skipped {'d/' * 101}: folder nested more than 100 levels deep (not read)",
        "skipped dau.md: front matter nested too deeply",
        "skipped tin.jsonl#line 1: JSON error: nested too deeply",
        "skipped tin.jsonl#line 2: JSON error: a number of more than 4300 digits",
    ]
    assert "Traceback" not in err and "Note:" not in err
    code, out, err = run("index", "--seeds", seeds, "--index", index_dir)
    assert (code, out) == (0, "added 0, updated 0, removed 0, unchanged 6, skipped 5\n")


def test_add_refuses_a_hidden_file_and_a_folder_in_the_way_in_one_line(folders: tuple[Path, Path], tmp_path: Path):
    seeds, index_dir = folders
    hidden = tmp_path / ".da-nang.txt"
    hidden.write_text(DA_NANG, encoding="utf-8")
    code, out, err = run("add", hidden, "--seeds", seeds, "--index", index_dir)
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert "hidden files (names starting with '.') are not read from the articles folder" in err
    (seeds / "da-nang.txt").mkdir()
    new = tmp_path / "da-nang.txt"
    new.write_text(DA_NANG, encoding="utf-8")
    code, out, err = run("add", new, "--seeds", seeds, "--index", index_dir)
    assert (code, out) == (1, "") and err.count("\n") == 1 and "da-nang.txt is a folder" in err
    assert found(seeds, index_dir, "khanh thanh") == []


def test_add_skips_records_a_parser_cannot_take_and_refuses_front_matter_it_cannot(
    folders: tuple[Path, Path], tmp_path: Path
):
    seeds, index_dir = folders
    corpus = tmp_path / "tin.jsonl"
    good = json.dumps({"id": "dn", "text": DA_NANG}, ensure_ascii=False)
    deep = '{"id": "sau", "text": "x", "n": ' + "{\"a\": " * 5000 + "1" + "}" * 5000 + "}"
    corpus.write_text("\n".join([good, deep, '{"id": "so", "text": "x", "n": -' + "7" * 5001 + "}"]), encoding="utf-8")
    code, out, err = run("add", corpus, "--seeds", seeds, "--index", index_dir)
    assert (code, out) == (0, "added 1, updated 0, removed 0, unchanged 5, skipped 2\n")
    assert err.splitlines()[-2:] == [
        "skipped tin.jsonl#line 2: JSON error: nested too deeply",
        "skipped tin.jsonl#line 3: JSON error: a number of more than 4300 digits",
    ]
    assert found(seeds, index_dir, "khanh thanh") == ["tin.jsonl#dn"]
    deep_front = tmp_path / "dau.md"
    deep_front.write_text("---\nx: " + "[" * 3000 + "]" * 3000 + "\n---\n# Tin\n\nnội dung\n", encoding="utf-8")
    code, out, err = run("add", deep_front, "--seeds", seeds, "--index", index_dir)
    assert (code, out) == (1, "") and err == f"Error: cannot add {deep_front}: front matter nested too deeply\n"
    assert not (seeds / "dau.md").exists()
