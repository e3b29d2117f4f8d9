"""The search page and the JSON API: a thin Flask layer over :class:`searchkit.search.searcher.Searcher`.

The page, the article view and ``/api/search`` make the same library call as ``searchkit query``,
so the browser, the API and the terminal answer alike. Jinja escapes everything taken from an
article or a query; the only markup marked safe is what :meth:`Snippet.html` builds, and it escapes
the text before adding ``<mark>``.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, jsonify, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import PathConverter

from searchkit.corpus.freshness import StaleCheck
from searchkit.engines.whoosh.live import LiveIndex
from searchkit.errors import QueryError, SearchkitError
from searchkit.search.filters import Filters
from searchkit.search.highlight import Snippet
from searchkit.search.parse import MAX_QUERY_CHARS, too_long
from searchkit.search.searcher import MAX_LIMIT, MAX_PAGE, Document, Hit, Searcher, SearchResults
from searchkit.text.dates import read_date
from searchkit.webapp import webserver
from searchkit.webapp.address import SearchAddress
from searchkit.webapp.searchlog import FILE as SEARCHES_FILE
from searchkit.webapp.searchlog import SearchLog

PAGE_SIZE = 10
DEFAULT_LIMIT = 10
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
# The pages ask whether the index is older than the articles folder at most this often.
STALE_CHECK_SECONDS = 5.0

# The page needs no frame, no other site and no script but its own file (the completions under
# the search box, which only ask this site); saying so turns an escaping slip into a no-op: no
# inline script, no event handler attribute ever runs.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    # For browsers that predate frame-ancestors.
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Every page and answer but the static files is made from the index as it is now: a copy kept by a
# browser or a proxy would show articles removed since (or none of the ones added) and a stale notice
# out of date. Nothing on them is private, so caching would leak nothing; it would only mislead, and
# a search costs milliseconds. Static files keep Flask's validators (ETag, Last-Modified).
_DYNAMIC_CACHE_CONTROL = "no-store"

# The library speaks English (the CLI and the JSON API show its messages as they are); the page
# speaks Vietnamese, looked up by the error's code and filled in with its details.
_VIETNAMESE = {
    "query_empty": "Hãy nhập từ cần tìm.",
    "query_too_long": "Truy vấn quá dài ({length} ký tự; tối đa {limit} ký tự).",
    "query_no_word": "Truy vấn không có từ nào để tìm: hãy gõ chữ hoặc số.",
    "query_only_excludes": "Truy vấn chỉ loại trừ từ: hãy thêm một từ cần tìm.",
    "query_too_many_words": "Truy vấn có quá nhiều từ (tối đa {limit} từ).",
    "query_too_deep": "Truy vấn lồng quá nhiều lớp ngoặc (tối đa {limit} lớp).",
    "query_phrase_distance": (
        "Sau dấu ~ của một cụm từ phải là một số nguyên, như \"nêu gương\"~3, không phải “{value}”."
    ),
    "query_too_costly": "Truy vấn cần quá nhiều công sức để tìm: hãy bớt từ hoặc bớt dấu *.",
    "query_timeout": "Truy vấn chạy quá {limit} giây nên đã dừng: hãy thử truy vấn cụ thể hơn.",
    "page_range": "Số trang phải là một số nguyên từ 1 đến {limit}.",
    "limit_range": "Số kết quả mỗi trang phải là một số nguyên từ 1 đến {limit}.",
    "date_invalid": "Ngày “{value}” không đọc được: hãy viết theo dạng 22/05/2024 hoặc 2024-05-22.",
    "date_range": "Khoảng thời gian không hợp lệ: ngày bắt đầu ({since}) sau ngày kết thúc ({until}).",
    "sort_unknown": "Không có cách sắp xếp “{value}”: hãy chọn liên quan nhất, mới nhất hoặc cũ nhất.",
    "filter_too_many": "Quá nhiều bộ lọc cùng loại (tối đa {limit}).",
    "filter_too_long": "Giá trị của bộ lọc quá dài (tối đa {limit} ký tự).",
    # A missing, damaged or busy index is the operator's to fix; the library's message names
    # server folders, so visitors get these instead and the log gets the details.
    "index_missing": (
        "Chỉ mục tìm kiếm chưa sẵn sàng: người quản trị cần chạy “searchkit index” trên máy chủ. Xin thử lại sau."
    ),
    "index_damaged": (
        "Chỉ mục tìm kiếm bị hỏng: người quản trị cần chạy “searchkit index --rebuild” trên máy chủ. Xin thử lại sau."
    ),
    "index_busy": "Chỉ mục tìm kiếm đang được cập nhật. Xin thử lại sau giây lát.",
    "corpus": "Máy chủ không đọc được thư mục bài viết. Xin thử lại sau.",
    "shard_unavailable": "Máy chủ chỉ mục {shard} đang không trả lời, nên chưa tìm kiếm được. Xin thử lại sau.",
}
# For a code the table does not know yet: a query the visitor can change, or a server-side problem.
QUERY_ERROR_VI = "Không chạy được truy vấn này: hãy thử viết cách khác, ngắn gọn hơn."
UNAVAILABLE_VI = _VIETNAMESE["index_missing"]

# What the JSON API says when the index cannot answer (the library's message names server folders).
UNAVAILABLE = "the index is not available: run 'searchkit index' on the server"
_UNAVAILABLE_API = {"index_damaged": "the index is damaged: run 'searchkit index --rebuild' on the server"}
# Errors whose message is the operator's and the client's alike (a shard server named by its address).
_SAID_AS_IS = {"shard_unavailable"}

_HTTP_TITLES = {
    404: "Không tìm thấy trang này",
    405: "Trang này không nhận kiểu yêu cầu đó",
}


class ArticleIdConverter(PathConverter):
    """An article id in a URL path: any characters a file name or a JSON Lines id may hold.

    Werkzeug's ``path`` converter stops at a newline, so a file named ``new\nline.txt`` was
    linked and then not found. Its ``/`` stay readable, unless the id has a ``.`` or ``..``
    segment, which a browser would resolve away before asking: then they are sent as ``%2F``.
    """

    regex = "(?s:[^/].*?)"

    def to_url(self, value: str) -> str:
        url = super().to_url(value)
        if any(part in (".", "..") for part in value.split("/")):
            url = url.replace("/", "%2F")
        return url


def create_app(
    index_dir: Path | str = "index",
    seeds_dir: Path | str = "seeds",
    *,
    stale_check_seconds: float = STALE_CHECK_SECONDS,
    shards: list | None = None,
    count_searches: bool = False,
) -> Flask:
    """The search site over the index in ``index_dir``, built from ``seeds_dir``; over the Xapian
    ``shards`` instead when given (``index_dir`` then keeps the shards' statistics).

    The pages say when the index is older than ``seeds_dir``, asking at most every
    ``stale_check_seconds``. With ``count_searches``, the first page of each search is counted in
    ``index_dir``'s search counts (:mod:`searchkit.webapp.searchlog`, read by ``searchkit stats``).
    """
    web = resources.files("searchkit.web")
    app = Flask(
        __name__,
        template_folder=str(web / "templates"),
        static_folder=str(web / "static"),
    )
    app.config.update(INDEX_DIR=Path(index_dir), SEEDS_DIR=Path(seeds_dir))
    # "/articles//x" would otherwise be redirected to an absolute address built from the
    # request's Host header; an article id is matched whole instead (see ArticleIdConverter).
    app.url_map.merge_slashes = False
    app.url_map.converters["article_id"] = ArticleIdConverter
    # Same keys, order and characters as `searchkit query --json`.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if shards:
        # Imported here: the Xapian bindings are an optional dependency.
        from searchkit.engines.xapian.live import ShardLive
        from searchkit.engines.xapian.statistics import cache_folder

        live: Any = ShardLive(shards, cache_folder(index_dir))
        is_stale: Callable[[], bool] = lambda: False  # noqa: E731 - the shards' builds are not this machine's
    else:
        live = LiveIndex(index_dir)
        is_stale = StaleCheck(seeds_dir, index_dir, every=stale_check_seconds)
    app.extensions["searchkit"] = live
    if not shards:
        # Imported here: the build path it brings is needed only when articles are written.
        from searchkit.webapp import ingest

        ingest.register(app, Path(index_dir), Path(seeds_dir))
    searches = SearchLog(Path(index_dir) / SEARCHES_FILE) if count_searches else None
    app.extensions["searchkit_searches"] = searches

    def counted(text: str, page: int, results: SearchResults) -> None:
        # The first page only: a reader paging through the hits searched once.
        if searches is not None and page == 1 and text.strip():
            searches.record(text, results.total)

    # A request's path reaches Flask's error log as typed: escape what a terminal would obey.
    app.logger.addFilter(webserver.ESCAPED)
    searcher = live.searcher

    app.add_template_filter(marked)
    app.add_template_filter(paragraphs)
    app.add_template_filter(number)
    app.add_template_filter(seconds)
    app.add_template_filter(day)
    app.add_template_filter(host)
    app.add_template_global(search_url)

    @app.context_processor
    def page_context() -> dict[str, Any]:
        return {"max_query_chars": MAX_QUERY_CHARS, "stale": is_stale()}

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "static":
            response.headers["Cache-Control"] = _DYNAMIC_CACHE_CONTROL
        if response.location:
            response.location = _same_site(response.location)
        return response

    @app.get("/")
    def search_page() -> tuple[str, int] | str:
        address = SearchAddress.from_args(request.args)
        if address.browsing and not address.filtered:
            return render_template("search.html", query="", results=None, home=True)
        shown = address.text[:MAX_QUERY_CHARS]
        # Links and forms carry the query as shown: an overlong one is refused, never echoed whole.
        linked = address.with_text(shown)
        page_context = {"query": shown, "address": linked, "chips": linked.chips()}
        try:
            page = _whole_number("page", 1, MAX_PAGE)
            filters = address.filters()
            with searcher() as s:
                page_context["dated"] = s.has_dates()
                results = _search(s, address.text, page=page, limit=PAGE_SIZE, address=address, filters=filters)
            counted(address.text, page, results)
        except QueryError as exc:
            return render_template("search.html", error=vietnamese(exc), **page_context), 400
        except SearchkitError as exc:
            _log_unavailable(app, exc)
            return render_template("search.html", error=vietnamese(exc), **page_context), 503
        dropped = getattr(results, "dropped", None)
        if dropped:  # nothing for every word: the results without the one blocking it
            results = results.without
        return render_template(
            "search.html",
            results=results,
            dropped=dropped,
            suggestion=getattr(results, "suggestion", None),
            pages=page_numbers(results.page, min(results.pages, MAX_PAGE)),
            **page_context,
        )

    @app.get("/articles/<article_id:doc_id>")
    def article(doc_id: str) -> tuple[str, int] | str:
        text = request.args.get("q", "")
        query = text[:MAX_QUERY_CHARS]
        related = []
        try:
            # A long article is shown a page at a time (searchkit.search.pages); by default the first
            # page, or with a query the first page it marks.
            requested = _whole_number("page", 0, MAX_PAGE) or None
        except QueryError as exc:
            return render_template("error.html", title="Không có trang này", message=vietnamese(exc), query=query), 400
        try:
            with searcher() as s:
                matcher = None
                if text.strip() and len(text) <= MAX_QUERY_CHARS:
                    try:
                        matcher = s.matcher(text)
                    except QueryError:
                        # A query that cannot run still leaves an article worth reading, unmarked.
                        matcher = None
                try:
                    found = s.article(doc_id, matcher, requested)
                except QueryError as exc:  # a page past the article's last
                    message = vietnamese(exc)
                    return render_template("error.html", title="Không có trang này", message=message, query=query), 400
                if found is not None:
                    related = _related(s, found.document)
        except SearchkitError as exc:
            _log_unavailable(app, exc)
            title = "Chưa tìm kiếm được"
            return render_template("error.html", title=title, message=vietnamese(exc)), 503
        if found is None:
            return (
                render_template(
                    "error.html",
                    title="Không tìm thấy bài viết",
                    message=f"Không có bài viết nào mang mã “{doc_id}” trong chỉ mục.",
                    query=query,
                ),
                404,
            )
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
            source_url=document.url if _is_web_address(document.url) else None,
        )

    @app.get("/api/search")
    def api_search() -> Response | tuple[Response, int]:
        try:
            page = _whole_number("page", 1, MAX_PAGE)
            limit = _whole_number("limit", DEFAULT_LIMIT, MAX_LIMIT)
            address = SearchAddress.from_args(request.args)
            filters = address.filters()
            with searcher() as s:
                results = _search(s, address.text, page=page, limit=limit, address=address, filters=filters)
            counted(address.text, page, results)
        except QueryError as exc:
            return _json_error(str(exc), exc.code, 400)
        except SearchkitError as exc:
            _log_unavailable(app, exc)
            return _json_error(_unavailable(exc), exc.code, 503)
        return jsonify(results.to_dict())

    @app.get("/api/complete")
    def api_complete() -> Response | tuple[Response, int]:
        text = request.args.get("q", "")
        try:
            with searcher() as s:
                found = s.complete(text)
        except QueryError as exc:
            return _json_error(str(exc), exc.code, 400)
        except SearchkitError as exc:
            _log_unavailable(app, exc)
            return _json_error(_unavailable(exc), exc.code, 503)
        return jsonify({"query": text, "completions": found})

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | tuple[str | Response, int]:
        code = exc.code or 500
        if request.path.startswith("/api/"):
            return _json_error(exc.description or exc.name, _http_code(exc), code)
        title = _HTTP_TITLES.get(code, "Đã có lỗi xảy ra")
        return render_template("error.html", title=title, message=None), code

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError) -> Response | tuple[str | Response, int]:
        # Flask has logged the traceback already; the visitor gets an apology, never the traceback.
        if request.path.startswith("/api/"):
            return _json_error("internal error", "internal_error", 500)
        message = "Máy chủ gặp sự cố khi trả lời yêu cầu này. Xin thử lại sau giây lát."
        return render_template("error.html", title="Đã có lỗi xảy ra", message=message), 500

    return app


def make_server(
    app: Flask,
    host: str = "127.0.0.1",
    port: int = 8000,
    threads: int = 8,
    *,
    sockets: list[socket.socket] | None = None,
    limits: webserver.Limits = webserver.DEFAULT_LIMITS,
) -> Any:
    """A waitress server for ``app``, listening, serving once ``run()``; port 0 picks any.

    Given ``sockets`` already listening (shared by several processes), it serves those instead
    of binding ``host`` and ``port``. See :func:`searchkit.webapp.webserver.make_server` for ``limits``.
    """
    return webserver.make_server(app, host, port, threads, sockets=sockets, limits=limits)


def server_urls(server: Any) -> list[str]:
    """The addresses a server from :func:`make_server` answers on (one per socket it listens on)."""
    listening = getattr(server, "effective_listen", None)
    if not listening:
        listening = [(server.effective_host, server.effective_port)]
    return listening_urls(listening)


def listening_urls(listening: Iterable[tuple[str, int]]) -> list[str]:
    """``http://host:port/`` for each host and port, an IPv6 host in brackets."""
    return [f"http://{f'[{host}]' if ':' in host else host}:{port}/" for host, port in listening]


# --- template filters -----------------------------------------------------------------------------


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
    if not _is_web_address(url):
        return ""
    try:
        name = urlsplit(url).hostname or ""  # type: ignore[arg-type]
    except ValueError:  # "http://[" and the like
        return ""
    return name.removeprefix("www.")


def search_url(address: SearchAddress, page: int = 1) -> str:
    """The search page's address for ``address`` (a relative URL, every choice in its query string)."""
    return url_for("search_page", **address.params(page))


# --- request helpers ------------------------------------------------------------------------------


def vietnamese(exc: SearchkitError) -> str:
    """The page's message for ``exc``: its code's Vietnamese sentence with the details filled in.

    A code the table does not know (or details it lacks) gives a general sentence, never the
    library's English.
    """
    fallback = QUERY_ERROR_VI if isinstance(exc, QueryError) else UNAVAILABLE_VI
    translation = _VIETNAMESE.get(exc.code)
    if translation is None:
        return fallback
    # The library names dates as ISO; the page writes them the Vietnamese way.
    details = {
        name: day(value) if name in ("since", "until") else _detail(value) for name, value in exc.details.items()
    }
    try:
        return translation.format(**details)
    except (KeyError, IndexError, ValueError):
        return fallback


def _detail(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return number(value)
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    return value


def page_numbers(current: int, last: int, around: int = 2) -> list[int | None]:
    """Page links: the first, the last and ``around`` either side of ``current``; None: a gap."""
    shown = sorted({1, last, *range(max(1, current - around), min(last, current + around) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - numbers[-1] > 1:  # type: ignore[operator]
            numbers.append(None)
        numbers.append(n)
    return numbers


def _search(
    searcher: Searcher, text: str, *, page: int, limit: int, address: SearchAddress, filters: Filters
) -> SearchResults:
    if len(text) > MAX_QUERY_CHARS:
        # Refused before any analysis, so an oversized query costs nothing.
        raise too_long(len(text))
    return searcher.search(text, page=page, limit=limit, filters=filters, sort=address.sort or None, facets=True)


def _related(searcher: Searcher, document: Document) -> list[Hit]:
    try:
        return searcher.related(document.id, document=document)
    except QueryError:  # over its time budget: the article is still worth reading without them
        return []


def _whole_number(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    # Strictly ASCII digits: int() would also take "١", " 2", "+2" and "1_0".
    if not _WHOLE_NUMBER.fullmatch(raw) or not 1 <= int(raw) <= maximum:
        raise QueryError(f"{name} must be between 1 and {maximum}", code=f"{name}_range", limit=maximum)
    return int(raw)


def _log_unavailable(app: Flask, exc: SearchkitError) -> None:
    app.logger.warning("search unavailable: %s", exc)


def _unavailable(exc: SearchkitError) -> str:
    return str(exc) if exc.code in _SAID_AS_IS else _UNAVAILABLE_API.get(exc.code, UNAVAILABLE)


def _json_error(message: str, code: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": message, "code": code, "status": status}), status


def _http_code(exc: HTTPException) -> str:
    """``not_found`` for a 404, ``method_not_allowed`` for a 405: the API's code for HTTP errors."""
    return re.sub(r"[^a-z]+", "_", exc.name.lower()).strip("_") or "http_error"


def _same_site(location: str) -> str:
    """``location`` without scheme and host: a redirect never sends a visitor to the host named
    by the request's Host header, which anyone can set."""
    parts = urlsplit(location)
    path = parts.path
    if path.startswith(("/", "\\")) or parts.netloc:
        # Browsers read "//host/x" and "/\\host/x" as naming a host; one leading slash keeps a path.
        path = "/" + path.lstrip("/\\")
    return urlunsplit(("", "", path, parts.query, parts.fragment))


def _is_web_address(url: str | None) -> bool:
    # Only http(s) links: escaping does not stop a "javascript:" address from running when clicked.
    return bool(url) and url.lower().startswith(("http://", "https://"))  # type: ignore[union-attr]
