"""What filters, sort orders and facets add to a query, on the news index with synthetic metadata.

Each timed query runs in five forms, one after the other so that the machine's load falls on all
of them alike (each query starting at a different one): as the speed section times it (top 10 with
snippets), with the facets the page and the API count beside every answer, narrowed by a filter (a
date range, a source, a tag or two of them) with facets, the same sorted newest first, and the
filter alone with no text (browsing).
Each form's p50 and p95, wall and CPU time, and its p95 divided by the plain query's.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from corpora import NEWS_DAYS, NEWS_FIRST_DAY, NEWS_SOURCES, NEWS_TAGS, QUERY_SEED
from measure import _percentile

# The most the issue allows filters and facets to add to the query p95.
TARGET_RATIO = 1.3
FORMS = ("plain", "facets", "filtered", "newest", "browse")


def filters_for(count: int, seed: int = QUERY_SEED) -> list[dict[str, Any]]:
    """``count`` filters as a reader picks them from the facets: a month or a year, a source, a tag, or two."""
    rng = random.Random(seed + 1)
    chosen = []
    for _ in range(count):
        kind = rng.choice(("month", "year", "source", "tag", "source+year", "tag+month"))
        found: dict[str, Any] = {}
        if "month" in kind:
            start = NEWS_FIRST_DAY + timedelta(days=rng.randrange(NEWS_DAYS - 31))
            found |= {"since": start.isoformat(), "until": (start + timedelta(days=30)).isoformat()}
        if "year" in kind:
            year = rng.randrange(NEWS_FIRST_DAY.year, NEWS_FIRST_DAY.year + 3)
            found |= {"since": date(year, 1, 1).isoformat(), "until": date(year, 12, 31).isoformat()}
        if "source" in kind:
            found["sources"] = [rng.choice(NEWS_SOURCES)]
        if "tag" in kind:
            found["tags"] = [rng.choice(NEWS_TAGS[:20])]
        chosen.append(found)
    return chosen


def measure(index_dir: Path, queries: list[str]) -> dict[str, Any]:
    """Run in a child: the five forms of each query (see the module's note), and the cost of the first facets."""
    from searchkit.errors import SearchkitError
    from searchkit.search.filters import Filters
    from searchkit.search.searcher import Searcher

    chosen = [Filters.parse(**found) for found in filters_for(len(queries))]
    wall: dict[str, list[float]] = {form: [] for form in FORMS}
    cpu: dict[str, list[float]] = {form: [] for form in FORMS}
    hits: dict[str, int] = {form: 0 for form in FORMS}
    with Searcher(index_dir) as searcher:
        started = time.perf_counter()
        searcher.columns()
        columns_ms = (time.perf_counter() - started) * 1000
        for text, filters in zip(queries, chosen, strict=True):
            runs = {
                "plain": lambda t=text: searcher.search(t, limit=10),
                "facets": lambda t=text: searcher.search(t, limit=10, facets=True),
                "filtered": lambda t=text, f=filters: searcher.search(t, limit=10, filters=f, facets=True),
                "newest": lambda t=text, f=filters: searcher.search(t, limit=10, filters=f, facets=True, sort="newest"),
                "browse": lambda f=filters: searcher.search("", limit=10, filters=f, facets=True),
            }
            try:
                runs["plain"]()  # the posting lists read once, as the speed section's first run does
            except SearchkitError:
                continue
            # Each query starts its forms at a different one, so none always runs first or last.
            turn = len(wall["plain"]) % len(FORMS)
            for form in FORMS[turn:] + FORMS[:turn]:
                run = runs[form]
                cpu_started, started = time.process_time(), time.perf_counter()
                results = run()
                wall[form].append((time.perf_counter() - started) * 1000)
                cpu[form].append((time.process_time() - cpu_started) * 1000)
                hits[form] += results.total
    timed = len(wall["plain"])
    figures: dict[str, Any] = {
        "queries": timed,
        "columns_ms": columns_ms,
        "target_ratio": TARGET_RATIO,
        "filter_sample": filters_for(5),
    }
    for form in FORMS:
        figures[form] = {
            "p50_ms": _percentile(wall[form], 0.50),
            "p95_ms": _percentile(wall[form], 0.95),
            "cpu_p50_ms": _percentile(cpu[form], 0.50),
            "cpu_p95_ms": _percentile(cpu[form], 0.95),
            "matches_per_query": hits[form] / max(timed, 1),
        }
        figures[form]["p95_ratio"] = figures[form]["p95_ms"] / figures["plain"]["p95_ms"]
        figures[form]["cpu_p95_ratio"] = figures[form]["cpu_p95_ms"] / figures["plain"]["cpu_p95_ms"]
    return figures


def lines(section: dict[str, Any]) -> list[str]:
    """The section as table rows: one form per line, its figures and ratios side by side."""
    header = (
        f"Filters and facets, searchkit on {section['articles']:,} news articles with synthetic dates, "
        f"sources and tags ({section['queries']} queries, top 10 with snippets; columns read in "
        f"{section['columns_ms']:.0f} ms once per searcher)"
    )
    labels = {
        "plain": "plain query (the speed section's)",
        "facets": "+ facets (as the page and API answer)",
        "filtered": "+ a filter, with facets",
        "newest": "+ a filter, with facets, newest first",
        "browse": "a filter alone, no text, with facets",
    }
    width = max(len(label) for label in labels.values())
    columns = f"{'p50 ms':>8}  {'p95 ms':>8}  {'CPU p95 ms':>10}  {'p95 ÷ plain':>11}  {'CPU ÷ plain':>11}"
    rows = [header, f"  {'':<{width}}  {columns}"]
    for form in FORMS:
        figures = section[form]
        rows.append(
            f"  {labels[form]:<{width}}  {figures['p50_ms']:>8.1f}  {figures['p95_ms']:>8.1f}  "
            f"{figures['cpu_p95_ms']:>10.1f}  {figures['p95_ratio']:>10.2f}×  {figures['cpu_p95_ratio']:>10.2f}×"
        )
    worst = max(section[form]["p95_ratio"] for form in ("facets", "filtered", "newest"))
    verdict = "meets" if worst <= section["target_ratio"] else "above"
    target = section["target_ratio"]
    rows.append(f"  filters and facets: at most {worst:.2f}× the plain p95 ({verdict} the {target}× target)")
    return rows
