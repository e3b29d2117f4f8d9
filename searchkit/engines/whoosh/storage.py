"""Reading an index's files through memory maps, one map per file shared by every reader of it.

Whoosh's ``FileStorage`` reads each lookup in the term tables with a seek and a read on a file
object: a system call per probe, tens of thousands for a query that expands prefixes. Whoosh's own
memory maps come only with compound segment files, whose parts it then copies whole into memory.
``MappedStorage`` maps every file of a generation instead and reads from the map: lookups cost a
slice of memory, and the pages stay the operating system's to share between processes or drop.

A server's request threads each open a searcher of their own on the same generation. Mapped once
per searcher, every page of the index a query touches would count once per searcher in the
process's resident memory (eight threads, eight times an 85 MB index), though it is one page of
the page cache. So a file is mapped once in this process while anything reads it
(:func:`mapping`), and each reader gets a cursor of its own over that map (:class:`MappedFile`):
a map's own read position cannot be shared between threads. A generation's files never change
once written, so a file is known by its device, inode, size and modification time.

The postings file is the exception (:class:`ReadFile`): a term's postings are read a block at a time into
the generation's posting cache (``cache.py``) and decoded there, so its pages, once copied, are not read
again while the entry lasts; mapped, every page a query had touched stayed in the process's resident
memory (31 MB of a worker after 3,000 distinct queries on 10,000 articles) beside the cache's copy. Read
with ``os.pread``, they stay in the operating system's page cache alone, which keeps them for the next
read as it keeps mapped ones.

Whoosh is pinned (see ``pyproject.toml``); ``tests/test_storage.py`` checks every answer against
Whoosh's own ``FileStorage``.
"""

from __future__ import annotations

import mmap
import os
import threading
import weakref
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

_lock = threading.Lock()
# The maps open now, by file; an entry goes with the last cursor over it.
_maps: weakref.WeakValueDictionary[tuple, mmap.mmap] = weakref.WeakValueDictionary()


def mapping(handle: object) -> mmap.mmap:
    """The read-only map of the open file ``handle`` (not empty), the one already open in this
    process if any reader still holds it."""
    found = os.fstat(handle.fileno())
    key = (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)
    with _lock:
        shared = _maps.get(key)
        if shared is None:
            shared = _maps[key] = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return shared


def open_maps() -> int:
    """How many files are mapped now in this process (for tests)."""
    with _lock:
        return len(_maps)


class Cursor:
    """A read position of its own over a shared map: the file object a :class:`MappedFile` wraps.
    Closing it lets go of the map (unmapped with the last cursor over it)."""

    __slots__ = ("_map", "_at")

    def __init__(self, shared: mmap.mmap):
        self._map: mmap.mmap | None = shared
        self._at = 0

    def read(self, size: int | None = -1) -> bytes:
        at = self._at
        end = len(self._map) if size is None or size < 0 else at + size
        data = self._map[at:end]
        self._at = at + len(data)
        return data

    def readline(self, size: int | None = -1) -> bytes:
        at = self._at
        end = self._map.find(b"\n", at)
        end = len(self._map) if end < 0 else end + 1
        if size is not None and size >= 0:
            end = min(end, at + size)
        return self.read(end - at)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_CUR:
            offset += self._at
        elif whence == os.SEEK_END:
            offset += len(self._map)
        if offset < 0:
            raise ValueError("negative seek position")
        self._at = offset
        return offset

    def tell(self) -> int:
        return self._at

    def __len__(self) -> int:
        return len(self._map)

    def close(self) -> None:
        self._map = None

    @property
    def closed(self) -> bool:
        return self._map is None


class MappedFile(StructFile):
    """A read-only index file served from the process's one map of it; reads and seeks never call the system."""

    def __init__(self, handle: object, name: str):
        self._map = mapping(handle)
        handle.close()  # the map keeps the file open
        super().__init__(Cursor(self._map), name=name)

    def get(self, position: int, length: int) -> bytes:
        return self._map[position : position + length]

    def close(self) -> None:
        super().close()
        self._map = None


class ReadFile(StructFile):
    """A read-only index file read through the system, not mapped: a piece at a position (``get``, as
    the posting blocks are read) is one ``os.pread``, which moves no read position, so it is safe
    beside Whoosh's own seeks and reads on the same file object."""

    def __init__(self, handle: object, name: str):
        super().__init__(handle, name=name)
        self._fd = handle.fileno()

    def get(self, position: int, length: int) -> bytes:
        return os.pread(self._fd, length, position)


# The files a reader reads whole pieces of once per cache entry rather than probes again and again.
READ_NOT_MAPPED = (W3Codec.POSTS_EXT,)


class MappedStorage(FileStorage):
    """A read-only ``FileStorage`` whose non-empty files are memory-mapped, but for the postings."""

    def __init__(self, path: str):
        super().__init__(path, readonly=True)

    def open_file(self, name: str, **kwargs: object) -> StructFile:
        path = os.path.join(self.folder, name)
        handle = open(path, "rb")  # noqa: SIM115 - handed to the map, which closes it
        try:
            if os.stat(path).st_size == 0:
                return StructFile(handle, name=name, **kwargs)
            if name.endswith(READ_NOT_MAPPED):
                return ReadFile(handle, name)
            return MappedFile(handle, name)
        except BaseException:
            handle.close()
            raise


def open_mapped(folder: Path | str) -> whoosh_index.Index:
    """The Whoosh index in ``folder``, its files read through memory maps."""
    return MappedStorage(str(folder)).open_index()
