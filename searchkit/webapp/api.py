"""The JSON API: ``/api/search`` (the same results as ``searchkit query --json``) and ``/api/complete``.

Errors are answered by the site's one handler (:mod:`searchkit.webapp.failures`) as ``{"error", "code",
"status"}``."""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

from searchkit.search.searcher import MAX_LIMIT, MAX_PAGE
from searchkit.webapp.address import SearchAddress
from searchkit.webapp.searching import counted, search, searcher, whole_number

DEFAULT_LIMIT = 10


def register(app: Flask) -> None:
    app.add_url_rule("/api/search", "api_search", api_search, methods=["GET"])
    app.add_url_rule("/api/complete", "api_complete", api_complete, methods=["GET"])


def api_search() -> Response:
    page = whole_number("page", 1, MAX_PAGE)
    limit = whole_number("limit", DEFAULT_LIMIT, MAX_LIMIT)
    address = SearchAddress.from_args(request.args)
    filters = address.filters()
    with searcher() as s:
        results = search(s, address.text, page=page, limit=limit, address=address, filters=filters)
    counted(address.text, page, results)
    return jsonify(results.to_dict())


def api_complete() -> Response:
    text = request.args.get("q", "")
    with searcher() as s:
        found = s.complete(text)
    return jsonify({"query": text, "completions": found})
