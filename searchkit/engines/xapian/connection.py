"""Shard addresses, opening the shards, and Xapian's errors as searchkit's.

Every call that talks to a shard server runs inside :func:`guarded`, which turns Xapian's
exceptions into :class:`ShardError` (one line naming the shard) or :class:`IndexBusyError` (another
build holds a shard's write lock), so no Xapian traceback reaches a user.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from searchkit.errors import IndexBusyError, SearchkitError

# How long a query waits for a shard server to answer, and to accept a connection, in milliseconds.
TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_MS = 2_000
# A build waits longer: a shard server commits a large batch of documents before it answers.
WRITE_TIMEOUT_MS = 600_000
MAX_SHARDS = 64
_CONTEXT = re.compile(r"tcp\(([^)]*)\)")
_CONTEXT_NOTE = re.compile(r" \(context: [^()]*(?:\([^()]*\))?[^()]*\)")


class ShardError(SearchkitError):
    """A shard server cannot be reached, stopped answering, or failed; the message names it."""

    code = "shard_unavailable"


@dataclass(frozen=True)
class Shard:
    """One shard server's address."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_shards(text: str) -> list[Shard]:
    """The shards in ``HOST:PORT,HOST:PORT,…`` (``[::1]:PORT`` for an IPv6 address), in order.

    Raises :class:`SearchkitError` (``shards_invalid``) naming the first address that is none.
    """
    shards: list[Shard] = []
    for part in (p.strip() for p in text.split(",")):
        found = re.fullmatch(r"\[(?P<v6>[^\]]+)\]:(?P<p6>\d{1,5})|(?P<host>[^:\s\[\]]+):(?P<port>\d{1,5})", part)
        port = int(found.group("p6") or found.group("port")) if found else 0
        if not found or not 0 < port < 65536:
            raise SearchkitError(
                f"not a shard address: {part!r} (write HOST:PORT, several separated by commas)",
                code="shards_invalid",
                value=part,
            )
        shards.append(Shard(found.group("v6") or found.group("host"), port))
    if len(set(shards)) != len(shards):
        raise SearchkitError("a shard is named twice in --shards", code="shards_invalid", value=text)
    if len(shards) > MAX_SHARDS:
        raise SearchkitError(f"too many shards (at most {MAX_SHARDS})", code="shards_invalid", value=text)
    return shards


def xapian():  # noqa: ANN201 - the module, imported on first use
    """The Xapian bindings; a clear error when they are not installed."""
    try:
        import xapian as bindings
    except ImportError:
        raise SearchkitError(
            "searching shards needs the Xapian bindings: pip install 'searchkit[shards]'",
            code="shards_unsupported",
        ) from None
    return bindings


@contextmanager
def guarded(shards: list[Shard]) -> Iterator[None]:
    """Runs a block that talks to ``shards``; Xapian's errors leave it as searchkit's."""
    bindings = xapian()
    try:
        yield
    except bindings.DatabaseLockError as exc:
        raise IndexBusyError(
            f"shard {_named(exc, shards)} is being updated by another build; try again when it has finished",
            code="index_busy",
        ) from None
    except bindings.Error as exc:
        shard = _named(exc, shards)
        reason = _CONTEXT_NOTE.sub("", str(exc)) or type(exc).__name__
        raise ShardError(f"shard {shard} is unavailable: {reason}", shard=shard) from None


def open_reader(shards: list[Shard]):  # noqa: ANN201
    """All ``shards`` as one Xapian database."""
    bindings = xapian()
    database = bindings.Database()
    for shard in shards:
        with guarded([shard]):
            database.add_database(bindings.remote_open(shard.host, shard.port, TIMEOUT_MS, CONNECT_TIMEOUT_MS))
    return database


def open_one(shard: Shard):  # noqa: ANN201
    """One shard on its own (its metadata, which a combined database does not merge)."""
    bindings = xapian()
    with guarded([shard]):
        return bindings.remote_open(shard.host, shard.port, TIMEOUT_MS, CONNECT_TIMEOUT_MS)


def open_writer(shard: Shard):  # noqa: ANN201
    """One shard for writing; :class:`IndexBusyError` while another build writes to it."""
    bindings = xapian()
    with guarded([shard]):
        return bindings.remote_open_writable(shard.host, shard.port, WRITE_TIMEOUT_MS, CONNECT_TIMEOUT_MS)


def _named(exc: Exception, shards: list[Shard]) -> str:
    """The shard an error came from.

    Xapian names the server in the message of an error opening a connection. An error on a
    connection already open names none (and asking the error for its context can crash the
    bindings), so the shards that no longer accept connections are named instead.
    """
    found = _CONTEXT.search(str(exc))
    if found:
        return found.group(1)
    if len(shards) == 1:
        return str(shards[0])
    down = [str(shard) for shard in shards if not _accepts(shard)]
    return ", ".join(down or [str(shard) for shard in shards])


def _accepts(shard: Shard) -> bool:
    try:
        socket.create_connection((shard.host, shard.port), timeout=CONNECT_TIMEOUT_MS / 1000).close()
        return True
    except OSError:
        return False
