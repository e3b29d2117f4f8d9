"""A search as the page's address holds it, and the addresses one change away from it.

Everything a reader chose lives in the address (``?q=…&source=…&tag=…&since=…&until=…&sort=…``), so
a search can be bookmarked and shared; the facet links, the removable chips, the sort switch, the
date form and the page links are this address with one thing changed. Values stay as they were
typed (a date as ``22/05/2024``): :meth:`SearchAddress.filters` reads them, and refuses what it
cannot read, so a bad value in a shared link gets a message rather than being dropped unseen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from searchkit.search.filters import Filters, value_key

# The address's parameter for each kind of filter that can hold several values.
SOURCE, TAG = "source", "tag"


@dataclass(frozen=True)
class Chip:
    """One filter in use: its ``kind`` (``source``, ``tag``, ``since``, ``until``), its ``value``,
    and the address without it."""

    kind: str
    value: str
    without: SearchAddress


@dataclass(frozen=True)
class SearchAddress:
    text: str = ""
    since: str = ""
    until: str = ""
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    sort: str = ""

    @classmethod
    def from_args(cls, args: Mapping) -> SearchAddress:
        """The search in a request's query string (a Werkzeug ``MultiDict``: ``source`` and ``tag`` repeat)."""

        def values(name: str) -> tuple[str, ...]:
            return tuple(v.strip() for v in args.getlist(name) if v.strip())

        return cls(
            text=args.get("q", ""),
            since=args.get("since", "").strip(),
            until=args.get("until", "").strip(),
            sources=values(SOURCE),
            tags=values(TAG),
            sort=args.get("sort", "").strip(),
        )

    @property
    def filtered(self) -> bool:
        """Whether any filter is given (readable or not)."""
        return bool(self.since or self.until or self.sources or self.tags)

    @property
    def browsing(self) -> bool:
        """Whether there is no text: the filters alone choose the articles."""
        return not self.text.strip()

    def filters(self) -> Filters:
        """The filters the address names; raises :class:`~searchkit.errors.QueryError` for a bad one."""
        return Filters.parse(since=self.since, until=self.until, sources=self.sources, tags=self.tags)

    def params(self, page: int = 1) -> dict[str, str | list[str]]:
        """The query string's parameters (for ``url_for``), empty ones left out, in a stable order."""
        found: dict[str, str | list[str]] = {
            "q": self.text,
            SOURCE: list(self.sources),
            TAG: list(self.tags),
            "since": self.since,
            "until": self.until,
            "sort": self.sort,
            "page": str(page) if page > 1 else "",
        }
        return {name: value for name, value in found.items() if value}

    def hidden(self, *, keep_text: bool) -> list[tuple[str, str]]:
        """(name, value) of the hidden fields a form needs to keep this search's other choices."""
        params = self.params()
        if not keep_text:
            params.pop("q", None)
        return [(name, v) for name, value in params.items() for v in ([value] if isinstance(value, str) else value)]

    def has(self, kind: str, value: str) -> bool:
        """Whether a ``source`` or ``tag`` filter names ``value`` (in any spelling)."""
        return value_key(value) in {value_key(v) for v in self._values(kind)}

    def adding(self, kind: str, value: str) -> SearchAddress:
        if self.has(kind, value):
            return self
        return self._with(kind, (*self._values(kind), value))

    def removing(self, kind: str, value: str) -> SearchAddress:
        return self._with(kind, tuple(v for v in self._values(kind) if value_key(v) != value_key(value)))

    def with_text(self, text: str) -> SearchAddress:
        return dataclasses.replace(self, text=text)

    def in_year(self, year: int) -> SearchAddress:
        return dataclasses.replace(self, since=f"{year:04d}-01-01", until=f"{year:04d}-12-31")

    def is_year(self, year: int) -> bool:
        return (self.since, self.until) == (f"{year:04d}-01-01", f"{year:04d}-12-31")

    def sorted_by(self, sort: str) -> SearchAddress:
        return dataclasses.replace(self, sort=sort)

    def dated(self, since: str, until: str) -> SearchAddress:
        return dataclasses.replace(self, since=since, until=until)

    def unfiltered(self) -> SearchAddress:
        """The same text and sort, no filter."""
        return SearchAddress(text=self.text, sort=self.sort)

    def chips(self) -> list[Chip]:
        """Each filter in use, with the address that drops it alone."""
        chips = [Chip(SOURCE, v, self.removing(SOURCE, v)) for v in self.sources]
        chips += [Chip(TAG, v, self.removing(TAG, v)) for v in self.tags]
        if self.since:
            chips.append(Chip("since", self.since, dataclasses.replace(self, since="")))
        if self.until:
            chips.append(Chip("until", self.until, dataclasses.replace(self, until="")))
        return chips

    def _values(self, kind: str) -> tuple[str, ...]:
        return self.sources if kind == SOURCE else self.tags

    def _with(self, kind: str, values: tuple[str, ...]) -> SearchAddress:
        field = "sources" if kind == SOURCE else "tags"
        return dataclasses.replace(self, **{field: values})
