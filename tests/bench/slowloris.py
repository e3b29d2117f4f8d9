"""Slow clients beside a normal search: `searchkit serve` on 127.0.0.1 while many sockets trickle their headers.

    python tests/bench/slowloris.py --sockets 500 --workers 1 --seconds 40
    python tests/bench/slowloris.py --sockets 500 --workers 2 --seconds 40

A copy of the seed articles is indexed and served by a real `searchkit serve` on 127.0.0.1 (and nowhere else).
``--sockets`` connections then send a request head one byte a second, never finishing it; one that the server
closes is opened again at once, as a real attacker would. Meanwhile a normal search (`/api/search?q=nêu gương`, a
new connection each time) is sent every ``--every`` seconds and timed, with ``--timeout`` seconds to answer. The run
stops by itself after ``--seconds`` and prints the figures: how the searches fared before the slow sockets opened and
while they were open, and how many slow sockets the server closed. Arguments after ``--`` go to `searchkit serve`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUERY = "nêu gương"
# A request head that never ends: one byte of it is sent each second.
SLOW_HEAD = b"GET /?q=neu+guong HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 100_000
PATIENCE = 60.0


@dataclass
class Search:
    started: float  # seconds since the run began
    seconds: float | None  # None: no answer within the timeout
    status: int | None = None
    error: str | None = None


@dataclass
class Report:
    sockets: int
    workers: int
    seconds: float
    before: list[Search] = field(default_factory=list)  # with no slow socket open
    during: list[Search] = field(default_factory=list)  # with the slow sockets open
    opened: int = 0  # slow sockets opened in all (reopened ones included)
    closed_by_server: int = 0
    open_at_end: int = 0

    @property
    def failures(self) -> list[Search]:
        return [s for s in self.during if s.seconds is None or s.status != 200]

    def figures(self) -> dict:
        def summary(searches: list[Search]) -> dict:
            times = sorted(s.seconds for s in searches if s.seconds is not None and s.status == 200)
            return {
                "searches": len(searches),
                "answered": len(times),
                "p50_ms": round(statistics.median(times) * 1000, 1) if times else None,
                "p95_ms": round(times[int(0.95 * (len(times) - 1))] * 1000, 1) if times else None,
                "max_ms": round(times[-1] * 1000, 1) if times else None,
            }

        return {
            "sockets": self.sockets,
            "workers": self.workers,
            "seconds": self.seconds,
            "before": summary(self.before),
            "during": summary(self.during),
            "failed": len(self.failures),
            "slow_sockets_opened": self.opened,
            "closed_by_server": self.closed_by_server,
            "open_at_end": self.open_at_end,
        }


def run(
    seeds_dir: Path,
    work: Path,
    *,
    sockets: int,
    workers: int,
    seconds: float,
    every: float = 0.5,
    timeout: float = 5.0,
    serve_args: tuple[str, ...] = (),
    index_dir: Path | None = None,
) -> Report:
    """Serves a copy of ``seeds_dir`` (indexed into ``index_dir``, built in ``work`` when not given) and measures."""
    seeds = Path(shutil.copytree(seeds_dir, work / "seeds"))
    if index_dir is None:
        index_dir = work / "index"
        subprocess.run(_searchkit("index", "--seeds", str(seeds), "--index", str(index_dir)), check=True,
                       stdout=subprocess.DEVNULL, timeout=600)
    report = Report(sockets, workers, seconds)
    log = work / "server.log"
    with log.open("w") as stderr:
        server = subprocess.Popen(
            _searchkit("serve", "--host", "127.0.0.1", "--port", "0", "--workers", str(workers),
                       "--seeds", str(seeds), "--index", str(index_dir), *serve_args),
            stdout=subprocess.PIPE, stderr=stderr, text=True,
        )
    try:
        line = server.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("Serving on http://127.0.0.1:"):
            raise RuntimeError(f"the server did not start: {line}{log.read_text()}")
        port = int(line.split()[2].rstrip("/").rsplit(":", 1)[1])
        begin = time.monotonic()
        for _ in range(4):
            report.before.append(_search(port, begin, timeout))
            time.sleep(every)
        slow = _SlowSockets(port, sockets)
        stop_at = time.monotonic() + seconds
        sender = threading.Thread(target=slow.run, args=(stop_at,), daemon=True)
        sender.start()
        slow.ready.wait(PATIENCE)
        while time.monotonic() < stop_at:
            report.during.append(_search(port, begin, timeout))
            time.sleep(max(0.0, every - (report.during[-1].seconds or timeout)))
        sender.join(PATIENCE)
        report.opened, report.closed_by_server, report.open_at_end = slow.opened, slow.closed, len(slow.open)
        slow.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return report


def _searchkit(*args: str) -> list[str]:
    return [sys.executable, "-c", "from searchkit.cli import main; main()", *args]


def _search(port: int, begin: float, timeout: float) -> Search:
    started = time.monotonic()
    path = "/api/search?" + urllib.parse.urlencode({"q": QUERY})
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(max(0.001, timeout - (time.monotonic() - started)))
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
                sock.settimeout(max(0.001, timeout - (time.monotonic() - started)))
    except OSError as exc:
        return Search(started - begin, None, error=type(exc).__name__)
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/") else None
    return Search(started - begin, time.monotonic() - started, status)


class _SlowSockets:
    """``count`` connections each sending :data:`SLOW_HEAD` a byte a second; one closed is opened again."""

    def __init__(self, port: int, count: int):
        self.port, self.count = port, count
        self.open: dict[socket.socket, int] = {}  # socket: bytes sent
        self.opened = self.closed = 0
        self.ready = threading.Event()

    def _connect(self) -> None:
        sock = socket.socket()
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            sock.connect(("127.0.0.1", self.port))
        self.open[sock] = 0
        self.opened += 1

    def run(self, stop_at: float) -> None:
        for _ in range(self.count):
            self._connect()
        self.ready.set()
        while time.monotonic() < stop_at:
            tick = time.monotonic()
            for sock, sent in list(self.open.items()):
                if sent and self._ended(sock):  # the server answered or closed it
                    self._drop(sock)
                    self.closed += 1
                    self._connect()
                    continue
                try:
                    sock.send(SLOW_HEAD[sent : sent + 1])
                    self.open[sock] = sent + 1
                except BlockingIOError:  # still connecting
                    pass
                except OSError:
                    self._drop(sock)
                    self.closed += 1
                    self._connect()
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))

    @staticmethod
    def _ended(sock: socket.socket) -> bool:
        try:
            sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        except OSError:
            pass
        return True

    def _drop(self, sock: socket.socket) -> None:
        del self.open[sock]
        sock.close()

    def close(self) -> None:
        for sock in list(self.open):
            self._drop(sock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between two timed searches")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds a timed search may take")
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--out", type=Path, help="also write the figures here as JSON")
    parser.add_argument("serve_args", nargs="*", help="after --: more options for `searchkit serve`")
    args = parser.parse_args()
    if args.sockets + 64 > _open_files():
        sys.exit(f"{args.sockets} sockets need more open files than this process may have ({_open_files()})")
    with tempfile.TemporaryDirectory(prefix="searchkit-slowloris-") as tmp:
        report = run(args.seeds, Path(tmp), sockets=args.sockets, workers=args.workers, seconds=args.seconds,
                     every=args.every, timeout=args.timeout, serve_args=tuple(args.serve_args))
    figures = report.figures()
    print(json.dumps(figures, indent=2))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")


def _open_files() -> int:
    import resource

    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
