"""The ways a query may be typed, measured: acronyms, autocompletion, related articles.

    python tests/bench/ways.py [--data ../shared/data] [--news-index DIR] [--news 5000]
                                 [--reuse DIR] [--out ways-results.json]

1. **Acronyms the news defines**: every article of the news corpus read with
   ``searchkit.search.acronyms.definitions``: how many articles define one, how many distinct pairs.
2. **Autocompletion on the full news corpus**: completion reads nothing but the statistics file a
   build writes beside the index (``spellings.sqlite``), so that file is written here for all
   35,425 articles with the build's own code (``spellings.counts_of`` and ``SpellingWriter``),
   unless ``--news-index`` names an index of all of them. Completions are timed, warm, for
   prefixes cut from 1,000 news titles (a few words and part of the next, or a word and a space),
   typed without accents as most people type, and with them.
3. **Acronyms and ranking**: XQuAD-vi MRR@10 with and without acronym expansion, on the paragraphs
   alone and beside the first 3,000 news articles; and a known-item run over the news: 500
   articles drawn at random, each article's title searched for (with its accents and without),
   MRR@10 of finding that article, with and without expansion; and how many articles the 100 most
   defined acronyms find, typed alone or as their long forms, with and without expansion.
4. **Related articles**: the time ``Searcher.related`` takes for 200 articles of the news index
   (the first time, and again), and through the article page.

The news index of 3 and 4 is ``--news-index`` or one built from the first ``--news`` articles.
Indexes and staged articles are written to a temporary folder, or kept in ``--reuse DIR``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from corpora import BAOMOI, DEFAULT_DATA, XQUAD, first, read_jsonl, stage  # noqa: E402

from searchkit.build.index import build  # noqa: E402
from searchkit.engines import spellings  # noqa: E402
from searchkit.engines.whoosh.generations import current  # noqa: E402
from searchkit.search.acronyms import definitions  # noqa: E402
from searchkit.search.complete import completions  # noqa: E402
from searchkit.search.evaluation import evaluate, load_qrels, load_queries  # noqa: E402
from searchkit.search.searcher import MAX_LIMIT, Searcher  # noqa: E402
from searchkit.text.analysis import fold, syllables  # noqa: E402
from searchkit.webapp.app import create_app  # noqa: E402

SEED = 20170101


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 3),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 3),
        "max_ms": round(1000 * ordered[-1], 3),
    }


# --- 1. acronyms the news defines -------------------------------------------------------------------


def defined(news: Path) -> dict:
    pairs: dict[tuple[str, str], int] = {}
    articles = total = 0
    for row in read_jsonl(news):
        total += 1
        found = {(a.short, a.long) for a in definitions(row["title"] + "\n" + row["text"])}
        articles += bool(found)
        for pair in found:
            pairs[pair] = pairs.get(pair, 0) + 1
    shorts = {short for short, _ in pairs}
    common = sorted(pairs.items(), key=lambda item: -item[1])[:10]
    return {
        "articles_read": total,
        "articles_defining": articles,
        "distinct_pairs": len(pairs),
        "distinct_acronyms": len(shorts),
        "acronyms_with_several_meanings": sum(1 for s in shorts if sum(1 for k, _ in pairs if k == s) > 1),
        "most_defined": [f"{short} = {long} ({n})" for (short, long), n in common],
    }


# --- 2. autocompletion ------------------------------------------------------------------------------------


def statistics_file(news: Path, folder: Path) -> tuple[Path, float]:
    """The statistics of every news article, written as a build writes them; and the seconds it took."""
    path = folder / spellings.FILE
    if path.exists():
        return path, 0.0
    started = time.perf_counter()
    writer = spellings.SpellingWriter(folder / ".writing.sqlite")
    for row in read_jsonl(news):
        writer.add(spellings.counts_of(row["title"], row["text"]))
    writer.close()
    writer.path.rename(path)
    return path, time.perf_counter() - started


def prefixes(titles: list[str], count: int, accents: bool) -> list[str]:
    """What someone is typing when completions are asked for: part of a title, cut inside a word or after one."""
    rng = random.Random(SEED)
    usable = [t for t in titles if len(syllables(t)) >= 2]
    found = []
    while len(found) < count:
        title = rng.choice(usable)
        words = [s.text for s in syllables(title)]
        upto = rng.randint(0, min(len(words), 4) - 1)
        word = words[upto]
        if rng.random() < 0.2:
            typed = " ".join(words[: upto + 1]) + " "
        else:
            typed = " ".join(words[:upto] + [word[: rng.randint(1, len(word))]])
        found.append(typed if accents else fold(typed))
    return found


def completion_latency(path: Path, titles: list[str]) -> dict:
    result: dict = {"statistics_file_mb": round(path.stat().st_size / 2**20, 1)}
    with closing(spellings.SpellingCounts(path)) as store:
        for table in spellings.TABLES:
            result[f"rows_{table}"] = store._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for typed_with in ("without_accents", "with_accents"):
            queries = prefixes(titles, 1000, accents=typed_with == "with_accents")
            for text in prefixes(titles[::-1], 200, accents=False):  # warm-up: the file's pages, Python's caches
                completions(store, text)
            timings, found = [], []
            for text in queries:
                started = time.perf_counter()
                answer = completions(store, text)
                timings.append(time.perf_counter() - started)
                found.append(len(answer))
            result[typed_with] = percentiles(timings) | {
                "queries": len(queries),
                "answered": round(sum(1 for n in found if n) / len(found), 3),
                "mean_completions": round(sum(found) / len(found), 2),
                "examples": {q: completions(store, q)[:3] for q in queries[:5]},
            }
    return result


def api_latency(index_dir: Path, titles: list[str]) -> dict:
    client = create_app(index_dir=index_dir).test_client()
    queries = prefixes(titles, 500, accents=False)
    for text in queries[:50]:
        client.get("/api/complete", query_string={"q": text})
    timings = []
    for text in queries:
        started = time.perf_counter()
        response = client.get("/api/complete", query_string={"q": text})
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200
    return percentiles(timings) | {"queries": len(queries)}


# --- 3. acronyms and ranking --------------------------------------------------------------------------------


def xquad_mrr(index_dir: Path, data: Path) -> dict:
    queries = load_queries(data / XQUAD / "queries.jsonl")
    qrels = load_qrels(data / XQUAD / "qrels.tsv")
    result: dict = {}
    with Searcher(index_dir) as searcher:
        result["pairs_learnt"] = len(searcher.glossary())
        for typed, shape in (("accented", lambda t: t), ("folded", fold)):
            for expand in (False, True):
                run, expanded = {}, 0
                for query in queries:
                    found = searcher.search(shape(query.text), limit=MAX_LIMIT, snippets=False, acronyms=expand)
                    expanded += bool(found.acronyms)
                    run[query.id] = [hit.id.split("#")[-1] for hit in found.hits]
                name = f"mrr_at_10_{typed}_{'with' if expand else 'without'}_acronyms"
                result[name] = round(evaluate(run, qrels).mrr_at_10, 4)
                if expand:
                    result[f"questions_expanded_{typed}"] = expanded
    return result


def known_items(index_dir: Path, rows: list[dict], count: int) -> dict:
    """Each drawn article's title as the query: how high is that article?"""
    rng = random.Random(SEED)
    drawn = rng.sample(rows, count)
    qrels = {row["id"]: {row["id"]: 1} for row in drawn}
    result: dict = {"queries": count}
    with Searcher(index_dir) as searcher:
        for typed, shape in (("accented", lambda t: t), ("folded", fold)):
            runs: dict[bool, dict[str, list[str]]] = {False: {}, True: {}}
            expanded: set[str] = set()
            for row in drawn:
                for expand in (False, True):
                    found = searcher.search(shape(row["title"]), limit=10, snippets=False, acronyms=expand)
                    runs[expand][row["id"]] = [hit.id.split("#")[-1] for hit in found.hits]
                    if expand and found.acronyms:
                        expanded.add(row["id"])
            for expand, run in runs.items():
                name = f"mrr_at_10_{typed}_{'with' if expand else 'without'}_acronyms"
                result[name] = round(evaluate(run, qrels).mrr_at_10, 4)
                subset = {q: r for q, r in run.items() if q in expanded}
                if subset:
                    result[name + "_on_expanded"] = round(evaluate(subset, {q: qrels[q] for q in subset}).mrr_at_10, 4)
            result[f"queries_expanded_{typed}"] = len(expanded)
    return result


