"""Analysing articles in worker processes, for either engine.

An engine's analysis (:class:`Analysis`) is made in each worker and given the articles a batch at
a time; what it gives back goes to the engine's writer in the build's own process. The Whoosh
engine's workers write whole segments of their own (pyvi and Whoosh's posting writes cost about
the same, as in Whoosh's MultiSegmentWriter) and give them back at the end; the Xapian engine's
give back each batch's documents, which the build sends to their shards.

Articles are handed out in small batches through a bounded queue as they are read, so the reading
overlaps the workers' analysis and memory holds only the batches in flight. Neither Whoosh's
MpWriter nor a ``multiprocessing.Pool`` is used for it: their workers survive a killed parent and
keep the index's lock files open, so the next build would find the index busy. Here each worker
closes its copies of them and ends with its parent (:func:`exit_with`).
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from searchkit.build.report import Progress
from searchkit.corpus.articles import Article
from searchkit.errors import SearchkitError

# prctl(2): the signal a process gets when its parent ends (Linux).
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Workers:
    """How a build shares its analysis between processes (``procs``, the number, is an option of its own)."""

    # Below this many articles to analyse, starting worker processes costs more than it saves.
    min_articles: int = 32
    # Articles handed to a worker at a time: small enough to share the work evenly at the end.
    batch: int = 4
    # Batches waiting for each worker: enough that none waits for the reader, few enough to hold little.
    queued: int = 8


class Analysis(Protocol):
    """An engine's analysis of the articles a build writes, in a worker or in the build's process."""

    def take(self, batch: list[Article]) -> object | None:
        """Analyses ``batch``; returns what the engine's writer receives for it (None: nothing yet)."""

    def finish(self) -> object | None:
        """After the last batch: what the engine's writer receives at the end (None: nothing)."""

    def cancel(self) -> None:
        """After an error: closes what is open (the build discards what was written)."""


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def analyse(
    articles: Iterable[Article],
    total: int,
    make: Callable[[], Analysis],
    receive: Callable[[object], None],
    *,
    procs: int | None = None,
    workers: Workers | None = None,
    progress: Progress | None = None,
    inherited: list[int] = (),
) -> None:
    """Analyses ``articles`` (``total`` of them) with analyses made by ``make``, in worker processes
    for a large build, and hands what they give to ``receive``.

    ``inherited``: descriptors of lock files, which a forked worker closes (see the module's note).
    """
    workers = workers or Workers()
    if progress and total:
        progress(0, total)
    count = min(procs or cpu_count(), total // workers.batch)
    if count > 1 and total >= workers.min_articles:
        _in_workers(articles, total, make, receive, count, workers, progress, list(inherited))
        return
    analysis = make()
    try:
        for done, article in enumerate(articles, 1):
            _give(receive, analysis.take([article]))
            if progress:
                progress(done, total)
        _give(receive, analysis.finish())
    except BaseException:
        analysis.cancel()
        raise


def _give(receive: Callable[[object], None], result: object | None) -> None:
    if result is not None:
        receive(result)


def _in_workers(
    articles: Iterable[Article],
    total: int,
    make: Callable[[], Analysis],
    receive: Callable[[object], None],
    procs: int,
    workers: Workers,
    progress: Progress | None,
    inherited: list[int],
) -> None:
    from searchkit.text.analysis import words

    words("khởi động")  # loads the segmentation model once here, so forked workers start warm

    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else "spawn")
    jobs, results = context.Queue(maxsize=procs * workers.queued), context.Queue()
    args = (make, jobs, results, os.getpid(), inherited if fork else [])
    running = [context.Process(target=_work, args=args, daemon=True) for _ in range(procs)]
    for worker in running:
        worker.start()
    done, finished = 0, 0

    def take_results(wait: float) -> None:
        """Takes the workers' results that arrive within ``wait`` seconds."""
        nonlocal done, finished
        while True:
            try:
                kind, value = results.get(timeout=wait) if wait else results.get_nowait()
            except queue.Empty:
                if any(w.exitcode not in (None, 0) for w in running):
                    raise SearchkitError("an indexing worker process stopped unexpectedly") from None
                return
            if kind == "batch":
                count, result = value
                _give(receive, result)
                done += count
                if progress:
                    progress(done, total)
            elif kind == "finish":
                finished += 1
                _give(receive, value)
            else:
                _raise(kind, value)

    def hand_out(job: list[Article] | None) -> None:
        while True:
            try:
                jobs.put(job, timeout=0.2)
                return
            except queue.Full:
                take_results(0)

    try:
        batch: list[Article] = []
        for article in articles:
            batch.append(article)
            if len(batch) == workers.batch:
                hand_out(batch)
                batch = []
                take_results(0)
        for job in ([batch] if batch else []) + [None] * len(running):
            hand_out(job)
        while finished < len(running):
            take_results(1.0)
        for worker in running:
            worker.join()
    finally:
        # A worker stopped early leaves jobs in the pipe; exiting must not wait to flush them.
        jobs.cancel_join_thread()
        for worker in running:
            if worker.is_alive():
                worker.terminate()
                worker.join()


def _raise(kind: str, value: object) -> None:
    """Raises in the build's process the error a worker met, as the build's own process would have."""
    if kind == "oserror":
        number, reason, filename = value
        raise OSError(number, reason, filename)
    if kind == "sqlite":
        raise sqlite3.OperationalError(value)
    raise SearchkitError(value)


def _work(make: Callable[[], Analysis], jobs: object, results: object, parent: int, inherited: list[int]) -> None:
    # Ctrl-C reaches the whole process group; the parent decides what to do about it. SIGTERM
    # (the parent's end, see exit_with) ends a worker, whatever handler the parent had set.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The forked copies of the lock files' descriptors would keep the index locked after a
    # killed parent; closing the copies leaves the parent's locks as they are.
    for fd in inherited:
        os.close(fd)
    exit_with(parent)
    analysis = None
    try:
        analysis = make()
        while (batch := jobs.get()) is not None:
            results.put(("batch", (len(batch), analysis.take(batch))))
        results.put(("finish", analysis.finish()))
    except BaseException as exc:  # reported to the parent, which raises it
        if analysis is not None:
            try:
                analysis.cancel()
            except Exception:
                pass  # the error to report is the first one
        if isinstance(exc, OSError):
            results.put(("oserror", (exc.errno, exc.strerror or str(exc), exc.filename)))
        elif isinstance(exc, sqlite3.OperationalError):
            results.put(("sqlite", str(exc)))
        else:
            results.put(("error", f"indexing failed: {type(exc).__name__}: {exc}"))


def exit_with(parent: int) -> None:
    """Ends this process as soon as ``parent`` ends, however it ends: a worker blocked on a queue, or
    serving, would otherwise outlive a killed parent (and hold its sockets and lock files).

    On Linux the kernel sends SIGTERM (``prctl(PR_SET_PDEATHSIG)``); elsewhere a thread watches.
    """
    if sys.platform == "linux":
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
        if armed:
            # The parent may have ended before the signal was asked for.
            if os.getppid() != parent:
                os._exit(1)
            return
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)
