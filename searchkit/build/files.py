"""A build's articles: the folder read whole, or the files being added, checked all together first and
copied in whole."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from searchkit.build.report import Reading
from searchkit.corpus.articles import Article, ids_beside, read_articles, read_file
from searchkit.errors import SearchkitError


def folder_reading(seeds_dir: Path | str, max_bytes: int, follow_links: bool) -> Reading:
    return lambda: read_articles(seeds_dir, max_bytes=max_bytes, follow_links=follow_links)


def files_reading(paths: list[Path], seeds_dir: Path, max_bytes: int, follow_links: bool) -> Reading:
    return lambda: (
        item for path in paths for item in read_file(path, seeds_dir, max_bytes=max_bytes, follow_links=follow_links)
    )


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


@contextmanager
def copied_in(seeds_dir: Path, paths: Iterable[Path | str], max_bytes: int) -> Iterator[dict[Path, Path]]:
    """The files ``paths`` copied into ``seeds_dir`` (checked first, :func:`copies_for`), as each target and its
    source; the copies this made are removed again when the block fails, so an add that cannot be indexed
    leaves the folder as it was."""
    targets = copies_for(seeds_dir, [Path(p) for p in paths], max_bytes)
    created = copy_in(targets)
    try:
        yield targets
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
        raise


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
