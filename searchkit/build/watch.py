"""Following the articles folder: changes become builds by themselves, a burst of them one build.

``searchkit index --watch`` and ``searchkit serve --watch`` run :func:`follow`. It waits on the folder with
watchfiles (inotify on Linux; polling where the system sends no events) and gathers changes until the folder
has been quiet for ``settle`` seconds and no changed file was modified within that time, so a file still being
written is not read half-way (unless its writer pauses longer than that; writing under a hidden name and
renaming it in is always safe, since the walk never reads hidden files). Then the whole folder is brought up to
date by :func:`searchkit.build.index.build`, the build of ``searchkit index``, and published as one generation, which
a server's next request answers from. A burst that never pauses is built every :data:`MAX_WAIT_SECONDS`.

Every build reads the whole folder, so nothing depends on each event arriving: one the system dropped, or a
change made while nobody watched (the first build runs at start), is caught by the next build. When another
build holds the index (a ``searchkit index`` typed meanwhile), the watcher waits for it and builds again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import watchfiles

from searchkit.build import index as indexing
from searchkit.corpus.articles import DEFAULT_MAX_BYTES
from searchkit.errors import CorpusError, IndexBusyError, SearchkitError

# A changed file is read once it has gone this long without being written to.
SETTLE_SECONDS = 1.0
# Changes that never pause for that long are built at least this often.
MAX_WAIT_SECONDS = 30.0
# While another build holds the index, it is tried again this often.
RETRY_SECONDS = 0.5


@dataclass(frozen=True)
class BuildOptions:
    """What each build is given, as ``searchkit index`` takes it."""

    procs: int | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    follow_links: bool = False


@dataclass
class Listener:
    """What the watcher tells: the watch under way, a build done (its report and seconds), a build failed, the
    index held by another build (told once per wait)."""

    built: Callable[[indexing.BuildReport, float], None] = lambda report, seconds: None
    failed: Callable[[SearchkitError], None] = lambda exc: None
    busy: Callable[[], None] = lambda: None
    watching: Callable[[], None] = lambda: None


def follow(
    seeds_dir: Path | str,
    index_dir: Path | str,
    *,
    listener: Listener | None = None,
    options: BuildOptions = BuildOptions(),
    stop: threading.Event | None = None,
    settle: float = SETTLE_SECONDS,
    max_wait: float = MAX_WAIT_SECONDS,
) -> None:
    """Builds the index in ``index_dir`` from ``seeds_dir`` now and after every change, until ``stop`` is set
    (or Ctrl-C: :class:`KeyboardInterrupt` is raised, a build under way abandoned as ``searchkit index``
    abandons one).

    A build that fails (an unwritable or damaged index) is told to ``listener`` and the watching goes on:
    the next change tries again. Raises :class:`CorpusError` when ``seeds_dir`` does not exist.
    """
    seeds, index = Path(seeds_dir), Path(index_dir)
    listener = listener or Listener()
    stop = stop or threading.Event()
    if not seeds.exists():
        raise CorpusError(f"articles folder not found: {seeds}")
    watched, accept = _watched(seeds, index)
    changes = watchfiles.watch(
        watched,
        watch_filter=accept,
        # Changes are gathered until none comes for `settle` seconds (a timeout then yields an empty set).
        rust_timeout=max(1, int(settle * 1000)),
        yield_on_timeout=True,
        stop_event=stop,
        recursive=seeds.is_dir(),
    )
    pending: set[Path] = set()
    since: float | None = None
    due = True  # the first build: whatever changed while nobody watched
    announced = False
    for batch in changes:
        now = time.monotonic()
        if not announced:
            # The watch is under way once the generator first returns: nothing after this is missed.
            listener.watching()
            announced = True
        if batch:
            pending.update(Path(path) for _, path in batch)
            since = since if since is not None else now
            if now - since < max_wait:
                continue
        elif not (due or pending):
            continue
        elif since is not None and now - since < max_wait and not settled(pending, settle):
            continue
        _build(seeds, index, listener, options, stop)
        pending.clear()
        since, due = None, False
        if stop.is_set():
            return


def settled(paths: Iterable[Path], settle: float, clock: Callable[[], float] = time.time) -> bool:
    """Whether every one of ``paths`` still there was last modified over ``settle`` seconds ago."""
    now = clock()
    for path in paths:
        try:
            modified = path.stat().st_mtime
        except OSError:  # removed, or unreadable: the build tells which
            continue
        if now - modified < settle:
            return False
    return True


def _build(seeds: Path, index: Path, listener: Listener, options: BuildOptions, stop: threading.Event) -> None:
    told_busy = False
    while True:
        started = time.monotonic()
        try:
            report = indexing.build(
                seeds, index, procs=options.procs, max_bytes=options.max_bytes, follow_links=options.follow_links
            )
        except IndexBusyError:
            if not told_busy:
                listener.busy()
                told_busy = True
            if stop.wait(RETRY_SECONDS):
                return
            continue
        except SearchkitError as exc:
            listener.failed(exc)
            return
        listener.built(report, time.monotonic() - started)
        return


def _watched(seeds: Path, index: Path) -> tuple[Path, Callable[[watchfiles.Change, str], bool]]:
    """The path to watch and the filter of its changes: the files a build reads, never the index's own."""
    index = index.resolve()
    if not seeds.is_dir():
        # One file (a JSON Lines corpus): its folder is watched, since replacing the file ends a watch on it.
        target = seeds.resolve()
        return target.parent, lambda change, path: Path(path) == target
    root = seeds.resolve()

    def accept(change: watchfiles.Change, path: str) -> bool:
        found = Path(path)
        if found == index or index in found.parents:
            return False
        try:
            parts = found.relative_to(root).parts
        except ValueError:
            return False
        # The folder's walk never reads hidden entries: a writer's ".name.tmp" is no change yet.
        return not any(part.startswith(".") for part in parts)

    return root, accept
