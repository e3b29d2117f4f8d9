"""The search site: a thin Flask layer over :class:`searchkit.search.searcher.Searcher`.

The page, the article view and ``/api/search`` make the same library call as ``searchkit query``,
so the browser, the API and the terminal answer alike. Jinja escapes everything taken from an
article or a query; the only markup marked safe is what :meth:`Snippet.html` builds, and it escapes
the text before adding ``<mark>``. The pages are in :mod:`~searchkit.webapp.pages`, the JSON API in
:mod:`~searchkit.webapp.api`, the one handler of errors in :mod:`~searchkit.webapp.failures`; here the
factory that puts them together, and the server that serves them.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, request
from werkzeug.routing import PathConverter

from searchkit.corpus.freshness import StaleCheck
from searchkit.search.parse import MAX_QUERY_CHARS
from searchkit.webapp import api, failures, pages, templating, webserver
from searchkit.webapp.engine import open_engine
from searchkit.webapp.searchlog import FILE as SEARCHES_FILE
from searchkit.webapp.searchlog import SearchLog

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
    engine = open_engine(index_dir, shards)
    app.extensions["searchkit"] = engine.live()
    # The shards' builds are not this machine's: neither their freshness nor writing articles is asked here.
    is_stale: Callable[[], bool] = (
        StaleCheck(seeds_dir, index_dir, every=stale_check_seconds) if engine.built_here else lambda: False
    )
    if engine.built_here:
        # Imported here: the build path it brings is needed only when articles are written.
        from searchkit.webapp import ingest

        ingest.register(app, Path(index_dir), Path(seeds_dir))
    app.extensions["searchkit_searches"] = SearchLog(Path(index_dir) / SEARCHES_FILE) if count_searches else None
    # A request's path reaches Flask's error log as typed: escape what a terminal would obey.
    app.logger.addFilter(webserver.ESCAPED)
    templating.register(app)
    failures.register(app)
    pages.register(app)
    api.register(app)

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


def _same_site(location: str) -> str:
    """``location`` without scheme and host: a redirect never sends a visitor to the host named
    by the request's Host header, which anyone can set."""
    parts = urlsplit(location)
    path = parts.path
    if path.startswith(("/", "\\")) or parts.netloc:
        # Browsers read "//host/x" and "/\\host/x" as naming a host; one leading slash keeps a path.
        path = "/" + path.lstrip("/\\")
    return urlunsplit(("", "", path, parts.query, parts.fragment))
