"""The ``searchkit`` command: thin wrappers that parse options, call the library and format its results."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click
from click.core import ParameterSource

from searchkit.build import index as indexing
from searchkit.cli.commandline import EXIT_USAGE, Failure, Group, TextCommand, failure
from searchkit.cli.meter import Meter
from searchkit.corpus import freshness
from searchkit.corpus.articles import DEFAULT_MAX_BYTES
from searchkit.errors import CorpusError, SearchkitError
from searchkit.search import evaluation
from searchkit.search.filters import RELEVANCE, SORTS, Filters
from searchkit.search.highlight import Snippet
from searchkit.search.searcher import MAX_LIMIT, Searcher
from searchkit.text.analysis import fold
from searchkit.webapp import keys as keyring

T = TypeVar("T")

# Characters an article, a file name or a JSON Lines id may hold that a terminal would act on
# instead of showing: C0 and C1 controls (ESC starts a sequence that can retitle the window, clear
# the screen or rewrite what is shown), DEL, line and paragraph separators, and the bidirectional
# overrides and isolates that reorder a line as it is displayed.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Of those, the ones JSON leaves as they are (it escapes only U+0000 to U+001F).
_UNPRINTABLE_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SPACES = re.compile(r"[\t\n\x0b\x0c\r]")

QUERY_HELP = """Search the articles for TEXT and print the best matches, best first.

\b
Query syntax:
  nêu gương          all the words, with or without diacritics (short queries)
  a AND b            both words, also in a question
  a OR b             either word
  -word, NOT word    leave out articles containing the word
  -"an khê", -(a OR b), -title:x
                     leave out articles with the phrase, with either word, with x in the title
  title:-x           the same as -title:x: leave out articles with x in the title
  "học tập và làm theo"   the words next to each other, in this order
  "nêu gương"~3      the words within 3 positions of each other
  title:"Chỉ thị"    words in the title; also title:word, title:(a OR b)
  (a OR b) c         parentheses group clauses
  học*               words starting with "học"

A query needs at least one word to look for: one that only leaves words out is refused.

\b
TEXT may start with "-": "-an nêu gương" (nêu gương, leaving out "an") is the
query, not an option. Only "-" and one ASCII letter ("-x") is read as an option;
to search for it, put "--" after the options:
  searchkit query --limit 3 -- "-x nêu gương"

\b
Filters narrow the hits; with one, TEXT may be left out to list every article
it lets through (newest first):
  --since 2024-05-01 --until 31/05/2024   dated within the range, both days included
                                          (dates as 2024-05-22, 22/05/2024 or 22-5-2024)
  --source "Tuổi Trẻ" --source vnexpress  from either source (case and accents ignored)
  --tag "giáo dục"                        tagged so (repeat for any of several tags)
  --sort newest                           newest first, or oldest; undated articles last

Typed with diacritics, articles with exactly those accents rank first; typed without, every accented form
matches. Each word counts on its own: in "nêu guong", "nêu" ranks its exact accents first and "guong"
the accents restoration gives it. Questions (more than four syllables, a final "?", or a question word
typed with its accents: "gì", "nào", "đâu", "mấy", "bao nhiêu", "bao giờ", "bao lâu", "tại sao",
"vì sao", "làm sao", "ra sao") need not match every word: the articles matching most of it, best,
rank first. Unaccented, "bao", "sao" and the rest are ordinary words ("bao ve" needs both words).

Typed without diacritics (or with wrong ones), the accented query the articles make most likely is
offered ("Có phải bạn muốn tìm: nêu gương"), and articles spelling it so rank first.

\b
Limits (a query beyond them is refused, exit status 2):
  1000 characters, 64 words, 8 prefixes (each stands for its 64 most frequent words, and all
  of a query's prefixes together for 128), 32 levels of nesting (each parenthesis, NOT/- and
  title: is one), 2 seconds of processor time searching.
