"""Bringing Xapian shards up to date with the articles folder, incrementally: the build's pipeline
(``searchkit.build.pipeline``) writing through the Xapian engine's writer
(``searchkit.engines.xapian.writer``, whose note says how a build stays whole across shards)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

from searchkit.build.files import copied_in, files_reading, folder_reading
from searchkit.build.pipeline import sync
from searchkit.build.report import BuildReport, Progress, Reading
from searchkit.build.workers import Workers
from searchkit.corpus.articles import DEFAULT_MAX_BYTES
from searchkit.engines.xapian.connection import Shard, guarded
from searchkit.engines.xapian.writer import ShardsWriter, is_empty
from searchkit.errors import CorpusError

__all__ = ["add_files", "build", "is_empty"]


def build(
    seeds_dir: Path | str,
    shards: list[Shard],
    *,
    rebuild: bool = False,
    procs: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_links: bool = False,
    workers: Workers | None = None,
) -> BuildReport:
    """Brings ``shards`` up to date with the articles in ``seeds_dir``, as
    :func:`searchkit.build.index.build` does the embedded index."""
    read = folder_reading(seeds_dir, max_bytes, follow_links)
    return _sync(read, shards, rebuild, procs, workers, progress, prune=True)


def add_files(
    paths: Iterable[Path | str],
    seeds_dir: Path | str,
    shards: list[Shard],
    *,
    procs: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_links: bool = False,
    workers: Workers | None = None,
) -> BuildReport:
    """Copies article files into ``seeds_dir`` and indexes them on their shards, as
    :func:`searchkit.build.index.add_files` does for the embedded index; with no article on any shard
    yet, the whole folder is indexed."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise CorpusError(f"articles folder not found: {seeds_dir}")
    with copied_in(seeds_dir, paths, max_bytes) as targets:
        if is_empty(shards):
            return build(
                seeds_dir,
                shards,
                procs=procs,
                progress=progress,
                max_bytes=max_bytes,
                follow_links=follow_links,
                workers=workers,
            )
        read = files_reading(list(targets), seeds_dir, max_bytes, follow_links)
        return _sync(read, shards, False, procs, workers, progress, prune=False)


def _sync(
    read: Reading,
    shards: list[Shard],
    rebuild: bool,
    procs: int | None,
    workers: Workers | None,
    progress: Progress | None,
    *,
    prune: bool,
) -> BuildReport:
    with (
        tempfile.TemporaryDirectory(prefix="searchkit-shards-") as temporary,
        guarded(shards),
        ShardsWriter(shards, Path(temporary), rebuild=rebuild) as target,
    ):
        return sync(read, target, rebuild=rebuild, prune=prune, procs=procs, workers=workers, progress=progress)