def reach(index_dir: Path, count: int) -> dict:
    """How many articles the ``count`` most defined acronyms find, typed alone or as their long forms."""
    with Searcher(index_dir) as searcher:
        learnt = [pair for meanings in searcher.glossary().by_short.values() for pair in meanings]
        learnt.sort(key=lambda pair: (-pair[1], pair[0].short))
        result: dict = {"pairs": min(count, len(learnt))}
        for form in ("short", "long"):
            found = {expand: 0 for expand in (False, True)}
            for acronym, _ in learnt[:count]:
                for expand in found:
                    text = getattr(acronym, form)
                    found[expand] += searcher.search(text, limit=1, snippets=False, acronyms=expand).total
            result[f"articles_found_typing_the_{form}_form"] = {
                "without_acronyms": found[False],
                "with_acronyms": found[True],
            }
    return result


# --- 4. related articles -------------------------------------------------------------------------------------


def related_cost(index_dir: Path, ids: list[str], count: int) -> dict:
    """``Searcher.related`` for ``count`` articles, the first time and again; and what it adds to an article page.

    The page is timed for other articles, once without its related articles (``related``
    answering nothing) and then with them, so the second pays only for what they add.
    """
    rng = random.Random(SEED + 1)
    drawn = rng.sample(ids, min(2 * count, len(ids)))
    timed, paged = drawn[:count], drawn[count:]
    result: dict = {"articles": len(timed)}
    with Searcher(index_dir) as searcher:
        for run in ("first", "repeated"):
            timings, listed = [], []
            for doc_id in timed:
                started = time.perf_counter()
                found = searcher.related(doc_id)
                timings.append(time.perf_counter() - started)
                listed.append(len(found))
            result[run] = percentiles(timings) | {"mean_listed": round(sum(listed) / len(listed), 2)}
    client = create_app(index_dir=index_dir).test_client()
    pages: dict[str, list[float]] = {"without": [], "with": []}
    original = Searcher.related
    for doc_id in paged:
        for name in ("without", "with"):
            Searcher.related = original if name == "with" else (lambda self, doc_id, **_: [])  # type: ignore[method-assign]
            started = time.perf_counter()
            assert client.get(f"/articles/{quote(doc_id, safe='/')}").status_code == 200
            pages[name].append(time.perf_counter() - started)
    Searcher.related = original  # type: ignore[method-assign]
    result["article_page_without_related"] = percentiles(pages["without"])
    result["article_page_with_related"] = percentiles(pages["with"])
    return result


