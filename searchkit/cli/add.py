"""``searchkit add``: article files copied into the articles folder and indexed."""

from __future__ import annotations

from pathlib import Path

import click

from searchkit.cli.commandline import errors
from searchkit.cli.indexes import print_report
from searchkit.cli.meter import with_progress
from searchkit.cli.options import (
    follow_links_option,
    index_option,
    json_option,
    max_bytes_option,
    seeds_option,
    shards_option,
)
from searchkit.webapp.engine import open_engine


@click.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
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
    with errors():
        engine = open_engine(index_dir, shards)
        report = with_progress(
            lambda progress: engine.add_files(
                files, seeds_dir, progress=progress, max_bytes=max_bytes, follow_links=follow_links
            ),
            quiet=as_json,
        )
    print_report(report, as_json)
