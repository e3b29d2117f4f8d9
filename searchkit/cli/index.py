"""``searchkit index``: the index brought up to date with the articles folder, once or after every change."""

from __future__ import annotations

import json
from pathlib import Path

import click

from searchkit.build.index import BuildReport
from searchkit.cli.commandline import errors
from searchkit.cli.indexes import print_problems, print_report
from searchkit.cli.meter import with_progress
from searchkit.cli.options import (
    follow_links_option,
    index_option,
    json_option,
    max_bytes_option,
    seeds_option,
    shards_option,
)
from searchkit.cli.terminal import escaped, folder
from searchkit.webapp.engine import open_engine


@click.command("index")
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
    with errors():
        engine = open_engine(index_dir, shards)
        report = with_progress(
            lambda progress: engine.build(
                seeds_dir,
                rebuild=rebuild,
                procs=procs,
                progress=progress,
                max_bytes=max_bytes,
                follow_links=follow_links,
            ),
            quiet=as_json,
        )
    print_report(report, as_json)
    if watch:
        _watch(seeds_dir, index_dir, as_json, procs, max_bytes, follow_links)


def _watch(
    seeds_dir: Path, index_dir: Path, as_json: bool, procs: int | None, max_bytes: int, follow_links: bool
) -> None:
    """``index --watch``: a line per build that changed something (one JSON object per line under --json)."""
    from searchkit.build import watch

    def built(report: BuildReport, seconds: float) -> None:
        if not (report.added or report.updated or report.removed or report.skipped or report.warnings):
            return
        if as_json:
            click.echo(json.dumps(report.to_dict() | {"seconds": round(seconds, 3)}, ensure_ascii=False))
            return
        print_problems(report)
        click.echo(f"{report.summary()} ({seconds:.1f} s)")

    listener = watch.Listener(
        built=built,
        failed=lambda exc: click.echo(f"Error: {escaped(exc)}", err=True),
        busy=lambda: click.echo(
            escaped(f"Another build is updating {folder(index_dir)}: waiting for it to finish."), err=True
        ),
        watching=lambda: click.echo(escaped(f"Watching {folder(seeds_dir)} for changes (Ctrl+C to stop)."), err=True),
    )
    options = watch.BuildOptions(procs=procs, max_bytes=max_bytes, follow_links=follow_links)
    try:
        with errors():
            watch.follow(seeds_dir, index_dir, listener=listener, options=options)
    except KeyboardInterrupt:
        click.echo("Stopped watching: the index keeps its last committed build.", err=True)
