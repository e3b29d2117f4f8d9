"""Reading an index's files through memory maps.

Whoosh's ``FileStorage`` reads each lookup in the term tables with a seek and a read on a file
object: a system call per probe, tens of thousands for a query that expands prefixes. Whoosh's own
memory maps come only with compound segment files, whose parts it then copies whole into memory.
``MappedStorage`` maps every file of a generation instead and reads from the map: lookups cost a
slice of memory, and the pages stay the operating system's to share between processes or drop.

Whoosh is pinned (see ``pyproject.toml``); ``tests/test_storage.py`` checks every answer against
Whoosh's own ``FileStorage``.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile


class MappedFile(StructFile):
    """A read-only index file served from a memory map; reads and seeks never call the system."""

    def __init__(self, handle: object, name: str):
        self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        handle.close()  # the map keeps the file open
        super().__init__(self._map, name=name)

    def get(self, position: int, length: int) -> bytes:
        return self._map[position : position + length]


class MappedStorage(FileStorage):
    """A read-only ``FileStorage`` whose non-empty files are memory-mapped."""

    def __init__(self, path: str):
        super().__init__(path, readonly=True)

    def open_file(self, name: str, **kwargs: object) -> StructFile:
        path = os.path.join(self.folder, name)
        handle = open(path, "rb")  # noqa: SIM115 - handed to the map, which closes it
        try:
            if os.stat(path).st_size == 0:
                return StructFile(handle, name=name, **kwargs)
            return MappedFile(handle, name)
        except BaseException:
            handle.close()
            raise


def open_mapped(folder: Path | str) -> whoosh_index.Index:
    """The Whoosh index in ``folder``, its files read through memory maps."""
    return MappedStorage(str(folder)).open_index()
