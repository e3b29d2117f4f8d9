"""The spelling counts: how the articles spell things, counted (accents, acronyms, title phrases).

Engine-neutral: the embedded index keeps them beside each generation, each Xapian shard in its
metadata (``searchkit.engines.xapian.statistics``); a build writes them (:class:`SpellingWriter`,
counting each article with :func:`counts_of`), and everything that reads them reads them through
one protocol, :class:`Spellings`. Three tables of counts, each a term and how often the collection
holds it:

- ``counts``, the accent statistics: how often each folded syllable and pair of syllables takes
  each spelling (a term of :func:`searchkit.text.analysis.accent_terms`, ``neu guong|nêu gương``), and
  the sum of all counts. Accent restoration (``searchkit.search.restoration``) reads them as a bigram model,
  autocompletion (``searchkit.search.complete``) as the frequent words;
- ``acronyms``: how many articles define each acronym so (``CCVC|công chức, viên chức``,
  ``searchkit.search.acronyms``);
- ``phrases``: the runs of words in titles (``chi thi 05|chỉ thị 05``, ``searchkit.search.complete``).

They are counts, not search fields: indexed in Whoosh they cost a posting list per spelling (most
of a segment's terms and a third of a build), where their readers only ever ask for totals. So
each generation of the index keeps them in a SQLite file of its own, ``spellings.sqlite``. A build
copies the current generation's file and adds the counts of the articles it indexes and subtracts
those of the articles it replaces or removes, so the statistics follow every update exactly.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from searchkit.text.acronyms import terms as acronym_terms
from searchkit.text.analysis import (
    Token,
    accent_terms,
    clauses,
    could_take_accents,
    fold_syllable,
    nfc,
    normalize_syllable,
    pieces,
    syllables,
)

FILE = "spellings.sqlite"
ACCENTS, ACRONYMS, PHRASES = "counts", "acronyms", "phrases"
TABLES = (ACCENTS, ACRONYMS, PHRASES)
# Counts held in memory before they are written out: bounds a build's memory, not its result.
FLUSH_TERMS = 200_000
# Characters of an article whose accent terms are listed at once.
ACCENT_PIECE_CHARS = 100_000
_TOTAL = ""  # the row holding the sum of all counts (no term is empty)
# Title phrases are counted up to this many words: a query's last words are completed from them.
PHRASE_WORDS = 3
# The runs whose spellings an open version keeps looked up (:class:`LookedUp`). Unbounded, they grew
# with every distinct query (38 MB after 900 distinct titles on 10,000 articles); a query looks up a
# few dozen runs, so this keeps those of a thousand or more queries at a few tens of megabytes at most.
LOOKED_UP_RUNS = 32_768


Tally = dict[str, Counter[str]]
"""What one article adds to each table: its terms and how often each occurs in it."""


def counts_of(title: str, text: str) -> Tally:
    """The terms one article adds to each table and how often."""
    whole = nfc(title + "\n" + text)
    accents: Counter[str] = Counter()
    # A long article a piece at a time, cut after line breaks, which no pair of syllables spans:
    # the same counts without a list of every syllable of it at once.
    for start, end in pieces(whole, ACCENT_PIECE_CHARS):
        accents.update(accent_terms(whole[start:end]))
    return {
        ACCENTS: accents,
        ACRONYMS: Counter(acronym_terms(whole)),
        PHRASES: Counter(title_phrases(title)),
    }


def title_phrases(title: str) -> list[str]:
    """The runs of a title counted for completion: ``chi thi 05|chỉ thị 05``, the folded words and their spelling.

    Every run of two or three words written side by side, and each word alone that accent
    statistics leave out (numbers, acronyms, foreign words: ``iphone|iPhone``).
    """
    text = nfc(title)
    runs = clauses(text, syllables(text))
    found: list[str] = []
    for run in runs:
        for i, token in enumerate(run):
            if not could_take_accents(token.text):
                found.append(_term([token]))
            for size in range(2, PHRASE_WORDS + 1):
                if i + size <= len(run):
                    found.append(_term(run[i : i + size]))
    return found


def _term(tokens: list[Token]) -> str:
    folded = " ".join(fold_syllable(t.text) for t in tokens)
    return folded + "|" + " ".join(_spelt(t.text) for t in tokens)


def _spelt(word: str) -> str:
    # A Vietnamese syllable as the accent statistics spell it; an acronym, a name from another
    # language or a number as written (GD, iPhone, U23), which lower case would misspell.
    return normalize_syllable(word) if could_take_accents(word) else word



class Spellings(Protocol):
    """How the spelling counts are read, whichever engine stored them (:class:`SpellingCounts`, a
    file summed from the shards' counts, or a test's counts of a few sentences): accent
    restoration, Telex and VNI keys, completion and acronyms all read them so."""

    def spellings(self, key: str) -> dict[str, int]:
        """Every accent term starting with ``key`` (a folded run and ``|``) and its count."""
        ...

    def count(self, term: str) -> int:
        """How often the accent term ``term`` occurs."""
        ...

    def total(self) -> float:
        """The sum of all accent counts."""
        ...

    def prefixed(self, table: str, prefix: str, *, words: int, limit: int) -> list[tuple[str, int]]:
        """The ``limit`` most frequent terms of ``table`` starting with ``prefix`` (see :class:`SpellingCounts`)."""
        ...

    def all(self, table: str) -> list[tuple[str, int]]:
        """Every term of a (small) table and its count."""
        ...


class LookedUp(dict):
    """What accent restoration and typo correction have looked up in one version's spelling counts
    (a folded run's key, its spellings and counts), at most ``limit`` runs: full, it is emptied
    and fills again with what the queries ask now.

    Emptied rather than least recently used: a lookup stays a plain dict's (the request threads read
    and write it a key at a time, which a dict does whole under the interpreter's lock), and a run
    looked up again costs one indexed read of the counts.
    """

    def __init__(self, limit: int = LOOKED_UP_RUNS):
        super().__init__()
        self.limit = limit

    def __setitem__(self, key: str, value: dict) -> None:
        if len(self) >= self.limit and key not in self:
            self.clear()
        super().__setitem__(key, value)


class SpellingCounts:
    """A generation's spelling counts, read-only: the :class:`Spellings` of one SQLite file."""

    def __init__(self, path: Path | str):
        uri = Path(path).resolve().as_uri() + "?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        row = self._db.execute("SELECT n FROM counts WHERE term = ?", (_TOTAL,)).fetchone()
        self._total = float(row[0]) if row else 0.0

    def close(self) -> None:
        self._db.close()

    def spellings(self, key: str) -> dict[str, int]:
        """Every term starting with ``key`` (a folded run and ``|``) and its count."""
        rows = self._db.execute("SELECT term, n FROM counts WHERE term >= ? AND term < ?", (key, key + "\U0010ffff"))
        return dict(rows)

    def prefixed(self, table: str, prefix: str, *, words: int, limit: int) -> list[tuple[str, int]]:
        """The ``limit`` most frequent terms of ``table`` that start with ``prefix``, most frequent first.

        ``words`` is 1 for the terms of one word (looked up in an index of their own, so a short
        prefix never walks the pairs), 2 or more for the others.
        """
        single = "instr(term, ' ') = 0" if words == 1 else "instr(term, ' ') > 0"
        rows = self._db.execute(
            f"SELECT term, n FROM {_table(table)} WHERE term >= ? AND term < ? AND {single} ORDER BY n DESC LIMIT ?",
            (prefix, prefix + "\U0010ffff", limit),
        )
        return rows.fetchall()

    def all(self, table: str) -> list[tuple[str, int]]:
        """Every term of a (small) table and its count."""
        return self._db.execute(f"SELECT term, n FROM {_table(table)} WHERE term != ?", (_TOTAL,)).fetchall()

    def count(self, term: str) -> int:
        """How often the accent term ``term`` (``neu guong|nêu gương``) occurs."""
        row = self._db.execute("SELECT n FROM counts WHERE term = ?", (term,)).fetchone()
        return int(row[0]) if row else 0

    def total(self) -> float:
        return self._total


class SpellingWriter:
    """Writes a new generation's statistics: the previous generation's, plus and minus articles."""

    def __init__(self, path: Path, base: Path | None = None):
        self.path = path
        # The new generation's folder may hold a hard link to the base's file: replace it with a
        # copy of its own, so the base generation's counts never change.
        path.unlink(missing_ok=True)
        if base is not None and base.exists():
            shutil.copyfile(base, path)
        self._db = sqlite3.connect(path)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        for table in TABLES:
            self._db.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (term TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID"
            )
        for table in (ACCENTS, PHRASES):
            # Autocompletion asks for the most frequent words of one syllable starting with a few
            # letters: without an index of their own, that would walk every pair starting so.
            self._db.execute(
                f"CREATE INDEX IF NOT EXISTS {table}_words ON {table} (term, n) WHERE instr(term, ' ') = 0"
            )
        self._pending: Tally = {table: Counter() for table in TABLES}

    def add(self, tally: Tally) -> None:
        for table, counts in tally.items():
            self._pending[table].update(counts)
        self._flush_if_full()

    def remove(self, tally: Tally) -> None:
        for table, counts in tally.items():
            self._pending[table].subtract(counts)
        self._flush_if_full()

    def merge(self, others: Iterable[Path]) -> None:
        """Adds the counts of files written by other writers (a build's worker processes)."""
        self._flush()
        for other in others:
            self._db.execute("ATTACH DATABASE ? AS other", (str(other),))
            for table in TABLES:
                self._db.execute(
                    f"INSERT INTO {table} SELECT term, n FROM other.{table} WHERE term != ? AND true "
                    "ON CONFLICT (term) DO UPDATE SET n = n + excluded.n",
                    (_TOTAL,),
                )
            self._db.commit()
            self._db.execute("DETACH DATABASE other")

    def close(self) -> None:
        """Writes everything out, with the total, and closes the file."""
        self._flush()
        for table in TABLES:
            self._db.execute(f"DELETE FROM {table} WHERE n <= 0")
        self._db.execute("DELETE FROM counts WHERE term = ?", (_TOTAL,))
        self._db.execute("INSERT INTO counts SELECT ?, coalesce(sum(n), 0) FROM counts", (_TOTAL,))
        self._db.commit()
        self._db.close()

    def abandon(self) -> None:
        self._db.close()

    def _flush_if_full(self) -> None:
        if sum(len(counts) for counts in self._pending.values()) > FLUSH_TERMS:
            self._flush()

    def _flush(self) -> None:
        for table, counts in self._pending.items():
            if counts:
                self._db.executemany(
                    f"INSERT INTO {table} VALUES (?, ?) ON CONFLICT (term) DO UPDATE SET n = n + excluded.n",
                    ((term, n) for term, n in counts.items() if n),
                )
                counts.clear()
        self._db.commit()


def _table(name: str) -> str:
    # Table names are written into SQL: only this module's own.
    if name not in TABLES:
        raise ValueError(f"no table {name!r}")
    return name
