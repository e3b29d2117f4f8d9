"""Each shard's accent statistics, and their sum where queries run.

Accent restoration, Telex and VNI keys, acronyms and completion read ``searchkit.engines.spellings``'
tables through :class:`searchkit.engines.spellings.SpellingCounts`, on either backend. A shard keeps
the counts of its own articles as a compressed SQLite file in its metadata, written in the same
commit as its documents, so a shard's counts always describe the documents it holds; the
metadata also names that state (a digest of its version terms, see :mod:`searchkit.engines.xapian.terms`),
which a build checks before it trusts the counts.

A client sums the shards' counts into one file once per set of shard states and keeps it in a
cache folder (``index/shards/`` by default), so a query reads them locally, as on one machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from pathlib import Path

from searchkit.engines import spellings
from searchkit.engines.xapian.terms import VERSION_PREFIX

META_KEY = "searchkit:counts"
CHUNK_KEY = "searchkit:counts:{}"
# Metadata values are sent whole over the network: the file goes in pieces of this many bytes.
CHUNK_BYTES = 4 << 20
# Summed files kept in a client's cache: the current one and a few a slow reader may still use.
KEEP_FILES = 4
# Where a client keeps them: this folder of the ``--index`` folder (its own with shards).
CACHE_FOLDER = "shards"


def cache_folder(index_dir: Path | str) -> Path:
    """The folder in ``index_dir`` where a client keeps the shards' summed statistics."""
    return Path(index_dir) / CACHE_FOLDER


def versions(db) -> dict[str, str]:  # noqa: ANN001
    """Every article a shard holds: id digest -> content hash (one walk of its version terms)."""
    from searchkit.engines.xapian.terms import read_version

    found: dict[str, str] = {}
    for item in db.allterms(VERSION_PREFIX):
        key, content = read_version(item.term.decode("utf-8"))
        found[key] = content
    return found


def state_of(held: dict[str, str]) -> str:
    """A digest naming the set of articles (and versions) a shard holds."""
    digest = hashlib.sha256()
    for key in sorted(held):
        digest.update(f"{key}{held[key]}\n".encode())
    return digest.hexdigest()


def described(db) -> dict | None:  # noqa: ANN001
    """What a shard's metadata says of its counts (``state``, ``digest``, ``chunks``); None if none."""
    raw = db.get_metadata(META_KEY)
    return json.loads(raw.decode("utf-8")) if raw else None


def download(db, path: Path) -> dict | None:  # noqa: ANN001
    """Writes a shard's counts to ``path``; returns their description, None when it has none."""
    meta = described(db)
    if meta is None:
        return None
    blob = b"".join(db.get_metadata(CHUNK_KEY.format(i)) for i in range(meta["chunks"]))
    if hashlib.sha256(blob).hexdigest() != meta["digest"]:
        return None  # written by a build that stopped between its pieces: recounted by the next one
    path.write_bytes(zlib.decompress(blob))
    return meta


def upload(writer, path: Path, state: str) -> None:  # noqa: ANN001
    """Puts the counts file ``path`` into a shard's metadata, as the counts of ``state``."""
    blob = zlib.compress(path.read_bytes(), 6)
    old = described(writer)
    chunks = [blob[i : i + CHUNK_BYTES] for i in range(0, len(blob), CHUNK_BYTES)] or [b""]
    for i, chunk in enumerate(chunks):
        writer.set_metadata(CHUNK_KEY.format(i), chunk)
    for i in range(len(chunks), old["chunks"] if old else 0):
        writer.set_metadata(CHUNK_KEY.format(i), b"")  # an empty value removes the key
    meta = {"state": state, "digest": hashlib.sha256(blob).hexdigest(), "chunks": len(chunks)}
    writer.set_metadata(META_KEY, json.dumps(meta))


def summed(shard_dbs: list, cache: Path) -> tuple[spellings.SpellingCounts, str]:
    """The counts of every shard summed, as one read-only file in ``cache``, and a name for them.

    ``shard_dbs`` are the shards opened one by one (a combined database reads only the first
    one's metadata).
    """
    metas = [described(db) for db in shard_dbs]
    name = hashlib.sha256("".join(m["digest"] if m else "-" for m in metas).encode()).hexdigest()[:32]
    path = cache / f"spellings-{name}.sqlite"
    if not path.exists():
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f".summing-{os.getpid()}-{name}.sqlite"
        pieces = [cache / f".shard-{os.getpid()}-{i}.sqlite" for i in range(len(shard_dbs))]
        try:
            found = [piece for db, piece in zip(shard_dbs, pieces, strict=True) if download(db, piece) is not None]
            writer = spellings.SpellingWriter(partial)
            writer.merge(found)
            writer.close()
            os.replace(partial, path)
        finally:
            for leftover in [partial, *pieces]:
                leftover.unlink(missing_ok=True)
        _prune(cache, keep=path)
    return spellings.SpellingCounts(path), name


def _prune(cache: Path, keep: Path) -> None:
    older = sorted(cache.glob("spellings-*.sqlite"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in [p for p in older if p != keep][KEEP_FILES - 1 :]:
        path.unlink(missing_ok=True)
