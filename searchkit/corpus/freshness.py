"""Whether the index is older than the articles folder, told from file names, sizes and times.

After each build the index folder keeps a snapshot of the articles folder it was built from: every
file's path relative to the folder with its size and modification time in nanoseconds, listed the
way :func:`searchkit.corpus.articles.read_articles` walks it (by :func:`searchkit.corpus.folder.walk`: hidden
entries, links to folders and folders nested too deeply left out). A file added, changed or removed
since then makes the index stale. Nothing is read or hashed, so the check costs one directory walk
and is cheap enough to run for every query.

The snapshot records which folder it describes: asked about another one (``searchkit query``
with the default ``--seeds`` against an index built from elsewhere), :func:`stale` says ``False``
rather than raise a false alarm.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from searchkit.corpus.folder import Skipped, walk

SNAPSHOT_FILE = "searchkit-seeds.json"
_VERSION = 1

Snapshot = dict[str, tuple[int, int]]
"""Relative path ("/" separators) → (size in bytes, modification time in nanoseconds)."""


def snapshot(seeds_dir: Path | str) -> Snapshot:
    """The files of ``seeds_dir`` (or the one file it names) with their sizes and times.

    Entries that cannot be listed or stat'ed are left out, as the build skips them too; a missing
    folder gives an empty snapshot.
    """
    root = Path(seeds_dir)
    files: Snapshot = {}
    try:
        is_file, is_dir = root.is_file(), root.is_dir()
    except OSError:
        return files
    if is_file:
        _add(files, root.name, root)
    elif is_dir:
        _walk(root, files)
    return files


def save(seeds_dir: Path | str, index_dir: Path | str, files: Snapshot) -> None:
    """Records ``files`` (taken from ``seeds_dir``) as the state the index in ``index_dir`` reflects."""
    data = {
        "version": _VERSION,
        "seeds": str(Path(seeds_dir).resolve()),
        "files": {path: list(entry) for path, entry in sorted(files.items())},
    }
    target = Path(index_dir) / SNAPSHOT_FILE
    temporary = target.with_name(f".{SNAPSHOT_FILE}.tmp")
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A name that is not UTF-8 holds its odd bytes as lone surrogates ("caf\udce9.txt"), which
        # UTF-8 cannot write; as JSON escapes they are read back as the same name.
        text = json.dumps(data)
    try:
        temporary.write_text(text + "\n", encoding="utf-8")
        os.replace(temporary, target)
    except OSError:
        # The build itself succeeded; an old snapshot left behind would keep a false notice up.
        for path in (temporary, target):
            try:
                path.unlink()
            except OSError:
                pass


def update(seeds_dir: Path | str, index_dir: Path | str, paths: Iterable[Path | str]) -> None:
    """Refreshes the snapshot's entries of ``paths`` (files inside ``seeds_dir`` just indexed).

    Without a snapshot of ``seeds_dir`` nothing is written: the rest of the folder's state is unknown.
    """
    recorded = load(seeds_dir, index_dir)
    if recorded is None:
        return
    root = Path(seeds_dir)
    for path in paths:
        path = Path(path)
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            continue
        recorded.pop(rel, None)
        _add(recorded, rel, path)
    save(seeds_dir, index_dir, recorded)


def load(seeds_dir: Path | str, index_dir: Path | str) -> Snapshot | None:
    """The snapshot the index in ``index_dir`` was built from, if it describes ``seeds_dir``."""
    try:
        data = json.loads((Path(index_dir) / SNAPSHOT_FILE).read_text(encoding="utf-8"))
        if data["version"] != _VERSION or data["seeds"] != str(Path(seeds_dir).resolve()):
            return None
        return {path: (int(size), int(mtime)) for path, (size, mtime) in data["files"].items()}
    except (OSError, RuntimeError, ValueError, KeyError, TypeError, AttributeError):
        return None


def stale(seeds_dir: Path | str, index_dir: Path | str) -> bool:
    """Whether a file of ``seeds_dir`` was added, changed or removed since the index was built.

    ``False`` when the index has no snapshot of that folder (built by an older version, or from
    another folder): the check never cries wolf.
    """
    recorded = load(seeds_dir, index_dir)
    return recorded is not None and recorded != snapshot(seeds_dir)


class StaleCheck:
    """:func:`stale`, asked again at most every ``every`` seconds, for a server answering many requests,
    and at once when a build has saved a new snapshot (one stat), so its notice goes with the build."""

    def __init__(
        self,
        seeds_dir: Path | str,
        index_dir: Path | str,
        every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.seeds_dir, self.index_dir = Path(seeds_dir), Path(index_dir)
        self.every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._checked: float | None = None
        self._saved: tuple[int, int, int] | None = None
        self._stale = False

    def __call__(self) -> bool:
        with self._lock:
            now = self._clock()
            saved = _saved(self.index_dir)
            if self._checked is None or now - self._checked >= self.every or saved != self._saved:
                self._stale = stale(self.seeds_dir, self.index_dir)
                self._checked, self._saved = now, saved
            return self._stale


def _saved(index_dir: Path) -> tuple[int, int, int] | None:
    """Which snapshot the index folder holds now (replaced by each build), without reading it."""
    try:
        info = (index_dir / SNAPSHOT_FILE).stat()
    except OSError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def _walk(root: Path, files: Snapshot) -> None:
    # Plain strings and DirEntry objects: building a Path per file would cost more than its stat.
    start = len(str(root).rstrip(os.sep)) + 1
    try:
        for entry in walk(root, ordered=False):
            if isinstance(entry, Skipped):
                continue
            try:
                info = entry.stat()
            except OSError:
                continue
            files[entry.path[start:]] = (info.st_size, info.st_mtime_ns)
    except OSError:  # the folder itself cannot be listed
        return


def _add(files: Snapshot, rel: str, path: Path) -> None:
    try:
        info = path.stat()
    except OSError:
        return
    files[rel] = (info.st_size, info.st_mtime_ns)
