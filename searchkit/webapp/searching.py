"""What the search page and the JSON API share: the live searcher, the request's numbers, one search call,
and the count of what was searched."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from typing import Any

from flask import current_app, request

from searchkit.errors import QueryError
from searchkit.search.filters import Filters
from searchkit.search.parse import MAX_QUERY_CHARS, too_long
from searchkit.search.searcher import Searcher, SearchResults
from searchkit.webapp.address import SearchAddress

_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")


def searcher() -> AbstractContextManager[Any]:
    """A searcher of the index as it is now, from the app's live pool (returned to it on leaving)."""
    return current_app.extensions["searchkit"].searcher()


def search(
    opened: Searcher, text: str, *, page: int, limit: int, address: SearchAddress, filters: Filters
) -> SearchResults:
    if len(text) > MAX_QUERY_CHARS:
        # Refused before any analysis, so an oversized query costs nothing.
        raise too_long(len(text))
    return opened.search(text, page=page, limit=limit, filters=filters, sort=address.sort or None, facets=True)


def counted(text: str, page: int, results: SearchResults) -> None:
    """Counts the search in the app's search counts, when it keeps them (``count_searches``)."""
    searches = current_app.extensions["searchkit_searches"]
    # The first page only: a reader paging through the hits searched once.
    if searches is not None and page == 1 and text.strip():
        searches.record(text, results.total)


def whole_number(name: str, default: int, maximum: int) -> int:
    """The request's ``name`` as a whole number from 1 to ``maximum`` (``default`` when not given);
    a QueryError (``<name>_range``) for anything else."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    # Strictly ASCII digits: int() would also take "١", " 2", "+2" and "1_0".
    if not _WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        raise QueryError(f"{name} must be between 1 and {maximum}", code=f"{name}_range", limit=maximum)
    return int(raw)
