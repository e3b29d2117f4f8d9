"""Narrowing a search by date, source and tags, the order of its hits, and the counts beside them.

What a reader asks for (:class:`Filters`, a sort order) is checked here, before any search runs,
and refused with a :class:`QueryError` carrying a code the faces translate. Applying it to the
index is :mod:`searchkit.engines.whoosh.columns`'s work; this module knows nothing of the engine.

Facets follow the usual rule of faceted search: each is counted over the query's matches under
every filter but its own (the source facet ignores the chosen sources, the year facet the date
range), so its other values stay visible and countable once one is chosen. Several sources, or
several tags, widen the search (any of them); different kinds of filter narrow it (all of them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from searchkit.engines.fields import value_key  # noqa: F401 - either engine matches by it; named here too
from searchkit.errors import QueryError
from searchkit.text.dates import read_date

RELEVANCE, NEWEST, OLDEST = "relevance", "newest", "oldest"
SORTS = (RELEVANCE, NEWEST, OLDEST)
# Values of one kind of filter a search may name: a link or a form never needs more, and each
# value costs a lookup.
MAX_VALUES = 20
MAX_VALUE_CHARS = 200
# The values each facet lists, most frequent first.
FACET_VALUES = 20


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

    @classmethod
    def parse(
        cls,
        *,
        since: str | None = None,
        until: str | None = None,
        sources: Iterable[str] = (),
        tags: Iterable[str] = (),
    ) -> Filters:
        """Filters from the text a reader typed or a link carried; empty values are no filter.

        Raises :class:`QueryError`: ``date_invalid`` for a date that is none (``2024-13-45``,
        ``hôm qua``), ``date_range`` for a range ending before it starts, ``filter_too_many`` or
        ``filter_too_long`` for values beyond :data:`MAX_VALUES` or :data:`MAX_VALUE_CHARS`.
        """
        first, last = _date("since", since), _date("until", until)
        if first and last and first > last:
            raise QueryError(
                f"the date range ends before it starts (since {first.isoformat()}, until {last.isoformat()})",
                code="date_range",
                since=first.isoformat(),
                until=last.isoformat(),
            )
        return cls(first, last, _values("source", sources), _values("tag", tags))


def check_sort(sort: str | None, *, browsing: bool) -> str:
    """The order of the hits: ``sort`` when it is one of :data:`SORTS`; by default the most relevant
    first, or the newest first when there is no text to be relevant to (``browsing``)."""
    if sort is None or sort == "":
        return NEWEST if browsing else RELEVANCE
    if sort not in SORTS:
        raise QueryError(
            f"unknown sort {sort!r} (use {', '.join(SORTS)})",
            code="sort_unknown",
            value=sort,
            choices=", ".join(SORTS),
        )
    return sort


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


def _date(name: str, text: str | None) -> date | None:
    if text is None or not text.strip():
        return None
    found = read_date(text)
    if found is None:
        shown = text.strip()[:MAX_VALUE_CHARS]
        raise QueryError(
            f"{name} is not a date: {shown!r} (write 2024-05-22 or 22/05/2024)",
            code="date_invalid",
            name=name,
            value=shown,
        )
    return found


def _values(name: str, values: Iterable[str]) -> tuple[str, ...]:
    kept = tuple(dict.fromkeys(" ".join(v.split()) for v in values if v and v.strip()))
    if len(kept) > MAX_VALUES:
        raise QueryError(
            f"too many {name} filters ({len(kept)}; at most {MAX_VALUES})",
            code="filter_too_many",
            name=name,
            limit=MAX_VALUES,
        )
    if any(len(v) > MAX_VALUE_CHARS for v in kept):
        raise QueryError(
            f"a {name} filter is too long (at most {MAX_VALUE_CHARS} characters)",
            code="filter_too_long",
            name=name,
            limit=MAX_VALUE_CHARS,
        )
    return kept
