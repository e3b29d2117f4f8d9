"""`searchkit serve` on every core: one set of listening sockets, several worker processes answering.

Searching is pure Python, so one process answers with one core however many threads it has. The
parent binds the sockets once, then starts the workers (forked where the system can fork); each
builds its own app, and so its own searchers (nothing of Whoosh crosses the fork), and serves the
same sockets with waitress: the kernel hands each new connection to one of them. Every worker reads
the index's current generation before each request, so a build is seen by all of them.

The parent only watches. It starts a new worker for one that dies, gives up when they keep dying,
and on Ctrl-C or SIGTERM stops them all. A worker never outlives the parent, even a killed one.

With ``--watch`` one more process follows the articles folder (:mod:`searchkit.build.watch`) and builds; the
workers only reopen the generations it publishes. It is started, replaced and stopped as a worker is.

Each worker's server holds its visitors to :class:`searchkit.webapp.webserver.Limits`.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import wait
from pathlib import Path
from typing import TYPE_CHECKING

from searchkit.build.workers import exit_with
from searchkit.engines.backend import set_default_cache_mb
from searchkit.errors import SearchkitError
from searchkit.webapp.webserver import BACKLOG, DEFAULT_LIMITS, Limits, make_server

if TYPE_CHECKING:
    from searchkit.build.index import BuildReport
    from searchkit.build.watch import BuildOptions

# Give up when this many workers die within this many seconds: the next one would die too.
MAX_DEATHS = 5
DEATH_WINDOW_SECONDS = 10.0
# How long the workers have to exit once asked to stop, before they are killed.
STOP_SECONDS = 5.0


log = logging.getLogger(__name__)


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def listen(host: str, port: int) -> list[socket.socket]:
    """Sockets listening on ``port`` at every address ``host`` names, bound as waitress binds them.

    Port 0 picks a free port (for each address). Raises :class:`OSError` when a socket cannot be
    bound, :class:`ValueError` for a host that names no address.
    """
    from waitress.adjustments import Adjustments

    sockets: list[socket.socket] = []
    try:
        for family, kind, _, address in Adjustments(host=host, port=port).listen:
            sock = socket.socket(family, kind)
            sockets.append(sock)
            if os.name == "posix":
                # A restart must not wait for the old connections' TIME_WAIT to pass.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def addresses(sockets: list[socket.socket]) -> list[tuple[str, int]]:
    """The host and port each socket listens on."""
    return [sock.getsockname()[:2] for sock in sockets]


def supervise(
    sockets: list[socket.socket],
    *,
    index_dir: Path,
    seeds_dir: Path,
    workers: int,
    shards: list | None = None,
    limits: Limits = DEFAULT_LIMITS,
    watch: BuildOptions | None = None,
    count_searches: bool = False,
    cache_mb: float | None = None,
) -> None:
    """Serves the search site on ``sockets`` from ``workers`` processes until Ctrl-C or SIGTERM.

    Each worker holds its visitors to ``limits`` (and counts searches, given ``count_searches``), and keeps
    at most ``cache_mb`` megabytes of posting arrays per generation (by default the library's). Given
    ``watch``, one more process builds the index after every change to ``seeds_dir`` (see
    :func:`start_watcher`). Returns once every worker has stopped. Raises :class:`SearchkitError` (code
    ``workers_failing``) when workers keep dying, after stopping the others.
    """
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    running: dict[int, multiprocessing.process.BaseProcess] = {}
    deaths: collections.deque[float] = collections.deque(maxlen=MAX_DEATHS)
    watcher: list[int] = []  # the watcher's sentinel, when there is one

    def start() -> None:
        worker = context.Process(
            target=_work,
            args=(sockets, index_dir, seeds_dir, os.getpid(), shards, limits, count_searches, cache_mb),
            name="searchkit-worker",
            daemon=True,
        )
        worker.start()
        running[worker.sentinel] = worker

    def start_watching() -> None:
        assert watch is not None
        process = start_watcher(seeds_dir, index_dir, watch)
        running[process.sentinel] = process
        watcher[:] = [process.sentinel]

    with _stop_signals() as (stop_requested, wakeup):
        try:
            if watch is not None:
                start_watching()
            for _ in range(workers):
                start()
            while not stop_requested():
                for ready in wait([*running, wakeup]):
                    if ready is wakeup:
                        _drain(wakeup)
                        continue
                    worker = running.pop(ready)  # type: ignore[call-overload]
                    worker.join()
                    if stop_requested():
                        break
                    was_watcher = ready in watcher
                    kind = "watcher" if was_watcher else "worker"
                    log.warning("%s %s died (%s)", kind, worker.pid, _how(worker.exitcode))
                    deaths.append(time.monotonic())
                    if len(deaths) == MAX_DEATHS and deaths[-1] - deaths[0] <= DEATH_WINDOW_SECONDS:
                        raise SearchkitError(
                            f"the server's workers keep dying ({MAX_DEATHS} in {DEATH_WINDOW_SECONDS:g} s): stopped",
                            code="workers_failing",
                            deaths=MAX_DEATHS,
                            seconds=DEATH_WINDOW_SECONDS,
                        )
                    if was_watcher:
                        start_watching()
                    else:
                        start()
        finally:
            stop(list(running.values()))


def start_watcher(seeds_dir: Path, index_dir: Path, options: BuildOptions) -> multiprocessing.process.BaseProcess:
    """Starts the process that builds the index after every change to ``seeds_dir``
    (:func:`searchkit.build.watch.follow`).

    Its own process, so that its builds' forks and memory stay out of the ones answering. It ends
    with this process; :func:`stop` ends it sooner, abandoning a build under way as Ctrl-C would.
    """
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    process = context.Process(
        target=_watch, args=(seeds_dir, index_dir, os.getpid(), options), name="searchkit-watcher", daemon=False
    )
    process.start()
    return process


def _watch(seeds_dir: Path, index_dir: Path, parent: int, options: BuildOptions) -> None:
    """The watcher process: builds after each change, logging each build, until stopped or its parent ends."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM abandons a build under way the way Ctrl-C does (its generation discarded, the lock freed).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    exit_with(parent)
    from searchkit.build import watch

    out = logging.getLogger("searchkit.build.watch")
    if not out.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s searchkit watch: %(message)s"))
        out.addHandler(handler)
        out.setLevel(logging.INFO)
        out.propagate = False

    def built(report: BuildReport, seconds: float) -> None:
        if report.added or report.updated or report.removed or report.skipped:
            out.info("%s (%.1f s)", report.summary(), seconds)
        for skipped in report.skipped:
            out.warning("skipped %r: %s", skipped.path, skipped.reason)

    listener = watch.Listener(
        built=built,
        failed=lambda exc: out.error("build failed: %s", exc),
        busy=lambda: out.info("another build holds %s: waiting for it", index_dir),
        watching=lambda: out.info("watching %s", seeds_dir),
    )
    try:
        watch.follow(seeds_dir, index_dir, listener=listener, options=options)
    except KeyboardInterrupt:
        pass
    except SearchkitError as exc:
        out.error("%s", exc)
        sys.exit(1)


def _work(
    sockets: list[socket.socket],
    index_dir: Path,
    seeds_dir: Path,
    parent: int,
    shards: list | None = None,
    limits: Limits = DEFAULT_LIMITS,
    count_searches: bool = False,
    cache_mb: float | None = None,
) -> None:
    """One worker: its own app on the shared sockets, until it is stopped or its parent ends."""
    signal.set_wakeup_fd(-1)
    # Ctrl-C reaches every process of the terminal's group: the parent decides, and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    exit_with(parent)
    from searchkit.webapp.app import create_app

    if cache_mb is not None:
        set_default_cache_mb(cache_mb)
    app = create_app(index_dir=index_dir, seeds_dir=seeds_dir, shards=shards, count_searches=count_searches)
    searches = app.extensions.get("searchkit_searches")
    if searches is not None:
        # SIGTERM ends this worker: its last counts are written first (a kill loses a few seconds of them).
        signal.signal(signal.SIGTERM, lambda signum, frame: (searches.flush(), os._exit(0)))
    make_server(app, sockets=sockets, limits=limits).run()


def stop(workers: list[multiprocessing.process.BaseProcess]) -> None:
    """Asks every worker (or the watcher) to stop, then kills any still running after :data:`STOP_SECONDS`."""
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for worker in workers:
        worker.join(max(0.0, deadline - time.monotonic()))
    for worker in workers:
        if worker.is_alive():
            worker.kill()
            worker.join()


@contextlib.contextmanager
def _stop_signals() -> Iterator[tuple[Callable[[], bool], socket.socket]]:
    """While inside, Ctrl-C and SIGTERM only set a flag and make ``wakeup`` readable.

    Yields the flag's reader and ``wakeup``, so a wait on the workers also returns on a signal.
    """
    wakeup, ring = socket.socketpair()
    wakeup.setblocking(False)
    ring.setblocking(False)
    received: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _: received.append(signum)) for sig in _STOP_SIGNALS}
    previous_fd = signal.set_wakeup_fd(ring.fileno())
    try:
        yield (lambda: bool(received)), wakeup
    finally:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        wakeup.close()
        ring.close()


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _drain(wakeup: socket.socket) -> None:
    with contextlib.suppress(BlockingIOError):
        while wakeup.recv(64):
            pass


def _how(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit status {exitcode}"
