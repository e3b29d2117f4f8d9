"""The index folder: numbered generations of the Whoosh index, one of them current.

::

    index/
      CURRENT          names the current generation's folder; replaced atomically by a build
      gen-000007/      a complete Whoosh index and its manifest; never changed once it is current
      searchkit.lock   held by the one build at a time

A build never writes into the current generation. An update hard-links the current generation's
files into a new folder (Whoosh's segment files never change once written; deletions live in the
table of contents), lets Whoosh add its segments there, writes the manifest (every file's size
and SHA-256, and the articles it was built from) and only then moves ``CURRENT``. A rebuild starts
from an empty folder. So a build killed at any point leaves the last current generation
answering, a rebuild never reads the old files (junk or damage in them cannot stop it), and a
reader that opened a generation sees it whole until it closes, whatever builds run meanwhile.
The two newest generations are kept, and older ones for two minutes after they stopped being
current, so a reader opened just before builds publish can finish.

Damage that keeps every size (a flipped byte, another file of the same length) passes the sizes
checked at every open; the checksums find it, but hashing means reading every byte of the index
(about 40 ms for 3,000 news articles, a tenth of a cold query there, and growing with the index),
so they are checked where that is cheap beside the work: before an update builds on a
generation (:func:`verify`), and when a read of an open generation fails (:func:`explain`), to name
the damaged file, or to tell a fault of the code from a damaged file.

Segments are written as separate files rather than Whoosh's compound files: Whoosh copies every
part of a compound file into memory when it opens it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from searchkit.engines.spellings import FILE as SPELLINGS_FILE
from searchkit.engines.spellings import SpellingCounts
from searchkit.engines.whoosh.schema import schema as whoosh_schema
from searchkit.engines.whoosh.storage import open_mapped
from searchkit.errors import IndexBusyError, IndexDamagedError, IndexMissingError, SearchkitError

# 10: the analyzer classes pickled into every table of contents moved with the layered layout, so an
# index built before it cannot be opened (its analyzers are named at their old paths).
SCHEMA_VERSION = 10
POINTER = "CURRENT"
META = "searchkit.json"
# The manifest's key for each file's SHA-256 (beside "files", each file's size).
CHECKSUMS = "sha256"
# Its key for the articles the generation was built from (an absolute path).
SEEDS = "seeds"
LOCK = "searchkit.lock"
# Generations kept: the current one and the one before, which a reader may still be using; an older
# one too until it has been out of use this long, so a slow request never loses its files.
KEEP = 2
GRACE_SECONDS = 120.0
# A generation's number has at least six digits; the bound keeps a damaged CURRENT from naming a
# path too long for the file system.
_FOLDER = re.compile(r"^gen-(\d{6,18})$")
# What Whoosh writes besides segments and tables of contents: its write lock.
_WHOOSH_LOCK = re.compile(r"_WRITELOCK$")
_TOC = re.compile(r"^_MAIN_\d+\.toc")


@dataclass(frozen=True)
class Generation:
    """One generation's folder and its number."""

    path: Path
    number: int

    @property
    def name(self) -> str:
        return self.path.name


def folder_name(number: int) -> str:
    return f"gen-{number:06d}"


def pointer(index_dir: Path | str) -> str | None:
    """The current generation's folder name as ``CURRENT`` says it, None when there is none.

    Cheap (one small read), so a server can check it before every request.
    """
    try:
        return (Path(index_dir) / POINTER).read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise damaged(Path(index_dir), f"cannot read {POINTER}: {_reason(exc)}") from exc


def current(index_dir: Path | str) -> Generation | None:
    """The current generation, None when no build has completed in ``index_dir``."""
    index_dir = Path(index_dir)
    name = pointer(index_dir)
    if name is None:
        return None
    found = _FOLDER.match(name)
    try:
        is_folder = found is not None and (index_dir / name).is_dir()
    except OSError:
        is_folder = False
    if not is_folder:
        raise damaged(index_dir, f"{POINTER} names no generation folder")
    assert found is not None
    return Generation(index_dir / name, int(found.group(1)))


def open_spellings(generation: Generation) -> SpellingCounts:
    """The spelling counts of one generation of the index."""
    path = generation.path / SPELLINGS_FILE
    if not path.exists():
        raise damaged(generation.path.parent, f"{generation.name}/{SPELLINGS_FILE} is missing")
    return SpellingCounts(path)


def state(index_dir: Path | str) -> str:
    """``missing``, ``outdated`` (written by another version of searchkit) or ``ready``.

    Damage is found when the generation is opened (:func:`open_current`), not here.
    """
    index_dir = Path(index_dir)
    try:
        generation = current(index_dir)
    except IndexDamagedError:
        return "ready"
    if generation is None:
        # Whoosh's files straight in the folder: the layout before generations.
        legacy = index_dir.is_dir() and whoosh_index.exists_in(str(index_dir))
        return "outdated" if legacy else "missing"
    meta = read_meta(generation)
    if meta.get("schema") != SCHEMA_VERSION or meta.get("fields") != sorted(whoosh_schema().names()):
        return "outdated"
    return "ready"


