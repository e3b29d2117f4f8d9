"""`searchkit serve --workers N`: several processes answer on one port, and none outlives the server.

Which worker answered is read from /proc: the process holding the server's end of the connection.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from commands import start

from searchkit.build.index import build
from searchkit.cli import main
from searchkit.cli import serve as serve_module
from searchkit.engines.backend import DEFAULT_CACHE_MB
from searchkit.engines.whoosh import cache
from searchkit.webapp import serving, webserver

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")

ROOT = Path(__file__).resolve().parents[1]
NEU_GUONG = "004_a29b889078a98f24.txt"
NEW_ARTICLE = "hồ-tràm.txt"
NEW_TEXT = "Thả cá giống xuống hồ Tràm\n\nNgày hội thả cá giống xuống hồ Tràm thu hút đông đảo người dân.\n"
# How long a process gets to do what a test waits for (start, stop, replace a worker).
PATIENCE = 10.0


# --- helpers ----------------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path
    seen: set[int] = field(default_factory=set)  # every worker pid, killed at the end if still there

    def workers(self, count: int = 2) -> set[int]:
        """The worker pids, once there are ``count`` of them."""

        def counted() -> set[int] | None:
            now = children(self.process.pid)
            return now if len(now) == count else None

        found = wait_for(counted)
        self.seen |= found
        return found

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)


@contextmanager
def serve(seeds: Path, index_dir: Path, tmp_path: Path, *args: str, **popen: object) -> Iterator[Server]:
    log = tmp_path / "server.log"
    with log.open("w") as stderr:
        process = start(
            "serve", "--host", "127.0.0.1", "--port", "0", "--seeds", seeds, "--index", index_dir, *args,
            stdout=subprocess.PIPE, stderr=stderr, text=True, **popen,
        )  # fmt: skip
    server = Server(process, 0, log)
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("Serving on http://127.0.0.1:"), line + log.read_text()
        server.port = int(line.split()[2].rstrip("/").rsplit(":", 1)[1])
        yield server
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=PATIENCE)
        for pid in children(process.pid) | server.seen:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def wait_for(check, seconds: float = PATIENCE):
    deadline = time.monotonic() + seconds
    while (found := check()) is None or found is False:
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)
    return found


def children(parent: int) -> set[int]:
    """The live processes whose parent is ``parent``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == str(parent) and stat[0] != "Z":
                found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running: neither gone nor a zombie waiting to be reaped."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # state, ppid, ...


def ask(connection: http.client.HTTPConnection, text: str) -> list[str]:
    """The ids ``/api/search`` answers for ``text`` on this (kept-alive) connection."""
    connection.request("GET", "/api/search?" + urllib.parse.urlencode({"q": text, "limit": 100}))
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200, body
    return [hit["id"] for hit in json.loads(body)["results"]]


def answering(connection: http.client.HTTPConnection, server: Server, workers: set[int]) -> int:
    """The worker holding the server's end of ``connection`` (open, after one request)."""
    client_port = connection.sock.getsockname()[1]
    wanted = (f"0100007F:{server.port:04X}", f"0100007F:{client_port:04X}")
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == wanted:
            inode = f"socket:[{fields[9]}]"
            break
    else:
        raise AssertionError("no server socket for the connection")
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == inode:
                    return pid
            except OSError:
                continue
    raise AssertionError("no worker holds the connection")


def one_connection_per_worker(server: Server, workers: set[int]) -> dict[int, http.client.HTTPConnection]:
    """Kept-alive connections, one answered by each worker (the kernel picks who accepts)."""
    kept: dict[int, http.client.HTTPConnection] = {}
    for _ in range(200):
        connection = server.connect()
        assert ask(connection, "nêu gương")[0] == NEU_GUONG
        pid = answering(connection, server, workers)
        if pid in kept:
            connection.close()
        else:
            kept[pid] = connection
        if len(kept) == len(workers):
            return kept
    raise AssertionError(f"only workers {sorted(kept)} of {sorted(workers)} accepted connections")


