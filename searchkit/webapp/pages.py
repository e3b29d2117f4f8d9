"""The HTML pages: the search page (``/``) and an article's page (``/articles/<id>``), a page at a time.

Errors are shown by the site's one handler (:mod:`searchkit.webapp.failures`): a query that cannot run on the
search page with the query kept, anything else on the error page.
"""

from __future__ import annotations

from flask import Flask, render_template, request

from searchkit.errors import QueryError
from searchkit.search.parse import MAX_QUERY_CHARS
from searchkit.search.searcher import MAX_PAGE, Document, Hit, Searcher
from searchkit.webapp.address import SearchAddress
from searchkit.webapp.failures import shown_on
from searchkit.webapp.searching import counted, search, searcher, whole_number
from searchkit.webapp.templating import is_web_address

PAGE_SIZE = 10


def register(app: Flask) -> None:
    app.add_url_rule("/", "search_page", search_page, methods=["GET"])
    app.add_url_rule("/articles/<article_id:doc_id>", "article", article, methods=["GET"])


def search_page() -> str:
    address = SearchAddress.from_args(request.args)
    if address.browsing and not address.filtered:
        return render_template("search.html", query="", results=None, home=True)
    shown = address.text[:MAX_QUERY_CHARS]
    # Links and forms carry the query as shown: an overlong one is refused, never echoed whole.
    linked = address.with_text(shown)
    context = {"query": shown, "address": linked, "chips": linked.chips()}
    shown_on("search.html", context)
    page = whole_number("page", 1, MAX_PAGE)
    filters = address.filters()
    with searcher() as s:
        context["dated"] = s.has_dates()
        results = search(s, address.text, page=page, limit=PAGE_SIZE, address=address, filters=filters)
    counted(address.text, page, results)
    dropped = getattr(results, "dropped", None)
    if dropped:  # nothing for every word: the results without the one blocking it
        results = results.without
    return render_template(
        "search.html",
        results=results,
        dropped=dropped,
        suggestion=getattr(results, "suggestion", None),
        pages=page_numbers(results.page, min(results.pages, MAX_PAGE)),
        **context,
    )


def article(doc_id: str) -> tuple[str, int] | str:
    text = request.args.get("q", "")
    query = text[:MAX_QUERY_CHARS]
    shown_on("error.html", {"query": query})
    # A long article is shown a page at a time (searchkit.search.pages); by default the first
    # page, or with a query the first page it marks.
    requested = whole_number("page", 0, MAX_PAGE) or None
    related: list[Hit] = []
    with searcher() as s:
        matcher = None
        if text.strip() and len(text) <= MAX_QUERY_CHARS:
            try:
                matcher = s.matcher(text)
            except QueryError:
                # A query that cannot run still leaves an article worth reading, unmarked.
                matcher = None
        found = s.article(doc_id, matcher, requested)  # a QueryError for a page past the article's last
        if found is not None:
            related = _related(s, found.document)
    if found is None:
        message = f"Không có bài viết nào mang mã “{doc_id}” trong chỉ mục."
        return render_template("error.html", title="Không tìm thấy bài viết", error=message, query=query), 404
    document = found.document
    return render_template(
        "article.html",
        query=query,
        document=document,
        title=found.title,
        body=found.body,
        page=found,
        matches=found.matches,
        related=related,
        source_url=document.url if is_web_address(document.url) else None,
    )


def page_numbers(current: int, last: int, around: int = 2) -> list[int | None]:
    """Page links: the first, the last and ``around`` either side of ``current``; None: a gap."""
    shown = sorted({1, last, *range(max(1, current - around), min(last, current + around) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - numbers[-1] > 1:  # type: ignore[operator]
            numbers.append(None)
        numbers.append(n)
    return numbers


def _related(opened: Searcher, document: Document) -> list[Hit]:
    try:
        return opened.related(document.id, document=document)
    except QueryError:  # over its time budget: the article is still worth reading without them
        return []