"""


def seeds_option(f: Callable) -> Callable:
    return click.option(
        "--seeds",
        "seeds_dir",
        type=click.Path(path_type=Path),
        default=Path("seeds"),
        show_default=True,
        help="Folder of articles (or one file of them, such as a JSON Lines corpus).",
    )(f)


def index_option(f: Callable) -> Callable:
    return click.option(
        "--index",
        "index_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("index"),
        show_default=True,
        help="Folder of the index.",
    )(f)


def shards_option(f: Callable) -> Callable:
    return click.option(
        "--shards",
        metavar="HOST:PORT,…",
        envvar="SEARCHKIT_SHARDS",
        default=None,
        help="Use these Xapian shard servers (xapian-tcpsrv) instead of the embedded index; --index then "
        "keeps only the shards' summed statistics. See docs/shards.md.  [env: SEARCHKIT_SHARDS]",
    )(f)


def max_bytes_option(f: Callable) -> Callable:
    return click.option(
        "--max-bytes",
        type=click.IntRange(1),
        default=DEFAULT_MAX_BYTES,
        show_default=True,
        help="Skip any article larger than this many bytes: a .txt or Markdown file, or one line "
        "(record) of a JSON Lines file.",
    )(f)


def follow_links_option(f: Callable) -> Callable:
    return click.option(
        "--follow-links",
        is_flag=True,
        help="Also read links to files outside the articles folder (skipped by default, so that a link "
        "cannot put a file such as /etc/passwd on the page). Links to folders are never followed.",
    )(f)


def json_option(f: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")(f)


@click.group("searchkit", cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="searchkit")
def main() -> None:
    """Vietnamese full-text search over a folder of articles.

    Put articles (.txt, .md, .jsonl) in seeds/, then search them; the index in index/ is built on first use and
    brought up to date with 'searchkit index'.
    """


@main.command("index")
@seeds_option
@index_option
@json_option
@click.option("--rebuild", is_flag=True, help="Re-index every article from scratch.")
@click.option(
    "--procs",
    type=click.IntRange(1, 64),
    default=None,
    help="Worker processes [default: all cores].",
)
@max_bytes_option
@follow_links_option
@shards_option
@click.option(
    "--watch",
    is_flag=True,
    help="After the build, keep watching the articles folder and build again after each change (a burst of "
    "changes is one build, a file still being written is waited for), until Ctrl+C. Not with --shards.",
)
def index_command(
    seeds_dir: Path,
    index_dir: Path,
    as_json: bool,
    rebuild: bool,
    procs: int | None,
    max_bytes: int,
    follow_links: bool,
    shards: str | None,
    watch: bool,
) -> None:
    """Bring the index up to date with the articles folder.

    New articles are added, changed ones re-indexed, deleted ones removed, the rest left alone;
    prints what was done. Files that cannot be read (empty, binary, undecodable, too large) are
    reported and skipped, as are links to files outside the folder (unless --follow-links) and
    links to files the folder holds anyway.

    The update is committed at once at the end: until then, and if the build is interrupted
    (Ctrl-C, killed, disk full), queries answer from the previous index, and the next run
    completes the work. If another build is updating the same index, this one stops at once
    with exit status 3 instead of waiting.
    """
    if watch and shards:
        raise click.UsageError("--watch cannot be combined with --shards (the shards are built from elsewhere)")
    with _errors():
        if shards:
            from searchkit.engines.xapian import build as shard_build

            addresses = _shards(shards)
            report = _with_progress(
                lambda progress: shard_build.build(
                    seeds_dir,
                    addresses,
                    rebuild=rebuild,
                    procs=procs,
                    progress=progress,
                    max_bytes=max_bytes,
                    follow_links=follow_links,
                ),
                quiet=as_json,
            )
        else:
            report = _with_progress(
                lambda progress: indexing.build(
                    seeds_dir,
                    index_dir,
                    rebuild=rebuild,
                    procs=procs,
                    progress=progress,
                    max_bytes=max_bytes,
                    follow_links=follow_links,
                ),
                quiet=as_json,
            )
    _print_report(report, as_json)
    if watch:
        _watch(seeds_dir, index_dir, as_json, procs, max_bytes, follow_links)


def _watch(
    seeds_dir: Path, index_dir: Path, as_json: bool, procs: int | None, max_bytes: int, follow_links: bool
) -> None:
    """``index --watch``: a line per build that changed something (one JSON object per line under --json)."""
    from searchkit.build import watch

    def built(report: indexing.BuildReport, seconds: float) -> None:
        if not (report.added or report.updated or report.removed or report.skipped or report.warnings):
            return
        if as_json:
            click.echo(json.dumps(report.to_dict() | {"seconds": round(seconds, 3)}, ensure_ascii=False))
            return
        _print_problems(report)
        click.echo(f"{report.summary()} ({seconds:.1f} s)")

    listener = watch.Listener(
        built=built,
        failed=lambda exc: click.echo(f"Error: {_escaped(exc)}", err=True),
        busy=lambda: click.echo(
            _escaped(f"Another build is updating {_folder(index_dir)}: waiting for it to finish."), err=True
        ),
        watching=lambda: click.echo(
            _escaped(f"Watching {_folder(seeds_dir)} for changes (Ctrl+C to stop)."), err=True
        ),
    )
    options = watch.BuildOptions(procs=procs, max_bytes=max_bytes, follow_links=follow_links)
    try:
        with _errors():
            watch.follow(seeds_dir, index_dir, listener=listener, options=options)
    except KeyboardInterrupt:
        click.echo("Stopped watching: the index keeps its last committed build.", err=True)


@main.command("add")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@seeds_option
@index_option
@json_option
@max_bytes_option
@follow_links_option
@shards_option
def add_command(
    files: tuple[Path, ...],
    seeds_dir: Path,
    index_dir: Path,
    as_json: bool,
    max_bytes: int,
    follow_links: bool,
    shards: str | None,
) -> None:
    """Copy article FILES into the articles folder and index them.

    A file whose name is already taken in the folder by a different file (or a folder) is refused,
    as is a file with no readable article, a hidden file (its name starts with "."; the folder's
    walk never reads one) and a file whose article would share its id with another file's; then
    nothing is copied. Stops with exit status 3 (nothing copied) if another build is updating the
    index. --follow-links matters when the folder has no index yet and is read whole.
    """
    with _errors():
        if shards:
            from searchkit.engines.xapian import build as shard_build

            addresses = _shards(shards)
            adding = shard_build.add_files
            report = _with_progress(
                lambda progress: adding(
                    files, seeds_dir, addresses, progress=progress, max_bytes=max_bytes, follow_links=follow_links
                ),
                quiet=as_json,
            )
        else:
            report = _with_progress(
                lambda progress: indexing.add_files(
                    files, seeds_dir, index_dir, progress=progress, max_bytes=max_bytes, follow_links=follow_links
                ),
                quiet=as_json,
            )
    _print_report(report, as_json)


@main.command("query", cls=TextCommand)
@click.argument("text", required=False, default="")
@seeds_option
@index_option
@json_option
@click.option("--limit", type=click.IntRange(1, MAX_LIMIT), default=10, show_default=True, help="Hits per page.")
@click.option("--page", type=click.IntRange(1), default=1, show_default=True, help="Which page of hits.")
@click.option("--since", metavar="DATE", help="Only articles dated on or after DATE (2024-05-22 or 22/05/2024).")
@click.option("--until", metavar="DATE", help="Only articles dated on or before DATE.")
@click.option(
    "--source", "sources", metavar="NAME", multiple=True, help="Only articles from NAME; repeat for any of several."
)
@click.option(
    "--tag", "tags", metavar="NAME", multiple=True, help="Only articles tagged NAME; repeat for any of several."
)
@click.option(
    "--sort",
    type=click.Choice(SORTS),
    default=None,
    help="Order of the hits  [default: relevance; newest without TEXT]",
)
@shards_option
def query_command(
    text: str,
    seeds_dir: Path,
    index_dir: Path,
    as_json: bool,
    limit: int,
    page: int,
    since: str | None,
    until: str | None,
    sources: tuple[str, ...],
    tags: tuple[str, ...],
    sort: str | None,
    shards: str | None,
) -> None:
    with _errors():
        filters = Filters.parse(since=since, until=until, sources=sources, tags=tags)
        if not text.strip() and not filters.active:
            raise Failure(
                "the query is empty (give TEXT, or a filter to browse by)",
                code="query_empty",
                status=400,
                exit_code=EXIT_USAGE,
            )
        with _searcher(seeds_dir, index_dir, shards, quiet=as_json) as searcher:
            results = searcher.search(text, limit=limit, page=page, filters=filters, sort=sort, facets=as_json)
    if as_json:
        click.echo(_json(results.to_dict()))
        return
    color = _colour()
    if results.suggestion:
        shown = _escaped_text(results.suggestion)
        click.echo(f"Có phải bạn muốn tìm: {click.style(shown, bold=True) if color else shown}")
        click.echo()
    if results.acronyms:
        click.echo("Tìm cả: " + "; ".join(_escaped_text(f"{a.short} = {a.long}") for a in results.acronyms))
        click.echo()
    if results.corrected:
        fixed = "; ".join(_escaped_text(f"{c.typed} → {c.corrected}") for c in results.corrected)
        click.echo(f"Đã sửa lỗi gõ: {fixed}")
        click.echo()
    if results.dropped and results.without is not None:
        left = _escaped_text(results.dropped)
        click.echo(f"Không có kết quả cho cả {_escaped_text(repr(text))}; kết quả không có: {left}")
        click.echo()
        results = results.without
    if not results.hits:
        if results.total:
            click.echo(f"No results on page {page} ({results.total} results in all).")
        elif text.strip():
            click.echo(f"No results for {_escaped(repr(text))}{' with these filters' if filters.active else ''}.")
        else:
            click.echo("No articles match these filters.")
        return
    for hit in results.hits:
        heading = f"{hit.rank}. {_escaped_text(hit.title)}"
        click.echo(click.style(heading, bold=True) if color else heading)
        about = [_escaped_text(value) for value in (hit.date, hit.source) if value]
        score = f"  (score {hit.score:.2f})" if text.strip() else ""  # browsing: nothing was scored
        click.echo(f"   {'  '.join([*about, _escaped(hit.path)])}{score}")
        click.echo(f"   {_terminal(hit.snippet, color)}")
        click.echo()
    first, last = results.hits[0].rank, results.hits[-1].rank
    order = "" if results.sort == RELEVANCE else f", {results.sort} first"
    click.echo(f"Results {first}–{last} of {results.total}{order} ({results.seconds:.2f} s).")


query_command.help = QUERY_HELP


@main.command("eval")
@click.option(
    "--queries",
    "queries_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON Lines of {"id", "text"} questions.',
)
@click.option(
    "--qrels",
    "qrels_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Judgements: query_id<TAB>doc_id<TAB>grade per line.",
)
@seeds_option
@index_option
@json_option
@click.option(
    "--fold-queries",
    is_flag=True,
    help="Strip every diacritic from the queries first (đ → d too), as many users type.",
)
@click.option(
    "--per-query",
    is_flag=True,
    help="Also show each query: its text, the rank of its first relevant article, its RR@10, for a miss its top hit.",
)
@click.option(
    "--run",
    "run_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the ranking as a TREC run file (qid Q0 docid rank score tag), for trec_eval and the like.",
)
@shards_option
def eval_command(
    queries_path: Path,
    qrels_path: Path,
    seeds_dir: Path,
    index_dir: Path,
    as_json: bool,
    fold_queries: bool,
    per_query: bool,
    run_path: Path | None,
    shards: str | None,
) -> None:
    """Score the index's ranking against relevance judgements, with trec_eval's definitions.

    Every query runs through the same search as 'searchkit query' (its first 100 hits) and the
    means of MRR@10, nDCG@10, Recall@1, Recall@10 and Recall@100 are printed. An article read
    from a JSON Lines file is matched by its "id"; any other by its path in the articles folder.
    The index is built from --seeds first when there is none, e.g.

    \b
      searchkit eval --seeds data/xquad-vi/corpus.jsonl --index /tmp/xquad-index \\
          --queries data/xquad-vi/queries.jsonl --qrels data/xquad-vi/qrels.tsv --fold-queries
    """
    with _errors():
        queries = evaluation.load_queries(queries_path)
        qrels = evaluation.load_qrels(qrels_path)
        if fold_queries:
            queries = [evaluation.Query(query.id, fold(query.text)) for query in queries]
        # Judgements naming "file#id" are matched whole; plain ones by the id alone.
        if run_path is not None:
            evaluation.write_run(run_path, {}, {})  # a run file that cannot be written fails before the run
        whole_ids = any("#" in doc for judged in qrels.values() for doc in judged)
        # What each query text found: its scores (for the run file) and its first hit (for --per-query).
        scores: dict[str, list[float]] = {}
        top_hits: dict[str, dict[str, str]] = {}
        with _searcher(seeds_dir, index_dir, shards, quiet=as_json) as searcher:

            def search(text: str) -> list[str]:
                results = searcher.search(text, limit=MAX_LIMIT, snippets=False)
                ids = [hit.id if whole_ids else hit.id.split("#", 1)[-1] for hit in results.hits]
                scores[text] = [hit.score for hit in results.hits]
                if results.hits:
                    top_hits[text] = {"id": ids[0], "title": results.hits[0].title}
                return ids

            run, failed = _with_progress(
                lambda progress: evaluation.run_queries(queries, search, progress=progress),
                quiet=as_json,
                label="Querying",
                unit="queries",
                one="query",
            )
        report = evaluation.evaluate(run, qrels, depth=MAX_LIMIT)
        judged = {doc for found in qrels.values() for doc in found}
        if run and not any(doc in judged for found in run.values() for doc in found):
            # Not one judged article among all the results: most likely the index of other articles.
            where = f"the shards {shards}" if shards else f"the index in {index_dir}"
            click.echo(
                _escaped(f"Warning: no judged article is among the results: is {where} the index of these judgements?"),
                err=True,
            )


        texts = {query.id: query.text for query in queries}
        if run_path is not None:
            run_scores = {query.id: scores.get(query.text, []) for query in queries}
            evaluation.write_run(run_path, run, run_scores)
    for row in report.per_query:
        text = texts.get(row["query_id"])
        row |= {"text": text, "top_hit": top_hits.get(text) if text is not None else None}
    if as_json:
        data = report.to_dict(per_query=per_query) | {"fold_queries": fold_queries, "failed": failed}
        click.echo(_json(data))
        return
    for query_id, reason in failed.items():
        click.echo(f"query {_escaped(query_id)} failed: {_escaped(reason)}", err=True)
    if per_query:
        _echo_per_query(report.per_query)
    typed = "without diacritics" if fold_queries else "as written"
    click.echo(f"{report.queries} judged queries, typed {typed}")
    for label, value in (
        ("MRR@10", report.mrr_at_10),
        ("nDCG@10", report.ndcg_at_10),
        ("Recall@1", report.recall_at_1),
        ("Recall@10", report.recall_at_10),
        ("Recall@100", report.recall_at_100),
    ):
        click.echo(f"{label:<11} {value:.4f}")


def _echo_per_query(rows: list[dict]) -> None:
    """One line per judged query (the misses readable at a glance), then its top hit when it is not relevant."""
    click.echo(f"{'query':<20} {'first relevant':>14} {'RR@10':>6}  text")
    for row in rows:
        first = row["first_relevant_rank"] or "-"
        text = _escaped(row["text"] or "")
        click.echo(f"{_escaped(row['query_id']):<20} {first:>14} {row['mrr_at_10']:>6.3f}  {text}")
        top = row["top_hit"]
        if row["first_relevant_rank"] != 1:
            shown = f"{_escaped(top['title'])} ({_escaped(top['id'])})" if top else "nothing found"
            click.echo(f"{'':<20} {'':>14} {'':>6}  top hit: {shown}")
    click.echo()


@main.group("keys")
def keys_group() -> None:
    """Keys for writing articles over HTTP (PUT /api/articles/ID); see docs/serving.md.

    Without a write key the server takes no articles. A key is printed once, when it is created; only its
    hash is kept, in keys.sqlite in the index folder.
    """


@keys_group.command("create")
@index_option
@click.option("--name", required=True, help="Who uses the key (a CMS, a script): how list and revoke name it.")
@click.option(
    "--scope", type=click.Choice(keyring.SCOPES), default="write", show_default=True, help="What the key may do."
)
def keys_create_command(index_dir: Path, name: str, scope: str) -> None:
    """Create a key and print it, once: keep it where the client can read it."""
    with _errors():
        key, text = keyring.create(index_dir, name, scope)
    click.echo(text)
    click.echo(_escaped(f"created {scope} key {key.id} named {name!r}: it is not shown again"), err=True)


@keys_group.command("list")
@index_option
@json_option
def keys_list_command(index_dir: Path, as_json: bool) -> None:
    """List the keys: id, name, scope, when created and revoked (never the key)."""
    with _errors():
        found = keyring.list_keys(index_dir)
    if as_json:
        click.echo(_json({"keys": [key.to_dict() for key in found]}))
        return
    for key in found:
        revoked = f"  revoked {key.revoked}" if key.revoked else ""
        click.echo(_escaped(f"{key.id}  {key.scope:<6}  {key.created}  {key.name}{revoked}"))


@keys_group.command("revoke")
@index_option
@click.argument("name")
def keys_revoke_command(index_dir: Path, name: str) -> None:
    """Revoke the key NAME (or its id): requests carrying it are refused from now on."""
    with _errors():
        key = keyring.revoke(index_dir, name)
    click.echo(_escaped(f"revoked key {key.id} named {key.name!r}"))


@main.command("stats")
@index_option
@json_option
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=30,
    show_default=True,
    help="The period: this many days, today's included.",
)
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Searches shown in each list."
)
def stats_command(index_dir: Path, as_json: bool, days: int, limit: int) -> None:
    """What readers searched for, and what they could not find.

    Lists the most frequent searches over the period and, apart, the most frequent ones that found
    no result, as 'searchkit serve' counts them (their normalised text, result count and day, in
    searches.sqlite in the index folder; nothing about who searched). Days are UTC.
    """
    from searchkit.webapp import searchlog

    with _errors():
        found = searchlog.stats(index_dir, days=days, limit=limit)
    if as_json:
        click.echo(_json(found.to_dict()))
        return
    counted = f"{found.searches} search{'' if found.searches == 1 else 'es'}, {found.distinct} distinct"
    click.echo(f"{counted}, from {found.since} to {found.until} (UTC)")
    for title, counts, column in (
        ("Most frequent searches", found.top, "searches"),
        ("Most frequent searches with no results", found.not_found, "no results"),
    ):
        click.echo()
        click.echo(f"{title}:")
        if not counts:
            click.echo("  (none)")
            continue
        click.echo(f"  {column:>10}  {'results':>7}  query")
        for count in counts:
            times = count.searches if column == "searches" else count.empty
            click.echo(f"  {times:>10}  {count.results:>7}  {_escaped_text(count.query)}")


@main.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 opens the page to the whole network.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker processes answering requests, 8 at a time each. Searching is pure Python, so a process keeps "
    "at most one core busy; each opens the index on its own, so memory grows with their number. "
    "1: serve from this process alone.  [default: one per core this process may use]",
)
@click.option(
    "--connection-limit",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Connections each worker keeps open at once; past it, new ones wait in the system's queue. "
    "Each costs an open file and a few kilobytes. See docs/serving.md, 'Running it in public'.",
)
@click.option(
    "--idle-timeout",
    type=click.IntRange(1, 3600),
    default=30,
    show_default=True,
    help="Seconds a connection may stay open sending nothing before it is closed.",
)
@click.option(
    "--read-timeout",
    type=click.IntRange(1, 3600),
    default=20,
    show_default=True,
    help="Seconds a client has to send a whole request, from its first byte, before its connection is closed.",
)
@seeds_option
@index_option
@shards_option
@click.option(
    "--watch",
    is_flag=True,
    help="Build the index after every change to the articles folder, in one process of its own, and serve each "
    "build without a restart (a burst of changes is one build). Not with --shards.",
)
@click.option(
    "--count-searches/--no-count-searches",
    default=True,
    show_default=True,
    help="Count each search (its normalised text, its result count and the day; nothing about who searched) in "
    "searches.sqlite in the index folder, for 'searchkit stats'.",
)
def serve_command(
    host: str,
    port: int,
    workers: int | None,
    connection_limit: int,
    idle_timeout: int,
    read_timeout: int,
    seeds_dir: Path,
    index_dir: Path,
    shards: str | None,
    watch: bool,
    count_searches: bool,
) -> None:
    """Serve the search page and its JSON API (/api/search) in the browser.

    Runs on waitress, a production WSGI server, in several worker processes sharing one port
    (see --workers). The index is built first when there is none; later rebuilds with
    'searchkit index' show up in every worker without a restart. Ctrl+C or SIGTERM stops all of them.
    """
    # Imported here so the other commands start without loading Flask and waitress; imported
    # before the workers start, so each of them has them loaded already.
    from searchkit.webapp import app as web
    from searchkit.webapp import serving, webserver

    if workers is None:
        workers = serving.default_workers()
    limits = webserver.Limits(connection_limit, idle_timeout, read_timeout)
    if watch and shards:
        raise click.UsageError("--watch cannot be combined with --shards (the shards are built from elsewhere)")
    watching = None
    with _errors():
        addresses = _shards(shards) if shards else None
        if addresses:
            ensure_shards(seeds_dir, addresses)
        else:
            ensure_index(seeds_dir, index_dir)
            if not watch:  # the watcher's first build brings the index up to date
                warn_if_stale(seeds_dir, index_dir)
        _check_served_articles(seeds_dir, index_dir, shards, addresses)
        if watch:
            from searchkit.build.watch import BuildOptions

            if not seeds_dir.exists():
                raise CorpusError(f"articles folder not found: {seeds_dir}")
            watching = BuildOptions()
        if workers == 1:
            # Started before the app and the server's threads, which the watcher's fork does not need.
            watcher = serving.start_watcher(seeds_dir, index_dir, watching) if watching else None
            try:
                application = web.create_app(
                    index_dir=index_dir, seeds_dir=seeds_dir, shards=addresses, count_searches=count_searches
                )
                with _listening(host, port):
                    server = web.make_server(application, host=host, port=port, limits=limits)
                _announce(web.server_urls(server))
                try:
                    server.run()
                except KeyboardInterrupt:
                    pass
                finally:
                    server.close()
                    if application.extensions["searchkit_searches"] is not None:
                        application.extensions["searchkit_searches"].close()
            finally:
                if watcher is not None:
                    serving.stop([watcher])
            return
        with _listening(host, port):
            sockets = serving.listen(host, port)
        try:
            _announce(web.listening_urls(serving.addresses(sockets)))
            serving.supervise(
                sockets,
                index_dir=index_dir,
                seeds_dir=seeds_dir,
                workers=workers,
                shards=addresses,
                limits=limits,
                watch=watching,
                count_searches=count_searches,
            )
        finally:
            for sock in sockets:
                sock.close()


@contextmanager
def _listening(host: str, port: int) -> Iterator[None]:
    """A socket that cannot be bound (a busy port, a host naming no address) as a one-line message."""
    try:
        yield
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise click.ClickException(_escaped(f"cannot listen on {host}:{port}: {reason}")) from None


def _announce(urls: list[str]) -> None:
    for url in urls:
        click.echo(f"Serving on {url}  (Ctrl+C to stop)")
    sys.stdout.flush()


def ensure_index(seeds_dir: Path, index_dir: Path, *, quiet: bool = False) -> None:
    """Builds the index when there is none yet (or its first build was interrupted), so a fresh
    checkout answers at once."""
    if indexing.exists(index_dir):
        return
    if not quiet:
        click.echo(_escaped(f"No index in {_folder(index_dir)} yet: building it from {_folder(seeds_dir)}."), err=True)
    report = _with_progress(
        lambda progress: indexing.build(seeds_dir, index_dir, progress=progress), quiet=quiet
    )
    _print_problems(report)


def _folder(path: Path) -> str:
    """``index/``: a folder named so that it reads as one ("No index in index yet" did not)."""
    text = str(path)
    return text if text.endswith(os.sep) or path.is_file() else text + os.sep


@contextmanager
def _searcher(seeds_dir: Path, index_dir: Path, shards: str | None, *, quiet: bool) -> Iterator[Searcher]:
    """The searcher a command reads from: on the shards when given, else on the embedded index
    (built first when there is none, and a note when the articles changed since)."""
    if shards:
        from searchkit.engines.xapian.search import ShardSearcher
        from searchkit.engines.xapian.statistics import cache_folder

        addresses = _shards(shards)
        ensure_shards(seeds_dir, addresses, quiet=quiet)
        with ShardSearcher(addresses, cache_folder(index_dir)) as searcher:
            check_articles(searcher, seeds_dir, index_dir, shards)
            yield searcher
        return
    ensure_index(seeds_dir, index_dir, quiet=quiet)
    with Searcher(index_dir) as searcher:
        check_articles(searcher, seeds_dir, index_dir, shards)
        yield searcher
    warn_if_stale(seeds_dir, index_dir)


def check_articles(searcher: Searcher, seeds_dir: Path, index_dir: Path, shards: str | None) -> None:
    """Refuses to answer from an index of other articles than the ones ``--seeds`` names, when it is
    given: a query or an evaluation would score against the wrong collection without a word.

    Refused rather than rebuilt: a typo in ``--seeds`` must not replace an index that took long to
    build and may be serving a site; a missing index is built, since nothing is lost.
    """
    if not _seeds_given():
        return
    built_from = None if shards else indexing.built_from(index_dir)
    if indexing.holds_articles_of(seeds_dir, built_from, lambda doc_id: searcher.document(doc_id) is not None):
        return
    if shards:
        where, build = f"the shards {shards}", f"searchkit index --seeds {seeds_dir} --shards {shards}"
    else:
        where, build = f"the index in {index_dir}", f"searchkit index --seeds {seeds_dir} --index {index_dir}"
    raise SearchkitError(
        indexing.other_articles_message(where, seeds_dir, built_from, build, "--shards" if shards else "--index"),
        code="index_other_articles",
    )


def _seeds_given() -> bool:
    """Whether the command's ``--seeds`` was given (on the command line or in the environment)."""
    context = click.get_current_context(silent=True)
    given = context.get_parameter_source("seeds_dir") if context is not None else None
    return given not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def _check_served_articles(seeds_dir: Path, index_dir: Path, shards: str | None, addresses: list | None) -> None:
    """:func:`check_articles` before serving (the searcher it opens is closed before the workers start)."""
    if not _seeds_given():
        return
    if addresses:
        from searchkit.engines.xapian.search import ShardSearcher
        from searchkit.engines.xapian.statistics import cache_folder

        with ShardSearcher(addresses, cache_folder(index_dir)) as searcher:
            check_articles(searcher, seeds_dir, index_dir, shards)
        return
    with Searcher(index_dir) as searcher:
        check_articles(searcher, seeds_dir, index_dir, shards)


