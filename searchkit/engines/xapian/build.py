"""Bringing the shards up to date with the articles folder, incrementally.

Each article lives on the shard :func:`searchkit.engines.xapian.terms.shard_of` names, a stable hash of its
id, so an update or a removal finds it again. A build:

1. reads the articles' ids and content hashes, and each shard's version terms (what it holds);
2. opens every shard for writing (holding each shard's lock until the end) and, per shard,
   decides what to add, replace and remove — an article on another shard than its hash names
   (the list of shards changed) is moved;
3. analyses the changed articles in worker processes and sends each to its shard, with the
   shard's updated accent statistics;
4. commits the shards one after the other, each in one commit.

So an error or Ctrl-C before step 4 cancels every shard's changes, and a shard never holds half
of a commit. Shards are separate databases, though: a build stopped during step 4 (or killed, after
which a shard server commits what it had received) leaves some shards updated and others not.
Every document is whole and carries its version, and each shard's statistics name the state they
count, so the next build sees exactly what is missing, recounts a shard whose statistics no longer
match its documents, and completes.
"""

from __future__ import annotations

import multiprocessing
import signal
import tempfile
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path

from searchkit.build.index import BuildReport, Progress, copies_for, copy_in, cpu_count, kept_unreadable, survey
from searchkit.corpus.articles import DEFAULT_MAX_BYTES, Article, Skipped, read_articles, read_file
from searchkit.engines import fields as f
from searchkit.engines import spellings
from searchkit.engines.xapian import statistics
from searchkit.engines.xapian.connection import Shard, guarded, open_writer, xapian
from searchkit.engines.xapian.terms import ID_PREFIX, analysed, id_key, read_stored, shard_of
from searchkit.errors import CorpusError

# Below this many articles, starting worker processes costs more than it saves.
_PARALLEL_MIN_ARTICLES = 32
# Articles in flight at a time: bounds the memory a build holds, whatever the collection's size.
_WINDOW = 256


def build(
    seeds_dir: Path | str,
    shards: list[Shard],
    *,
    rebuild: bool = False,
    procs: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_links: bool = False,
) -> BuildReport:
    """Brings ``shards`` up to date with the articles in ``seeds_dir`` (see the module's note)."""
    return _sync(
        lambda: read_articles(seeds_dir, max_bytes=max_bytes, follow_links=follow_links),
        shards,
        rebuild,
        procs,
        progress,
        prune=True,
    )


def add_files(
    paths: Iterable[Path | str],
    seeds_dir: Path | str,
    shards: list[Shard],
    *,
    procs: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_links: bool = False,
) -> BuildReport:
    """Copies article files into ``seeds_dir`` and indexes them on their shards, as
    :func:`searchkit.build.index.add_files` does for the embedded index; with no article on any shard
    yet, the whole folder is indexed."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise CorpusError(f"articles folder not found: {seeds_dir}")
    targets = copies_for(seeds_dir, [Path(p) for p in paths], max_bytes)
    created = copy_in(targets)
    try:
        if is_empty(shards):
            return build(
                seeds_dir, shards, procs=procs, progress=progress, max_bytes=max_bytes, follow_links=follow_links
            )
        return _sync(
            lambda: (
                item
                for path in targets
                for item in read_file(path, seeds_dir, max_bytes=max_bytes, follow_links=follow_links)
            ),
            shards,
            False,
            procs,
            progress,
            prune=False,
        )
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise


def is_empty(shards: list[Shard]) -> bool:
    """Whether no shard holds any article yet."""
    from searchkit.engines.xapian.connection import open_reader

    database = open_reader(shards)
    try:
        with guarded(shards):
            return database.get_doccount() == 0
    finally:
        database.close()


class _ShardWrite:
    """One shard's part of a build: its connection, what it holds, its statistics being updated."""

    def __init__(self, shard: Shard, folder: Path, number: int):
        self.shard = shard
        self.db = open_writer(shard)
        self.held = statistics.versions(self.db)
        self.counts_path = folder / f"counts-{number}.sqlite"
        self.counts: spellings.SpellingWriter | None = None
        self.fresh = False
        self.touched = False
        # The id digests this build removes from the shard (see ``_plan``).
        self.stale: list[str] = []

    def start_counts(self, folder: Path, fresh: bool) -> None:
        """Opens the statistics to update: the shard's own when they count what it holds, else a recount."""
        self.fresh = fresh
        base = folder / f"base-{self.counts_path.name}"
        meta = None if fresh else statistics.download(self.db, base)
        trusted = meta is not None and meta["state"] == statistics.state_of(self.held)
        self.counts = spellings.SpellingWriter(self.counts_path, base if trusted else None)
        if not fresh and not trusted and self.held:
            for docid in _all_documents(self.db):
                data = read_stored(self.db.get_document(docid).get_data())
                self.counts.add(spellings.counts_of(data.get(f.TITLE, ""), data.get(f.BODY, "")))
            self.touched = True  # the recount is written even if no article changes here

    def uncount(self, key: str) -> None:
        """Takes article ``key``'s counts (an id digest) out of the statistics, before it is replaced or removed."""
        data = None if self.fresh else self.stored(key)
        if data is not None:
            self.counts.remove(spellings.counts_of(data.get(f.TITLE, ""), data.get(f.BODY, "")))
        self.touched = True

    def remove(self, key: str) -> None:
        """Removes article ``key`` and its counts."""
        self.uncount(key)
        self.db.delete_document(ID_PREFIX + key)
        self.held.pop(key, None)

    def stored(self, key: str) -> dict | None:
        for posting in self.db.postlist(ID_PREFIX + key):
            return read_stored(self.db.get_document(posting.docid).get_data())
        return None

    def finish(self) -> None:
        """Writes the updated statistics into the shard's metadata, for the commit."""
        self.counts.close()
        statistics.upload(self.db, self.counts_path, statistics.state_of(self.held))


