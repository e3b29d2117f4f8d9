"""The Whoosh engine's side of a build: a new generation, written from analysed batches, published.

A build (``searchkit.build.pipeline``) drives a :class:`GenerationWriter` through its steps. An
update copies the current generation's files into a new generation and deletes the replaced and
removed articles there; a rebuild, or a first build, starts from an empty one. The articles are
written as whole segments by :class:`Segments` (in worker processes for a large build, see
``searchkit.build.workers``), each with its file of spelling counts, and the parent commits the
deletions and every segment in one table of contents, then publishes the generation in one atomic
step (``searchkit.engines.whoosh.generations``).
"""

from __future__ import annotations

import os
import sqlite3
from datetime import date
from functools import partial
from pathlib import Path

from whoosh import index as whoosh_index

from searchkit.corpus.articles import Article
from searchkit.engines import fields as f
from searchkit.engines import spellings
from searchkit.engines.whoosh import generations
from searchkit.engines.whoosh.codec.writing import CompactSegmentWriter, commit_with_segments
from searchkit.engines.whoosh.schema import schema as whoosh_schema
from searchkit.errors import IndexMissingError
from searchkit.text.analysis import word_terms
from searchkit.text.dates import day_number

# Postings a segment writer holds before it writes them out as a segment (about 20 bytes each).
SEGMENT_POSTINGS = 5_500_000


class GenerationWriter:
    """A build's writer of the index in ``index_dir``, as ``searchkit.build.pipeline.Target`` asks.

    ``seeds`` is the articles folder the new generation answers for; ``lock_fd`` the build lock's
    descriptor, which worker processes close.
    """

    def __init__(self, index_dir: Path, seeds: Path | str, *, rebuild: bool, lock_fd: int | None = None):
        self.index_dir = index_dir
        self.source = str(Path(seeds).resolve())
        self.rebuild = rebuild
        self.lock_fd = lock_fd
        self.empties = True
        self._generation: generations.Generation | None = None
        self._ix = None
        self._writer = None
        self._counts: spellings.SpellingWriter | None = None
        self._segments: list[object] = []
        self._count_files: list[Path] = []

    # --- what the index holds

    def held(self) -> dict[str, str]:
        found = generations.state(self.index_dir)
        if found == "outdated" and not self.rebuild:
            raise IndexMissingError(generations.outdated_message(self.index_dir), code="index_outdated")
        self.empties = self.rebuild or found != "ready"
        if not self.empties:
            # An update keeps the current generation's files: damaged ones would pass into the next.
            base = generations.current(self.index_dir)
            assert base is not None
            generations.verify(self.index_dir, base)
            return self._current_hashes()
        if found != "ready":
            return {}
        try:  # what a rebuild replaces, to report removals
            return self._current_hashes()
        except Exception:  # a damaged index is what a rebuild is for
            return {}

    def key(self, doc_id: str) -> str:
        return doc_id

    def doc_id(self, key: str) -> str:
        return key

    def current(self) -> bool:
        # Even with nothing to write, a new generation records the folder it now answers for.
        return not self.empties and generations.built_from(self.index_dir) == self.source

    def _current_hashes(self) -> dict[str, str]:
        generation, ix = generations.open_current(self.index_dir)
        try:
            return indexed_hashes(ix)
        except Exception as exc:
            damage = generations.explain(self.index_dir, generation, exc)
            if damage is None:
                raise
            raise damage from exc

    # --- writing

    def begin(self) -> None:
        base = None if self.empties else generations.current(self.index_dir)
        self._generation = generation = generations.begin(self.index_dir, fresh=self.empties)
        folder = str(generation.path)
        self._ix = whoosh_index.create_in(folder, whoosh_schema()) if self.empties else whoosh_index.open_dir(folder)
        self._counts = spellings.SpellingWriter(
            generation.path / spellings.FILE, base.path / spellings.FILE if base is not None else None
        )

    def remove(self, keys: list[str]) -> None:
        if not keys:
            return
        with self._ix.searcher() as old:
            for doc_id in keys:
                stored = old.document(**{f.ID: doc_id})
                if stored is not None:
                    self._counts.remove(spellings.counts_of(stored.get(f.TITLE, ""), stored.get(f.BODY, "")))
        writer = self._open_writer()
        for doc_id in keys:
            writer.delete_by_term(f.ID, doc_id)

    def analysis(self) -> partial[Segments]:
        self._open_writer()
        return partial(Segments, str(self._generation.path))

    def receive(self, result: tuple[list[object], str]) -> None:
        segments, counts = result
        self._segments.extend(segments)
        self._count_files.append(Path(counts))

    def inherited(self) -> list[int]:
        return [fd for fd in (self.lock_fd, self._writer.writelock.fd if self._writer else None) if fd is not None]

    def commit(self) -> None:
        try:
            self._counts.merge(self._count_files)
        finally:
            for path in self._count_files:
                path.unlink(missing_ok=True)
        if self._writer is not None:
            commit_with_segments(self._writer, self._segments)
        self._counts.close()
        generations.publish(self.index_dir, self._generation, seeds=self.source)

    def abandon(self, exc: BaseException) -> BaseException | None:
        if self._writer is not None:
            cancel(self._writer)
        if self._counts is not None:
            self._counts.abandon()
        if self._generation is not None:
            generations.discard(self._generation)
        # SQLite's "database or disk is full" is a full disk too.
        if isinstance(exc, (OSError, sqlite3.OperationalError)):
            return generations.unwritable(self.index_dir, exc)
        return None

    def _open_writer(self) -> object:
        if self._writer is None:
            self._writer = self._ix.writer(compound=False)
        return self._writer


