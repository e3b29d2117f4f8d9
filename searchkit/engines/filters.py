"""What a search is narrowed to, the orders of its hits and the counts beside them, as either engine applies them.

Reading these values from the text a reader typed is ``searchkit.search.filters``'s; applying them is
each engine's (``searchkit.engines.columns`` over arrays, Xapian's values and terms on shards).

Facets follow the usual rule of faceted search: each is counted over the query's matches under
every filter but its own (the source facet ignores the chosen sources, the year facet the date
range), so its other values stay visible and countable once one is chosen. Several sources, or
several tags, widen the search (any of them); different kinds of filter narrow it (all of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from searchkit.text.analysis import fold

RELEVANCE, NEWEST, OLDEST = "relevance", "newest", "oldest"
SORTS = (RELEVANCE, NEWEST, OLDEST)
# The values each facet lists, most frequent first.
FACET_VALUES = 20


def value_key(text: str) -> str:
    """What a source or a tag is matched by: ``value_key("Tuổi Trẻ ") == value_key("tuoi tre")``."""
    return " ".join(fold(text).split())


@dataclass(frozen=True)
class Filters:
    """What a search is narrowed to: dates from ``since`` to ``until`` (both included, either may be
    open), any of ``sources``, any of ``tags`` (matched by :func:`value_key`)."""

    since: date | None = None
    until: date | None = None
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        """Whether the filters leave out anything at all."""
        return bool(self.since or self.until or self.sources or self.tags)

    @property
    def dated(self) -> bool:
        """Whether a date range is set (an article without a date is then left out)."""
        return bool(self.since or self.until)


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet (a source, a tag, a year) and how many matches have it."""

    value: str | int
    count: int

    def to_dict(self) -> dict:
        return {"value": self.value, "count": self.count}


@dataclass(frozen=True)
class Facets:
    """The counts beside a search's hits, each most frequent first (see the module's note)."""

    source: list[FacetValue] = field(default_factory=list)
    tags: list[FacetValue] = field(default_factory=list)
    year: list[FacetValue] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {name: [v.to_dict() for v in getattr(self, name)] for name in ("source", "tags", "year")}
