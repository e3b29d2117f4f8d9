"""An article as its page shows it: a long one cut into pages, so a page costs what it shows.

A page holds about :data:`PAGE_CHARS` characters and ends after a line break (a paragraph's end)
when one comes soon after that, so the pages of an article are the same on every request and
each is found without reading the ones before it. With a query, the page shown first is the
first one holding a match, and only that page is highlighted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from searchkit.errors import QueryError
from searchkit.search.highlight import Matcher, Snippet, highlight
from searchkit.text.analysis import syllable_texts

if TYPE_CHECKING:
    from searchkit.search.results import Document

# How far into an article its page looks for the first match of a query (one look per visit,
# where a results page makes ten snippets): half of the longest article.
FIND_CHARS = 2_000_000
# About ten screens of text: a news article (2,600 characters on average) or a long report is one
# page; a book is hundreds, each about 40 KB of HTML.
PAGE_CHARS = 30_000
# A page ends after the first line break within this many characters past its nominal end, or
# failing one after a space, or right there (a text without spaces).
_SLACK = PAGE_CHARS // 4


@dataclass(frozen=True)
class ArticlePage:
    """One page of an article: its title and this page's text, marked where a query matches."""

    document: Document
    title: Snippet
    body: Snippet
    page: int
    pages: int
    # How many matches this page marks.
    matches: int


def page_start(text: str, index: int, size: int = PAGE_CHARS) -> int:
    """Where the page ``index`` (from 0) of ``text`` starts; ``len(text)`` past its end."""
    at = index * size
    if at >= len(text):
        return len(text)
    if index == 0:
        return 0
    slack = min(_SLACK, size // 4)
    for sep in ("\n", " "):
        found = text.find(sep, at, at + slack)
        if found != -1:
            return found + 1
    return at


def page_count(text: str, size: int = PAGE_CHARS) -> int:
    """How many pages ``text`` takes (at least one)."""
    count = max(1, -(-len(text) // size))
    while count > 1 and page_start(text, count - 1, size) >= len(text):
        count -= 1
    return count


def page_span(text: str, number: int, size: int = PAGE_CHARS) -> tuple[int, int]:
    """The ``(start, end)`` of page ``number`` (from 1) of ``text``."""
    last = number == page_count(text, size)
    end = len(text) if last else page_start(text, number, size)
    return page_start(text, number - 1, size), end


def first_marked_page(text: str, matcher: Matcher, size: int = PAGE_CHARS, scan: int = FIND_CHARS) -> int | None:
    """The first page of ``text`` where ``matcher`` marks something, looking at most ``scan``
    characters in; a page is highlighted only when one of its distinct syllables may match."""
    for number in range(1, page_count(text, size) + 1):
        start, end = page_span(text, number, size)
        if start >= scan:
            break
        part = text[start:end]
        if matcher.may_mark(set(syllable_texts(part))) and highlight(part, matcher).marked:
            return number
    return None


def article_page(
    document: Document, matcher: Matcher | None, number: int | None = None, size: int = PAGE_CHARS
) -> ArticlePage:
    """Page ``number`` of ``document`` (by default the first ``matcher`` marks, or the first).

    Raises :class:`QueryError` (``page_range``) for a page past the article's last.
    """
    text = document.text
    pages = page_count(text, size)
    if number is not None and not 1 <= number <= pages:
        raise QueryError(f"page must be between 1 and {pages}", code="page_range", limit=pages)
    if number is None:
        number = (first_marked_page(text, matcher, size) if matcher is not None else None) or 1
    start, end = page_span(text, number, size)
    part = text[start:end]
    if matcher is None:
        title, body = Snippet(((document.title, False),)), Snippet(((part, False),))
    else:
        title, body = highlight(document.title, matcher), highlight(part, matcher)
    return ArticlePage(document, title, body, number, pages, len(body.marked))