def open_current(index_dir: Path | str) -> tuple[Generation, whoosh_index.Index]:
    """The current generation, checked against its manifest, and its Whoosh index.

    Raises :class:`IndexMissingError` when there is none or it was written by another version,
    :class:`IndexDamagedError` when its files are not those its build wrote.
    """
    index_dir = Path(index_dir)
    found = state(index_dir)
    if found == "missing":
        raise IndexMissingError(f"no index in {index_dir}: run 'searchkit index' first", index=str(index_dir))
    if found == "outdated":
        raise IndexMissingError(outdated_message(index_dir), code="index_outdated", index=str(index_dir))
    generation = current(index_dir)
    assert generation is not None
    check(index_dir, generation)
    try:
        return generation, open_mapped(generation.path)
    except PermissionError as exc:
        raise SearchkitError(
            f"cannot read the index in {index_dir}: {_reason(exc)}", code="index_unreadable", index=str(index_dir)
        ) from exc
    except Exception as exc:  # whatever Whoosh trips on in a damaged file
        raise damaged(index_dir, f"{type(exc).__name__}: {exc}") from exc


def check(index_dir: Path, generation: Generation) -> None:
    """Raises :class:`IndexDamagedError` unless the generation holds exactly the files its build wrote."""
    files = read_meta(generation).get("files")
    if not isinstance(files, dict):
        raise damaged(index_dir, f"{generation.name}/{META} lists no files")
    for name, size in files.items():
        try:
            actual = (generation.path / name).stat().st_size
        except FileNotFoundError:
            raise damaged(index_dir, f"{generation.name}/{name} is missing") from None
        except OSError as exc:
            raise damaged(index_dir, f"{generation.name}/{name}: {_reason(exc)}") from exc
        if actual != size:
            raise damaged(index_dir, f"{generation.name}/{name} has {actual} bytes, {size} were written")
    for name in _listing(generation.path):
        if _TOC.match(name) and name not in files:
            raise damaged(index_dir, f"{generation.name}/{name} was not written by a build")


def verify(index_dir: Path, generation: Generation) -> None:
    """:func:`check`, then every file's SHA-256 against the manifest's (a manifest written before
    checksums has none: only the sizes are checked). Raises :class:`IndexDamagedError` naming the
    first file whose bytes are not those its build wrote."""
    check(index_dir, generation)
    for name, digest in read_meta(generation).get(CHECKSUMS, {}).items():
        try:
            actual = _digest(generation.path / name)
        except OSError as exc:
            raise damaged(index_dir, f"{generation.name}/{name}: {_reason(exc)}") from exc
        if actual != digest:
            raise damaged(index_dir, f"{generation.name}/{name} is not the file its build wrote")


def explain(index_dir: Path, generation: Generation, exc: Exception) -> IndexDamagedError | None:
    """What a failed read of an open generation means: the damage that caused it, naming the file,
    or None when every file is as its build wrote it (the fault is the code's, not the index's).

    Without checksums in the manifest the two cannot be told apart: a read error is then taken
    for damage, with the error as the only detail.
    """
    try:
        verify(index_dir, generation)
    except IndexDamagedError as found:
        return found
    if read_meta(generation).get(CHECKSUMS):
        return None
    return damaged(index_dir, f"{generation.name}: {type(exc).__name__}: {exc}")


def built_from(index_dir: Path | str) -> str | None:
    """The articles folder (or file) the current generation was built from, as an absolute path;
    None when there is no generation or it does not say (built by an older version)."""
    try:
        generation = current(index_dir)
    except IndexDamagedError:
        return None
    seeds = read_meta(generation).get(SEEDS) if generation is not None else None
    return seeds if isinstance(seeds, str) else None