def _sync(
    read: Callable[[], Iterable[Article | Skipped]],
    shards: list[Shard],
    rebuild: bool,
    procs: int | None,
    progress: Progress | None,
    *,
    prune: bool,
) -> BuildReport:
    report, hashes = survey(read)
    bindings = xapian()
    with tempfile.TemporaryDirectory(prefix="searchkit-shards-") as temporary, guarded(shards):
        folder = Path(temporary)
        parts: list[_ShardWrite] = []
        try:
            for number, shard in enumerate(shards):
                with guarded([shard]):
                    parts.append(_ShardWrite(shard, folder, number))
            changed = _plan(parts, hashes, report, rebuild, prune)
            for part in parts:
                with guarded([part.shard]):
                    part.db.begin_transaction(True)
                    part.start_counts(folder, fresh=rebuild)
                    for key in part.stale:
                        part.remove(key)
            _write(parts, read, changed, procs, progress, bindings)
            for part in parts:
                with guarded([part.shard]):
                    if part.touched:
                        part.finish()
            for part in parts:  # the only step that changes what queries see
                with guarded([part.shard]):
                    part.db.commit_transaction()
        finally:
            for part in parts:
                _close(part, bindings)
    return report


def _plan(parts: list[_ShardWrite], hashes: dict[str, str], report: BuildReport, rebuild: bool, prune: bool) -> list:
    """What each shard loses (``part.stale``) and the articles to write, with the report's counts."""
    count = len(parts)
    changed: list[str] = []
    wanted: set[str] = set()
    for doc_id, content in hashes.items():
        key, target = id_key(doc_id), shard_of(doc_id, count)
        wanted.add(key)
        held = [i for i, part in enumerate(parts) if key in part.held]
        for i in held:
            if i != target:
                parts[i].stale.append(key)  # on a shard the hash no longer names: moved
        if rebuild or parts[target].held.get(key) != content:
            changed.append(doc_id)
            if held and not rebuild:
                report.updated += 1
            else:
                report.added += 1
        else:
            report.unchanged += 1
    if not (prune or rebuild):
        # Adding files leaves every other article on the shards alone: unchanged too, not "0".
        report.unchanged += sum(1 for part in parts for key in part.held if key not in wanted)
    for part in parts:
        for key in [k for k in part.held if k not in wanted] if prune or rebuild else []:
            # A file that became unreadable keeps its last good articles: only then is the id read back.
            if report.skipped and kept_unreadable(part.stored(key)[f.ID], report.skipped):
                continue
            part.stale.append(key)
            report.removed += 1
    return changed


def _write(
    parts: list[_ShardWrite],
    read: Callable[[], Iterable[Article | Skipped]],
    changed: list[str],
    procs: int | None,
    progress: Progress | None,
    bindings,  # noqa: ANN001
) -> None:
    """Analyses the ``changed`` articles and sends each to its shard."""
    total = len(changed)
    if not total:
        return
    wanted = set(changed)

    def articles() -> Iterator[Article]:
        for item in read():
            if isinstance(item, Article) and item.id in wanted:
                wanted.discard(item.id)
                yield item

    if progress:
        progress(0, total)
    done = 0
    for article, (key, document, tally) in _analysed(articles(), total, procs):
        part = parts[shard_of(article.id, len(parts))]
        with guarded([part.shard]):
            if key in part.held:
                part.uncount(key)  # the replacement takes the old document's place
            part.db.replace_document(ID_PREFIX + key, bindings.Document.unserialise(document))
        part.held[key] = article.hash
        part.counts.add(tally)
        part.touched = True
        done += 1
        if progress:
            progress(done, total)


def _analysed(articles: Iterator[Article], total: int, procs: int | None) -> Iterator[tuple[Article, tuple]]:
    """Each article with its analysis, computed in worker processes for a large build."""
    workers = min(procs or cpu_count(), max(total // 4, 1))
    if workers < 2 or total < _PARALLEL_MIN_ARTICLES:
        for article in articles:
            yield article, analysed(article)
        return
    from searchkit.text.analysis import words

    words("khởi động")  # loads the segmentation model once here, so forked workers start warm
    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else "spawn")
    pool = context.Pool(workers, initializer=_ignore_interrupts)
    try:
        while window := list(islice(articles, _WINDOW)):
            yield from zip(window, pool.imap(analysed, window, chunksize=4), strict=True)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group; the parent decides what to do about it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _all_documents(db) -> Iterator[int]:  # noqa: ANN001
    for posting in db.postlist(""):
        yield posting.docid


def _close(part: _ShardWrite, bindings) -> None:  # noqa: ANN001
    """Closes a shard's connection; an uncommitted transaction is cancelled, not committed."""
    if part.counts is not None:
        part.counts.abandon()
    try:
        try:
            part.db.cancel_transaction()
        except bindings.InvalidOperationError:
            pass  # committed already, or never begun
        part.db.close()
    except bindings.Error:
        pass  # a server gone: it keeps its last commit
