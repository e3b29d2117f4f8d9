"""`searchkit serve` on every core: one set of listening sockets, several worker processes answering.

Searching is pure Python, so one process answers with one core however many threads it has. The
parent binds the sockets once, then starts the workers (forked where the system can fork); each
builds its own app, and so its own searchers (nothing of Whoosh crosses the fork), and serves the
same sockets with waitress: the kernel hands each new connection to one of them. Every worker reads
the index's current generation before each request, so a build is seen by all of them.

The parent only watches. It starts a new worker for one that dies, gives up when they keep dying,
and on Ctrl-C or SIGTERM stops them all. A worker never outlives the parent, even a killed one.

Each worker's waitress holds its visitors to :class:`Limits` (see README, "Running it in public"):
many connections at once, watched with poll() rather than select(), none of them idle or sending its
request for long. Waitress has no deadline for reading a request and accepts a few request shapes a
proxy in front could read otherwise (request smuggling); :class:`_Channel` and :class:`_Parser` add
both. They are the only code here that knows waitress's channel and parser, which is why waitress is
pinned; tests/test_serving_http.py checks them against waitress's own parser.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import logging
import multiprocessing
import os
import re
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError

from searchkit.errors import SearchkitError

# Give up when this many workers die within this many seconds: the next one would die too.
MAX_DEATHS = 5
DEATH_WINDOW_SECONDS = 10.0
# How long the workers have to exit once asked to stop, before they are killed.
STOP_SECONDS = 5.0
# The same as waitress's own default.
BACKLOG = 1024

_PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>

# Waitress's own defaults are 100 connections, 120 s idle and no deadline for a request: 120 sockets
# sending their headers a byte a second shut everyone else out. See README, "Running it in public".
CONNECTION_LIMIT = 1000
IDLE_SECONDS = 30
READ_SECONDS = 20
THREADS = 8
# The longest request head a page of this site makes is about 10 KiB (a 1,000-character query, each
# character percent-encoded, and its filters); the site takes no request body at all.
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024
# Open files a worker needs beyond its connections: the index's files, the logs, the listening sockets.
SPARE_FILES = 256

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What one worker gives its visitors: ``connections`` open at once, each closed when it has
    said nothing for ``idle_seconds`` or has not sent a whole request ``read_seconds`` after its
    first byte."""

    connections: int = CONNECTION_LIMIT
    idle_seconds: int = IDLE_SECONDS
    read_seconds: int = READ_SECONDS


DEFAULT_LIMITS = Limits()


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


