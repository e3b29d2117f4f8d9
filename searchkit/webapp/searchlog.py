"""What readers searched for, and what they could not find: counts in a small SQLite file beside the index.

The server counts each search by its text as :func:`searchkit.text.analysis.normalize` writes it (NFC, one tone-mark
placement, lower case, spaces collapsed), the day (UTC) and how many results it found; nothing about who searched
(no address, no browser, no time of day finer than the day) is ever stored. ``searchkit stats`` reads the counts.

The file lives in the index folder, outside every generation (``index/searches.sqlite``): a build never copies or
removes it. It stays small: at most :data:`MAX_QUERIES_PER_DAY` distinct searches a day (a new one past that is
left out; the ones already there go on counting), texts cut at :data:`MAX_QUERY_CHARS`, and days older than
:data:`KEEP_DAYS` pruned.

A request only adds to a counter in memory; a thread writes the counters in one short transaction every
:data:`FLUSH_SECONDS`, so a search never waits for the disk. A file that cannot be written (a read-only folder,
a full disk, a locked or damaged file) is logged once and the counts of that moment dropped: searching goes on.
A worker stopped by SIGTERM writes its counts first; one killed outright loses the last few seconds' worth.
"""

from __future__ import annotations

import datetime
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from searchkit.errors import SearchkitError
from searchkit.text.analysis import normalize, visible