# --- the run ---------------------------------------------------------------------------------------------------


def indexed(folder: Path, name: str, rows: Callable[[], list[dict]], procs: int | None) -> Path:
    """The index of ``rows`` kept in ``folder/name`` (built there when missing)."""
    index_dir = folder / name / "index"
    if current(index_dir) is None:
        seeds = folder / name / "seeds"
        if not seeds.exists():
            stage(rows(), seeds, name)
        build(seeds, index_dir, procs=procs)
    return index_dir


def run(args: argparse.Namespace, folder: Path) -> dict:
    news = args.data / BAOMOI
    xquad_rows = list(read_jsonl(args.data / XQUAD / "corpus.jsonl"))
    titles = [row["title"] for row in read_jsonl(news)]
    result: dict = {"acronyms_defined": defined(news)}

    full = args.news_index is not None and args.news >= len(titles)
    if full:
        stats = current(args.news_index).path / spellings.FILE
        written = 0.0
    else:
        (folder / "statistics").mkdir(exist_ok=True)
        stats, written = statistics_file(news, folder / "statistics")
    result["completion_full_news"] = completion_latency(stats, titles) | {"statistics_written_s": round(written, 1)}

    if args.news_index is not None:
        news_index, articles = args.news_index, min(args.news, len(titles))
    else:
        news_index = indexed(folder, f"news-{args.news}", lambda: list(first(read_jsonl(news), args.news)), args.procs)
        articles = args.news
    news_rows = list(first(read_jsonl(news), articles))
    result["news_index_articles"] = articles
    result["completion_api"] = api_latency(news_index, titles[:articles])

    alone = indexed(folder, "xquad", lambda: xquad_rows, args.procs)
    beside = indexed(
        folder, "xquad-news", lambda: xquad_rows + list(first(read_jsonl(news), 3000)), args.procs
    )
    result["xquad_alone"] = xquad_mrr(alone, args.data)
    result["xquad_beside_3000_news"] = xquad_mrr(beside, args.data)
    result["known_item_news"] = known_items(news_index, news_rows, args.known_items)
    result["acronym_reach_news"] = reach(news_index, 100)
    with Searcher(news_index) as searcher:
        result["pairs_learnt_news_index"] = len(searcher.glossary())
        reader = searcher.backend.searcher.reader()
        ids = [reader.stored_fields(n)["id"] for n in list(reader.all_doc_ids())]
    result["related_articles"] = related_cost(news_index, ids, args.related)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--news-index", type=Path, help="an index of the first --news news articles, to reuse")
    parser.add_argument("--news", type=int, default=5000, help="news articles in the news index")
    parser.add_argument("--known-items", type=int, default=500)
    parser.add_argument("--related", type=int, default=200)
    parser.add_argument("--procs", type=int, default=None)
    parser.add_argument("--reuse", type=Path, help="keep the staged articles and indexes in this folder")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = args.reuse or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        result = run(args, folder)
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
