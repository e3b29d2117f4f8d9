"""``searchkit stats``: what readers searched for, and what they could not find."""

from __future__ import annotations

from pathlib import Path

import click

from searchkit.cli.commandline import errors
from searchkit.cli.options import index_option, json_option
from searchkit.cli.terminal import escaped_text, json_text
from searchkit.webapp import searchlog


@click.command("stats")
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
    with errors():
        found = searchlog.stats(index_dir, days=days, limit=limit)
    if as_json:
        click.echo(json_text(found.to_dict()))
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
            click.echo(f"  {times:>10}  {count.results:>7}  {escaped_text(count.query)}")