FILE = "searches.sqlite"
MAX_QUERY_CHARS = 200
MAX_QUERIES_PER_DAY = 10_000
KEEP_DAYS = 90
FLUSH_SECONDS = 2.0
# Distinct searches held in memory between two writes; past it, new ones wait for the next write's room.
MAX_PENDING = 5_000
# How long a write waits for another worker's write to the same file.
BUSY_MILLISECONDS = 2_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    day TEXT NOT NULL,              -- YYYY-MM-DD, UTC
    query TEXT NOT NULL,            -- normalised text
    searches INTEGER NOT NULL,      -- how many times it was searched that day
    empty INTEGER NOT NULL,         -- how many of those found nothing
    results INTEGER NOT NULL,       -- the result count of its last search that day
    PRIMARY KEY (day, query)
) WITHOUT ROWID
"""

Key = tuple[str, str]  # (day, normalised query)

log = logging.getLogger(__name__)


def normalized(text: str) -> str:
    """The form a search is counted under: ``"  Nêu  GƯƠNG "`` → ``"nêu gương"``, at most :data:`MAX_QUERY_CHARS`."""
    return " ".join(normalize(visible(text)).split())[:MAX_QUERY_CHARS]


def today() -> str:
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


@dataclass
class _Pending:
    searches: int = 0
    empty: int = 0
    results: int = 0


class SearchLog:
    """Counts searches in memory and writes them to ``path`` in batches (:meth:`flush`, or every ``every`` s)."""

    def __init__(self, path: Path | str, *, every: float = FLUSH_SECONDS, day: Callable[[], str] = today):
        self.path = Path(path)
        self.every = every
        self._day = day
        self._lock = threading.Lock()
        self._pending: dict[Key, _Pending] = {}
        self._warned = False
        self._pruned: str | None = None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    def record(self, text: str, results: int) -> None:
        """Counts one search of ``text`` that found ``results`` results. Never raises, never waits on the disk."""
        query = normalized(text)
        if not query:
            return
        key = (self._day(), query)
        with self._lock:
            entry = self._pending.get(key)
            if entry is None:
                if len(self._pending) >= MAX_PENDING:
                    return
                entry = self._pending[key] = _Pending()
            entry.searches += 1
            entry.empty += results == 0
            entry.results = results
            if self._thread is None and self.every > 0:
                self._thread = threading.Thread(target=self._run, name="searchkit-searchlog", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        """Writes the counts held in memory, in one transaction; logs once and drops them if it cannot."""
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            _write(self.path, pending, prune=self._prune_due())
        except (sqlite3.Error, OSError) as exc:
            if not self._warned:
                self._warned = True
                log.warning("cannot count searches in %s (%s): searching goes on without it", self.path, exc)

    def close(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(self.every + BUSY_MILLISECONDS / 1000)
        self.flush()

    def _run(self) -> None:
        while not self._stopped.wait(self.every):
            self.flush()

    def _prune_due(self) -> str | None:
        day = self._day()
        if self._pruned == day:
            return None
        self._pruned = day
        return (datetime.date.fromisoformat(day) - datetime.timedelta(days=KEEP_DAYS)).isoformat()


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_MILLISECONDS / 1000, isolation_level=None)
    connection.execute(f"PRAGMA busy_timeout = {BUSY_MILLISECONDS}")
    return connection


def _write(path: Path, pending: dict[Key, _Pending], *, prune: str | None) -> None:
    connection = _connect(path)
    try:
        connection.execute(_SCHEMA)
        connection.execute("BEGIN IMMEDIATE")
        room: dict[str, int] = {}
        for (day, query), entry in pending.items():
            if day not in room:
                (held,) = connection.execute("SELECT count(*) FROM searches WHERE day = ?", (day,)).fetchone()
                room[day] = MAX_QUERIES_PER_DAY - held
            updated = connection.execute(
                "UPDATE searches SET searches = searches + ?, empty = empty + ?, results = ? "
                "WHERE day = ? AND query = ?",
                (entry.searches, entry.empty, entry.results, day, query),
            ).rowcount
            if not updated and room[day] > 0:
                connection.execute(
                    "INSERT INTO searches (day, query, searches, empty, results) VALUES (?, ?, ?, ?, ?)",
                    (day, query, entry.searches, entry.empty, entry.results),
                )
                room[day] -= 1
        if prune is not None:
            connection.execute("DELETE FROM searches WHERE day < ?", (prune,))
        connection.execute("COMMIT")
    finally:
        connection.close()


# --- reading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchCount:
    """A search over the period: how often, how many of those found nothing, its last result count."""

    query: str
    searches: int
    empty: int
    results: int

    def to_dict(self) -> dict:
        return {"query": self.query, "searches": self.searches, "no_results": self.empty, "results": self.results}


@dataclass(frozen=True)
class SearchStats:
    """The most frequent searches over ``days`` days up to ``until``, and those that found nothing."""

    since: str
    until: str
    days: int
    searches: int
    distinct: int
    top: list[SearchCount]
    not_found: list[SearchCount]

    def to_dict(self) -> dict:
        return {
            "since": self.since,
            "until": self.until,
            "days": self.days,
            "searches": self.searches,
            "distinct": self.distinct,
            "top": [c.to_dict() for c in self.top],
            "no_results": [c.to_dict() for c in self.not_found],
        }


def stats(index_dir: Path | str, *, days: int = 30, limit: int = 20, until: str | None = None) -> SearchStats:
    """The counts of the last ``days`` days (today included) in ``index_dir``'s search counts.

    No file yet gives empty lists. Raises :class:`SearchkitError` (``searches_unreadable``) for a file that
    cannot be read.
    """
    until = until or today()
    since = (datetime.date.fromisoformat(until) - datetime.timedelta(days=days - 1)).isoformat()
    path = Path(index_dir) / FILE
    if not path.exists():
        return SearchStats(since, until, days, 0, 0, [], [])
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_MILLISECONDS / 1000)
        try:
            where = "FROM searches WHERE day BETWEEN ? AND ?"
            total, distinct = connection.execute(
                f"SELECT coalesce(sum(searches), 0), count(DISTINCT query) {where}", (since, until)
            ).fetchone()
            # The last result count is the latest day's (days sort as text).
            grouped = (
                "SELECT query, sum(searches) AS n, sum(empty) AS e, "
                f"(SELECT results FROM searches AS s WHERE s.query = searches.query AND s.day BETWEEN ? AND ? "
                f"ORDER BY s.day DESC LIMIT 1) {where} GROUP BY query"
            )
            top = connection.execute(
                f"{grouped} ORDER BY n DESC, query LIMIT ?", (since, until, since, until, limit)
            ).fetchall()
            not_found = connection.execute(
                f"{grouped} HAVING e > 0 ORDER BY e DESC, query LIMIT ?", (since, until, since, until, limit)
            ).fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise SearchkitError(f"cannot read the search counts in {path}: {exc}", code="searches_unreadable") from exc
    return SearchStats(
        since,
        until,
        days,
        int(total),
        int(distinct),
        [SearchCount(*row) for row in top],
        [SearchCount(*row) for row in not_found],
    )