# --- tests ------------------------------------------------------------------------------------------


def test_two_workers_answer_and_each_sees_a_build_published_meanwhile(folders, tmp_path: Path):
    seeds, index_dir = folders
    with serve(seeds, index_dir, tmp_path, "--workers", "2") as server:
        workers = server.workers()
        assert server.process.pid not in workers
        kept = one_connection_per_worker(server, workers)
        assert set(kept) == workers
        for connection in kept.values():
            assert NEW_ARTICLE not in ask(connection, "ca giong ho tram")

        (seeds / NEW_ARTICLE).write_text(NEW_TEXT, encoding="utf-8")
        build(seeds, index_dir, procs=1)

        # Each worker had searchers open on the old generation: its next request moves to the new one.
        for pid, connection in kept.items():
            assert answering(connection, server, workers) == pid
            assert ask(connection, "ca giong ho tram")[0] == NEW_ARTICLE
            assert ask(connection, "thả cá giống")[0] == NEW_ARTICLE
            connection.close()
        assert server.workers() == workers  # none was restarted to get there


@pytest.mark.parametrize("stop", ["SIGTERM to the server", "Ctrl+C in its terminal"])
def test_stopping_the_server_stops_every_worker(folders, tmp_path: Path, stop: str):
    seeds, index_dir = folders
    with serve(seeds, index_dir, tmp_path, "--workers", "2", start_new_session=True) as server:
        workers = server.workers()
        if stop == "SIGTERM to the server":
            server.process.send_signal(signal.SIGTERM)
        else:
            # The terminal sends SIGINT to its whole foreground group: the workers too.
            os.killpg(server.process.pid, signal.SIGINT)
        started = time.monotonic()
        assert server.process.wait(timeout=PATIENCE) == 0
        assert time.monotonic() - started < 5
        assert not [pid for pid in workers if alive(pid)]
        assert "Traceback" not in server.log.read_text()


def test_workers_end_when_the_server_is_killed(folders, tmp_path: Path):
    seeds, index_dir = folders
    with serve(seeds, index_dir, tmp_path, "--workers", "2") as server:
        workers = server.workers()
        server.process.kill()
        server.process.wait(timeout=PATIENCE)
        wait_for(lambda: not any(alive(pid) for pid in workers), seconds=5)


def test_a_worker_that_dies_is_replaced(folders, tmp_path: Path):
    seeds, index_dir = folders
    with serve(seeds, index_dir, tmp_path, "--workers", "2") as server:
        workers = server.workers()
        dead = min(workers)
        os.kill(dead, signal.SIGKILL)
        replaced = wait_for(lambda: (now := server.workers()) != workers and now)
        assert dead not in replaced and len(replaced) == 2
        kept = one_connection_per_worker(server, replaced)
        assert set(kept) == replaced
        for connection in kept.values():
            connection.close()
        assert f"worker {dead} died (signal SIGKILL)" in server.log.read_text()


def test_the_server_gives_up_when_workers_keep_dying(folders, tmp_path: Path):
    seeds, index_dir = folders
    with serve(seeds, index_dir, tmp_path, "--workers", "2") as server:
        killed, deadline = 0, time.monotonic() + PATIENCE
        while server.process.poll() is None and time.monotonic() < deadline:
            for pid in children(server.process.pid):
                # A worker listed a moment ago may have died of an earlier kill already.
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
            time.sleep(0.1)
        assert server.process.wait(timeout=PATIENCE) == 1
        assert killed >= 5
        assert not children(server.process.pid)
        last = server.log.read_text().strip().splitlines()[-1]
        assert last == "Error: the server's workers keep dying (5 in 10 s): stopped"


