"""The Xapian engine's side of a build: writing the shards, each in one transaction.

Each article lives on the shard :func:`searchkit.engines.xapian.terms.shard_of` names, a stable hash of its
id, so an update or a removal finds it again. A build (``searchkit.build.pipeline``) drives a
:class:`ShardsWriter`:

1. it reads each shard's version terms (what it holds); an article on another shard than its hash
   names (the list of shards changed) counts as changed, so it is removed there and written anew;
2. it opens every shard for writing (holding each shard's lock until the end) in a transaction,
   removes the replaced, moved and removed articles and takes their counts out of the shard's
   spelling counts;
3. the changed articles are analysed (:class:`Documents`, in worker processes for a large build)
   and each is sent to its shard, its counts added to the shard's;
4. it commits the shards one after the other, each in one commit.

So an error or Ctrl-C before step 4 cancels every shard's changes, and a shard never holds half
of a commit. Shards are separate databases, though: a build stopped during step 4 (or killed, after
which a shard server commits what it had received) leaves some shards updated and others not.
Every document is whole and carries its version, and each shard's statistics name the state they
count, so the next build sees exactly what is missing, recounts a shard whose statistics no longer
match its documents, and completes.
"""

from __future__ import annotations

from pathlib import Path

from searchkit.corpus.articles import Article
from searchkit.engines import fields as f
from searchkit.engines import spellings
from searchkit.engines.xapian import statistics
from searchkit.engines.xapian.connection import Shard, guarded, open_reader, open_writer, xapian
from searchkit.engines.xapian.terms import ID_PREFIX, analysed, id_key, read_stored, shard_of, shard_of_key


def is_empty(shards: list[Shard]) -> bool:
    """Whether no shard holds any article yet."""
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

    def start_counts(self, folder: Path, fresh: bool) -> None:
        """Opens the statistics to update: the shard's own when they count what it holds, else a recount."""
        self.fresh = fresh
        base = folder / f"base-{self.counts_path.name}"
        meta = None if fresh else statistics.download(self.db, base)
        trusted = meta is not None and meta["state"] == statistics.state_of(self.held)
        self.counts = spellings.SpellingWriter(self.counts_path, base if trusted else None)
        if not fresh and not trusted and self.held:
            for posting in self.db.postlist(""):
                data = read_stored(self.db.get_document(posting.docid).get_data())
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


class ShardsWriter:
    """A build's writer of ``shards``, as ``searchkit.build.pipeline.Target`` asks; ``folder`` holds
    its temporary files. ``rebuild`` recounts every shard's statistics from the articles written.
    Use as a context manager: leaving it closes every connection, cancelling what was not committed."""

    empties = False  # a rebuild rewrites every article in place; the shards are never emptied

    def __init__(self, shards: list[Shard], folder: Path, *, rebuild: bool):
        self.shards = shards
        self.folder = folder
        self.rebuild = rebuild
        self.parts: list[_ShardWrite] = []
        self._bindings = xapian()

    def __enter__(self) -> ShardsWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        for part in self.parts:
            _close(part, self._bindings)

    def held(self) -> dict[str, str]:
        for number, shard in enumerate(self.shards):
            with guarded([shard]):
                self.parts.append(_ShardWrite(shard, self.folder, number))
        found: dict[str, str] = {}
        for number, part in enumerate(self.parts):
            for key, content in part.held.items():
                # On a shard its hash no longer names: changed, so that writing it moves it.
                misplaced = number != shard_of_key(key, len(self.parts)) or key in found
                found[key] = "" if misplaced else content
        return found

    def key(self, doc_id: str) -> str:
        return id_key(doc_id)

    def doc_id(self, key: str) -> str:
        for part in self.parts:
            if key in part.held:
                return part.stored(key)[f.ID]
        raise KeyError(key)

    def current(self) -> bool:
        return False  # a shard whose statistics need a recount is written even with no article changed

    def begin(self) -> None:
        for part in self.parts:
            with guarded([part.shard]):
                part.db.begin_transaction(True)
                part.start_counts(self.folder, fresh=self.rebuild)

    def remove(self, keys: list[str]) -> None:
        for key in keys:
            for part in self.parts:
                if key in part.held:
                    with guarded([part.shard]):
                        part.remove(key)

    def analysis(self) -> type[Documents]:
        return Documents

    def receive(self, result: list[tuple[str, str, str, bytes, spellings.Tally]]) -> None:
        # The build removed every old version first (``remove``), on whichever shard held it.
        for doc_id, content, key, document, tally in result:
            part = self.parts[shard_of(doc_id, len(self.parts))]
            with guarded([part.shard]):
                part.db.replace_document(ID_PREFIX + key, self._bindings.Document.unserialise(document))
            part.held[key] = content
            part.counts.add(tally)
            part.touched = True

    def inherited(self) -> list[int]:
        return []

    def commit(self) -> None:
        for part in self.parts:
            with guarded([part.shard]):
                if part.touched:
                    part.finish()
        for part in self.parts:  # the only step that changes what queries see
            with guarded([part.shard]):
                part.db.commit_transaction()

    def abandon(self, exc: BaseException) -> BaseException | None:
        return None  # closing cancels every transaction not committed


class Documents:
    """The analysis of a build's articles into Xapian documents and their counts (see
    :func:`searchkit.engines.xapian.terms.analysed`), which cross back to the writer as bytes."""

    def take(self, batch: list[Article]) -> list[tuple[str, str, str, bytes, spellings.Tally]]:
        return [(article.id, article.hash, *analysed(article)) for article in batch]

    def finish(self) -> None:
        return None

    def cancel(self) -> None:
        pass


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
