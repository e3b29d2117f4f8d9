"""Reading what a search is narrowed to (date, source, tags) and the order of its hits from what a reader typed.

What a reader asks for (:class:`Filters`, a sort order) is checked here, before any search runs,
and refused with a :class:`QueryError` carrying a code the faces translate. The values themselves,
and applying them, are the engines' (:mod:`searchkit.engines.filters`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from searchkit.engines import filters as engine_filters
from searchkit.engines.filters import FACET_VALUES, NEWEST, OLDEST, RELEVANCE, SORTS, Facets, FacetValue, value_key
from searchkit.errors import QueryError
from searchkit.text.dates import read_date

# Values of one kind of filter a search may name: a link or a form never needs more, and each
# value costs a lookup.
MAX_VALUES = 20
MAX_VALUE_CHARS = 200

__all__ = [
    "FACET_VALUES",
    "NEWEST",
    "OLDEST",
    "RELEVANCE",
    "SORTS",
    "FacetValue",
    "Facets",
    "Filters",
    "check_sort",
    "value_key",
]


class Filters(engine_filters.Filters):
    """:class:`searchkit.engines.filters.Filters`, read from what a reader typed (:meth:`parse`)."""

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