def _shards(text: str) -> list:
    from searchkit.engines.xapian.connection import parse_shards

    return parse_shards(text)


def ensure_shards(seeds_dir: Path, shards: list, *, quiet: bool = False) -> None:
    """Fills the shards from ``seeds_dir`` when none holds an article yet, as :func:`ensure_index` does."""
    from searchkit.engines.xapian import build as shard_build

    if not shard_build.is_empty(shards):
        return
    if not quiet:
        named = ",".join(str(shard) for shard in shards)
        click.echo(_escaped(f"The shards {named} hold no article yet: indexing {seeds_dir} into them."), err=True)
    report = _with_progress(lambda progress: shard_build.build(seeds_dir, shards, progress=progress), quiet=quiet)
    _print_problems(report)


def warn_if_stale(seeds_dir: Path, index_dir: Path) -> None:
    """One line on stderr when an article file was added, changed or removed since the last build."""
    if freshness.stale(seeds_dir, index_dir):
        click.echo(
            _escaped(
                f"Note: articles in {seeds_dir} changed since the index was built; "
                "run 'searchkit index' to bring it up to date."
            ),
            err=True,
        )


def _with_progress(
    run: Callable[[indexing.Progress | None], T],
    *,
    quiet: bool,
    label: str = "Indexing",
    unit: str = "articles",
    one: str = "article",
) -> T:
    """Runs long work with its progress on stderr (a bar on a terminal, a line every few seconds
    elsewhere; see searchkit.cli.meter), unless ``quiet``."""
    meter = Meter(label, unit, one=one)
    try:
        return run(None if quiet else meter)
    except KeyboardInterrupt:
        meter.close()
        click.echo("Interrupted: the index keeps its last committed state.", err=True)
        sys.exit(130)
    finally:
        meter.close()


