"""Walking the articles folder: which entries are read, and what a symbolic link may reach.

The walk is iterative, so a folder nested any depth costs no stack; folders deeper than `MAX_DEPTH`,
links to folders and hidden entries are left out. A link to a file is read only when its target
lies inside the folder (however the link is written: an absolute path, "..", a chain of links) and
is not a file the walk reads anyway. What is left out becomes a `Skipped` record with the reason.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# Folders below the seeds folder that are read; a deeper one is reported and left out. Real
# collections nest a few levels; a path of 4,096 bytes allows about 2,000 levels of one-letter names.
MAX_DEPTH = 100


@dataclass(frozen=True)
class Skipped:
    """A file (or "<file>#line <n>" of a JSON Lines file) that gave no article, and why.

    A file that cannot be read as it stands keeps the articles an earlier build took from it; one
    `refused` as it stands (a link out of the folder, a second name for a file read anyway) loses them.
    """

    path: str
    reason: str
    refused: bool = field(default=False, compare=False)


def walk(
    root: Path | str, entries: list[os.DirEntry[str]] | None = None, *, ordered: bool = True
) -> Iterator[os.DirEntry[str] | Skipped]:
    """Every entry below `root` that is not a folder, in sorted order (a folder's files where the
    folder sorts; in the system's order unless `ordered`), hidden entries left out; `entries` is
    `root`'s own listing when already made.

    Folders are entered one at a time, never by recursion, so depth costs no stack. What cannot be
    entered gives a `Skipped` ending in "/": a link to a folder (a link back up the tree would loop
    forever), a folder that cannot be listed, one nested deeper than `MAX_DEPTH`.
    """
    root = str(root)
    start = len(root.rstrip(os.sep)) + 1
    stack = [iter(list_dir(root, ordered) if entries is None else entries)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        try:
            # is_dir() follows links, so a link loop or a missing permission shows up here.
            is_dir = entry.is_dir()
            is_link = is_dir and entry.is_symlink()
        except OSError as exc:
            yield Skipped(shown_name(entry.path[start:]), os_reason(exc, Path(entry.path)))
            continue
        if not is_dir:
            yield entry
            continue
        rel = shown_name(entry.path[start:]) + "/"
        if is_link:
            inside = _inside(os.path.realpath(entry.path), os.path.realpath(root))
            if inside:
                yield Skipped(rel, "link to a folder (not followed)")
            else:
                yield Skipped(rel, f"{_OUTSIDE % 'folder'} (not followed)", True)
        elif len(stack) > MAX_DEPTH:
            yield Skipped(rel, f"folder nested more than {MAX_DEPTH} levels deep (not read)")
        else:
            try:
                stack.append(iter(list_dir(entry.path, ordered)))
            except OSError as exc:
                yield Skipped(rel, os_reason(exc, Path(entry.path)))


_OUTSIDE = "link to a %s outside the articles folder"


def link_refusal(path: Path, rel: str, seeds_dir: Path, follow_links: bool) -> Skipped | None:
    """The record skipping the link `path` (`rel` in the folder `seeds_dir`), or None when it is read:
    its target is inside the folder where the walk never goes (a hidden folder), or `follow_links`."""
    try:
        target = os.path.realpath(path, strict=True)
    except OSError as exc:
        return Skipped(rel, os_reason(exc, path))
    root = os.path.realpath(seeds_dir)
    if not _inside(target, root):
        return None if follow_links else Skipped(rel, f"{_OUTSIDE % 'file'} (not read; --follow-links reads it)", True)
    inside = Path(os.path.relpath(target, root)).as_posix()
    parts = inside.split("/")
    if any(part.startswith(".") for part in parts) or len(parts) > MAX_DEPTH + 1:
        return None  # the walk never reaches the target: the link is the only way to it
    return Skipped(rel, f"link to {shown_name(inside)}, read under that name", True)


def _inside(target: str, root: str) -> bool:
    return os.path.commonpath([target, root]) == root


def shown_name(rel: str) -> str:
    """`rel` with each byte of a name that is not UTF-8 written as an escape a reader can see ("\\xe9")."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def list_dir(directory: Path | str, ordered: bool = True) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as entries:
        found = [e for e in entries if not e.name.startswith(".")]
    if ordered:
        found.sort(key=lambda e: e.name)
    return found


def os_reason(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of symbolic links)"
    if exc.errno == errno.ENOENT:
        return "link to a missing file" if os.path.islink(path) else "vanished while being read"
    return exc.strerror or str(exc)
