"""What a build did, and the first reading that every build starts with."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from searchkit.corpus.articles import Article, Skipped


@dataclass(frozen=True)
class BuildWarning:
    """An article indexed without part of its metadata, and why (a date that is no date)."""

    path: str
    reason: str


@dataclass
class BuildReport:
    """What a build did; ``skipped`` lists the files that could not be read, with the reason, and
    ``warnings`` the articles read and indexed without some of their metadata."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[BuildWarning] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, "
            f"unchanged {self.unchanged}, skipped {len(self.skipped)}"
        )
        return text + (f", warnings {len(self.warnings)}" if self.warnings else "")

    def to_dict(self) -> dict:
        data = asdict(self)
        data["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        data["warnings"] = [asdict(w) for w in self.warnings]
        return data


Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while articles are analysed and written."""

Reading = Callable[[], Iterable[Article | Skipped]]
"""The articles of a build (a folder, or the files being added), read anew at each call."""


def survey(read: Reading) -> tuple[BuildReport, dict[str, str]]:
    """A build's first reading: every article's id and content hash, with the files skipped and the
    warnings in a new report."""
    report = BuildReport()
    hashes: dict[str, str] = {}
    for item in read():
        if isinstance(item, Skipped):
            report.skipped.append(item)
        else:
            hashes[item.id] = item.hash
            report.warnings.extend(BuildWarning(item.path, reason) for reason in item.warnings)
    return report, hashes
