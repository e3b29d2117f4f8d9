#!/usr/bin/env python3
r"""Relevance on every set we have, searchkit beside SQLite FTS5 and naive Whoosh, in one table.

    python tests/bench/relevance.py [--data ../shared/data] [--docs N] [--out relevance-results.json]
                                    [--work DIR] [--searchkit-index DIR] [--engines NAME ...] [--sets NAME ...]

Each set is typed with its accents and folded (``searchkit.text.analysis.fold``), as a user without an
accented keyboard types it:

- XQuAD-vi alone: the 240 paragraphs and all 1,190 questions, and the half ``tune.py`` holds out
  (the weights were never chosen on those questions);
- XQuAD-vi beside the first 3,000 news articles, which share its words but answer none of its questions;
- known items over the news corpus: every 70th article in file order (index % 70 == 0) is looked for by
  the first six syllables (``\w+`` runs) of its title, joined by spaces, and only that article is relevant
  (R@1 and MRR@10, all of them and the half ``tune.py`` holds out);
- phrases on the first 6,000 news articles: common two- and three-syllable news phrases, typed with and
  without accents; of the top-5 places that could hold an article with the exact phrase (accented as
  written, its syllables separated by spaces alone, in the title or the text), the share that do.

``--docs N`` indexes the first N news articles only (the beside-news and phrase sets take at most
that many), for a quick run. Everything is staged and built in a temporary folder unless ``--work``
names one, where the indexes stay and a later run reuses those already built for the same articles.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import corpora
import measure
from engines import ENGINES, Search
from tune import split, split_known_items

from searchkit.search.evaluation import Query, evaluate, load_qrels, load_queries, run_queries

NEWS_BESIDE_XQUAD = 3000
PHRASE_DOCS = 6000
PHRASE_TOP = 5
DEPTH = 100
TYPINGS = ("accented", "unaccented")

# Common news phrases of two and three syllables, as the articles write them. Several fold onto other
# common words (nêu/nếu, mưa/mua, hồ/họ, giá/gia), which is what makes them hard for a folding engine.
PHRASES = (
    "nêu gương", "giá vàng", "mưa lớn", "hồ chứa", "tai nạn giao thông", "bóng đá", "thị trường",
    "chứng khoán", "bất động sản", "giá xăng", "ngân hàng", "lãi suất", "xuất khẩu", "doanh nghiệp",
    "học sinh", "giáo viên", "bệnh viện", "bác sĩ", "cảnh sát", "công an", "tòa án", "tham nhũng",
    "môi trường", "biển Đông", "nắng nóng", "lũ lụt", "khởi tố", "sạt lở", "cháy rừng", "ô nhiễm",
    "đội tuyển", "huấn luyện viên", "ca sĩ", "phim truyền hình", "điện thoại", "mạng xã hội",
    "ô tô", "xe máy", "vi phạm", "xử phạt", "kiểm tra", "Quốc hội", "Thủ tướng", "nhà đầu tư",
    "giá trị", "người dân", "tăng trưởng", "nông dân", "du lịch", "an toàn thực phẩm",
)


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the sets -----------------------------------------------------------------------------------


def news_articles(data: Path, limit: int | None) -> list[dict]:
    return list(corpora.first(corpora.read_jsonl(data / corpora.BAOMOI), limit))


def known_items(articles: list[dict], fold: Callable[[str], str]) -> dict[str, tuple[list[Query], dict]]:
    """Every 70th article's title start, accented and folded, with that article as the one relevant."""
    items = corpora.known_items(articles)
    queries = [Query(query_id, text) for query_id, text, _article in items]
    qrels = {query_id: {article: 1} for query_id, _text, article in items}
    return {
        "accented": (queries, qrels),
        "unaccented": ([Query(q.id, fold(q.text)) for q in queries], qrels),
    }


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """The phrase as written: its syllables whole, one after the other with only spaces between them, in any case,
    accents exactly as given."""
    words = corpora.SYLLABLE.findall(phrase)
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(word) for word in words) + r"(?!\w)", re.IGNORECASE)


def phrase_holders(articles: Iterable[dict], phrases: Iterable[str]) -> dict[str, set[str]]:
    """For each phrase, the ids of the articles whose title or text holds it as written."""
    patterns = {phrase: phrase_pattern(phrase) for phrase in phrases}
    holders: dict[str, set[str]] = {phrase: set() for phrase in patterns}
    for article in articles:
        for phrase, pattern in patterns.items():
            if pattern.search(article["title"]) or pattern.search(article["text"]):
                holders[phrase].add(article["id"])
    return holders


