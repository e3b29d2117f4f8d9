"""The search page and the JSON API: a thin Flask layer over :class:`searchkit.search.Searcher`.

The page, the article view and ``/api/search`` make the same library call as ``searchkit query``,
so the browser, the API and the terminal answer alike. Jinja escapes everything taken from an
article or a query; the only markup marked safe is what :meth:`Snippet.html` builds, and it escapes
the text before adding ``<mark>``.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, InternalServerError

from searchkit.errors import QueryError, SearchkitError
from searchkit.highlight import Snippet
from searchkit.live import LiveIndex
from searchkit.query import MAX_QUERY_CHARS, too_long
from searchkit.search import MAX_LIMIT, MAX_PAGE, Searcher, SearchResults

PAGE_SIZE = 10
DEFAULT_LIMIT = 10
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")

# Nothing on the page needs a script, a frame or another site; saying so turns an escaping slip
# into a no-op.
_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

# The library speaks English (the CLI and the JSON API show its messages as they are); the page
# speaks Vietnamese.
_VIETNAMESE = [
    (re.compile(r"the query is empty"), "Hãy nhập từ cần tìm."),
    (
        re.compile(r"the query is too long \((\d+) characters; at most (\d+)\)"),
        "Truy vấn quá dài ({0} ký tự; tối đa {1} ký tự).",
    ),
    (
        re.compile(r"the query has no word to search for"),
        "Truy vấn không có từ nào để tìm: hãy gõ chữ hoặc số.",
    ),
    (
        re.compile(r"the query only excludes words; add a word to search for"),
        "Truy vấn chỉ loại trừ từ: hãy thêm một từ cần tìm.",
    ),
    (
        re.compile(r"the query has too many words \(at most (\d+)\)"),
        "Truy vấn có quá nhiều từ (tối đa {0} từ).",
    ),
    (
        re.compile(r"page must be between 1 and (\d+)"),
        "Số trang phải là một số nguyên từ 1 đến {0}.",
    ),
    (
        re.compile(r"limit must be between 1 and (\d+)"),
        "Số kết quả mỗi trang phải là một số nguyên từ 1 đến {0}.",
    ),
]

# A missing or outdated index is the operator's to fix; its message names server folders, so
# visitors get these instead and the log gets the details.
UNAVAILABLE = "the index is not available: run 'searchkit index' on the server"
UNAVAILABLE_VI = (
    "Chỉ mục tìm kiếm chưa sẵn sàng: người quản trị cần chạy “searchkit index” trên máy chủ. Xin thử lại sau."
)

_HTTP_TITLES = {
    404: "Không tìm thấy trang này",
    405: "Trang này không nhận kiểu yêu cầu đó",
}


def create_app(index_dir: Path | str = "index", seeds_dir: Path | str = "seeds") -> Flask:
    """The search site over the index in ``index_dir``, built from ``seeds_dir``."""
    web = resources.files("searchkit.web")
    app = Flask(
        __name__,
        template_folder=str(web / "templates"),
        static_folder=str(web / "static"),
    )
    app.config.update(INDEX_DIR=Path(index_dir), SEEDS_DIR=Path(seeds_dir))
    # Same keys, order and characters as `searchkit query --json`.
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    live = LiveIndex(index_dir)
    app.extensions["searchkit"] = live
    searcher = live.searcher

    app.add_template_filter(marked)
    app.add_template_filter(paragraphs)
    app.add_template_filter(number)
    app.add_template_filter(seconds)

    @app.context_processor
    def limits() -> dict[str, Any]:
        return {"max_query_chars": MAX_QUERY_CHARS}

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.get("/")
    def search_page() -> tuple[str, int] | str:
        text = request.args.get("q", "")
        if not text.strip():
            return render_template("search.html", query="", results=None)
        shown = text[:MAX_QUERY_CHARS]
        try:
            page = _whole_number("page", 1, MAX_PAGE)
            with searcher() as s:
                results = _search(s, text, page=page, limit=PAGE_SIZE)
        except QueryError as exc:
            return render_template("search.html", query=shown, error=vietnamese(exc)), 400
        except SearchkitError as exc:
            _log_unavailable(app, exc)
            return render_template("search.html", query=shown, error=UNAVAILABLE_VI), 503
        return render_template(
            "search.html",
            query=shown,
            results=results,
            suggestion=getattr(results, "suggestion", None),
            pages=page_numbers(results.page, min(results.pages, MAX_PAGE)),
        )

    @app.get("/articles/<path:doc_id>")
    def article(doc_id: str) -> tuple[str, int] | str:
        text = request.args.get("q", "")
        document = title = body = None
        try:
            with searcher() as s:
                if text.strip() and len(text) <= MAX_QUERY_CHARS:
                    try:
                        found = s.highlighted(doc_id, text)
                    except QueryError:
                        # A query that cannot run still leaves an article worth reading, unmarked.
                        found = None
                    if found is not None:
                        document, title, body = found
                if body is None:
                    document = s.document(doc_id)
        except SearchkitError as exc:
            _log_unavailable(app, exc)
            title = "Chưa tìm kiếm được"
            return render_template("error.html", title=title, message=UNAVAILABLE_VI), 503
        if document is None:
            return (
                render_template(
                    "error.html",
                    title="Không tìm thấy bài viết",
                    message=f"Không có bài viết nào mang mã “{doc_id}” trong chỉ mục.",
                    query=text[:MAX_QUERY_CHARS],
                ),
                404,
            )
        return render_template(
            "article.html",
            query=text[:MAX_QUERY_CHARS],
            document=document,
            title=title if title is not None else Snippet(((document.title, False),)),
            body=body if body is not None else Snippet(((document.text, False),)),
            matches=len(body.marked) if body is not None else 0,
            source_url=document.url if _is_web_address(document.url) else None,
        )

    @app.get("/api/search")
    def api_search() -> Response | tuple[Response, int]:
        try:
            page = _whole_number("page", 1, MAX_PAGE)
            limit = _whole_number("limit", DEFAULT_LIMIT, MAX_LIMIT)
            with searcher() as s:
                results = _search(s, request.args.get("q", ""), page=page, limit=limit)
        except QueryError as exc:
            return _json_error(str(exc), 400)
        except SearchkitError as exc:
            _log_unavailable(app, exc)
            return _json_error(UNAVAILABLE, 503)
        return jsonify(results.to_dict())

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | tuple[str | Response, int]:
        code = exc.code or 500
        if request.path.startswith("/api/"):
            return _json_error(exc.description or exc.name, code)
        title = _HTTP_TITLES.get(code, "Đã có lỗi xảy ra")
        return render_template("error.html", title=title, message=None), code

    @app.errorhandler(InternalServerError)
    def server_error(exc: InternalServerError) -> Response | tuple[str | Response, int]:
        # Flask has logged the traceback already; the visitor gets an apology, never the traceback.
        if request.path.startswith("/api/"):
            return _json_error("internal error", 500)
        message = "Máy chủ gặp sự cố khi trả lời yêu cầu này. Xin thử lại sau giây lát."
        return render_template("error.html", title="Đã có lỗi xảy ra", message=message), 500

    return app


def make_server(app: Flask, host: str = "127.0.0.1", port: int = 8000, threads: int = 4) -> Any:
    """A waitress server for ``app``, listening, serving once ``run()``; port 0 picks any."""
    from waitress import create_server

    return create_server(app, host=host, port=port, threads=threads, ident="searchkit")


def server_urls(server: Any) -> list[str]:
    """The addresses a server from :func:`make_server` answers on (one per socket it listens on)."""
    listening = getattr(server, "effective_listen", None)
    if not listening:
        listening = [(server.effective_host, server.effective_port)]
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


# --- request helpers ------------------------------------------------------------------------------


def vietnamese(exc: SearchkitError) -> str:
    """The library's message for ``exc`` in Vietnamese (as it is, when no translation is known)."""
    message = str(exc)
    for pattern, translation in _VIETNAMESE:
        if found := pattern.fullmatch(message):
            return translation.format(*(number(int(g)) for g in found.groups()))
    return message


def page_numbers(current: int, last: int, around: int = 2) -> list[int | None]:
    """Page links: the first, the last and ``around`` either side of ``current``; None: a gap."""
    shown = sorted({1, last, *range(max(1, current - around), min(last, current + around) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - numbers[-1] > 1:  # type: ignore[operator]
            numbers.append(None)
        numbers.append(n)
    return numbers


def _search(searcher: Searcher, text: str, *, page: int, limit: int) -> SearchResults:
    if len(text) > MAX_QUERY_CHARS:
        # Refused before any analysis, so an oversized query costs nothing.
        raise too_long(len(text))
    return searcher.search(text, page=page, limit=limit)


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


def _json_error(message: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": message, "status": status}), status


def _is_web_address(url: str | None) -> bool:
    # Only http(s) links: escaping does not stop a "javascript:" address from running when clicked.
    return bool(url) and url.lower().startswith(("http://", "https://"))  # type: ignore[union-attr]