class Segments:
    """The analysis of a build's articles into new segments of the generation in ``folder`` and a
    file of their spelling counts, in a worker process or the build's own.

    A segment is closed whenever the postings held in memory reach :data:`SEGMENT_POSTINGS`, which
    bounds a build's memory whatever the size of the collection.
    """

    def __init__(self, folder: str, segment_postings: int = SEGMENT_POSTINGS):
        self._ix = whoosh_index.open_dir(folder)
        self._limit = segment_postings
        # Hidden, so that no manifest lists it; the parent merges it into the generation's counts.
        self._counts = spellings.SpellingWriter(Path(folder) / f".spellings-{os.getpid()}.sqlite")
        self._writer = CompactSegmentWriter(self._ix)
        self._segments: list[object] = []

    def take(self, batch: list[Article]) -> None:
        for article in batch:
            self._writer.add_document(**document(article))
            self._counts.add(spellings.counts_of(article.title, article.text))
            if self._writer.postings_held() >= self._limit:
                self._segments.append(self._writer.finish())
                self._writer = CompactSegmentWriter(self._ix)

    def finish(self) -> tuple[list[object], str]:
        last = self._writer.finish()
        self._counts.close()
        return self._segments + ([last] if last is not None else []), str(self._counts.path)

    def cancel(self) -> None:
        cancel(self._writer)
        self._counts.abandon()


def cancel(writer: object) -> None:
    """Cancels a writer that has not finished, after an error (which is the one to report).

    A full disk can fail a commit while it closes the segment's files: cancelling closes them again
    and fails on the closed ones. The generation is discarded anyway; only the lock is released.
    """
    if writer.is_closed:
        return
    try:
        writer.cancel()
    except Exception:
        lock = getattr(writer, "writelock", None)
        if lock is not None:
            lock.release()


def document(article: Article) -> dict:
    """The fields of ``article``'s document, by the schema's names."""
    return {
        f.ID: article.id,
        f.HASH: bytes.fromhex(article.hash),
        f.TITLE: article.title,
        f.TITLE_EXACT: article.title,
        f.BODY: article.text,
        f.BODY_EXACT: article.text,
        f.WORDS: word_terms(article.title + "\n" + article.text),
        f.DATE: article.date,
        f.DAY: day_number(date.fromisoformat(article.date)) if article.date else None,
        f.SOURCE: article.source,
        f.URL: article.url,
        f.TAGS: f.TAG_SEPARATOR.join(article.tags) or None,
    }


def indexed_hashes(ix: object) -> dict[str, str]:
    """Every live document's id and content hash, read from columns rather than stored bodies."""
    with ix.reader() as reader:
        found = {}
        for leaf, _ in reader.leaf_readers():
            if not leaf.has_column(f.ID):  # an index with no segment yet
                continue
            ids, hashes = leaf.column_reader(f.ID), leaf.column_reader(f.HASH)
            for docnum in leaf.all_doc_ids():
                found[ids[docnum]] = hashes[docnum].hex()
        return found
