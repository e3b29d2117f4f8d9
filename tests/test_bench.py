"""The benchmark's own helpers: what it stages and what it asks its baselines, checked on real news text."""

import importlib
import json
import sqlite3
import sys
from pathlib import Path

import pytest
from corpora import news_records

from searchkit.corpus.articles import Article, Skipped, read_articles

BENCH = Path(__file__).resolve().parent / "bench"


@pytest.fixture
def bench(monkeypatch):
    """Imports a module of tests/bench by its name there (its ``corpora`` is not the suite's ``corpora``)."""
    own = {path.stem for path in BENCH.glob("*.py")}
    suite = {name: sys.modules.pop(name) for name in own if name in sys.modules}
    monkeypatch.syspath_prepend(str(BENCH))
    yield importlib.import_module
    for name in own:
        sys.modules.pop(name, None)
    sys.modules.update(suite)


def test_repeated_news_past_its_size_keeps_every_id_distinct(bench, tmp_path):
    corpora = bench("corpora")
    news = news_records(6)
    staged = corpora.stage(corpora.repeated(lambda: iter(news), 16), tmp_path / "seeds", "baomoi")
    assert staged.articles == 16
    rows = [json.loads(line) for path in sorted(staged.seeds_dir.glob("*.jsonl")) for line in path.open()]
    ids = [row["id"] for row in rows]
    assert len(set(ids)) == 16
    # The first pass keeps the corpus's ids; the second and third are told apart, their text unchanged.
    assert ids[:6] == [article["id"] for article in news]
    assert ids[6] == f"{news[0]['id']}-r2" and ids[15] == f"{news[3]['id']}-r3"
    assert rows[15]["text"] == news[3]["text"] and rows[15]["title"] == news[3]["title"]
    # searchkit reads every one of them as its own article: none is skipped as a duplicate.
    read = list(read_articles(staged.seeds_dir))
    assert not [item for item in read if isinstance(item, Skipped)]
    assert len({item.id for item in read if isinstance(item, Article)}) == 16


def test_repeated_stops_at_the_count_and_on_an_empty_corpus(bench):
    corpora = bench("corpora")
    news = news_records(3)
    assert [a["id"] for a in corpora.repeated(lambda: iter(news), 2)] == [news[0]["id"], news[1]["id"]]
    assert list(corpora.repeated(lambda: iter([]), 5)) == []


def test_fts5_asked_for_every_word_finds_only_articles_holding_each(bench, tmp_path):
    corpora, engines = bench("corpora"), bench("engines")
    news = news_records(40)
    corpora.stage(news, tmp_path / "seeds", "baomoi")
    fts5 = engines.Fts5()
    fts5.build(tmp_path / "seeds", tmp_path / "fts5")
    query = "xe ô tô giá"
    fold, _ = corpora.query_folder()

    def words(text: str) -> set[str]:
        # FTS5's unicode61 with remove_diacritics 2 folds marks (not đ, which this query lacks).
        return set(corpora.SYLLABLE.findall(fold(text)))

    holding = {a["id"] for a in news if words(query) <= words(f"{a['title']} {a['text']}")}
    assert len(holding) >= 2  # among the first 40 news articles, cars and their prices
    with fts5.searcher(tmp_path / "fts5", every_word=True) as search:
        found = set(search(query, 100, True))
    with fts5.searcher(tmp_path / "fts5") as search:
        any_word = set(search(query, 100, True))
    assert found == holding
    assert found < any_word


@pytest.mark.parametrize("query", ["AND OR NOT", "giá NEAR(vàng", '"giá vàng', "title: giá*", "- ^vàng"])
def test_fts5_queries_are_never_read_as_its_syntax(bench, tmp_path, query):
    engines = bench("engines")
    expression = engines.Fts5.match_expression(query, every_word=True)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(title, text)")
    db.execute("INSERT INTO t VALUES ('giá vàng', 'and or not near title')")
    # Every token is a quoted string, so FTS5's operators, columns and prefixes are plain words.
    (count,) = db.execute("SELECT count(*) FROM t WHERE t MATCH ?", (expression,)).fetchone()
    assert count == 1
    assert expression.count('"') == 2 * len(expression.split())


def test_growth_sizes_and_ratio(bench):
    growth = bench("growth")
    assert growth.parse_sizes("35425,4000, 100000") == [4000, 35425, 100000]
    with pytest.raises(ValueError):
        growth.parse_sizes("0,4000")
    with pytest.raises(ValueError):
        growth.parse_sizes("4k")

    def size(p95: float) -> dict:
        return {"engines": {"searchkit": {"first_p95_ms": p95}}, "errors": {}}

    section = {
        "sizes": [4000, 35425, 100000],
        "base_size": 35425,
        "target": 2.0,
        "latency_queries": 2,
        "query_titles": 4000,
        "results": {"4000": size(40.0), "35425": size(60.0), "100000": size(150.0)},
    }
    assert growth.growth_ratio(section) == (100000, 2.5)
    assert "2.50× (above the 2× target)" in "\n".join(growth.lines(section))
    del section["results"]["100000"]
    assert growth.growth_ratio(section) is None


def test_bench_table_sets_searchkit_beside_fts5_and_for_title_queries_and_or(bench):
    table = bench("bench").table
    timed = {"first_p50_ms": 20.0, "first_p95_ms": 48.0, "p50_ms": 5.0, "p95_ms": 9.0}
    fts5 = {"first_p50_ms": 30.0, "first_p95_ms": 60.0, "p50_ms": 29.0, "p95_ms": 59.0, "build_s": 2.0}
    fts5["every_word"] = {"first_p50_ms": 8.0, "first_p95_ms": 16.0, "p50_ms": 7.0, "p95_ms": 15.0}
    timed["first_cpu_p95_ms"], fts5["first_cpu_p95_ms"], fts5["every_word"]["first_cpu_p95_ms"] = 30.0, 50.0, 12.0
    results = {
        "speed": {
            "articles": 4000,
            "syllables": 1,
            "latency_queries": 200,
            "engines": {"searchkit": timed | {"build_s": 20.0}, "fts5": fts5},
        },
        "warnings": {},
        "errors": {},
    }
    lines = table(results, ["searchkit", "fts5"]).splitlines()
    header = lines[0].split("  ")
    assert [cell.strip() for cell in header if cell.strip()] == [
        "searchkit",
        "SQLite FTS5 OR",
        "FTS5 AND",
        "searchkit ÷ FTS5 OR",
        "searchkit ÷ FTS5 AND",
    ]
    first_p95 = next(line for line in lines if "query p95, first run" in line).split()
    assert first_p95[-5:] == ["48.0", "60.0", "16.0", "0.80×", "3.00×"]
    cpu = next(line for line in lines if "query p95, first run, CPU time" in line).split()
    assert cpu[-5:] == ["30.0", "50.0", "12.0", "0.60×", "2.50×"]
    # FTS5 AND shares FTS5's index: only its query times are its own.
    build = next(line for line in lines if "build time" in line).split()
    assert build[-5:] == ["20.00", "2.00", "—", "10.00×", "—"]
    assert lines[-1] == (
        "searchkit first-run p95 48.0 ms on the title queries: 3.00× FTS5 asked for every word (AND, 16.0 ms), "
        "0.80× FTS5 OR (60.0 ms)"
    )
