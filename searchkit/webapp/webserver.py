"""The waitress server one process runs, held to limits fit for a public page.

Waitress's defaults suit a server behind a proxy (see docs/serving.md). Here a
server holds many connections, watched with poll() rather than select(), none of them idle or
sending its request for long; waitress has no deadline for reading a request, so :class:`_Channel`
adds one. Waitress also accepts a few request shapes a proxy in front could read otherwise
(request smuggling): :class:`_Parser` refuses them. These two are the only code that knows
waitress's channel and parser, which is why waitress is pinned; tests/test_webserver.py checks
them against waitress's own parser. And what a visitor puts in a request reaches the log escaped
(:data:`ESCAPED`).
"""

from __future__ import annotations

import copy
import logging
import re
import select
import socket
import time
from dataclasses import dataclass
from typing import Any

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser, ParsingError
from waitress.server import BaseWSGIServer

from searchkit.webapp import arenas

# The same as waitress's own default: connections the system queues while the workers are busy.
BACKLOG = 1024

# Waitress's own defaults are 100 connections, 120 s idle and no deadline for a request: 120 sockets
# sending their headers a byte a second shut everyone else out. See docs/serving.md.
CONNECTION_LIMIT = 1000
IDLE_SECONDS = 30
READ_SECONDS = 20
THREADS = 8
# The longest request head a page of this site makes is about 10 KiB (a 1,000-character query, each
# character percent-encoded, and its filters); the pages and searches take no request body at all.
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024
# Except the articles API (searchkit/ingest.py), which takes an article of up to 4 MiB, or a batch of
# them of up to 32 MiB, and answers a larger one with its own JSON 413; past this, waitress's own 413.
# Waitress keeps a body over 512 KiB in a temporary file, not in memory.
ARTICLES_PATH = "/api/articles"
MAX_ARTICLES_BODY_BYTES = 32 * 1024 * 1024 + MAX_BODY_BYTES
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
    connections = _allow_open_files(limits.connections)
    arenas.limit()  # before waitress starts its threads, each of which would take an arena of its own
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
        if self.path == ARTICLES_PATH or self.path.startswith(ARTICLES_PATH + "/"):
            # Waitress reads the body's limit from its settings once the head is parsed: these
            # routes get their own copy with a higher one, every other route keeps 64 KiB.
            self.adj = copy.copy(self.adj)
            self.adj.max_request_body_size = MAX_ARTICLES_BODY_BYTES
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
    without Host is refused with 400 (section 3.2); a request target in absolute form
    (``GET http://host/``) names the host it is for, which must be the Host header's (sections
    3.2.2 and 7.2), or the page would be served for a name a cache in front files it under.
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
    r"""``text`` with every control character written as its Python escape (``\x1b``); line
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
