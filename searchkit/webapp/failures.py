"""How the site answers a failure: one handler turns the library's errors into a page or a JSON error.

Routes raise :class:`~searchkit.errors.SearchkitError` (and its subclasses) as the library does; the handler
registered here gives the error's code its HTTP status, writes the page's message in Vietnamese (looked up by the
code, filled in with the error's details) and the JSON API's ``{"error", "code", "status"}``, and logs what is the
operator's to fix. A route says on which page its errors are shown (:func:`shown_on`); the JSON API is every
path under ``/api/``. No traceback and no server folder ever reaches a visitor.
"""

from __future__ import annotations

import re

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from searchkit.errors import QueryError, SearchkitError
from searchkit.webapp.templating import day, number

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

# The status of each code that has its own; any other is 400 for what the asker can change (a query, an
# article sent: a RequestError), 503 for what the server cannot do now.
_STATUS = {
    "key_missing": 401,
    "key_wrong": 401,
    "key_revoked": 401,
    "key_scope": 403,
    "writing_disabled": 403,
    "article_unknown": 404,
    "body_too_large": 413,
    "media_type": 415,
    "disk_full": 507,
    "writers_busy": 503,
    "index_unwritable": 503,
}

# The title of the page an error is shown on, when the route names no page of its own.
_TITLES = {
    400: "Không có trang này",
    404: "Không tìm thấy trang này",
    405: "Trang này không nhận kiểu yêu cầu đó",
    503: "Chưa tìm kiếm được",
}
_TITLE = "Đã có lỗi xảy ra"


class RequestError(SearchkitError):
    """A request the site refuses for what it asks (an article sent wrong, no right to write, no room):
    said to the client as it is, with its code's status."""

    code = "request"


def register(app: Flask) -> None:
    """The site's one handler of the library's errors, beside the ones for HTTP's own."""
    app.register_error_handler(SearchkitError, answer)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)


def shown_on(template: str, context: dict) -> None:
    """Says that the current request's errors are shown on ``template`` with ``context`` as it is then (the
    message as ``error``); without it they are shown on error.html."""
    g.searchkit_error_page = (template, context)


def status_of(exc: SearchkitError) -> int:
    if exc.code in _STATUS:
        return _STATUS[exc.code]
    return 400 if isinstance(exc, (QueryError, RequestError)) else 503


def answer(exc: SearchkitError) -> tuple[str | Response, int]:
    """The answer to a request that failed with ``exc``: JSON under ``/api/``, a page elsewhere."""
    status = status_of(exc)
    told = status < 500 or isinstance(exc, RequestError)  # the client's to know, as the library says it
    if not told:
        current_app.logger.warning("cannot answer %s: %s", request.path, exc)
    if request.path.startswith("/api/"):
        response, _ = json_error(str(exc) if told else _unavailable(exc), exc.code, status)
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer realm="searchkit"'
        if exc.code == "writers_busy":
            response.headers["Retry-After"] = "1"
        return response, status
    template, context = g.get("searchkit_error_page", ("error.html", {}))
    if template == "error.html":
        context = {"title": _TITLES.get(status, _TITLE), **context}
    return render_template(template, error=vietnamese(exc), **context), status


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


def json_error(message: str, code: str, status: int) -> tuple[Response, int]:
    return jsonify({"error": message, "code": code, "status": status}), status


def _unavailable(exc: SearchkitError) -> str:
    return str(exc) if exc.code in _SAID_AS_IS else _UNAVAILABLE_API.get(exc.code, UNAVAILABLE)


def _http_error(exc: HTTPException) -> Response | tuple[str | Response, int]:
    code = exc.code or 500
    if request.path.startswith("/api/"):
        return json_error(exc.description or exc.name, _http_code(exc), code)
    return render_template("error.html", title=_TITLES.get(code, _TITLE), error=None), code


def _server_error(exc: InternalServerError) -> Response | tuple[str | Response, int]:
    # Flask has logged the traceback already; the visitor gets an apology, never the traceback.
    if request.path.startswith("/api/"):
        return json_error("internal error", "internal_error", 500)
    message = "Máy chủ gặp sự cố khi trả lời yêu cầu này. Xin thử lại sau giây lát."
    return render_template("error.html", title=_TITLE, error=message), 500


def _http_code(exc: HTTPException) -> str:
    """``not_found`` for a 404, ``method_not_allowed`` for a 405: the API's code for HTTP errors."""
    return re.sub(r"[^a-z]+", "_", exc.name.lower()).strip("_") or "http_error"
