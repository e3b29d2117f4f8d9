"""What the templates are given besides the results: filters writing numbers, dates and sites the way
Vietnamese readers know them, snippets as their one trusted markup, and the search page's address."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, url_for
from markupsafe import Markup

from searchkit.search.highlight import Snippet
from searchkit.text.dates import read_date
from searchkit.webapp.address import SearchAddress


def register(app: Flask) -> None:
    for template_filter in (marked, paragraphs, number, seconds, day, host):
        app.add_template_filter(template_filter)
    app.add_template_global(search_url)


def marked(value: Snippet | None) -> Markup:
    """A snippet as HTML: the one markup trusted, because :meth:`Snippet.html` escapes the text."""
    return Markup(value.html()) if value is not None else Markup("")


def paragraphs(value: Snippet) -> list[Markup]:
    """The snippet cut at its line breaks, each keeping its marks: an article's paragraphs."""
    lines: list[list[tuple[str, bool]]] = [[]]
    for text, is_mark in value.fragments:
        for i, part in enumerate(text.split("\n")):
            if i:
                lines.append([])
            if part:
                lines[-1].append((part, is_mark))
    return [marked(Snippet(tuple(line))) for line in lines if any(text.strip() for text, _ in line)]


def number(value: int) -> str:
    """``12345`` as Vietnamese writes it: ``12.345``."""
    return f"{value:,}".replace(",", ".")


def seconds(value: float) -> str:
    """``0.0213`` as Vietnamese writes it: ``0,02``."""
    return f"{value:.2f}".replace(".", ",")


def day(value: str | None) -> str:
    """A date (``2024-05-22``, or as typed in a filter) as Vietnamese writes it: ``22/05/2024``;
    text that is no date is returned as it is."""
    found = read_date(value)
    return f"{found.day:02d}/{found.month:02d}/{found.year}" if found else (value or "")


def host(url: str | None) -> str:
    """The site of a web address, as a reader knows it (``tuoitre.vn``); "" for none or another kind."""
    if not is_web_address(url):
        return ""
    try:
        name = urlsplit(url).hostname or ""  # type: ignore[arg-type]
    except ValueError:  # "http://[" and the like
        return ""
    return name.removeprefix("www.")


def search_url(address: SearchAddress, page: int = 1) -> str:
    """The search page's address for ``address`` (a relative URL, every choice in its query string)."""
    return url_for("search_page", **address.params(page))


def is_web_address(url: str | None) -> bool:
    # Only http(s) links: escaping does not stop a "javascript:" address from running when clicked.
    return bool(url) and url.lower().startswith(("http://", "https://"))  # type: ignore[union-attr]
