"""The server as a visitor meets it over a socket: requests that could be read two ways are refused,
slow and silent connections are closed, and what a request holds reaches the log escaped.

Each test talks to a real waitress server on 127.0.0.1 (from :func:`searchkit.webapp.webserver.make_server`),
byte for byte, with a plain socket.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import logging
import os
import platform
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from waitress.adjustments import Adjustments
from waitress.parser import HTTPRequestParser

from searchkit.search.searcher import Searcher
from searchkit.webapp import arenas, webserver
from searchkit.webapp.app import create_app

ROOT = Path(__file__).resolve().parents[1]
NEU_GUONG = "004_a29b889078a98f24.txt"
SEARCH = b"GET /api/search?q=neu+guong HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@contextmanager
def running(app, limits: webserver.Limits = webserver.DEFAULT_LIMITS) -> Iterator[int]:
    server = webserver.make_server(app, "127.0.0.1", 0, limits=limits)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        server.close()
        thread.join(5)


@pytest.fixture(scope="module")
def port(seeds_index: Path, seeds_dir: Path) -> Iterator[int]:
    with running(create_app(index_dir=seeds_index, seeds_dir=seeds_dir)) as found:
        yield found


def exchange(port: int, data: bytes, *, wait: float = 5.0) -> tuple[bytes, bool]:
    """Everything the server answers to ``data``, and whether it then closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        sock.sendall(data)
        reply = b""
        try:
            while chunk := sock.recv(65536):
                reply += chunk
        except TimeoutError:
            return reply, False
    return reply, True


def statuses(reply: bytes) -> list[int]:
    return [int(line.split(b" ")[1]) for line in reply.split(b"\r\n") if line.startswith(b"HTTP/1.")]


# --- request smuggling shapes ----------------------------------------------------------------------


SMUGGLED_SEARCH = b"GET /api/search?q=smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
AMBIGUOUS = {
    "Content-Length with Transfer-Encoding": (
        b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n" + SMUGGLED_SEARCH
    ),
    "Transfer-Encoding in HTTP/1.0": (
        b"POST / HTTP/1.0\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
        b"0\r\n\r\n" + SMUGGLED_SEARCH
    ),
    "no HTTP version": b"GET /\r\n\r\n" + SMUGGLED_SEARCH,
    "HTTP/9.9": b"GET / HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n" + SMUGGLED_SEARCH,
    "absolute form naming another host": (
        b"GET http://example.com/api/search?q=neu HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + SMUGGLED_SEARCH
    ),
    "absolute form without a Host header": b"GET http://example.com/ HTTP/1.0\r\n\r\n",
    "HTTP/1.1 without a Host header": b"GET /api/search?q=neu HTTP/1.1\r\n\r\n" + SMUGGLED_SEARCH,
}


@pytest.mark.parametrize("shape", AMBIGUOUS)
def test_a_request_that_could_be_read_two_ways_gets_400_and_its_connection_closed(port: int, shape: str):
    reply, closed = exchange(port, AMBIGUOUS[shape])
    assert statuses(reply) == [400], reply
    assert closed
    assert b"smuggled" not in reply


def feed(parser: HTTPRequestParser, data: bytes) -> HTTPRequestParser:
    """``parser`` given ``data`` as waitress's channel gives it, up to the end of the first request."""
    while data and not parser.completed:
        data = data[parser.received(data) :]
    return parser


def test_waitress_alone_accepts_those_shapes_which_is_why_the_server_checks_them():
    """If waitress starts refusing them itself, the check in searchkit.webapp.webserver can go."""
    for shape, data in AMBIGUOUS.items():
        parser = feed(HTTPRequestParser(Adjustments()), data)
        assert parser.completed and parser.error is None, shape


def test_the_checked_parser_reads_ordinary_requests_as_waitress_does():
    requests = [
        SEARCH,
        b"GET /articles/%C4%91%E1%BA%A3ng?q=n%C3%AAu HTTP/1.0\r\nHost: localhost:8000\r\n"
        b"Connection: keep-alive\r\n\r\n",
        b"GET http://127.0.0.1:8000/?q=x HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n",
        b"GET http://Example.com/ HTTP/1.1\r\nHost: example.com:80\r\n\r\n",
        b"POST /api/search HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        b"POST /api/search HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    ]
    fields = ("completed", "error", "command", "path", "query", "version", "headers", "chunked", "content_length")
    for data in requests:
        ours, theirs = feed(webserver._Parser(Adjustments()), data), feed(HTTPRequestParser(Adjustments()), data)
        assert ours.error is None
        assert {f: getattr(ours, f) for f in fields} == {f: getattr(theirs, f) for f in fields}, data
        assert ours.get_body_stream().read() == theirs.get_body_stream().read()


def test_absolute_form_naming_the_host_itself_is_served(port: int):
    target = f"http://127.0.0.1:{port}/api/search?q=neu+guong".encode()
    head = f" HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    reply, _ = exchange(port, b"GET " + target + head)
    assert statuses(reply) == [200]
    assert NEU_GUONG.encode() in reply


def test_a_kept_alive_connection_still_answers_request_after_request(port: int):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for _ in range(3):
            connection.request("GET", "/api/search?q=neu+guong")
            response = connection.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["results"][0]["id"] == NEU_GUONG
            if _ == 0:
                first = connection.sock
            assert connection.sock is first  # the same connection all along
    finally:
        connection.close()


