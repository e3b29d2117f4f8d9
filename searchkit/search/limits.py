"""What one search may ask for: pages of hits, words and prefixes, refused with a code before anything runs."""

from __future__ import annotations

from searchkit.engines.compiled import MAX_PREFIX_TERMS
from searchkit.errors import QueryError
from searchkit.search import parse as q

MAX_LIMIT = 100
MAX_PAGE = 1000
MAX_TERMS = 64
# Each prefix (``học*``) stands for up to MAX_PREFIX_TERMS words in each field searched: a query
# may hold this many.
MAX_PREFIXES = 8


def check_page(limit: int, page: int) -> None:
    """Refuses a page of hits beyond :data:`MAX_LIMIT` hits or :data:`MAX_PAGE` pages."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit must be between 1 and {MAX_LIMIT}", code="limit_range", limit=MAX_LIMIT)
    if not 1 <= page <= MAX_PAGE:
        raise QueryError(f"page must be between 1 and {MAX_PAGE}", code="page_range", limit=MAX_PAGE)


def check_cost(tree: q.Node) -> None:
    """Refuses a query that would cost more than any search should: too many words or prefixes."""
    if q.term_count(tree) > MAX_TERMS:
        raise QueryError(
            f"the query has too many words (at most {MAX_TERMS})", code="query_too_many_words", limit=MAX_TERMS
        )
    if (count := q.prefix_count(tree)) > MAX_PREFIXES:
        raise QueryError(
            f"the query has too many prefixes ({count} words ending in *; at most {MAX_PREFIXES})",
            code="query_too_costly",
            prefixes=count,
            limit=MAX_PREFIXES,
            terms_per_prefix=MAX_PREFIX_TERMS,
        )
