"""The index a command reads from: built first when there is none, refused when it holds other articles
than ``--seeds`` names, a note when the articles changed since; and the report of a build, as printed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from searchkit.cli.options import seeds_given
from searchkit.cli.terminal import escaped, folder, json_text
from searchkit.corpus import freshness
from searchkit.errors import SearchkitError
from searchkit.webapp.engine import EmbeddedIndex, ShardServers, open_engine

if TYPE_CHECKING:
    from searchkit.build.index import BuildReport
    from searchkit.search.searcher import Searcher

Engine = EmbeddedIndex | ShardServers

# Articles read from a folder to tell whether an index holds them (see ``holds_articles_of``).
SAMPLED_ARTICLES = 8


@contextmanager
def searcher(seeds_dir: Path, index_dir: Path, shards: str | None, *, quiet: bool) -> Iterator[Searcher]:
    """The searcher a command reads from: on the shards when given, else on the embedded index
    (built first when there is none, and a note when the articles changed since)."""
    engine = open_engine(index_dir, shards)
    ensure(engine, seeds_dir, quiet=quiet)
    with engine.searcher() as opened:
        check_articles(engine, opened, seeds_dir)
        yield opened
    if engine.built_here:
        warn_if_stale(seeds_dir, index_dir)


def ensure(engine: Engine, seeds_dir: Path, *, quiet: bool = False) -> None:
    """Builds the index (fills the shards) when there is none yet (or its first build was interrupted),
    so a fresh checkout answers at once."""
    if engine.ready():
        return
    if not quiet:
        if engine.built_here:
            note = f"No index in {folder(engine.index_dir)} yet: building it from {folder(seeds_dir)}."
        else:
            note = f"The shards {engine.addresses} hold no article yet: indexing {seeds_dir} into them."
        click.echo(escaped(note), err=True)
    from searchkit.cli.meter import with_progress  # here: only a build shows progress

    report = with_progress(lambda progress: engine.build(seeds_dir, progress=progress), quiet=quiet)
    print_problems(report)


def check_served_articles(engine: Engine, seeds_dir: Path) -> None:
    """:func:`check_articles` before serving (the searcher it opens is closed before the workers start)."""
    if not seeds_given():
        return
    with engine.searcher() as opened:
        check_articles(engine, opened, seeds_dir)


def check_articles(engine: Engine, opened: Searcher, seeds_dir: Path) -> None:
    """Refuses to answer from an index of other articles than the ones ``--seeds`` names, when it is
    given: a query or an evaluation would score against the wrong collection without a word.

    Refused rather than rebuilt: a typo in ``--seeds`` must not replace an index that took long to
    build and may be serving a site; a missing index is built, since nothing is lost.
    """
    if not seeds_given():
        return
    built_from = engine.built_from()
    if holds_articles_of(seeds_dir, built_from, lambda doc_id: opened.document(doc_id) is not None):
        return
    origin = f" (built from {built_from})" if built_from else ""
    raise SearchkitError(
        f"no article of {seeds_dir} is in {engine.where}{origin}: run '{engine.build_command(seeds_dir)}' to "
        f"index them there, or give {engine.option} their own index",
        code="index_other_articles",
    )


def holds_articles_of(seeds_dir: Path | str, built_from: str | None, holds: Callable[[str], bool]) -> bool:
    """Whether an index built from ``built_from`` (None: unknown) holds the articles of ``seeds_dir``.

    It does when it was built from that very path, or when ``holds(id)`` is true of one of the first
    :data:`SAMPLED_ARTICLES` articles read from there (a copy of the folder, the folder moved or
    partly changed). A folder that cannot be read, or has no article, says nothing against it.
    """
    if built_from is not None and built_from == str(Path(seeds_dir).resolve()):
        return True
    # Imported here: only a command given --seeds reads articles to answer a query.
    from searchkit.corpus.articles import Article, read_articles

    try:
        sampled: list[str] = []
        for item in read_articles(seeds_dir):
            if isinstance(item, Article):
                sampled.append(item.id)
                if len(sampled) == SAMPLED_ARTICLES:
                    break
    except (SearchkitError, OSError):
        return True
    return not sampled or any(holds(doc_id) for doc_id in sampled)


def warn_if_stale(seeds_dir: Path, index_dir: Path) -> None:
    """One line on stderr when an article file was added, changed or removed since the last build."""
    if freshness.stale(seeds_dir, index_dir):
        click.echo(
            escaped(
                f"Note: articles in {seeds_dir} changed since the index was built; "
                "run 'searchkit index' to bring it up to date."
            ),
            err=True,
        )


def print_report(report: BuildReport, json_wanted: bool) -> None:
    if json_wanted:
        click.echo(json_text(report.to_dict()))
        return
    print_problems(report)
    click.echo(report.summary())


def print_problems(report: BuildReport) -> None:
    for skipped in report.skipped:
        click.echo(f"skipped {escaped(skipped.path)}: {escaped(skipped.reason)}", err=True)
    for warning in report.warnings:
        click.echo(f"warning {escaped(warning.path)}: {escaped(warning.reason)}", err=True)
