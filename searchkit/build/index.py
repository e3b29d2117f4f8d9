"""The embedded (Whoosh) index: building or updating it from the articles folder.

Its fields are ``searchkit.engines.whoosh.schema``'s; its folder holds numbered generations
(``searchkit.engines.whoosh.generations``). A build is the pipeline of ``searchkit.build.pipeline``
writing through the Whoosh engine's writer (``searchkit.engines.whoosh.writer``).

Updates are incremental by content hash. Every build writes a new generation beside the current
one and publishes it in one atomic step, so a build killed at any moment leaves the last published
index answering queries, and the next build completes. A lock file keeps two builds apart: the
second one stops at once with :class:`IndexBusyError`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from searchkit.build.files import copied_in, copies_for, copy_in, files_reading, folder_reading
from searchkit.build.pipeline import sync
from searchkit.build.plan import kept_unreadable
from searchkit.build.report import BuildReport, BuildWarning, Progress, Reading, survey
from searchkit.build.workers import Workers, cpu_count
from searchkit.corpus import freshness
from searchkit.corpus.articles import DEFAULT_MAX_BYTES
from searchkit.engines import spellings
from searchkit.engines.whoosh import generations
from searchkit.engines.whoosh.writer import GenerationWriter
from searchkit.errors import CorpusError

__all__ = [
    "BuildReport", "BuildWarning", "Progress", "Workers", "add_files", "build", "built_from", "copies_for", "copy_in",
    "cpu_count", "exists", "kept_unreadable", "open_index", "open_spellings", "survey",
]  # fmt: skip


def exists(index_dir: Path | str) -> bool:
    """Whether ``index_dir`` holds a published index of this version, ready for queries."""
    return generations.state(index_dir) == "ready"


def built_from(index_dir: Path | str) -> str | None:
    """The articles folder (or file) the index in ``index_dir`` was built from, as an absolute path;
    None when it does not say."""
    return generations.built_from(index_dir)


def open_index(index_dir: Path | str) -> object:
    """The current generation of the index in ``index_dir`` (a Whoosh index).

    Raises :class:`IndexMissingError` unless there is one, :class:`IndexDamagedError` when its files
    are damaged.
    """
    return generations.open_current(index_dir)[1]


def open_spellings(index_dir: Path | str) -> spellings.SpellingCounts:
    """The spelling counts of the current generation of the index in ``index_dir``."""
    return generations.open_spellings(generations.open_current(index_dir)[0])


def build(
    seeds_dir: Path | str,
    index_dir: Path | str,
    *,
    rebuild: bool = False,
    procs: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_links: bool = False,
    workers: Workers | None = None,
) -> BuildReport:
    """Brings the index in ``index_dir`` up to date with the articles in ``seeds_dir``.

    New articles are added, changed ones re-indexed, deleted ones removed, the rest left alone;
    ``rebuild`` re-indexes everything (still in one atomic commit). Links to files outside
    ``seeds_dir`` are skipped unless ``follow_links``. ``procs`` worker processes analyse a large
    build (``workers`` says from how many articles, and in what batches). Raises
    :class:`IndexBusyError` when another build holds the index.
    """
    # The folder's state for the staleness check, taken before any article is read: a file
    # changed during the build then still shows as changed.
    folder = freshness.snapshot(seeds_dir)
    with generations.build_lock(Path(index_dir)) as lock_fd:
        read = folder_reading(seeds_dir, max_bytes, follow_links)
        report = _sync(read, Path(index_dir), seeds_dir, rebuild, lock_fd, procs, workers, progress, prune=True)
        freshness.save(seeds_dir, index_dir, folder)
        return report


def add_files(
    paths: Iterable[Path | str],
    seeds_dir: Path | str,
    index_dir: Path | str,
    *,
    procs: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_links: bool = False,
    workers: Workers | None = None,
) -> BuildReport:
    """Copies article files into ``seeds_dir`` and indexes them, leaving the other files alone.

    Refuses (:class:`SearchkitError`, nothing copied) a file that gives no article, a hidden one
    (the folder's walk never reads it), one whose name is taken in ``seeds_dir`` by a different
    file or a folder, and one whose article would share its id with another file's. Without a
    complete index yet, the whole folder is indexed, so the index never silently lacks the older
    articles. When the index cannot take the articles (not writable, damaged, interrupted), the
    copies are removed again.
    """
    seeds_dir, index_dir = Path(seeds_dir), Path(index_dir)
    if not seeds_dir.is_dir():
        raise CorpusError(f"articles folder not found: {seeds_dir}")
    with generations.build_lock(index_dir) as lock_fd, copied_in(seeds_dir, paths, max_bytes) as targets:
        if generations.state(index_dir) != "ready":
            folder = freshness.snapshot(seeds_dir)
            read = folder_reading(seeds_dir, max_bytes, follow_links)
            report = _sync(read, index_dir, seeds_dir, False, lock_fd, procs, workers, progress, prune=True)
            freshness.save(seeds_dir, index_dir, folder)
            return report
        read = files_reading(list(targets), seeds_dir, max_bytes, follow_links)
        report = _sync(read, index_dir, seeds_dir, False, lock_fd, procs, workers, progress, prune=False)
        freshness.update(seeds_dir, index_dir, list(targets))
        return report


def _sync(
    read: Reading,
    index_dir: Path,
    seeds: Path | str,
    rebuild: bool,
    lock_fd: int | None,
    procs: int | None,
    workers: Workers | None,
    progress: Progress | None,
    *,
    prune: bool,
) -> BuildReport:
    target = GenerationWriter(index_dir, seeds, rebuild=rebuild, lock_fd=lock_fd)
    return sync(read, target, rebuild=rebuild, prune=prune, procs=procs, workers=workers, progress=progress)
