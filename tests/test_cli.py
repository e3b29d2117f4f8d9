"""The `searchkit query` command (and what any command prints to a terminal), through Click's test runner."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from commands import loaded_by, run
from corpora import HOSTILE_TITLE, NEWLINE_NAME, SKIPPED_NAME, Built

from searchkit.cli import main
from searchkit.cli import query as cli
from searchkit.errors import IndexDamagedError
from searchkit.search.searcher import Searcher

NEU_GUONG = "004_a29b889078a98f24.txt"


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
    assert set(top) == {"rank", "id", "path", "title", "date", "source", "tags", "url", "score", "snippet"}
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


# --- what reaches the terminal --------------------------------------------------------------------

# A terminal acts on these instead of showing them: ESC, BEL, CSI (C1), DEL, a right-to-left override.
ACTIVE = ("\x1b", "\x07", "\x9b", "\x7f", "\u202e")


def assert_inert(text: str) -> None:
    assert not any(char in text for char in ACTIVE), repr(text)


def test_escapes_in_a_title_and_snippet_are_shown_not_sent(hostile: Built):
    seeds, index_dir = hostile
    code, out, err = query(index_dir, seeds, "dong ha")
    assert code == 0, err
    assert_inert(out)
    assert "1. \\x1b]0;PWNED\\x07\\x1b[2J Tin độc hại về Đông Hà" in out
    assert "**Đông Hà** \\x9b31m nêu gương\\x7f \\u202edấu ngược." in out


def test_colours_are_the_only_escapes_on_a_terminal(hostile: Built, monkeypatch):
    seeds, index_dir = hostile
    monkeypatch.setattr(cli, "_colour", lambda: True)
    result = CliRunner().invoke(
        main, ["query", "dong ha", "--index", str(index_dir), "--seeds", str(seeds)], color=True
    )
    assert result.exit_code == 0, result.stderr
    styles = re.findall(r"\x1b\[[0-9;]*m", result.stdout)
    assert styles  # the title is bold and the matches yellow
    assert_inert(re.sub(r"\x1b\[[0-9;]*m", "", result.stdout))
    assert "\\x1b]0;PWNED\\x07" in result.stdout


def test_a_path_with_a_newline_is_printed_escaped_on_one_line(hostile: Built):
    seeds, index_dir = hostile
    code, out, _ = query(index_dir, seeds, "phong nha")
    assert code == 0
    assert "   new\\nline.txt  (score " in out.splitlines()[1]
    assert_inert(out)


def test_json_output_escapes_every_control_and_parses_to_the_stored_text(hostile: Built):
    seeds, index_dir = hostile
    code, out, _ = query(index_dir, seeds, "dong ha", "--json")
    assert code == 0
    assert_inert(out)
    hit = json.loads(out)["results"][0]
    assert hit["title"] == HOSTILE_TITLE
    assert "\x9b31m" in hit["snippet"] and "\u202e" in hit["snippet"]
    _, out, _ = query(index_dir, seeds, "phong nha", "--json")
    assert json.loads(out)["results"][0]["path"] == NEWLINE_NAME


def test_skipped_file_names_are_escaped_in_build_reports(hostile: Built, tmp_path: Path):
    seeds, _ = hostile
    code, out, err = run("index", "--seeds", str(seeds), "--index", str(tmp_path / "ix"))
    assert code == 0
    assert err.splitlines()[-1] == "skipped bad\\x1b[31m.bin: unsupported file type .bin"
    assert_inert(err + out)
    code, out, _ = run("index", "--seeds", str(seeds), "--index", str(tmp_path / "ix"), "--json")
    assert code == 0
    assert_inert(out)
    assert json.loads(out)["skipped"][0]["path"] == SKIPPED_NAME


def test_error_messages_naming_a_hostile_path_are_escaped(tmp_path: Path):
    missing = tmp_path / "gone\x1b]0;PWNED\x07"
    code, out, err = run("index", "--seeds", str(missing), "--index", str(tmp_path / "ix"))
    assert code == 1
    assert err == f"Error: articles folder not found: {tmp_path}/gone\\x1b]0;PWNED\\x07\n"


# --- exit statuses --------------------------------------------------------------------------------


def test_a_damaged_index_is_one_line_and_exit_status_1(seeds_index: Path, seeds_dir: Path, monkeypatch):
    message = f"the index in {seeds_index} is damaged: run 'searchkit index --rebuild'"

    def damaged(self, text, **options):
        raise IndexDamagedError(message)

    monkeypatch.setattr(Searcher, "search", damaged)
    code, out, err = query(seeds_index, seeds_dir, "nêu gương")
    assert (code, out, err) == (1, "", f"Error: {message}\n")
    # Under --json: the API's error (its code and the 503 it answers) on stdout, the same exit status.
    code, out, err = query(seeds_index, seeds_dir, "nêu gương", "--json")
    assert (code, err) == (1, "")
    assert json.loads(out) == {"error": message, "code": "index_damaged", "status": 503}


# --- the stale index notice -----------------------------------------------------------------------


def test_query_says_in_one_line_when_the_articles_changed_since_the_build(tmp_path: Path):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "dong-ha.txt").write_text("Tin Đông Hà\n\nThành uỷ Đông Hà họp.\n", encoding="utf-8")
    code, out, err = run("index", "--seeds", str(seeds), "--index", str(index_dir))
    assert code == 0, err
    notice = (
        f"Note: articles in {seeds} changed since the index was built; run 'searchkit index' to bring it up to date.\n"
    )

    def stderr_of_query() -> str:
        code, out, err = query(index_dir, seeds, "đông hà", "--json")
        assert code == 0
        assert json.loads(out)["total"] >= 1  # stdout stays clean JSON
        assert query(index_dir, seeds, "đông hà")[2] == err
        return err

    assert stderr_of_query() == ""
    info = (seeds / "dong-ha.txt").stat()
    os.utime(seeds / "dong-ha.txt", ns=(info.st_atime_ns, info.st_mtime_ns + 10**9))
    assert stderr_of_query() == notice
    assert run("index", "--seeds", str(seeds), "--index", str(index_dir))[0] == 0
    assert stderr_of_query() == ""
    (seeds / "hue.txt").write_text("Tin Huế\n\nMưa ở Huế.\n", encoding="utf-8")
    assert stderr_of_query() == notice
    assert run("index", "--seeds", str(seeds), "--index", str(index_dir))[0] == 0
    assert stderr_of_query() == ""
    (seeds / "hue.txt").unlink()
    assert stderr_of_query() == notice
    assert run("index", "--seeds", str(seeds), "--index", str(index_dir))[0] == 0
    assert stderr_of_query() == ""


def test_a_query_loads_no_segmenter_markdown_or_yaml(seeds_dir: Path, seeds_index: Path):
    """What a query imports is what every `searchkit query` waits for before it answers."""
    output, modules = loaded_by("query", "nêu gương", "--seeds", seeds_dir, "--index", seeds_index)
    heavy = ("pyvi", "sklearn", "pycrfsuite", "markdown_it", "yaml", "flask", "waitress")
    assert "004_a29b889078a98f24.txt" in output
    assert sorted({m.split(".")[0] for m in modules} & set(heavy)) == []


# --- filters, sort orders and facets ---------------------------------------------------------------------


def news(news_index: Path, news_dir: Path, *args: str) -> dict:
    code, out, err = query(news_index, news_dir, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_each_filter_narrows_the_json_results(news_index: Path, news_dir: Path):
    def paths(*args: str) -> list[str]:
        return sorted(hit["path"] for hit in news(news_index, news_dir, "việt nam", "--limit", "20", *args)["results"])

    assert len(paths()) == 8
    assert paths("--since", "2024-05-22") == ["tin.jsonl#tn-1", "tuoi-tre-tuyen-sinh.md"]
    assert paths("--until", "31/12/2023") == ["tin.jsonl#vne-2"]
    assert paths("--source", "tuoi tre") == ["ngay-hong.md", "tin.jsonl#tt-2", "tuoi-tre-tuyen-sinh.md"]
    assert paths("--source", "VNEXPRESS", "--source", "Thanh Niên") == [
        "tin.jsonl#tn-1", "tin.jsonl#tn-2", "tin.jsonl#vne-1", "tin.jsonl#vne-2"
    ]
    assert paths("--tag", "Giáo Dục", "--since", "2024-01-01") == ["tin.jsonl#tt-2", "tuoi-tre-tuyen-sinh.md"]


def test_sort_orders_by_date_with_the_undated_last(news_index: Path, news_dir: Path):
    newest = news(news_index, news_dir, "việt nam", "--sort", "newest", "--limit", "20")
    assert newest["sort"] == "newest"
    dates = [hit["date"] for hit in newest["results"]]
    assert dates == ["2024-05-23", "2024-05-22", "2024-05-15", "2024-04-15", "2024-01-01", "2023-12-30", None, None]
    oldest = news(news_index, news_dir, "việt nam", "--sort", "oldest", "--limit", "20")
    assert [hit["date"] for hit in oldest["results"]] == [*dates[5::-1], None, None]


def test_json_carries_metadata_and_facets_under_the_other_filters(news_index: Path, news_dir: Path):
    data = news(news_index, news_dir, "giá vàng", "--source", "vnexpress")
    hit = data["results"][0]
    assert (hit["path"], hit["date"], hit["source"], hit["tags"], hit["url"]) == (
        "tin.jsonl#vne-1", "2024-05-15", "VnExpress", ["kinh tế", "giá vàng"], None
    )
    assert data["facets"] == {
        "source": [{"value": "VnExpress", "count": 1}],
        "tags": [{"value": "giá vàng", "count": 1}, {"value": "kinh tế", "count": 1}],
        "year": [{"value": 2024, "count": 1}],
    }
    everything = news(news_index, news_dir, "việt nam", "--source", "vnexpress")["facets"]
    assert everything["source"] == [
        {"value": "Tuổi Trẻ", "count": 3}, {"value": "Thanh Niên", "count": 2}, {"value": "VnExpress", "count": 2}
    ]


def test_no_text_with_a_filter_browses_newest_first(news_index: Path, news_dir: Path):
    code, out, _ = query(news_index, news_dir, "--tag", "giao duc")
    assert code == 0
    blocks = [block for block in out.split("\n\n") if block[:2] in ("1.", "2.", "3.")]
    assert [block.splitlines()[1].strip() for block in blocks] == [
        "2024-05-22  Tuổi Trẻ  tuoi-tre-tuyen-sinh.md",
        "2024-01-01  Tuoi Tre  tin.jsonl#tt-2",
        "Thanh Niên  tin.jsonl#tn-2",
    ]
    assert re.search(r"^Results 1–3 of 3, newest first \(\d+\.\d\d s\)\.$", out, re.MULTILINE)
    assert news(news_index, news_dir, "", "--since", "2024-05-23")["results"][0]["path"] == "tin.jsonl#tn-1"


def test_a_filter_matching_nothing_says_so(news_index: Path, news_dir: Path):
    code, out, _ = query(news_index, news_dir, "--source", "Nhân Dân")
    assert (code, out) == (0, "No articles match these filters.\n")
    code, out, _ = query(news_index, news_dir, "giá vàng", "--source", "Nhân Dân")
    assert (code, out) == (0, "No results for 'giá vàng' with these filters.\n")


@pytest.mark.parametrize(
    "args, message",
    [
        (("--since", "2024-13-45"), "Error: since is not a date: '2024-13-45' (write 2024-05-22 or 22/05/2024)"),
        (("--until", "hôm qua"), "Error: until is not a date: 'hôm qua' (write 2024-05-22 or 22/05/2024)"),
        (("--since", "2024-06-01", "--until", "2024-05-01"), "Error: the date range ends before it starts"),
        (("--sort", "popular"), "Error: Invalid value for '--sort': 'popular' is not one of"),
        ((), "Error: the query is empty (give TEXT, or a filter to browse by)"),
    ],
)
def test_bad_filters_and_sorts_end_with_one_line_and_exit_2(news_index: Path, news_dir: Path, args, message):
    text = ("việt nam",) if args else ()
    code, out, err = query(news_index, news_dir, *text, *args)
    assert (code, out) == (2, "")
    assert err.strip().splitlines()[-1].startswith(message)
    assert "Traceback" not in err
