"""``searchkit serve``: the search page and its JSON API, on waitress, in worker processes sharing a port.

Flask and waitress are imported with this module, so with this command only, and before the workers start,
so each of them has them loaded already.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from searchkit.cli.commandline import errors
from searchkit.cli.indexes import check_served_articles, ensure, warn_if_stale
from searchkit.cli.options import index_option, seeds_option, shards_option
from searchkit.cli.terminal import escaped
from searchkit.engines.backend import DEFAULT_CACHE_MB, set_default_cache_mb
from searchkit.errors import CorpusError
from searchkit.webapp import app as web
from searchkit.webapp import serving, webserver
from searchkit.webapp.engine import open_engine


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 opens the page to the whole network.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=None,
    help="Worker processes answering requests, 8 at a time each. Searching is pure Python, so a process keeps "
    "at most one core busy; each opens the index on its own, so memory grows with their number. "
    "1: serve from this process alone.  [default: one per core this process may use]",
)
@click.option(
    "--cache-mb",
    type=click.FloatRange(0, 1_000_000),
    default=DEFAULT_CACHE_MB,
    show_default=True,
    help="Megabytes of posting arrays each worker keeps for the index's current build, shared by its request "
    "threads; the least recently used go first. 0: keep none (every query reads the index again).",
)
@click.option(
    "--connection-limit",
    type=click.IntRange(1, 100_000),
    default=1000,
    show_default=True,
    help="Connections each worker keeps open at once; past it, new ones wait in the system's queue. "
    "Each costs an open file and a few kilobytes. See docs/serving.md, 'Running it in public'.",
)
@click.option(
    "--idle-timeout",
    type=click.IntRange(1, 3600),
    default=30,
    show_default=True,
    help="Seconds a connection may stay open sending nothing before it is closed.",
)
@click.option(
    "--read-timeout",
    type=click.IntRange(1, 3600),
    default=20,
    show_default=True,
    help="Seconds a client has to send a whole request, from its first byte, before its connection is closed.",
)
@seeds_option
@index_option
@shards_option
@click.option(
    "--watch",
    is_flag=True,
    help="Build the index after every change to the articles folder, in one process of its own, and serve each "
    "build without a restart (a burst of changes is one build). Not with --shards.",
)
@click.option(
    "--count-searches/--no-count-searches",
    default=True,
    show_default=True,
    help="Count each search (its normalised text, its result count and the day; nothing about who searched) in "
    "searches.sqlite in the index folder, for 'searchkit stats'.",
)
def serve_command(
    host: str,
    port: int,
    workers: int | None,
    cache_mb: float,
    connection_limit: int,
    idle_timeout: int,
    read_timeout: int,
    seeds_dir: Path,
    index_dir: Path,
    shards: str | None,
    watch: bool,
    count_searches: bool,
) -> None:
    """Serve the search page and its JSON API (/api/search) in the browser.

    Runs on waitress, a production WSGI server, in several worker processes sharing one port
    (see --workers). The index is built first when there is none; later rebuilds with
    'searchkit index' show up in every worker without a restart. Ctrl+C or SIGTERM stops all of them.
    """
    if workers is None:
        workers = serving.default_workers()
    limits = webserver.Limits(connection_limit, idle_timeout, read_timeout)
    if watch and shards:
        raise click.UsageError("--watch cannot be combined with --shards (the shards are built from elsewhere)")
    watching = None
    with errors():
        engine = open_engine(index_dir, shards)
        ensure(engine, seeds_dir)
        if engine.built_here and not watch:  # the watcher's first build brings the index up to date
            warn_if_stale(seeds_dir, index_dir)
        check_served_articles(engine, seeds_dir)
        addresses = engine.shards
        if watch:
            from searchkit.build.watch import BuildOptions

            if not seeds_dir.exists():
                raise CorpusError(f"articles folder not found: {seeds_dir}")
            watching = BuildOptions()
        if workers == 1:
            set_default_cache_mb(cache_mb)
            # Started before the app and the server's threads, which the watcher's fork does not need.
            watcher = serving.start_watcher(seeds_dir, index_dir, watching) if watching else None
            try:
                application = web.create_app(
                    index_dir=index_dir, seeds_dir=seeds_dir, shards=addresses, count_searches=count_searches
                )
                with _listening(host, port):
                    server = web.make_server(application, host=host, port=port, limits=limits)
                _announce(web.server_urls(server))
                try:
                    server.run()
                except KeyboardInterrupt:
                    pass
                finally:
                    server.close()
                    if application.extensions["searchkit_searches"] is not None:
                        application.extensions["searchkit_searches"].close()
            finally:
                if watcher is not None:
                    serving.stop([watcher])
            return
        with _listening(host, port):
            sockets = serving.listen(host, port)
        try:
            _announce(web.listening_urls(serving.addresses(sockets)))
            serving.supervise(
                sockets,
                index_dir=index_dir,
                seeds_dir=seeds_dir,
                workers=workers,
                cache_mb=cache_mb,
                shards=addresses,
                limits=limits,
                watch=watching,
                count_searches=count_searches,
            )
        finally:
            for sock in sockets:
                sock.close()


@contextmanager
def _listening(host: str, port: int) -> Iterator[None]:
    """A socket that cannot be bound (a busy port, a host naming no address) as a one-line message."""
    try:
        yield
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise click.ClickException(escaped(f"cannot listen on {host}:{port}: {reason}")) from None


def _announce(urls: list[str]) -> None:
    for url in urls:
        click.echo(f"Serving on {url}  (Ctrl+C to stop)")
    sys.stdout.flush()