def make_server(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 8000,
    threads: int = THREADS,
    *,
    sockets: list[socket.socket] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Any:
    """A waitress server for the WSGI ``app``, listening, serving once ``run()``; port 0 picks any.

    Given ``sockets`` already listening (shared by several processes), it serves those instead of
    binding ``host`` and ``port``. The server holds its visitors to ``limits``; a request that
    could be read two ways (see :func:`_ambiguity`) gets 400 and its connection is closed.
    """
    from waitress import create_server

    connections = _allow_open_files(limits.connections)
    settings: dict[str, Any] = {
        "threads": threads,
        "ident": "searchkit",
        "backlog": BACKLOG,
        "connection_limit": connections,
        "channel_timeout": limits.idle_seconds,
        # How often idle connections are looked for: a connection is closed at most this late.
        "cleanup_interval": max(1, min(5, limits.idle_seconds)),
        "max_request_header_size": MAX_HEAD_BYTES,
        "max_request_body_size": MAX_BODY_BYTES,
        # select() cannot watch a socket numbered 1024 or more: past that the server would stop.
        "asyncore_use_poll": hasattr(select, "poll"),
    }
    if sockets is not None:
        server = create_server(app, sockets=sockets, **settings)
    else:
        server = create_server(app, host=host, port=port, **settings)
    channel = type("Channel", (_Channel,), {"read_seconds": limits.read_seconds})
    for listener in _listeners(server):
        listener.channel_class = channel
    logging.getLogger("waitress").addFilter(ESCAPED)
    return server


def _listeners(server: Any) -> list[Any]:
    """The waitress dispatchers accepting connections: the server itself, or each of its sockets'."""
    from waitress.server import BaseWSGIServer

    if isinstance(server, BaseWSGIServer):
        return [server]
    return [d for d in server.map.values() if isinstance(d, BaseWSGIServer)]


def _allow_open_files(connections: int) -> int:
    """``connections``, once this process may open enough files for them (raising its soft limit
    as far as the hard one allows); fewer, with a warning, when it may not."""
    try:
        import resource
    except ImportError:  # not on a Unix
        return connections
    wanted = connections + SPARE_FILES
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < wanted:
        allowed = max(1, soft - SPARE_FILES)
        log.warning("this process may open %s files: %s connections at most, not %s", soft, allowed, connections)
        return allowed
    return connections


class _Parser(HTTPRequestParser):
    """Waitress's request parser, refusing what :func:`_ambiguity` finds, and knowing when the
    request began (the parser is made when its first bytes arrive)."""

    def __init__(self, adj: Any) -> None:
        super().__init__(adj)
        self.began = time.monotonic()

    def parse_header(self, header_plus: bytes) -> None:
        super().parse_header(header_plus)
        problem = _ambiguity(self)
        if problem:
            # Waitress answers a ParsingError with 400 and closes the connection, dropping
            # whatever else the client sent on it.
            raise ParsingError(problem)


class _Channel(HTTPChannel):
    """Waitress's connection, closed when a request is still arriving :attr:`read_seconds` after
    its first byte (a client sending one byte a second would otherwise be kept for ever)."""

    parser_class = _Parser
    read_seconds: float = READ_SECONDS

    def handle_read(self) -> None:
        super().handle_read()
        request = self.request
        if request is not None and not request.completed and time.monotonic() - request.began > self.read_seconds:
            log.info("closed a connection from %s: no whole request within %s s", self.addr, self.read_seconds)
            self.handle_close()


def _ambiguity(request: Any) -> str | None:
    """Why a parsed request head could be read two ways, by this server and by a proxy in front of
    it (request smuggling), or ``None``.

    RFC 9112: a request with both Transfer-Encoding and Content-Length, or an HTTP/1.0 request
    with Transfer-Encoding, has faulty framing (section 6.1); versions other than 1.0 and 1.1, and
    a request line with none (HTTP/0.9), are not HTTP/1.x (section 2.3); an HTTP/1.1 request
    without Host is refused with 400 (section 3.2); a request target in
    absolute form (``GET http://host/``) names the host it is for, which must be the Host header's
    (sections 3.2.2 and 7.2), or the page would be served for a name a cache in front files it
    under.
    """
    headers = request.headers
    if request.version not in ("1.0", "1.1"):
        return "unsupported HTTP version: only HTTP/1.0 and HTTP/1.1 are served"
    if request.chunked and "CONTENT_LENGTH" in headers:
        return "both Content-Length and Transfer-Encoding: the request's length is ambiguous"
    if request.version == "1.0" and "TRANSFER_ENCODING" in headers:
        return "Transfer-Encoding in an HTTP/1.0 request"
    if request.version == "1.1" and "HOST" not in headers:
        return "an HTTP/1.1 request without a Host header"
    if request.proxy_scheme or request.proxy_netloc:
        host = headers.get("HOST")
        if host is None or _authority(request.proxy_scheme, request.proxy_netloc) != _authority(
            request.proxy_scheme, host
        ):
            return "the request's target names another host than its Host header"
    return None


def _authority(scheme: str, authority: str) -> str:
    """A host and port as compared: lower case, the scheme's default port written out."""
    authority = authority.strip().lower()
    if not re.search(r":[0-9]*$", authority.rsplit("]", 1)[-1]):
        authority += ":443" if scheme.lower() == "https" else ":80"
    elif authority.endswith(":"):
        authority += "443" if scheme.lower() == "https" else "80"
    return authority


# Characters a visitor can put in a request (its path, a header) that a terminal or a log reader
# would obey rather than show: ESC sequences retitle a terminal or rewrite what it shows, a line
# break forges a log line of one's own.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str, *, newlines: bool = False) -> str:
    """``text`` with every control character written as its Python escape (``\x1b``); line
    breaks kept when ``newlines`` (a traceback's)."""
    pattern = _CONTROL_BUT_NEWLINE if newlines else _CONTROL
    return pattern.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class _EscapedLog(logging.Filter):
    """Escapes the control characters of every record it sees (see :func:`escape_controls`): the
    message, and the traceback but for its line breaks."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a faulty call: left for the handler to report as logging does
            return True
        escaped = escape_controls(message)
        if escaped != message:
            record.msg, record.args = escaped, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = escape_controls(record.exc_text, newlines=True)
        return True


ESCAPED = _EscapedLog()


def supervise(
    sockets: list[socket.socket],
    *,
    index_dir: Path,
    seeds_dir: Path,
    workers: int,
    shards: list | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> None:
    """Serves the search site on ``sockets`` from ``workers`` processes until Ctrl-C or SIGTERM.

    Each worker holds its visitors to ``limits``. Returns once every worker has stopped. Raises
    :class:`SearchkitError` (code ``workers_failing``) when workers keep dying, after stopping the others.
    """
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    running: dict[int, multiprocessing.process.BaseProcess] = {}
    deaths: collections.deque[float] = collections.deque(maxlen=MAX_DEATHS)

    def start() -> None:
        worker = context.Process(
            target=_work,
            args=(sockets, index_dir, seeds_dir, os.getpid(), shards, limits),
            name="searchkit-worker",
            daemon=True,
        )
        worker.start()
        running[worker.sentinel] = worker

    with _stop_signals() as (stop_requested, wakeup):
        try:
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
                    log.warning("worker %s died (%s)", worker.pid, _how(worker.exitcode))
                    deaths.append(time.monotonic())
                    if len(deaths) == MAX_DEATHS and deaths[-1] - deaths[0] <= DEATH_WINDOW_SECONDS:
                        raise SearchkitError(
                            f"the server's workers keep dying ({MAX_DEATHS} in {DEATH_WINDOW_SECONDS:g} s): stopped",
                            code="workers_failing",
                            deaths=MAX_DEATHS,
                            seconds=DEATH_WINDOW_SECONDS,
                        )
                    start()
        finally:
            _stop(list(running.values()))


def _work(
    sockets: list[socket.socket],
    index_dir: Path,
    seeds_dir: Path,
    parent: int,
    shards: list | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> None:
    """One worker: its own app on the shared sockets, until it is stopped or its parent ends."""
    signal.set_wakeup_fd(-1)
    # Ctrl-C reaches every process of the terminal's group: the parent decides, and stops us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _exit_with(parent)
    from searchkit.app import create_app

    app = create_app(index_dir=index_dir, seeds_dir=seeds_dir, shards=shards)
    make_server(app, sockets=sockets, limits=limits).run()


def _exit_with(parent: int) -> None:
    """Ends this process as soon as ``parent`` ends, however it ends."""
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


def _stop(workers: list[multiprocessing.process.BaseProcess]) -> None:
    """Asks every worker to stop, then kills any still running after :data:`STOP_SECONDS`."""
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
