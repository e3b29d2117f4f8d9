"""``searchkit query``: the best matches of a query, best first, with their marked snippets."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from searchkit.cli import indexes
from searchkit.cli.commandline import EXIT_USAGE, Failure, TextCommand, errors
from searchkit.cli.options import index_option, json_option, seeds_option, shards_option
from searchkit.cli.terminal import escaped, escaped_text, json_text, snippet_text
from searchkit.search.filters import RELEVANCE, SORTS, Filters
from searchkit.search.searcher import MAX_LIMIT

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


@click.command("query", cls=TextCommand)
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
    with errors():
        filters = Filters.parse(since=since, until=until, sources=sources, tags=tags)
        if not text.strip() and not filters.active:
            raise Failure(
                "the query is empty (give TEXT, or a filter to browse by)",
                code="query_empty",
                status=400,
                exit_code=EXIT_USAGE,
            )
        with indexes.searcher(seeds_dir, index_dir, shards, quiet=as_json) as searcher:
            results = searcher.search(text, limit=limit, page=page, filters=filters, sort=sort, facets=as_json)
    if as_json:
        click.echo(json_text(results.to_dict()))
        return
    color = _colour()
    if results.suggestion:
        shown = escaped_text(results.suggestion)
        click.echo(f"Có phải bạn muốn tìm: {click.style(shown, bold=True) if color else shown}")
        click.echo()
    if results.acronyms:
        click.echo("Tìm cả: " + "; ".join(escaped_text(f"{a.short} = {a.long}") for a in results.acronyms))
        click.echo()
    if results.corrected:
        fixed = "; ".join(escaped_text(f"{c.typed} → {c.corrected}") for c in results.corrected)
        click.echo(f"Đã sửa lỗi gõ: {fixed}")
        click.echo()
    if results.dropped and results.without is not None:
        left = escaped_text(results.dropped)
        click.echo(f"Không có kết quả cho cả {escaped_text(repr(text))}; kết quả không có: {left}")
        click.echo()
        results = results.without
    if not results.hits:
        if results.total:
            click.echo(f"No results on page {page} ({results.total} results in all).")
        elif text.strip():
            click.echo(f"No results for {escaped(repr(text))}{' with these filters' if filters.active else ''}.")
        else:
            click.echo("No articles match these filters.")
        return
    for hit in results.hits:
        heading = f"{hit.rank}. {escaped_text(hit.title)}"
        click.echo(click.style(heading, bold=True) if color else heading)
        about = [escaped_text(value) for value in (hit.date, hit.source) if value]
        score = f"  (score {hit.score:.2f})" if text.strip() else ""  # browsing: nothing was scored
        click.echo(f"   {'  '.join([*about, escaped(hit.path)])}{score}")
        click.echo(f"   {snippet_text(hit.snippet, color)}")
        click.echo()
    first, last = results.hits[0].rank, results.hits[-1].rank
    order = "" if results.sort == RELEVANCE else f", {results.sort} first"
    click.echo(f"Results {first}–{last} of {results.total}{order} ({results.seconds:.2f} s).")


query_command.help = QUERY_HELP


def _colour() -> bool:
    """Whether to style the output: only for a terminal, never for a pipe or a file."""
    return sys.stdout.isatty()
