"""Shared fixtures: a small index built once from the real seed articles."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from searchkit.index import build

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def seeds_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the five seed articles, so no test can change the project's own folder."""
    target = tmp_path_factory.mktemp("seeds")
    for path in SEEDS.iterdir():
        if path.is_file() and not path.name.startswith("."):
            shutil.copy(path, target / path.name)
    return target


@pytest.fixture(scope="session")
def seeds_index(seeds_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The index of the seed articles, built once per test run; tests must not write to it."""
    index_dir = tmp_path_factory.mktemp("index")
    build(seeds_dir, index_dir, procs=1)
    return index_dir