def phrase_precision(run: dict[str, list[str]], holders: dict[str, set[str]], top: int = PHRASE_TOP) -> dict:
    """The share of the top places that could hold an exact-phrase article (min(top, holders)) that do."""
    rows = []
    for phrase, held in holders.items():
        if not held:
            continue
        places = min(top, len(held))
        found = sum(1 for doc_id in run.get(phrase, [])[:top] if doc_id in held)
        rows.append({"phrase": phrase, "holders": len(held), "places": places, "found": min(found, places)})
    places = sum(row["places"] for row in rows)
    return {
        "phrases": len(rows),
        "places": places,
        "share": sum(row["found"] for row in rows) / places if places else 0.0,
        "per_phrase": rows,
    }


# --- staging and building -----------------------------------------------------------------------


def _marker(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def stage_set(folder: Path, parts: list[tuple[str, list[dict], bool]]) -> tuple[Path, int]:
    """Stage ``(name, articles, with news metadata)`` parts as one seeds folder; reused when already staged."""
    seeds = folder / "seeds"
    count = sum(len(articles) for _name, articles, _meta in parts)
    done = folder / "staged.json"
    if (_marker(done) or {}).get("articles") == count:
        return seeds, count
    for old in seeds.glob("*.jsonl") if seeds.is_dir() else ():
        old.unlink()
    for name, articles, meta in parts:
        corpora.stage(articles, seeds, name, corpora.news_metadata if meta else None)
    done.write_text(json.dumps({"articles": count}) + "\n", encoding="utf-8")
    return seeds, count


def build_engine(name: str, seeds: Path, folder: Path, articles: int) -> tuple[Path, dict]:
    """The engine's index of ``seeds`` in ``folder/name``, built unless a build of as many articles is there."""
    index_dir = folder / name
    done = folder / f"{name}.built.json"
    marker = _marker(done)
    if marker and marker.get("articles") == articles:
        return index_dir, marker | {"reused": True}
    _log(f"{folder.name}: building {ENGINES[name].label} over {articles:,} articles")
    if index_dir.exists():
        shutil.rmtree(index_dir)
    started = time.perf_counter()
    report = ENGINES[name].build(seeds, index_dir)
    built = {"articles": articles, "indexed": report.get("added"), "build_s": time.perf_counter() - started}
    done.write_text(json.dumps(built) + "\n", encoding="utf-8")
    _log(f"{folder.name}: {ENGINES[name].label} built in {built['build_s']:.0f} s")
    return index_dir, built


# --- measuring ----------------------------------------------------------------------------------


def _runs(search: Search, queries: list[Query], depth: int) -> tuple[dict[str, list[str]], float]:
    started = time.perf_counter()
    run, _failed = run_queries(queries, lambda text: search(text, depth, False))
    return run, time.perf_counter() - started


def score_xquad(search: Search, typed: dict, held_out: set[str]) -> dict[str, Any]:
    """MRR@10 and R@1 over all the questions and over the held-out half, accented and folded."""
    figures: dict[str, Any] = {}
    for typing, (queries, qrels) in typed.items():
        run, seconds = _runs(search, queries, DEPTH)
        whole = evaluate(run, qrels, depth=DEPTH)
        half = evaluate(run, {q: judged for q, judged in qrels.items() if q in held_out}, depth=DEPTH)
        figures[typing] = {
            "mrr_at_10": whole.mrr_at_10,
            "recall_at_1": whole.recall_at_1,
            "recall_at_10": whole.recall_at_10,
            "held_out_mrr_at_10": half.mrr_at_10,
            "held_out_recall_at_1": half.recall_at_1,
            "questions": whole.queries,
            "held_out_questions": half.queries,
            "seconds": seconds,
        }
    return figures


def score_known_items(search: Search, typed: dict, held_out: set[str]) -> dict[str, Any]:
    """R@1 and MRR@10 over all the known items and over the half ``tune.py`` holds out."""
    figures: dict[str, Any] = {}
    for typing, (queries, qrels) in typed.items():
        run, seconds = _runs(search, queries, 10)
        report = evaluate(run, qrels, depth=10)
        half = evaluate(run, {q: judged for q, judged in qrels.items() if q in held_out}, depth=10)
        texts = {query.id: query.text for query in queries}
        # The misses, to read: what was typed, the article wanted, where it came (None: not in the top 10).
        misses = [
            {"query": texts[row["query_id"]], "wanted": next(iter(qrels[row["query_id"]])), "rank": rank}
            for row in report.per_query
            if (rank := row["first_relevant_rank"]) != 1
        ]
        figures[typing] = {
            "recall_at_1": report.recall_at_1,
            "mrr_at_10": report.mrr_at_10,
            "held_out_recall_at_1": half.recall_at_1,
            "held_out_mrr_at_10": half.mrr_at_10,
            "queries": report.queries,
            "held_out_queries": half.queries,
            "seconds": seconds,
            "misses": misses,
        }
    return figures


def score_phrases(search: Search, holders: dict[str, set[str]], fold: Callable[[str], str]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for typing, prepare in (("accented", str), ("unaccented", fold)):
        started = time.perf_counter()
        run = {phrase: search(prepare(phrase), PHRASE_TOP, False) for phrase in holders}
        figures[typing] = phrase_precision(run, holders) | {"seconds": time.perf_counter() - started}
    return figures


def run_sets(args: argparse.Namespace, names: list[str], work: Path) -> dict[str, Any]:
    fold, fold_source = corpora.query_folder()
    xquad_dir = args.data / corpora.XQUAD
    paragraphs = list(corpora.read_jsonl(xquad_dir / "corpus.jsonl"))
    questions = load_queries(xquad_dir / "queries.jsonl")
    qrels = load_qrels(xquad_dir / "qrels.tsv")
    _tuning, held = split(questions, qrels)
    held_out = {query.id for query in held}
    judged = {query.id: qrels[query.id] for query in questions if query.id in qrels}
    xquad_typed = {
        "accented": (questions, judged),
        "unaccented": ([Query(q.id, fold(q.text)) for q in questions], judged),
    }
    news = news_articles(args.data, args.docs)
    known_typed = known_items(news, fold)
    _known_tuning, known_held, _known_qrels = split_known_items(news)
    known_held_out = {query.id for query in known_held}
    beside = news[: min(NEWS_BESIDE_XQUAD, len(news))]
    phrase_news = news[: min(PHRASE_DOCS, len(news))]
    phrases = [unicodedata.normalize("NFC", phrase) for phrase in PHRASES]
    holders = phrase_holders(phrase_news, phrases)
    sets: dict[str, dict[str, Any]] = {
        "xquad": {
            "title": f"XQuAD-vi alone ({len(paragraphs)} paragraphs; {len(questions):,} questions, "
            f"{len(held_out)} held out)",
            "parts": [("xquad", paragraphs, False)],
            "score": lambda search: score_xquad(search, xquad_typed, held_out),
        },
        "xquad+news": {
            "title": f"XQuAD-vi beside the first {len(beside):,} news articles",
            "parts": [("xquad", paragraphs, False), ("news", beside, True)],
            "score": lambda search: score_xquad(search, xquad_typed, held_out),
        },
        "phrases": {
            "title": f"Phrases on the first {len(phrase_news):,} news articles (top {PHRASE_TOP})",
            "parts": [("news", phrase_news, True)],
            "score": lambda search: score_phrases(search, holders, fold),
        },
        "known-items": {
            "title": f"Known items over {len(news):,} news articles (every {corpora.KNOWN_ITEM_EVERY}th title's first "
            f"{corpora.KNOWN_ITEM_SYLLABLES} syllables; {len(known_typed['accented'][0])} titles, "
            f"{len(known_held_out)} held out)",
            "parts": [("news", news, True)],
            "score": lambda search: score_known_items(search, known_typed, known_held_out),
        },
    }
    results: dict[str, Any] = {"fold": fold_source, "depth": DEPTH, "sets": {}, "errors": {}}
    for key, spec in sets.items():
        if args.sets and key not in args.sets:
            continue
        folder = work / key
        folder.mkdir(parents=True, exist_ok=True)
        seeds, count = stage_set(folder, spec["parts"])
        section: dict[str, Any] = {"title": spec["title"], "articles": count, "engines": {}}
        results["sets"][key] = section
        for name in names:
            try:
                prebuilt = args.searchkit_index if name == "searchkit" and key == "known-items" else None
                if prebuilt is not None:
                    index_dir, built = prebuilt, {"reused": str(prebuilt)}
                else:
                    index_dir, built = build_engine(name, seeds, folder, count)
                _log(f"{key}: {ENGINES[name].label} searching")
                with ENGINES[name].searcher(index_dir) as search:
                    figures = spec["score"](search)
            except Exception as error:  # one engine failing leaves the others' figures standing
                results["errors"][f"{key}/{name}"] = f"{type(error).__name__}: {error}"
                _log(f"{key}: {ENGINES[name].label} failed: {error}")
                continue
            section["engines"][name] = {"build": built} | figures
            _log(f"{key}: {ENGINES[name].label} {_summary(key, figures)}")
    if "phrases" in results["sets"]:
        results["sets"]["phrases"]["holders"] = {phrase: len(ids) for phrase, ids in holders.items()}
    return results


def _summary(key: str, figures: dict) -> str:
    metric = {"phrases": "share", "known-items": "recall_at_1"}.get(key, "mrr_at_10")
    return " / ".join(f"{figures[typing][metric]:.4f}" for typing in TYPINGS if typing in figures)


# --- the table ----------------------------------------------------------------------------------

# What issue 23 asks of searchkit, shown beside its figures: (set, figure) -> at least.
TARGETS = {
    ("xquad", "mrr_at_10", "accented"): 0.955,
    ("xquad", "mrr_at_10", "unaccented"): 0.945,
    ("xquad", "held_out_mrr_at_10", "accented"): 0.955,
    ("xquad", "held_out_mrr_at_10", "unaccented"): 0.945,
    ("xquad+news", "mrr_at_10", "accented"): 0.92,
    ("xquad+news", "mrr_at_10", "unaccented"): 0.90,
    ("known-items", "recall_at_1", "accented"): 0.95,
    ("known-items", "recall_at_1", "unaccented"): 0.95,
    ("known-items", "held_out_recall_at_1", "accented"): 0.95,
    ("known-items", "held_out_recall_at_1", "unaccented"): 0.95,
}
ROWS = {
    "xquad": (("mrr_at_10", "MRR@10, all questions"), ("held_out_mrr_at_10", "MRR@10, held-out half"),
              ("recall_at_1", "R@1, all questions")),
    "xquad+news": (("mrr_at_10", "MRR@10, all questions"), ("held_out_mrr_at_10", "MRR@10, held-out half"),
                   ("recall_at_1", "R@1, all questions")),
    "known-items": (("recall_at_1", "R@1, all"), ("held_out_recall_at_1", "R@1, held-out half"),
                    ("mrr_at_10", "MRR@10, all")),
    "phrases": (("share", "top places holding the exact phrase"),),
}  # fmt: skip


def table(results: dict, names: list[str]) -> str:
    labels = [ENGINES[name].label for name in names]
    header = ["", *labels, "searchkit's target"]
    rows: list[list[str]] = []
    for key, section in results["sets"].items():
        title = section["title"]
        if key == "phrases":
            any_engine = next(iter(section["engines"].values()), {})
            counted = any_engine.get("accented", {})
            if counted:
                title += f": {counted['phrases']} phrases, {counted['places']} places"
        rows.append([title])
        for metric, label in ROWS[key]:
            for typing in TYPINGS:
                cells = []
                for name in names:
                    figures = section["engines"].get(name, {}).get(typing)
                    cells.append(f"{figures[metric]:.3f}" if figures and metric in figures else "—")
                target = TARGETS.get((key, metric, typing))
                rows.append([f"  {label}, {typing}", *cells, f"≥ {target:.3f}" if target else ""])
    widths = [max(len(r[i]) for r in [header, *rows] if len(r) > 1) for i in range(len(header))]

    def line(r: list[str]) -> str:
        if len(r) == 1:
            return r[0]
        return "  ".join(c.rjust(widths[i]) if i else c.ljust(widths[0]) for i, c in enumerate(r)).rstrip()

    return "\n".join(line(r) for r in [header, *rows])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="relevance.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", metavar="DIR", type=Path, default=corpora.DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--docs", metavar="N", type=int, default=None, help="news articles to use, the first N")
    parser.add_argument(
        "--out", metavar="FILE.json", type=Path, default=Path("relevance-results.json"), help="JSON results"
    )
    parser.add_argument(
        "--work", metavar="DIR", type=Path, default=None,
        help="stage and build here and keep the indexes; a later run reuses those built for the same articles",
    )  # fmt: skip
    parser.add_argument(
        "--searchkit-index", metavar="DIR", type=Path, default=None,
        help="searchkit's index of the same news articles for the known items, read only (default: built)",
    )  # fmt: skip
    parser.add_argument(
        "--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES), help="systems to measure (default all)"
    )
    parser.add_argument(
        "--sets", nargs="+", choices=list(ROWS), default=None, help="sets to measure (default all)"
    )
    args = parser.parse_args(argv)
    if args.docs is not None and args.docs < 1:
        parser.error("--docs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    names = []
    for name in args.engines:
        reason = ENGINES[name].available()
        if reason is None:
            names.append(name)
        else:
            _log(f"{ENGINES[name].label} left out: {reason}")
    started = time.perf_counter()
    with ExitStack() as stack:
        if args.work is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="searchkit-relevance-")))
        else:
            work = args.work
            work.mkdir(parents=True, exist_ok=True)
        results = run_sets(args, names, work)
    results |= {"docs": args.docs, "seconds": time.perf_counter() - started, "machine": measure.machine()}
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results, names))
    for where, error in results["errors"].items():
        print(f"{where} failed: {error}")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