def test_workers_default_to_the_cores_this_process_may_use(seeds_dir, seeds_index, monkeypatch):
    calls = []

    def fake_supervise(sockets, *, index_dir, seeds_dir, workers, shards=None, limits=None, **options):
        assert limits == webserver.Limits()
        calls.append((serving.addresses(sockets), workers))

    monkeypatch.setattr(serving, "supervise", fake_supervise)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--index", str(seeds_index), "--seeds", str(seeds_dir)])
    assert result.exit_code == 0, result.output
    ((listening, workers),) = calls
    assert workers == 3
    (host, port), *_ = listening
    assert f"Serving on http://{host}:{port}/" in result.output


def test_serve_help_gives_the_limits_the_server_uses_by_default():
    result = CliRunner().invoke(main, ["serve", "--help"])
    text = " ".join(result.output.split())
    limits = webserver.DEFAULT_LIMITS
    assert "--connection-limit INTEGER RANGE" in text
    assert f"[default: {limits.connections};" in text
    assert f"[default: {limits.idle_seconds};" in text
    assert f"[default: {limits.read_seconds};" in text
    assert "docs/serving.md" in text


def test_workers_must_be_at_least_one(seeds_dir, seeds_index):
    result = CliRunner().invoke(
        main, ["serve", "--workers", "0", "--index", str(seeds_index), "--seeds", str(seeds_dir)]
    )
    assert result.exit_code == 2
    assert "--workers" in result.output


def test_serve_help_explains_workers():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert "--workers" in result.output
    assert "one per core" in result.output


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_in_use_is_one_line_whatever_the_workers(seeds_dir, seeds_index, workers):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(
            main,
            ["serve", "--workers", workers, "--port", str(port)]
            + ["--index", str(seeds_index), "--seeds", str(seeds_dir)],
        )
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_listen_binds_every_address_the_host_names():
    sockets = serving.listen("127.0.0.1", 0)
    try:
        ((host, port),) = serving.addresses(sockets)
        assert host == "127.0.0.1" and port > 0
        with socket.create_connection((host, port), timeout=5):
            pass  # the kernel completes the connection from the backlog before any worker accepts
    finally:
        for sock in sockets:
            sock.close()


def test_cache_mb_reaches_every_worker(seeds_dir, seeds_index, monkeypatch):
    calls = []

    def fake_supervise(sockets, *, index_dir, seeds_dir, workers, cache_mb=None, **options):
        calls.append((workers, cache_mb))

    monkeypatch.setattr(serving, "supervise", fake_supervise)
    arguments = ["serve", "--port", "0", "--index", str(seeds_index), "--seeds", str(seeds_dir), "--workers", "2"]
    assert CliRunner().invoke(main, [*arguments, "--cache-mb", "12"]).exit_code == 0
    assert CliRunner().invoke(main, arguments).exit_code == 0
    assert calls == [(2, 12.0), (2, DEFAULT_CACHE_MB)]


def test_cache_mb_bounds_the_single_process_servers_caches(seeds_dir, seeds_index, monkeypatch):
    monkeypatch.setattr(cache, "_default_mb", cache.DEFAULT_CACHE_MB)  # restored after the test
    bounds = []

    class Server:
        def __init__(self, app, **options):
            self.app = app

        def run(self):
            with self.app.extensions["searchkit"].searcher() as searcher:
                bounds.append(searcher.backend.shared.postings.max_bytes)

        def close(self):
            pass

    monkeypatch.setattr(serve_module.web, "make_server", Server)
    monkeypatch.setattr(serve_module.web, "server_urls", lambda server: [])
    arguments = ["serve", "--workers", "1", "--no-count-searches", "--index", str(seeds_index)]
    arguments += ["--seeds", str(seeds_dir)]
    result = CliRunner().invoke(main, [*arguments, "--cache-mb", "3"])
    assert result.exit_code == 0, result.output
    assert bounds == [3 * 2**20]
    refused = CliRunner().invoke(main, [*arguments, "--cache-mb", "-1"])
    assert refused.exit_code == 2 and "--cache-mb" in refused.output
