"""What a command loads: a `searchkit query` imports only what answering a query needs.

Every CLI query, test and script pays for each module the query imports, at every start: the build
path (its segment writer and Whoosh's writing), Flask and waitress, pyvi's word segmentation and its
CRF model, and what Whoosh and numpy import for other uses (asyncio, urllib.request and the mail and
network modules behind it, masked arrays) are none of a query's business. Each run is a fresh
interpreter, as a user's command is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from commands import env, loaded_by

# Modules (and their submodules) a query must not load.
NOT_FOR_A_QUERY = (
    "searchkit.build",
    "searchkit.engines.whoosh.writer",
    "searchkit.engines.xapian",
    "searchkit.text.segmentation",
    "searchkit.search.evaluation",
    "searchkit.search.pages",  # an article's pages, for the web page of one article
    "searchkit.search.related",  # the related articles, likewise
    "searchkit.cli.meter",  # a build's progress
    "searchkit.webapp.app",
    "searchkit.webapp.ingest",
    "searchkit.webapp.keys",
    "searchkit.webapp.serving",
    "whoosh.writing",
    "flask",
    "werkzeug",
    "waitress",
    "pyvi",
    "pycrfsuite",
    "sklearn",
    "ir_measures",
    # What Whoosh imports for nothing a query calls (searchkit.engines.whoosh.codec.imports stands in for them):
    "cached_property",
    "asyncio",  # by cached_property
    "urllib.request",  # by whoosh.compat, for a urlretrieve no module of Whoosh calls
    "http",
    "email",
    "ssl",
    "whoosh.lang.morph_en",  # English word variations
    "numpy.ma",  # masked arrays, which np.unique imports when it is not asked for an inverse or counts
)


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == name or m.startswith(name + ".") for name in NOT_FOR_A_QUERY))


def test_a_query_loads_neither_the_build_path_nor_the_web_app_nor_pyvi(seeds_index: Path, seeds_dir: Path):
    # --seeds given: the check that the index holds these articles reads a few of them, and still builds nothing.
    output, modules = loaded_by("query", "nêu gương", "--json", "--index", str(seeds_index), "--seeds", str(seeds_dir))
    assert json.loads(output)["results"][0]["id"] == "004_a29b889078a98f24.txt"
    assert "searchkit.search.searcher" in modules  # what it needs it has
    assert heavy(modules) == []


def test_a_query_without_options_loads_no_build_path_either(seeds_index: Path, seeds_dir: Path):
    output, modules = loaded_by("query", "neu guong", "--index", str(seeds_index))
    assert "1. Tạo chuyển biến mới về trách nhiệm nêu gương" in output
    assert heavy(modules) == []


def test_a_missing_index_is_built_first_by_the_query(seeds_dir: Path, tmp_path: Path):
    # The build path is loaded when there is something to build, and only then.
    output, modules = loaded_by("query", "neu guong", "--index", str(tmp_path / "index"), "--seeds", str(seeds_dir))
    assert "1. Tạo chuyển biến mới về trách nhiệm nêu gương" in output
    assert "searchkit.build.index" in modules


# Runs a query as the `searchkit` script does, then prints how many threads the process has and how many
# of them Python started.
_THREADS_AFTER = (
    "import atexit, os, threading\n"
    "atexit.register(lambda: print('\\n--- threads', len(os.listdir('/proc/self/task')), threading.active_count()))\n"
    "from searchkit.cli import main\n"
    "main()\n"
)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2, reason="threads read on Linux")
def test_a_query_starts_no_thread_pool_for_matrix_products(seeds_index: Path):
    # numpy's OpenBLAS would start a thread per core at its import, which a query never multiplies matrices with.
    environment = {name: value for name, value in env().items() if name != "OPENBLAS_NUM_THREADS"}
    args = ["query", "nêu gương", "--index", str(seeds_index)]
    done = subprocess.run(
        [sys.executable, "-c", _THREADS_AFTER, *args], env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    output, _, threads = done.stdout.partition("\n--- threads ")
    assert "1. Tạo chuyển biến mới về trách nhiệm nêu gương" in output
    in_process, started_by_python = map(int, threads.split())
    assert in_process == started_by_python


def test_a_command_runs_with_garbage_collection_on_and_its_start_frozen(seeds_index: Path):
    # Collection is held off only while the command's modules load (serve and index run for hours after).
    script = (
        "import atexit, gc\n"
        "atexit.register(lambda: print('\\n--- gc', gc.isenabled(), gc.get_freeze_count() > 0))\n"
        "from searchkit.cli import main\n"
        "main()\n"
    )
    args = ["query", "nêu gương", "--index", str(seeds_index)]
    done = subprocess.run([sys.executable, "-c", script, *args], env=env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    output, _, collection = done.stdout.partition("\n--- gc ")
    assert "1. Tạo chuyển biến mới về trách nhiệm nêu gương" in output
    assert collection.split() == ["True", "True"]
