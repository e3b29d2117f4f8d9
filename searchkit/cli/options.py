"""The options several commands share: where the articles are, where the index is, --json, the shards."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
from click.core import ParameterSource


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
    # Imported here: the article reader is for the commands that read articles, not for every query.
    from searchkit.corpus.articles import DEFAULT_MAX_BYTES

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


def seeds_given() -> bool:
    """Whether the command's ``--seeds`` was given (on the command line or in the environment)."""
    context = click.get_current_context(silent=True)
    given = context.get_parameter_source("seeds_dir") if context is not None else None
    return given not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)
