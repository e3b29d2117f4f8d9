"""What a build says while it runs and when it is done: a rate over recent work, lines in a log, true counts."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from click.testing import CliRunner
from commands import run

from searchkit.cli import main, meter
from searchkit.cli.meter import Meter, Rate, duration


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_rate_is_the_recent_one_not_the_average_since_the_start():
    # 500 articles at 150/s, then 61/s: the rate a third of the way through a build of 1500.
    clock, rate, done = Clock(), Rate(window=10.0), 0
    rate.add(clock(), 0)
    for _ in range(500):
        clock.now += 1 / 150
        done += 1
        rate.add(clock(), done)
    for _ in range(61 * 12):
        clock.now += 1 / 61
        done += 1
        rate.add(clock(), done)
    since_start = done / (clock.now - 1000.0)
    assert since_start > 75  # what the old bar showed
    assert abs(rate.per_second() - 61) < 0.5
    assert abs(rate.seconds_left(1500 - done) - (1500 - done) / 61) < 1


def test_off_a_terminal_a_line_every_interval_and_one_at_the_end():
    clock, out = Clock(), io.StringIO()
    progress = Meter("Indexing", "articles", file=out, clock=clock, interval=5.0, terminal=False)
    progress(0, 100)
    for done in range(1, 101):
        clock.now += 0.25  # 4 articles a second: a line every 20 articles
        progress(done, 100)
    progress.close()
    lines = out.getvalue().splitlines()
    assert lines[0] == "Indexing 100 articles"
    assert lines[1] == "Indexing: 20/100 articles (20 %), 4.0 articles/s, 20 s left"
    assert lines[2] == "Indexing: 40/100 articles (40 %), 4.0 articles/s, 15 s left"
    assert len(lines) == 1 + 4 + 1  # at 20, 40, 60, 80 %, and the end
    assert lines[-1] == "Indexing: 100/100 articles in 25 s"


def test_an_unfinished_run_prints_no_closing_line():
    clock, out = Clock(), io.StringIO()
    progress = Meter("Indexing", "articles", file=out, clock=clock, interval=5.0, terminal=False)
    progress(0, 100)
    clock.now += 1
    progress(3, 100)
    progress.close()
    assert out.getvalue() == "Indexing 100 articles\n"


def test_one_article_is_counted_as_one():
    clock, out = Clock(), io.StringIO()
    progress = Meter("Indexing", "articles", one="article", file=out, clock=clock, terminal=False)
    progress(0, 1)
    clock.now += 1
    progress(1, 1)
    progress.close()
    assert out.getvalue().splitlines()[0] == "Indexing 1 article"


def test_adding_one_article_says_so(tmp_path: Path, seeds_dir: Path):
    article = tmp_path / "lua.md"
    article.write_text("# Giá lúa tăng mạnh\n\nNhững ngày qua giá lúa ở đồng bằng sông Cửu Long tăng.\n", "utf-8")
    seeds, index = tmp_path / "seeds", tmp_path / "index"
    shutil.copytree(seeds_dir, seeds)
    assert CliRunner().invoke(main, ["index", "--seeds", str(seeds), "--index", str(index)]).exit_code == 0
    result = CliRunner().invoke(main, ["add", "--seeds", str(seeds), "--index", str(index), str(article)])
    assert result.exit_code == 0, result.output
    assert "Indexing 1 article\n" in result.stderr
    assert result.stdout == "added 1, updated 0, removed 0, unchanged 5, skipped 0\n"


def test_on_a_terminal_the_bar_shows_the_recent_rate_and_time_left():
    clock, out = Clock(), io.StringIO()
    progress = Meter("Indexing", "articles", file=out, clock=clock, terminal=True)
    progress(0, 30)
    for done in range(1, 11):
        clock.now += 0.5
        progress(done, 30)
    assert progress.about() == "2.0 articles/s, 10 s left"
    progress.close()


def test_durations_read_as_a_person_writes_them():
    assert [duration(s) for s in (0.4, 19, 125, 3725)] == ["0 s", "19 s", "2 min 05 s", "1 h 02 min"]


def test_index_into_a_log_prints_progress_lines(seeds_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(meter, "INTERVAL", 0.0)  # a line at every article
    code, out, err = run("index", "--procs", "1", "--seeds", seeds_dir, "--index", tmp_path / "index")
    assert code == 0 and out == "added 5, updated 0, removed 0, unchanged 0, skipped 0\n"
    lines = err.splitlines()
    assert lines[0] == "Indexing 5 articles"
    assert lines[1].startswith("Indexing: 1/5 articles (20 %)")
    assert [line.split()[1] for line in lines[1:5]] == ["1/5", "2/5", "3/5", "4/5"]
    assert lines[5].startswith("Indexing: 5/5 articles in ")


def test_the_first_query_names_the_index_folder_as_a_folder(seeds_dir: Path, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(seeds_dir, tmp_path / "seeds")
    code, _, err = run("query", "nêu gương")
    assert code == 0
    assert err.splitlines()[0] == "No index in index/ yet: building it from seeds/."
    corpus = tmp_path / "tin.jsonl"
    corpus.write_text('{"id": "1", "title": "Tin", "text": "Nêu gương tốt."}\n', encoding="utf-8")
    code, _, err = run("query", "nêu gương", "--seeds", corpus, "--index", tmp_path / "ix")
    assert err.splitlines()[0] == f"No index in {tmp_path / 'ix'}/ yet: building it from {corpus}."


def test_add_counts_the_articles_it_left_alone(seeds_dir: Path, seeds_index: Path, tmp_path: Path):
    seeds = Path(shutil.copytree(seeds_dir, tmp_path / "seeds"))
    index_dir = Path(shutil.copytree(seeds_index, tmp_path / "index"))
    new = tmp_path / "cau-moi.txt"
    new.write_text("Khánh thành cầu mới\n\nCầu mới ở Đà Nẵng khánh thành.\n", encoding="utf-8")
    code, out, _ = run("add", new, "--seeds", seeds, "--index", index_dir)
    assert (code, out) == (0, "added 1, updated 0, removed 0, unchanged 5, skipped 0\n")
    # The same as 'searchkit index' says of the folder now.
    code, out, _ = run("index", "--seeds", seeds, "--index", index_dir)
    assert (code, out) == (0, "added 0, updated 0, removed 0, unchanged 6, skipped 0\n")
