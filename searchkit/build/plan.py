"""Change planning: from what the articles folder holds and what an engine holds, what a build writes.

Both engines hold each article under a key (the id itself, or a digest of it) with the content
hash it was written from; the plan compares those with the first reading's hashes and fills the
report's counts. It is the same for every engine: an engine only says whether it starts empty (a
new generation written from nothing) and how to read an id back from a key.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from searchkit.build.report import BuildReport
from searchkit.corpus.articles import Skipped


@dataclass
class Plan:
    """The articles to write (ids, as first read) and the keys the engine loses before they are written."""

    changed: list[str]
    stale: list[str]
    replaced: set[str]  # the ids among ``changed`` whose old version the engine held
    rebuild: bool

    def count_missing(self, report: BuildReport, missing: Collection[str]) -> None:
        """Corrects ``report`` for the changed articles the second reading no longer found (a file
        removed in between): they were not written, and an old version, deleted to make room for
        the new one, is removed."""
        old = sum(1 for doc_id in missing if doc_id in self.replaced)
        if self.rebuild:
            report.added -= len(missing)
        else:
            report.added -= len(missing) - old
            report.updated -= old
        report.removed += old


def plan(
    hashes: dict[str, str],
    held: dict[str, str],
    report: BuildReport,
    *,
    rebuild: bool,
    prune: bool,
    empties: bool,
    key: Callable[[str], str],
    doc_id: Callable[[str], str],
) -> Plan:
    """What to write so that an engine holding ``held`` (key -> content hash) holds ``hashes``
    (id -> content hash); counts go into ``report``.

    ``rebuild`` writes every article again; ``prune`` removes the articles no longer read (a
    whole folder was read, not files being added); ``empties``: the engine starts from nothing
    (so ``held`` only tells what the build replaces). ``doc_id`` reads an article's id back from its
    key, asked only when some files could not be read.
    """
    keys = {i: key(i) for i in hashes}
    wanted = set(keys.values())
    changed = [i for i, digest in hashes.items() if rebuild or held.get(keys[i]) != digest]
    replaced = {i for i in changed if keys[i] in held}
    left = [k for k in held if k not in wanted]
    gone = [k for k in left if not (report.skipped and kept_unreadable(doc_id(k), report.skipped))]
    if rebuild:
        report.added = len(hashes)
        report.removed = len(left) if empties else len(gone)
    else:
        report.added = len(changed) - len(replaced)
        report.updated = len(replaced)
        report.unchanged = len(hashes) - len(changed)
        if prune:
            report.removed = len(gone)
        else:
            # Adding files leaves every other article of the index alone: unchanged too, not "0".
            report.unchanged += len(left)
    stale = [] if empties else [keys[i] for i in changed if i in replaced] + (gone if prune or rebuild else [])
    return Plan(changed, stale, replaced, rebuild)


def kept_unreadable(doc_id: str, skipped: list[Skipped]) -> bool:
    """Whether article ``doc_id`` stays although no reading found it: its file (or folder) became
    unreadable, and losing its last good articles would lose data without a word. One refused as it
    stands (a link out of the folder) does not. A JSON Lines record's id is ``<file>#<record id>``."""
    return any(
        doc_id == s.path or doc_id.startswith(s.path + "#") or (s.path.endswith("/") and doc_id.startswith(s.path))
        for s in skipped
        if not s.refused
    )
