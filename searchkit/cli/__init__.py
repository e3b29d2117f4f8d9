"""The ``searchkit`` command: thin wrappers that parse options, call the library and format its results.

One module per command (``searchkit.cli.query``, ``.index``, ``.serve``…), each imported only when its
command runs, so that a query does not pay for the build path or the web server at every start; the
options they share are in :mod:`searchkit.cli.options`, how failures are written in
:mod:`searchkit.cli.commandline`.
"""

from __future__ import annotations

import os

import click

from searchkit.cli.commandline import Group

# searchkit's arrays are sorted, searched and summed, never multiplied as matrices: the OpenBLAS that numpy
# loads would start a thread for each further core at its import (a quarter of numpy's import time on two
# cores, at every query) for nothing. Set before any command imports numpy; a value the environment gives is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Each command, and the module:attribute defining it.
COMMANDS = {
    "index": "searchkit.cli.index:index_command",
    "add": "searchkit.cli.add:add_command",
    "query": "searchkit.cli.query:query_command",
    "eval": "searchkit.cli.eval:eval_command",
    "keys": "searchkit.cli.keys:keys_group",
    "stats": "searchkit.cli.stats:stats_command",
    "serve": "searchkit.cli.serve:serve_command",
}


@click.group("searchkit", cls=Group, lazy_commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="searchkit")
def main() -> None:
    """Vietnamese full-text search over a folder of articles.

    Put articles (.txt, .md, .jsonl) in seeds/, then search them; the index in index/ is built on first use and
    brought up to date with 'searchkit index'.
    """


__all__ = ["COMMANDS", "main"]
