"""The command line as the tests run it: in this process through Click's runner, or as a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from searchkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
# `searchkit` in a fresh interpreter, reading this checkout's code (with env()).
SEARCHKIT = [sys.executable, "-c", "from searchkit.cli import main; main()"]


def run(*args: str | Path) -> tuple[int, str, str]:
    """``searchkit <args>`` in this process: its exit status, standard output and standard error."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def env() -> dict[str, str]:
    """The environment for :data:`SEARCHKIT`: this one, with the checkout on the import path."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def run_process(*args: str | Path) -> subprocess.CompletedProcess:
    """``searchkit <args>`` as a process of its own, run to its end (two minutes at most); output as text."""
    return subprocess.run(
        [*SEARCHKIT, *map(str, args)], env=env(), capture_output=True, text=True, timeout=120, check=False
    )


def start(*args: str | Path, **popen: Any) -> subprocess.Popen:
    """``searchkit <args>`` started as a process of its own; ``popen`` as for :class:`subprocess.Popen`."""
    return subprocess.Popen([*SEARCHKIT, *map(str, args)], env=env(), **popen)


# Runs the command as the `searchkit` script does, then prints every module loaded, after its output.
_LOADED_AFTER = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('\\n--- modules', *sorted(sys.modules), sep='\\n'))\n"
    "from searchkit.cli import main\n"
    "main()\n"
)


def loaded_by(*args: str | Path) -> tuple[str, set[str]]:
    """What ``searchkit <args>``, run in a fresh interpreter, printed, and the modules it had loaded when it ended."""
    done = subprocess.run(
        [sys.executable, "-c", _LOADED_AFTER, *map(str, args)], env=env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    output, _, modules = done.stdout.partition("\n--- modules\n")
    return output, set(modules.split())
