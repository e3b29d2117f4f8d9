"""The Whoosh index: building or updating it from the articles folder.

Its fields are ``searchkit.engines.whoosh.schema``'s; its folder holds numbered generations
(``searchkit.engines.whoosh.generations``).

Updates are incremental by content hash. Every build writes a new generation beside the current
one and publishes it in one atomic step, so a build killed at any moment leaves the last published
index answering queries, and the next build completes. A lock file keeps two builds apart: the
second one stops at once with :class:`IndexBusyError`.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from searchkit.corpus import freshness
from searchkit.corpus.articles import DEFAULT_MAX_BYTES, Article, Skipped, ids_beside, read_articles, read_file
from searchkit.engines import fields as f
from searchkit.engines.whoosh import generations
from searchkit.engines.whoosh.schema import schema as whoosh_schema
from searchkit.engines.whoosh.writer import CompactSegmentWriter
from searchkit.errors import CorpusError, IndexMissingError, SearchkitError
from searchkit.search import spellings
from searchkit.text.analysis import word_terms
from searchkit.text.dates import day_number

# Below this many articles to analyse, starting worker processes costs more than it saves.
_PARALLEL_MIN_ARTICLES = 32
# Articles handed to a worker at a time: small enough to share the work evenly at the end.
_BATCH = 4
# Batches waiting for each worker: enough that none waits for the reader, few enough to hold little.
_QUEUED_BATCHES = 8
# Postings a segment writer holds before it writes them out as a segment (about 20 bytes each).
_SEGMENT_POSTINGS = 5_500_000


@dataclass(frozen=True)
class BuildWarning:
    """An article indexed without part of its metadata, and why (a date that is no date)."""

    path: str
    reason: str


@dataclass
class BuildReport:
    """What a build did; ``skipped`` lists the files that could not be read, with the reason, and
    ``warnings`` the articles read and indexed without some of their metadata."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[BuildWarning] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, "
            f"unchanged {self.unchanged}, skipped {len(self.skipped)}"
        )
        return text + (f", warnings {len(self.warnings)}" if self.warnings else "")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        data["warnings"] = [asdict(w) for w in self.warnings]
        return data


Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while articles are analysed and written."""


def exists(index_dir: Path | str) -> bool:
    """Whether ``index_dir`` holds a published index of this version, ready for queries."""
    return generations.state(index_dir) == "ready"


def built_from(index_dir: Path | str) -> str | None:
    """The articles folder (or file) the index in ``index_dir`` was built from, as an absolute path;
    None when it does not say."""
    return generations.built_from(index_dir)


def open_index(index_dir: Path | str) -> whoosh_index.Index:
    """The current generation of the index in ``index_dir``.

    Raises :class:`IndexMissingError` unless there is one, :class:`IndexDamagedError` when its files
    are damaged.
    """
    return generations.open_current(index_dir)[1]


def open_spellings(index_dir: Path | str) -> spellings.SpellingCounts:
    """The accent statistics of the current generation of the index in ``index_dir``."""
    from searchkit.engines.whoosh.backend import open_spellings as of_generation

    return of_generation(generations.open_current(index_dir)[0])


def build(
    seeds_dir: Path | str,
    index_dir: Path | str,
    *,
    rebuild: bool = False,
    procs: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_links: bool = False,
) -> BuildReport:
    """Brings the index in ``index_dir`` up to date with the articles in ``seeds_dir``.

    New articles are added, changed ones re-indexed, deleted ones removed, the rest left alone;
    ``rebuild`` re-indexes everything (still in one atomic commit). Links to files outside
    ``seeds_dir`` are skipped unless ``follow_links``. Raises :class:`IndexBusyError` when another
    build holds the index.
    """
    # The folder's state for the staleness check, taken before any article is read: a file
    # changed during the build then still shows as changed.
    folder = freshness.snapshot(seeds_dir)
    with generations.build_lock(Path(index_dir)) as lock_fd:
        report = _sync(
            lambda: read_articles(seeds_dir, max_bytes=max_bytes, follow_links=follow_links),
            Path(index_dir),
            rebuild,
            procs,
            progress,
            lock_fd,
            prune=True,
            seeds=seeds_dir,
        )
        freshness.save(seeds_dir, index_dir, folder)
        return report


def add_files(
    paths: Iterable[Path | str],
    seeds_dir: Path | str,
    index_dir: Path | str,
    *,
    procs: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_links: bool = False,
) -> BuildReport:
    """Copies article files into ``seeds_dir`` and indexes them, leaving the other files alone.

    Refuses (:class:`SearchkitError`, nothing copied) a file that gives no article, a hidden one
    (the folder's walk never reads it), one whose name is taken in ``seeds_dir`` by a different
    file or a folder, and one whose article would share its id with another file's. Without a
    complete index yet, the whole folder is indexed, so the index never silently lacks the older
    articles. When the index cannot take the articles (not writable, damaged, interrupted), the
    copies are removed again.
    """
    seeds_dir, index_dir = Path(seeds_dir), Path(index_dir)
    if not seeds_dir.is_dir():
        raise CorpusError(f"articles folder not found: {seeds_dir}")
    with generations.build_lock(index_dir) as lock_fd:
        targets = copies_for(seeds_dir, [Path(p) for p in paths], max_bytes)
        created = copy_in(targets)
        try:
            if generations.state(index_dir) != "ready":
                folder = freshness.snapshot(seeds_dir)
                report = _sync(
                    lambda: read_articles(seeds_dir, max_bytes=max_bytes, follow_links=follow_links),
                    index_dir,
                    False,
                    procs,
                    progress,
                    lock_fd,
                    prune=True,
                    seeds=seeds_dir,
                )
                freshness.save(seeds_dir, index_dir, folder)
                return report
            report = _sync(
                lambda: (
                    item
                    for path in targets
                    for item in read_file(path, seeds_dir, max_bytes=max_bytes, follow_links=follow_links)
                ),
                index_dir,
                False,
                procs,
                progress,
                lock_fd,
                prune=False,
                seeds=seeds_dir,
            )
            freshness.update(seeds_dir, index_dir, list(targets))
            return report
        except BaseException:
            for path in created:
                path.unlink(missing_ok=True)
            raise


# --- one build ----------------------------------------------------------------------------------


def _sync(
    read: Callable[[], Iterable[Article | Skipped]],
    index_dir: Path,
    rebuild: bool,
    procs: int | None,
    progress: Progress | None,
    lock_fd: int | None,
    *,
    prune: bool,
    seeds: Path | str,
) -> BuildReport:
    """Brings the index up to date with the articles ``read()`` gives, those of ``seeds``.

    The articles are read twice: once for their ids and hashes, to decide what to write, then
    again as they are written, so a build never holds the collection's text in memory.
    """
    report, hashes = survey(read)
    found = generations.state(index_dir)
    if found == "outdated" and not rebuild:
        raise IndexMissingError(generations.outdated_message(index_dir), code="index_outdated")
    fresh = rebuild or found != "ready"
    if not fresh:
        # An update keeps the current generation's files: damaged ones would pass into the next.
        base = generations.current(index_dir)
        assert base is not None
        generations.verify(index_dir, base)
    indexed = _current_hashes(index_dir) if not fresh else _old_hashes(index_dir, found)
    if rebuild:
        changed = list(hashes)
        report.added = len(hashes)
        report.removed = len(indexed.keys() - hashes.keys())
    else:
        changed = [doc_id for doc_id, digest in hashes.items() if indexed.get(doc_id) != digest]
        report.added = sum(1 for doc_id in changed if doc_id not in indexed)
        report.updated = len(changed) - report.added
        report.unchanged = len(hashes) - len(changed)
        if not prune:
            # Adding files leaves every other article of the index alone: unchanged too, not "0".
            report.unchanged += len(indexed.keys() - hashes.keys())
    gone = [i for i in indexed if i not in hashes and not kept_unreadable(i, report.skipped)]
    if prune and not rebuild:
        report.removed = len(gone)
    stale = [] if rebuild else [doc_id for doc_id in changed if doc_id in indexed] + (gone if prune else [])
    source = str(Path(seeds).resolve())
    # Even with nothing to write, a new generation records the folder it now answers for.
    if not (fresh or changed or stale) and generations.built_from(index_dir) == source:
        return report

    missing: set[str] = set()

    def articles() -> Iterator[Article]:
        """The changed articles, read again (each id once, as the first reading found it); those the
        second reading no longer finds (a file removed in between) are left in ``missing``."""
        wanted = set(changed)
        for item in read():
            if isinstance(item, Article) and item.id in wanted:
                wanted.discard(item.id)
                yield item
        missing.update(wanted)

    base = None if fresh else generations.current(index_dir)
    generation = generations.begin(index_dir, fresh=fresh)
    try:
        if fresh:
            ix = whoosh_index.create_in(str(generation.path), whoosh_schema())
        else:
            ix = whoosh_index.open_dir(str(generation.path))
        counts = spellings.SpellingWriter(
            generation.path / spellings.FILE, base.path / spellings.FILE if base is not None else None
        )
        try:
            if changed or stale:
                _write(ix, generation.path, (articles(), len(changed)), stale, procs, progress, lock_fd, counts)
            counts.close()
        except BaseException:
            counts.abandon()
            raise
        generations.publish(index_dir, generation, seeds=source)
    except BaseException as exc:
        generations.discard(generation)
        # SQLite's "database or disk is full" is a full disk too.
        if isinstance(exc, (OSError, sqlite3.OperationalError)):
            raise generations.unwritable(index_dir, exc) from exc
        raise
    # The report counts what was written: an article gone by the second reading was not added,
    # and its old version, deleted to make room for the new one, is removed.
    old = sum(1 for doc_id in missing if doc_id in indexed)
    if rebuild:
        report.added -= len(missing)
    else:
        report.added -= len(missing) - old
        report.updated -= old
    report.removed += old
    return report


def survey(read: Callable[[], Iterable[Article | Skipped]]) -> tuple[BuildReport, dict[str, str]]:
    """A build's first reading: every article's id and content hash, with the files skipped and the
    warnings in a new report."""
    report = BuildReport()
    hashes: dict[str, str] = {}
    for item in read():
        if isinstance(item, Skipped):
            report.skipped.append(item)
        else:
            hashes[item.id] = item.hash
            report.warnings.extend(BuildWarning(item.path, reason) for reason in item.warnings)
    return report, hashes


def _write(
    ix: whoosh_index.Index,
    folder: Path,
    changed: tuple[Iterable[Article], int],
    stale: list[str],
    procs: int | None,
    progress: Progress | None,
    lock_fd: int | None,
    counts: spellings.SpellingWriter,
) -> None:
    """Deletes ``stale`` and adds the ``changed`` articles (and how many) in one commit to the
    (unpublished) generation in ``folder``.

    ``counts`` (the generation's accent statistics) loses the replaced articles' counts and gains
    the new ones'.
    """
    articles, total = changed
    with ix.searcher() as old:
        for doc_id in stale:
            stored = old.document(**{f.ID: doc_id})
            if stored is not None:
                counts.remove(spellings.counts_of(stored.get(f.TITLE, ""), stored.get(f.BODY, "")))
    writer = ix.writer(compound=False)
    try:
        if progress and total:
            progress(0, total)
        for doc_id in stale:
            writer.delete_by_term(f.ID, doc_id)
        workers = min(procs or cpu_count(), total // _BATCH)
        if workers > 1 and total >= _PARALLEL_MIN_ARTICLES:
            inherited = [fd for fd in (lock_fd, writer.writelock.fd) if fd is not None]
            segments, written = _write_in_workers(folder, articles, total, workers, progress, inherited)
            try:
                counts.merge(written)
            finally:
                for path in written:
                    path.unlink(missing_ok=True)
            _commit_with_segments(writer, segments)
        else:
            done = 0

            def one_more() -> None:
                nonlocal done
                done += 1
                if progress:
                    progress(done, total)

            _commit_with_segments(writer, _write_segments(ix, articles, counts, one_more))
    except BaseException:
        _cancel(writer)
        raise


def _cancel(writer: SegmentWriter | CompactSegmentWriter) -> None:
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


# Articles read from a folder to tell whether an index holds them (see ``holds_articles_of``).
SAMPLED_ARTICLES = 8


def holds_articles_of(seeds_dir: Path | str, built_from: str | None, holds: Callable[[str], bool]) -> bool:
    """Whether an index built from ``built_from`` (None: unknown) holds the articles of ``seeds_dir``.

    It does when it was built from that very path, or when ``holds(id)`` is true of one of the first
    :data:`SAMPLED_ARTICLES` articles read from there (a copy of the folder, the folder moved or
    partly changed). A folder that cannot be read, or has no article, says nothing against it.
    """
    if built_from is not None and built_from == str(Path(seeds_dir).resolve()):
        return True
    try:
        sampled: list[str] = []
        for item in read_articles(seeds_dir):
            if isinstance(item, Article):
                sampled.append(item.id)
                if len(sampled) == SAMPLED_ARTICLES:
                    break
    except (SearchkitError, OSError):
        return True
    return not sampled or any(holds(doc_id) for doc_id in sampled)


def other_articles_message(index: str, seeds_dir: Path | str, built_from: str | None, build: str, option: str) -> str:
    """The one line a command prints when its ``--seeds`` names other articles than ``index`` holds;
    ``build`` is the command that would index them there, ``option`` the one naming another index."""
    origin = f" (built from {built_from})" if built_from else ""
    return (
        f"no article of {seeds_dir} is in {index}{origin}: run '{build}' to index them there, "
        f"or give {option} their own index"
    )


def _document(article: Article, terms: str) -> dict:
    return {
        f.ID: article.id,
        f.HASH: bytes.fromhex(article.hash),
        f.TITLE: article.title,
        f.TITLE_EXACT: article.title,
        f.BODY: article.text,
        f.BODY_EXACT: article.text,
        f.WORDS: terms,
        f.DATE: article.date,
        f.DAY: day_number(date.fromisoformat(article.date)) if article.date else None,
        f.SOURCE: article.source,
        f.URL: article.url,
        f.TAGS: f.TAG_SEPARATOR.join(article.tags) or None,
    }


def _word_terms(article: Article) -> str:
    return word_terms(article.title + "\n" + article.text)


def _current_hashes(index_dir: Path) -> dict[str, str]:
    generation, ix = generations.open_current(index_dir)
    try:
        return _indexed_hashes(ix)
    except Exception as exc:
        damage = generations.explain(index_dir, generation, exc)
        if damage is None:
            raise
        raise damage from exc


def _old_hashes(index_dir: Path, found: str) -> dict[str, str]:
    """What a rebuild replaces, to report removals; nothing when the old index cannot be read."""
    if found != "ready":
        return {}
    try:
        return _current_hashes(index_dir)
    except Exception:  # a damaged index is what a rebuild is for
        return {}


def _indexed_hashes(ix: whoosh_index.Index) -> dict[str, str]:
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


def kept_unreadable(doc_id: str, skipped: list[Skipped]) -> bool:
    # A file (or folder) that became unreadable keeps its last good articles: losing them would
    # lose data without a word. One refused as it stands (a link out of the folder) does not.
    # A JSON Lines record's id is "<file>#<record id>".
    return any(
        doc_id == s.path or doc_id.startswith(s.path + "#") or (s.path.endswith("/") and doc_id.startswith(s.path))
        for s in skipped
        if not s.refused
    )


# --- analysis and segment writing in worker processes -------------------------------------------
# pyvi and Whoosh's own analysis and posting writes cost about the same, so each worker writes a
# whole segment of its own (as Whoosh's MultiSegmentWriter does) and the parent only adds them to
# the commit. Whoosh's MpWriter is not used: its workers survive a killed parent and keep the
# index's lock file open, so the next build would find the index busy.


def _write_in_workers(
    index_dir: Path,
    articles: Iterable[Article],
    total: int,
    procs: int,
    progress: Progress | None,
    inherited: list[int],
) -> tuple[list[object], list[Path]]:
    """Workers write segments and files of accent counts; returns both kinds.

    Articles are handed out in small batches through a bounded queue as they are read, so the
    reading overlaps the workers' analysis and memory holds only the batches in flight.
    """
    from searchkit.text.analysis import words

    words("khởi động")  # loads the segmentation model once here, so forked workers start warm

    fork = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if fork else "spawn")
    jobs, results = context.Queue(maxsize=procs * _QUEUED_BATCHES), context.Queue()
    args = (str(index_dir), jobs, results, os.getpid(), inherited if fork else [])
    workers = [context.Process(target=_worker, args=args, daemon=True) for _ in range(procs)]
    for worker in workers:
        worker.start()
    done, segments, written, finished = 0, [], [], 0

    def receive(wait: float) -> None:
        """Takes the workers' reports that arrive within ``wait`` seconds."""
        nonlocal done, finished
        while True:
            try:
                kind, value = results.get(timeout=wait) if wait else results.get_nowait()
            except queue.Empty:
                if any(w.exitcode not in (None, 0) for w in workers):
                    raise SearchkitError("an indexing worker process stopped unexpectedly") from None
                return
            if kind == "error":
                raise SearchkitError(value)
            if kind == "done":
                done += value
                if progress:
                    progress(done, total)
            else:
                finished += 1
                found, counts = value
                written.append(Path(counts))
                segments.extend(found)

    def hand_out(job: list[Article] | None) -> None:
        while True:
            try:
                jobs.put(job, timeout=0.2)
                return
            except queue.Full:
                receive(0)

    try:
        batch: list[Article] = []
        for article in articles:
            batch.append(article)
            if len(batch) == _BATCH:
                hand_out(batch)
                batch = []
                receive(0)
        for job in ([batch] if batch else []) + [None] * len(workers):
            hand_out(job)
        while finished < len(workers):
            receive(1.0)
        for worker in workers:
            worker.join()
        return segments, written
    finally:
        # A worker stopped early leaves jobs in the pipe; exiting must not wait to flush them.
        jobs.cancel_join_thread()
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()


def _worker(index_dir: str, jobs: object, results: object, parent: int, inherited: list[int]) -> None:
    # Ctrl-C reaches the whole process group; the parent decides what to do about it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The forked copies of the lock files' descriptors would keep the index locked after a
    # killed parent; closing the copies leaves the parent's locks as they are.
    for fd in inherited:
        os.close(fd)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    try:
        # Hidden, so that no manifest lists it; the parent merges it into the generation's counts.
        counts = spellings.SpellingWriter(Path(index_dir) / f".spellings-{os.getpid()}.sqlite")

        def articles() -> Iterator[Article]:
            while (batch := jobs.get()) is not None:
                yield from batch
                results.put(("done", len(batch)))

        segments = _write_segments(whoosh_index.open_dir(index_dir), articles(), counts, lambda: None)
        counts.close()
        results.put(("segments", (segments, str(counts.path))))
    except (OSError, sqlite3.OperationalError) as exc:  # reported to the parent, which raises it
        results.put(("error", f"cannot write the index in {index_dir}: {getattr(exc, 'strerror', None) or exc}"))
    except BaseException as exc:
        results.put(("error", f"indexing failed: {type(exc).__name__}: {exc}"))


def _exit_with_parent(parent: int) -> None:
    # A worker blocked on the job queue would otherwise wait forever for a killed parent.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _write_segments(
    ix: whoosh_index.Index,
    articles: Iterable[Article],
    counts: spellings.SpellingWriter,
    one_more: Callable[[], None],
) -> list[object]:
    """Writes ``articles`` as new segments of ``ix`` and counts their accents; returns the segments.

    A segment is closed whenever the postings held in memory reach :data:`_SEGMENT_POSTINGS`, which
    bounds a build's memory whatever the size of the collection.
    """
    segments: list[object] = []
    writer = CompactSegmentWriter(ix)
    try:
        for article in articles:
            writer.add_document(**_document(article, _word_terms(article)))
            counts.add(spellings.counts_of(article.title, article.text))
            one_more()
            if writer.postings_held() >= _SEGMENT_POSTINGS:
                segments.append(writer.finish())
                writer = CompactSegmentWriter(ix)
        last = writer.finish()
    except BaseException:
        _cancel(writer)
        raise
    return segments + ([last] if last is not None else [])


def _commit_with_segments(writer: SegmentWriter, segments: list[object]) -> None:
    """Commits ``writer``'s deletions together with segments written by workers, in one TOC.

    Mirrors the multi-segment commit of Whoosh's MpWriter (Whoosh is pinned to 2.7.5).
    """
    final = writer._merge_segments(None, None, None) + segments
    if writer._added:  # the merge policy folded small segments into this writer
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(final)
    writer._finish()


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# --- adding files ------------------------------------------------------------------------------


def copies_for(seeds_dir: Path, paths: list[Path], max_bytes: int) -> dict[Path, Path]:
    """Where each of ``paths`` goes in ``seeds_dir``, after checking all of them (nothing is copied yet)."""
    targets: dict[Path, Path] = {}
    # The ids of the articles about to be added, with the name each is added under.
    claimed: dict[str, str] = {}
    try:
        listing = sorted(name for name in os.listdir(seeds_dir) if not name.startswith("."))
    except OSError as exc:
        raise SearchkitError(f"cannot read articles folder {seeds_dir}: {exc.strerror or exc}") from exc
    for path in paths:
        if not path.is_file():
            raise SearchkitError(f"not a file: {path}")
        if path.name.startswith("."):
            raise SearchkitError(
                f"cannot add {path}: hidden files (names starting with '.') are not read from the articles folder "
                "(rename the file)"
            )
        # Named by the user, so read wherever a link points: what is copied is the file's content.
        items = list(read_file(path, path.parent, max_bytes=max_bytes, follow_links=True))
        if not any(isinstance(item, Article) for item in items):
            reason = items[0].reason if items else "no article in it"
            raise SearchkitError(f"cannot add {path}: {reason}")
        target = seeds_dir / path.name
        taken = targets.get(target) or (target if target.exists() else None)
        if taken is not None and not _same_bytes(taken, path):
            raise SearchkitError(
                f"cannot add {path}: {target} already exists with different content "
                "(rename the file, or edit the article in place and run 'searchkit index')"
            )
        others = {**ids_beside(seeds_dir, path.name, listing, max_bytes=max_bytes), **claimed}
        for item in items:
            if isinstance(item, Article) and others.get(item.id, path.name) != path.name:
                raise SearchkitError(
                    f"cannot add {path}: its article {item.id} would have the same id as one read from "
                    f"{others[item.id]} (rename the file)"
                )
        claimed.update((item.id, path.name) for item in items if isinstance(item, Article))
        targets[target] = path
    return targets


def copy_in(targets: dict[Path, Path]) -> list[Path]:
    """Copies each source to its target unless it is there already; returns the files created."""
    created: list[Path] = []
    try:
        for target, path in targets.items():
            if target.exists():
                continue
            # Copied under a short hidden name first, so a build never reads half a file (and a
            # name near the file system's limit still has room for the temporary one).
            temporary = target.with_name(f".adding-{os.getpid()}-{len(created)}")
            try:
                shutil.copyfile(path, temporary)
                os.replace(temporary, target)
            finally:
                temporary.unlink(missing_ok=True)
            created.append(target)
    except OSError as exc:
        for done in created:
            done.unlink(missing_ok=True)
        raise SearchkitError(f"cannot copy {path} into {target.parent}: {exc.strerror or exc}") from exc
    return created


def _same_bytes(target: Path, path: Path) -> bool:
    """Whether ``target`` (in the articles folder) holds the bytes of ``path``; SearchkitError when
    it cannot be told (a folder of that name, a file that cannot be read)."""
    try:
        if target.resolve() == path.resolve():
            return True
        if target.is_dir():
            raise SearchkitError(f"cannot add {path}: {target} is a folder (rename the file)")
        if target.stat().st_size != path.stat().st_size:
            return False
        with target.open("rb") as one, path.open("rb") as other:
            while True:
                block, again = one.read(1 << 20), other.read(1 << 20)
                if block != again:
                    return False
                if not block:
                    return True
    except OSError as exc:
        raise SearchkitError(f"cannot add {path}: cannot read {target}: {exc.strerror or exc}") from exc
