"""The command line's failures: one line on stderr, or the API's JSON error under --json; queries starting with "-"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from commands import run

from searchkit.engines.whoosh import generations

NEU_GUONG = "004_a29b889078a98f24.txt"


def where(seeds_dir: Path, index_dir: Path) -> list[str]:
    return ["--seeds", str(seeds_dir), "--index", str(index_dir)]


# --- a query that starts with "-" -------------------------------------------------------------------------


def test_a_query_starting_with_an_exclusion_is_the_query_not_an_option(seeds_index: Path, seeds_dir: Path):
    code, out, err = run("query", "-an nêu gương", "--json", *where(seeds_dir, seeds_index))
    assert (code, err) == (0, "")
    found = json.loads(out)
    assert found["query"] == "-an nêu gương"
    # The same as the query written with "--" before it, which always worked.
    code, out, _ = run("query", "--json", *where(seeds_dir, seeds_index), "--", "-an nêu gương")
    assert code == 0 and json.loads(out)["results"] == found["results"]
    assert NEU_GUONG in [hit["id"] for hit in found["results"]]
    # "-an" leaves out every article writing "an": none of them is among the hits.
    with_an = json.loads(run("query", "an", "--json", "--limit", "100", *where(seeds_dir, seeds_index))[1])
    assert not {hit["id"] for hit in with_an["results"]} & {hit["id"] for hit in found["results"]}


@pytest.mark.parametrize("text", ["-an nêu gương", "-đảng nêu gương", "-2024 nêu gương", '-"an khê" nêu gương'])
def test_a_dash_word_that_is_no_option_is_taken_as_text_anywhere_among_the_options(
    seeds_index: Path, seeds_dir: Path, text: str
):
    code, out, err = run("query", "--limit", "3", text, "--json", *where(seeds_dir, seeds_index))
    assert (code, err) == (0, ""), err
    assert json.loads(out)["query"] == text


def test_a_lone_dash_word_is_the_query_too_and_refused_as_one_that_only_excludes(seeds_index: Path, seeds_dir: Path):
    for text in ("-an", "-đ", "-(a OR b)"):
        code, out, _ = run("query", text, "--json", *where(seeds_dir, seeds_index))
        assert (code, json.loads(out)["code"]) == (2, "query_only_excludes"), text


def test_an_option_value_starting_with_dash_stays_the_options(seeds_index: Path, seeds_dir: Path):
    # "--source -an" names a source; the query is the word after it.
    code, out, _ = run("query", "nêu gương", "--source", "-an", "--json", *where(seeds_dir, seeds_index))
    assert code == 0 and json.loads(out)["query"] == "nêu gương" and json.loads(out)["total"] == 0


@pytest.mark.parametrize(
    "args, message",
    [
        (("--limt", "3", "nêu gương"), "Error: No such option '--limt'. Did you mean '--limit'?"),
        (("-x", "nêu gương"), "Error: No such option '-x'."),
        (("nêu gương", "--limit"), "Error: Option '--limit' requires an argument."),
        (("nêu gương", "--limit", "0"), "Error: Invalid value for '--limit': 0 is not in the range 1<=x<=100."),
        (("nêu gương", "-an"), "Error: Got unexpected extra argument (-an)"),
    ],
)
def test_usage_errors_are_one_line_naming_the_help(seeds_index: Path, seeds_dir: Path, args, message):
    code, out, err = run("query", *where(seeds_dir, seeds_index), *args)
    assert (code, out) == (2, "")
    assert err == f"{message} (see 'searchkit query --help')\n"


def test_the_help_says_how_to_search_for_a_dash_word():
    code, out, _ = run("query", "--help")
    assert code == 0
    assert 'searchkit query --limit 3 -- "-x nêu gương"' in out and "-an nêu gương" in out


# --- errors under --json ----------------------------------------------------------------------------------


def test_a_usage_error_under_json_is_the_apis_json_error_on_stdout(seeds_index: Path, seeds_dir: Path):
    code, out, err = run("query", "--limt", "3", "nêu gương", "--json", *where(seeds_dir, seeds_index))
    assert (code, err) == (2, "")
    assert json.loads(out) == {
        "error": "No such option '--limt'. Did you mean '--limit'?",
        "code": "no_such_option",
        "status": 400,
    }
    code, out, _ = run("index", "--procs", "0", "--json", *where(seeds_dir, seeds_index))
    assert code == 2 and json.loads(out)["code"] == "bad_parameter"
    code, out, _ = run("add", "--json", *where(seeds_dir, seeds_index))
    assert (code, json.loads(out)) == (
        2,
        {"error": "Missing argument 'FILES...'.", "code": "missing_parameter", "status": 400},
    )
    # After "--", "--json" is the query's text, not an option: the error stays a line of text.
    code, out, err = run("query", "--limt", "--", "--json")
    assert (code, out) == (2, "") and err.startswith("Error: No such option '--limt'")


def test_a_bad_query_under_json_has_the_apis_code_and_status(seeds_index: Path, seeds_dir: Path):
    code, out, err = run("query", "-nêu", "--json", *where(seeds_dir, seeds_index))
    assert (code, err) == (2, "")
    error = json.loads(out)
    assert error["code"].startswith("query") and error["status"] == 400 and error["error"]
    # The page's API answers the same query with the same code and status.
    from searchkit.webapp.app import create_app

    response = create_app(seeds_index, seeds_dir).test_client().get("/api/search", query_string={"q": "-nêu"})
    assert (response.status_code, response.get_json()["code"]) == (error["status"], error["code"])
    code, out, _ = run("query", "--json", *where(seeds_dir, seeds_index))
    assert code == 2 and json.loads(out)["code"] == "query_empty"


@pytest.mark.parametrize("command", [["index"], ["query", "nêu gương"], ["add", "NEW"], ["eval", "EVAL"]])
def test_every_json_command_reports_a_missing_folder_as_json_with_exit_1(tmp_path: Path, command):
    new = tmp_path / "moi.txt"
    new.write_text("Tin mới\n\nCầu mới ở Đà Nẵng.\n", encoding="utf-8")
    queries, qrels = tmp_path / "q.jsonl", tmp_path / "r.tsv"
    queries.write_text('{"id": "1", "text": "nêu gương"}\n', encoding="utf-8")
    qrels.write_text("1\t004\t1\n", encoding="utf-8")
    words = {"NEW": [str(new)], "EVAL": ["--queries", str(queries), "--qrels", str(qrels)]}
    args = [part for word in command for part in words.get(word, [word])]
    gone = tmp_path / "gone"
    code, out, err = run(*args, "--seeds", gone, "--index", tmp_path / "index", "--json")
    assert (code, err) == (1, "")
    assert json.loads(out) == {"error": f"articles folder not found: {gone}", "code": "corpus", "status": 503}
    code, out, err = run(*args, "--seeds", gone, "--index", tmp_path / "index")
    assert (code, out) == (1, "") and err.splitlines()[-1] == f"Error: articles folder not found: {gone}"


def test_a_busy_index_under_json_is_index_busy_with_exit_3(seeds_index: Path, seeds_dir: Path, tmp_path: Path):
    index_dir = Path(shutil.copytree(seeds_index, tmp_path / "index"))
    with generations.build_lock(index_dir):
        code, out, err = run("index", *where(seeds_dir, index_dir), "--json")
    assert (code, err) == (3, "")
    assert json.loads(out) == {
        "error": f"another build is updating {index_dir}; try again when it has finished",
        "code": "index_busy",
        "status": 503,
    }


def test_control_characters_in_a_json_error_are_escaped(tmp_path: Path):
    gone = tmp_path / "gone\x1b]0;PWNED\x07"
    code, out, _ = run("index", "--seeds", gone, "--index", tmp_path / "index", "--json")
    assert code == 1 and "\x1b" not in out and "\x07" not in out
    assert json.loads(out)["code"] == "corpus"


def test_searchkit_alone_shows_its_help():
    code, out, err = run()
    assert "Usage: searchkit [OPTIONS] COMMAND [ARGS]..." in out + err and "Error" not in out + err
    assert "\\n" not in out + err
