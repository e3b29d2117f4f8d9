"""Shard servers on this machine: ``xapian-tcpsrv --writable`` processes on 127.0.0.1, each with a
database folder of its own, for trying shards out, the test suite and the benchmark.

On several machines, run one ``xapian-tcpsrv --writable`` per host instead (see docs/shards.md).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from searchkit.engines.xapian.connection import Shard
from searchkit.errors import SearchkitError

SERVER = "xapian-tcpsrv"
# How long a server may take to start listening.
START_SECONDS = 10.0


class LocalShards:
    """``count`` shard servers with their databases under ``folder``; a context manager that stops them."""

    def __init__(self, folder: Path | str, count: int, *, ports: list[int] | None = None):
        self.folder = Path(folder)
        self.ports = ports or [_free_port() for _ in range(count)]
        self.shards = [Shard("127.0.0.1", port) for port in self.ports]
        self._servers: list[subprocess.Popen | None] = [None] * count

    def __enter__(self) -> LocalShards:
        for i in range(len(self.shards)):
            self.start(i)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def address(self) -> str:
        """The shards as ``--shards`` takes them."""
        return ",".join(str(shard) for shard in self.shards)

    def database(self, i: int) -> Path:
        return self.folder / f"shard-{i}"

    def start(self, i: int) -> None:
        """Starts server ``i`` (again) and waits until it accepts connections."""
        if shutil.which(SERVER) is None:
            raise SearchkitError(f"{SERVER} is not installed (Debian: apt-get install xapian-tools)")
        self.database(i).mkdir(parents=True, exist_ok=True)
        # Its own session: on SIGTERM xapian-tcpsrv signals its whole process group.
        self._servers[i] = subprocess.Popen(
            [SERVER, "--writable", "--quiet", "--interface", "127.0.0.1", "--port", str(self.ports[i]),
             str(self.database(i))],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.ports[i]), timeout=0.5).close()
                return
            except OSError:
                if self._servers[i].poll() is not None:
                    break
                time.sleep(0.05)
        raise SearchkitError(f"shard server {self.shards[i]} did not start")

    def stop(self, i: int | None = None) -> None:
        """Stops server ``i`` (every server if None), with the connections it serves."""
        for n in range(len(self._servers)) if i is None else [i]:
            server = self._servers[n]
            if server is None:
                continue
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait()
            self._servers[n] = None

    def pids(self, i: int) -> list[int]:
        """The server's processes (it forks one per connection), for measuring their memory."""
        server = self._servers[i]
        if server is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == server.pid:
                        found.append(int(entry.name))
                except ProcessLookupError:
                    continue
        return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