def _print_report(report: indexing.BuildReport, as_json: bool) -> None:
    if as_json:
        click.echo(_json(report.to_dict()))
        return
    _print_problems(report)
    click.echo(report.summary())


def _print_problems(report: indexing.BuildReport) -> None:
    for skipped in report.skipped:
        click.echo(f"skipped {_escaped(skipped.path)}: {_escaped(skipped.reason)}", err=True)
    for warning in report.warnings:
        click.echo(f"warning {_escaped(warning.path)}: {_escaped(warning.reason)}", err=True)


def _colour() -> bool:
    """Whether to style the output: only for a terminal, never for a pipe or a file."""
    return sys.stdout.isatty()


def _terminal(snippet: Snippet | None, color: bool) -> str:
    if snippet is None:
        return ""
    if not color:
        return _escaped_text(snippet.text("**", "**"))
    return "".join(
        click.style(_escaped_text(t), fg="yellow", bold=True) if m else _escaped_text(t) for t, m in snippet.fragments
    )


def _escaped(text: object) -> str:
    """``text`` (a path, an id, a message naming one) safe to print in a terminal, on one line.

    Every control character is written as an escape a reader can see and copy: a newline as
    ``\\n``, ESC as ``\\x1b``, a right-to-left override as ``\\u202e``; nothing reaches the
    terminal that it would act on.
    """
    return _UNPRINTABLE.sub(_escape, str(text))


def _escaped_text(text: str) -> str:
    """Article text (a title, a snippet) safe to print in a terminal: line breaks and tabs become
    spaces, every other control character an escape, as in :func:`_escaped`."""
    return _escaped(_SPACES.sub(" ", text))


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def _json(data: object) -> str:
    """``data`` as indented JSON whose every control character is escaped, so it is safe in a
    terminal too; it parses to the same value."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _UNPRINTABLE_IN_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


@contextmanager
def _errors() -> Iterator[None]:
    """Turns the library's errors into failures with their code: one-line messages (JSON under --json,
    see searchkit.cli.commandline) and exit codes: 2 for a bad query, 3 for an index another build holds,
    1 otherwise (IndexDamagedError included: its message says to rebuild). Messages name paths, so they
    are escaped too."""
    try:
        yield
    except SearchkitError as exc:
        raise failure(exc, _escaped(exc)) from None