def read_meta(generation: Generation) -> dict:
    try:
        meta = json.loads((generation.path / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


# --- building a generation (under the build lock) ----------------------------------------------------


def begin(index_dir: Path, *, fresh: bool) -> Generation:
    """A new generation's folder: empty when ``fresh``, else holding links to the current one's files."""
    try:
        now = current(index_dir)
    except IndexDamagedError:
        if not fresh:
            raise
        now = None
    for stale in _generations(index_dir):
        # A folder newer than the current one is what a killed build left.
        if now is None or stale.number > now.number:
            shutil.rmtree(stale.path, ignore_errors=True)
    number = max((g.number for g in _generations(index_dir)), default=0) + 1
    generation = Generation(index_dir / folder_name(number), number)
    try:
        generation.path.mkdir()
        if now is not None and not fresh:
            for name in read_meta(now).get("files", {}):
                _link(now.path / name, generation.path / name)
    except OSError as exc:
        discard(generation)
        raise unwritable(index_dir, exc) from exc
    return generation


def publish(index_dir: Path, generation: Generation, *, seeds: str | None = None) -> None:
    """Records the generation's files (and ``seeds``, the articles it was built from) and makes it
    the current one; removes what is no longer needed."""
    files = {
        name: (generation.path / name).stat().st_size
        for name in _listing(generation.path)
        if name != META and not _WHOOSH_LOCK.search(name) and not name.startswith(".")
    }
    # Hashing costs about 40 ms for 3,000 news articles (33 MB, idle machine), next to their build's 48 s.
    checksums = {name: _digest(generation.path / name) for name in files}
    meta = {"schema": SCHEMA_VERSION, "fields": sorted(whoosh_schema().names()), "files": files, CHECKSUMS: checksums}
    if seeds is not None:
        meta[SEEDS] = seeds
    _write_atomically(generation.path / META, json.dumps(meta, indent=1) + "\n")
    sync_folder(generation.path)
    _clear(index_dir / POINTER)
    _write_atomically(index_dir / POINTER, generation.name + "\n")
    sync_folder(index_dir)
    _remove_legacy(index_dir)
    _prune(index_dir, generation)


def _prune(index_dir: Path, newest: Generation) -> None:
    """Removes the generations before the newest ``KEEP`` that stopped being current over ``GRACE_SECONDS`` ago."""
    older = sorted((g for g in _generations(index_dir) if g.number <= newest.number), key=lambda g: -g.number)
    now = time.time()
    for successor, old in zip(older[KEEP - 1 :], older[KEEP:], strict=False):
        try:
            # A generation stopped being current when its successor's manifest was written.
            replaced = (successor.path / META).stat().st_mtime
        except OSError:
            replaced = 0.0
        if now - replaced > GRACE_SECONDS:
            shutil.rmtree(old.path, ignore_errors=True)


def discard(generation: Generation) -> None:
    """Removes a generation that was never published."""
    shutil.rmtree(generation.path, ignore_errors=True)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[int | None]:
    """Holds the index's build lock (the lock's descriptor is yielded) or raises IndexBusyError.

    An OS file lock, so a killed build never leaves a stale lock behind.
    """
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        # The lock is a file; a folder in its place is damage, never a build holding the lock.
        _clear(index_dir / LOCK)
        lock = FileStorage(str(index_dir)).lock(LOCK)
        acquired = lock.acquire(blocking=False)
    except OSError as exc:
        raise unwritable(index_dir, exc) from exc
    if not acquired:
        raise IndexBusyError(busy_message(index_dir), index=str(index_dir))
    try:
        yield lock.fd
    finally:
        lock.release()


def busy_message(index_dir: Path) -> str:
    return f"another build is updating {index_dir}; try again when it has finished"


def outdated_message(index_dir: Path) -> str:
    return f"the index in {index_dir} was built by another version: run 'searchkit index --rebuild'"


# --- files -------------------------------------------------------------------------------------------


def _generations(index_dir: Path) -> list[Generation]:
    found = []
    for name in _listing(index_dir):
        match = _FOLDER.match(name)
        if match and (index_dir / name).is_dir():
            found.append(Generation(index_dir / name, int(match.group(1))))
    return found


def _listing(folder: Path) -> list[str]:
    try:
        return sorted(os.listdir(folder))
    except FileNotFoundError:
        return []


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _write_atomically(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    _clear(temporary)
    replace_file(path, text.encode("utf-8"), temporary)


def replace_file(path: Path, data: bytes, temporary: Path, *, exclusive: bool = False) -> None:
    """Puts ``data`` at ``path`` whole or not at all: written to ``temporary`` beside it, synced,
    renamed over it (``exclusive``: ``temporary`` must not exist yet). :func:`sync_folder` then makes
    the rename durable."""
    try:
        with open(temporary, "xb" if exclusive else "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _clear(path: Path) -> None:
    """Removes a folder standing where the index keeps one of its files (a file is left alone).

    ``shutil.rmtree`` never removes a file it is given, so a file put there meanwhile (another
    build's lock) is safe.
    """
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sync_folder(folder: Path) -> None:
    """Makes the renames in ``folder`` durable; not every system can open a folder for it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_legacy(index_dir: Path) -> None:
    """Removes the files an older version of searchkit wrote straight into the index folder."""
    for name in _listing(index_dir):
        if _TOC.match(name) or name.startswith("MAIN_") or name in (META, "MAIN.tmp"):
            path = index_dir / name
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    path.unlink()
                except OSError:
                    pass


def unwritable(index_dir: Path, exc: OSError) -> SearchkitError:
    return SearchkitError(
        f"cannot write the index in {index_dir}: {_reason(exc)}", code="index_unwritable", index=str(index_dir)
    )


def damaged(index_dir: Path, detail: str) -> IndexDamagedError:
    return IndexDamagedError(
        f"the index in {index_dir} is damaged ({detail}): run 'searchkit index --rebuild'",
        index=str(index_dir),
        detail=detail,
    )


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