# --- slow and silent connections ---------------------------------------------------------------------


def test_a_client_trickling_its_request_is_closed_after_the_read_timeout(seeds_index: Path, seeds_dir: Path):
    app = create_app(index_dir=seeds_index, seeds_dir=seeds_dir)
    with running(app, webserver.Limits(read_seconds=1)) as found:
        with socket.create_connection(("127.0.0.1", found), timeout=10) as sock:
            started = time.monotonic()
            closed_after = None
            for byte in SEARCH[:40]:  # one byte every 0.2 s: never silent, never done
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    closed_after = time.monotonic() - started
                    break
                sock.settimeout(0.2)
                try:
                    if sock.recv(1) == b"":
                        closed_after = time.monotonic() - started
                        break
                except TimeoutError:
                    pass
        # Before the read deadline, the connection stayed open for the 8 s the bytes took, and longer.
        assert closed_after is not None and 1 <= closed_after < 4


def test_a_silent_connection_is_closed_after_the_idle_timeout(seeds_index: Path, seeds_dir: Path):
    app = create_app(index_dir=seeds_index, seeds_dir=seeds_dir)
    with running(app, webserver.Limits(idle_seconds=1)) as found:
        with socket.create_connection(("127.0.0.1", found), timeout=10) as sock:
            started = time.monotonic()
            assert sock.recv(1) == b""
            assert time.monotonic() - started < 5


def test_the_server_holds_more_connections_than_waitress_would_and_watches_them_with_poll(port: int):
    limits = webserver.Limits(connections=700)
    server = webserver.make_server(create_app(index_dir="missing"), "127.0.0.1", 0, limits=limits)
    try:
        assert server.adj.connection_limit == 700 > Adjustments().connection_limit
        assert server.adj.asyncore_use_poll
        assert server.adj.channel_timeout == webserver.IDLE_SECONDS < Adjustments().channel_timeout
    finally:
        server.close()


def load_slowloris():
    spec = importlib.util.spec_from_file_location("slowloris", ROOT / "tests" / "bench" / "slowloris.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("slowloris", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_search_answers_while_200_slow_clients_hold_connections(seeds_dir: Path, seeds_index: Path, tmp_path: Path):
    """`searchkit serve --workers 1` with its default limits; waitress's own let 100 slow sockets shut it."""
    report = load_slowloris().run(seeds_dir, tmp_path, sockets=200, workers=1, seconds=4, index_dir=seeds_index)
    assert len(report.during) >= 2
    assert report.failures == []
    assert report.open_at_end == 200


# --- the log --------------------------------------------------------------------------------------------


def test_escape_controls_writes_terminal_escapes_out():
    assert webserver.escape_controls("/articles/\x1b]0;PWNED\x07") == "/articles/\\x1b]0;PWNED\\x07"
    assert webserver.escape_controls("a\nb\r\u2028c\x9b") == "a\\nb\\r\\u2028c\\x9b"
    assert webserver.escape_controls("Traceback\n  x\x1b", newlines=True) == "Traceback\n  x\\x1b"
    assert webserver.escape_controls("Thành uỷ Đông Hà") == "Thành uỷ Đông Hà"


def test_terminal_escapes_in_a_request_path_reach_the_log_escaped(
    seeds_index: Path, seeds_dir: Path, monkeypatch, caplog
):
    def broken(self, doc_id):
        raise RuntimeError(f"cannot read {doc_id}")

    monkeypatch.setattr(Searcher, "document", broken)
    with running(create_app(index_dir=seeds_index, seeds_dir=seeds_dir)) as found:
        with caplog.at_level(logging.ERROR):
            reply, _ = exchange(
                found, b"GET /articles/%1b%5d0;PWNED%07 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
    assert statuses(reply) == [500]
    logged = caplog.text
    assert "Exception on /articles/\\x1b]0;PWNED\\x07 [GET]" in logged
    assert "RuntimeError: cannot read \\x1b]0;PWNED\\x07" in logged
    assert "\x1b" not in logged and "\x07" not in logged


# Eight threads alive at once, each allocating arrays outside Python's small-object allocator; then
# how many arenas glibc's malloc_info reports.
_ARENAS = """
import ctypes, sys, tempfile, threading
import numpy as np
from searchkit.webapp import arenas
if sys.argv[1] == "limited":
    assert arenas.limit()
together = threading.Barrier(8)
def work():
    kept = [np.ones(1_000) for _ in range(200)]
    together.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL("libc.so.6")
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = libc.fclose.argtypes = None
with tempfile.NamedTemporaryFile(suffix=".xml") as report:
    out = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, ctypes.c_void_p(out))
    libc.fclose(ctypes.c_void_p(out))
    print(open(report.name).read().count("<heap nr="))
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")
def test_a_server_s_threads_share_two_malloc_arenas_not_one_each():
    def arenas_with(mode: str) -> int:
        env = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
        done = subprocess.run([sys.executable, "-c", _ARENAS, mode], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return int(done.stdout)

    assert arenas_with("as-is") > arenas.SERVING_ARENAS
    assert arenas_with("limited") <= arenas.SERVING_ARENAS


def test_the_arenas_are_left_to_the_environment_where_it_sets_them(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert arenas.limit() is False
