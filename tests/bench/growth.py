"""How query latency grows with the collection: the news corpus repeated to N articles, beside SQLite FTS5.

    python tests/bench/bench.py --growth 4000,35425,100000 [--growth-work DIR] [--out growth-results.json]

At each size the news articles are staged again (the corpus over and over past its 35,425 articles, each
pass's ids made distinct, see ``corpora.repeated``), searchkit's index and FTS5's are built, and the same
timed queries run on both: cut from the titles of the first 4,000 articles, so every size answers the
same set. FTS5 is asked for every word (AND), as searchkit requires every word of a short query, and with
OR beside it. Titles repeat past the corpus's size, so relevance is not measured here.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import corpora
import measure

# The whole news corpus: sizes above it repeat it.
BASE_SIZE = 35_425
# First-run p95 at the largest size over its p95 at BASE_SIZE (issue 26's growth target).
TARGET = 2.0
# The timed queries are cut from these first titles, which every size holds.
QUERY_TITLES = 4_000


def parse_sizes(text: str) -> list[int]:
    """``"4000,35425,100000"`` -> ``[4000, 35425, 100000]``, ascending; ValueError for anything else."""
    sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] <= 0:
        raise ValueError("sizes must be positive whole numbers, e.g. 4000,35425,100000")
    return sizes


def queries(data: Path, count: int) -> list[str]:
    articles = corpora.first(corpora.read_jsonl(data / corpora.BAOMOI), QUERY_TITLES)
    return corpora.latency_queries([article["title"] for article in articles], count)


def measure_size(data: Path, size: int, folder: Path, timed: list[str], log: Callable[[str], None]) -> dict:
    """Stage ``size`` articles in ``folder``, build both engines there and time ``timed`` on each."""
    news = data / corpora.BAOMOI
    log(f"growth {size:,}: staging")
    staged = corpora.stage(corpora.repeated(lambda: corpora.read_jsonl(news), size), folder / "seeds", "baomoi")
    entry: dict[str, Any] = {
        "articles": staged.articles,
        "syllables": staged.syllables,
        "characters": staged.characters,
        "engines": {},
        "errors": {},
    }
    for name in ("searchkit", "fts5"):
        log(f"growth {size:,}: building {name} and timing {len(timed)} queries")
        try:
            figures = measure.in_child(measure.build_and_query, name, staged.seeds_dir, folder / name, timed)
            with_every_word(name, folder, timed, figures)
        except Exception as error:
            entry["errors"][name] = f"{type(error).__name__}: {error}"
            log(f"growth {size:,}: {name} failed: {error}")
            continue
        if figures["build_report"]["added"] != staged.articles:
            entry["errors"][name] = f"indexed {figures['build_report']['added']:,} of {staged.articles:,} staged"
        entry["engines"][name] = figures
        log(f"growth {size:,}: {name} built in {figures['build_s']:.0f} s, p95 {figures['first_p95_ms']:.1f} ms")
    return entry


def with_every_word(name: str, folder: Path, timed: list[str], figures: dict) -> None:
    """FTS5's index asked again for every word, in a fresh connection (the baseline for short queries),
    into ``figures["every_word"]``; nothing for searchkit."""
    if name == "fts5":
        every_word = {"every_word": True}
        figures["every_word"] = measure.in_child(measure.timed_queries, name, folder / name, timed, every_word)


def requery_size(size: int, folder: Path, timed: list[str], log: Callable[[str], None]) -> dict:
    """Time ``timed`` again on the indexes a run with ``keep`` left in ``folder``; no build figures.

    For sizes built at different times on a busy machine: the queries of every size then run back to back.
    """
    entry: dict[str, Any] = {"articles": size, "requeried": True, "engines": {}, "errors": {}}
    for name in ("searchkit", "fts5"):
        log(f"growth {size:,}: timing {len(timed)} queries on {name}'s kept index")
        try:
            figures = measure.in_child(measure.timed_queries, name, folder / name, timed)
            with_every_word(name, folder, timed, figures)
        except Exception as error:
            entry["errors"][name] = f"{type(error).__name__}: {error}"
            log(f"growth {size:,}: {name} failed: {error}")
            continue
        entry["engines"][name] = figures
    return entry


def run(
    data: Path,
    sizes: list[int],
    work: Path,
    count: int,
    log: Callable[[str], None],
    save: Callable[[dict], None],
    keep: bool = False,
    requery: bool = False,
) -> dict:
    """Every size in turn; ``save(section)`` after each, so a long run leaves the sizes it finished.

    Each size's staged articles are removed once it is measured, and its indexes too unless ``keep``.
    With ``requery``, the indexes kept in ``work`` are only queried again (see ``requery_size``).
    """
    timed = queries(data, count)
    section: dict[str, Any] = {
        "sizes": sizes,
        "query_titles": QUERY_TITLES,
        "latency_queries": len(timed),
        "latency_query_sample": timed[:5],
        "base_size": BASE_SIZE,
        "target": TARGET,
        "results": {},
    }
    for size in sizes:
        folder = work / f"n{size}"
        if requery:
            section["results"][str(size)] = requery_size(size, folder, timed, log)
            save(section)
            continue
        try:
            section["results"][str(size)] = measure_size(data, size, folder, timed, log)
        finally:
            # Up to a few GB per size: only the figures are kept (and the indexes, when asked).
            shutil.rmtree(folder if not keep else folder / "seeds", ignore_errors=True)
        save(section)
    return section


def _figure(entry: dict, engine: str, key: str, every_word: bool = False) -> float | None:
    figures = entry["engines"].get(engine)
    if figures is None:
        return None
    if every_word:
        figures = figures.get("every_word", {})
    return figures.get(key)


def growth_ratio(section: dict, key: str = "first_p95_ms") -> tuple[int, float] | None:
    """``(largest size, its searchkit first-run p95 ÷ that at BASE_SIZE)``, when both were measured."""
    results = section["results"]
    base = results.get(str(section["base_size"]))
    larger = [int(size) for size in results if int(size) > section["base_size"]]
    if not base or not larger:
        return None
    top = results[str(max(larger))]
    over, under = _figure(top, "searchkit", key), _figure(base, "searchkit", key)
    if not over or not under:
        return None
    return max(larger), over / under


ROWS = (
    ("searchkit build time (s)", "searchkit", "build_s", False, "{:.0f}"),
    ("searchkit build CPU, all processes (s)", "searchkit", "build_cpu_s", False, "{:.0f}"),
    ("searchkit index size (MB)", "searchkit", "index_mb", False, "{:.1f}"),
    ("FTS5 build time (s)", "fts5", "build_s", False, "{:.1f}"),
    ("FTS5 index size (MB)", "fts5", "index_mb", False, "{:.1f}"),
    ("searchkit p50, first run (ms)", "searchkit", "first_p50_ms", False, "{:.1f}"),
    ("searchkit p95, first run (ms)", "searchkit", "first_p95_ms", False, "{:.1f}"),
    ("searchkit p95, repeated (ms)", "searchkit", "p95_ms", False, "{:.1f}"),
    ("searchkit CPU p95, first run (ms)", "searchkit", "first_cpu_p95_ms", False, "{:.1f}"),
    ("FTS5 AND p50, first run (ms)", "fts5", "first_p50_ms", True, "{:.1f}"),
    ("FTS5 AND p95, first run (ms)", "fts5", "first_p95_ms", True, "{:.1f}"),
    ("FTS5 AND p95, repeated (ms)", "fts5", "p95_ms", True, "{:.1f}"),
    ("FTS5 AND CPU p95, first run (ms)", "fts5", "first_cpu_p95_ms", True, "{:.1f}"),
    ("FTS5 OR p95, first run (ms)", "fts5", "first_p95_ms", False, "{:.1f}"),
)
# searchkit's first-run p95 over FTS5's, in wall time and in processor time.
RATIOS = (
    ("searchkit ÷ FTS5 AND, first-run p95", "first_p95_ms", True),
    ("searchkit ÷ FTS5 AND, first-run CPU p95", "first_cpu_p95_ms", True),
    ("searchkit ÷ FTS5 OR, first-run p95", "first_p95_ms", False),
)


def lines(section: dict) -> list[str]:
    """The growth figures as a table, one column per size, with searchkit's ratios to FTS5."""
    results = section["results"]
    sizes = [size for size in map(str, section["sizes"]) if size in results]
    if not sizes:
        return []
    header = ["", *(f"{int(size):,}" for size in sizes)]
    rows = [header]
    for label, engine, key, every_word, form in ROWS:
        values = [_figure(results[size], engine, key, every_word) for size in sizes]
        rows.append([f"  {label}", *("—" if value is None else form.format(value) for value in values)])
    for label, key, every_word in RATIOS:
        cells = []
        for size in sizes:
            ours = _figure(results[size], "searchkit", key)
            theirs = _figure(results[size], "fts5", key, every_word)
            cells.append(f"{ours / theirs:.2f}×" if ours and theirs else "—")
        rows.append([f"  {label}", *cells])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    out = [
        f"Growth, the news corpus repeated to N articles ({section['latency_queries']} queries cut from the first "
        f"{section['query_titles']:,} titles, the same at every size; top 10 with snippets)"
    ]
    out += ["  ".join(c.rjust(widths[i]) if i else c.ljust(widths[0]) for i, c in enumerate(row)) for row in rows]
    ratio, cpu = growth_ratio(section), growth_ratio(section, "first_cpu_p95_ms")
    if ratio:
        top, value = ratio
        verdict = "meets" if value <= section["target"] else "above"
        out.append(
            f"searchkit first-run p95 at {top:,} articles ÷ at {section['base_size']:,}: {value:.2f}× "
            f"({verdict} the {section['target']:g}× target)" + (f"; in processor time {cpu[1]:.2f}×" if cpu else "")
        )
    for size in sizes:
        for name, message in results[size]["errors"].items():
            out.append(f"error at {int(size):,} articles, {name}: {message.strip().splitlines()[-1]}")
    return out
