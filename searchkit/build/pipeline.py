"""One build, for either engine: survey the changes, read the changed articles again, analyse them
(in worker processes for a large build), hand them to the engine's writer, report.

The articles are read twice: once for their ids and hashes, to decide what to write
(:mod:`searchkit.build.plan`), then again as they are written, so a build never holds the
collection's text in memory. An engine takes part through a :class:`Target`: it says what it
holds, loses the stale articles, receives what its analysis gives, and commits or abandons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from searchkit.build import plan as planning
from searchkit.build.report import BuildReport, Progress, Reading, survey
from searchkit.build.workers import Analysis, Workers, analyse
from searchkit.corpus.articles import Article


class Target(Protocol):
    """An engine's writer, as a build drives it: ``held`` first, then ``begin``, ``remove``, the
    analysis and what it gives (``receive``), and ``commit``, or ``abandon`` after an error."""

    empties: bool  # whether the build writes everything anew (``held`` then only tells what it replaces)

    def held(self) -> dict[str, str]:
        """Every article the engine holds: its key and the content hash it was written from."""

    def key(self, doc_id: str) -> str:
        """The key the engine holds article ``doc_id`` under."""

    def doc_id(self, key: str) -> str:
        """The id of the article held under ``key``."""

    def current(self) -> bool:
        """Whether, with nothing to write, the engine is up to date as it stands (no commit needed)."""

    def begin(self) -> None: ...

    def remove(self, keys: list[str]) -> None:
        """Removes the articles held under ``keys`` (replaced or gone), before the changed ones are written."""

    def analysis(self) -> Callable[[], Analysis]:
        """Makes the analysis of the changed articles, in each worker process (picklable)."""

    def receive(self, result: object) -> None:
        """Takes what an analysis gave (documents, segments, counts)."""

    def inherited(self) -> list[int]:
        """Descriptors of lock files that worker processes must close."""

    def commit(self) -> None: ...

    def abandon(self, exc: BaseException) -> BaseException | None:
        """Cancels the build after ``exc``; returns the error to raise instead, if any."""


def sync(
    read: Reading,
    target: Target,
    *,
    rebuild: bool,
    prune: bool,
    procs: int | None = None,
    workers: Workers | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Brings ``target`` up to date with the articles ``read()`` gives; see the module's note.

    ``rebuild`` writes every article again; ``prune`` removes the articles ``read()`` no longer
    gives (a whole folder is read; files being added are not).
    """
    report, hashes = survey(read)
    held = target.held()
    plan = planning.plan(
        hashes, held, report, rebuild=rebuild, prune=prune, empties=target.empties, key=target.key, doc_id=target.doc_id
    )
    if not (plan.changed or plan.stale) and target.current():
        return report
    missing: set[str] = set()
    try:
        target.begin()
        target.remove(plan.stale)
        if plan.changed:
            make = target.analysis()  # before ``inherited``: the engine may open its writer (and lock) for it
            again = _again(read, plan.changed, missing)
            analyse(
                again,
                len(plan.changed),
                make,
                target.receive,
                procs=procs,
                workers=workers,
                progress=progress,
                inherited=target.inherited(),
            )
        target.commit()
    except BaseException as exc:
        instead = target.abandon(exc)
        if instead is not None:
            raise instead from exc
        raise
    plan.count_missing(report, missing)
    return report


def _again(read: Reading, changed: list[str], missing: set[str]) -> Iterator[Article]:
    """The changed articles, read again (each id once, as the first reading found it); those the
    second reading no longer finds (a file removed in between) are left in ``missing``."""
    wanted = set(changed)
    for item in read():
        if isinstance(item, Article) and item.id in wanted:
            wanted.discard(item.id)
            yield item
    missing.update(wanted)
