"""The suite's corpus is the five seed articles as committed, whatever a user adds to or changes in seeds/."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pristine_seeds import ROOT, SEED_HASHES, MissingSeedError, pristine_seeds, seed_bytes, write_seeds

# Whatever the machine's git settings: a name to commit with, no signing, files as they are.
GIT = ["git", "-c", "user.name=searchkit", "-c", "user.email=searchkit@example.invalid", "-c", "commit.gpgsign=false"]
GIT += ["-c", "core.autocrlf=false", "-c", "init.defaultBranch=main"]

# Run inside the clone: the fixtures and folders every other test builds its corpus from.
PROBE = '''
import hashlib
from pristine_seeds import SEED_HASHES, pristine_seeds
from searchkit.search.searcher import Searcher


def hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def test_the_corpus_fixtures_hold_the_five_pristine_seeds(seeds_dir, seeds_index):
    assert hashes(seeds_dir) == SEED_HASHES
    assert hashes(pristine_seeds()) == SEED_HASHES
    with Searcher(seeds_index) as searcher:
        assert all(searcher.document(name) is not None for name in SEED_HASHES)
        assert searcher.search("Khánh thành cầu mới").total == 0
        assert searcher.search("Sơn Đoòng").total == 0
'''


def folder_hashes(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in folder.iterdir()}


def clone(tmp_path: Path) -> Path:
    """A checkout of the project's tests and seeds, the seeds committed in git as in a clone."""
    target = tmp_path / "clone"
    (target / "tests").mkdir(parents=True)
    for name in ("conftest.py", "corpora.py", "pristine_seeds.py"):
        shutil.copy(ROOT / "tests" / name, target / "tests" / name)
    write_seeds(target / "seeds")
    subprocess.run([*GIT, "init", "-q", str(target)], check=True)
    subprocess.run([*GIT, "-C", str(target), "add", "seeds"], check=True)
    subprocess.run([*GIT, "-C", str(target), "commit", "-q", "-m", "seeds"], check=True)
    return target


def add_own_articles(seeds: Path) -> None:
    """What a user does after the README's quick start: an article of their own, a Markdown file, an edit."""
    (seeds / "cau-moi.txt").write_text("Khánh thành cầu mới\n\nCầu mới ở Đà Nẵng khánh thành.\n", encoding="utf-8")
    (seeds / "ghi-chu.md").write_text("# Sơn Đoòng\n\nHang Sơn Đoòng, nêu gương bảo tồn.\n", encoding="utf-8")
    edited = seeds / "004_a29b889078a98f24.txt"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nNêu gương, nêu gương.\n", encoding="utf-8")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git, as a clone has")
def test_a_clone_whose_seeds_hold_a_users_articles_still_tests_on_the_five_seeds(tmp_path: Path):
    target = clone(tmp_path)
    add_own_articles(target / "seeds")
    (target / "tests" / "test_probe.py").write_text(PROBE, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_probe.py"],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_an_edited_seed_is_taken_from_git_and_an_added_article_is_left_out(tmp_path: Path):
    if shutil.which("git") is None:
        pytest.skip("needs git, as a clone has")
    target = clone(tmp_path)
    add_own_articles(target / "seeds")
    assert folder_hashes(write_seeds(tmp_path / "corpus", target)) == SEED_HASHES


def test_without_git_the_shared_copy_is_used_and_a_missing_seed_is_named(tmp_path: Path):
    target = tmp_path / "checkout"
    add_own_articles(write_seeds(target / "seeds"))
    with pytest.raises(MissingSeedError, match="004_a29b889078a98f24.txt"):
        seed_bytes("004_a29b889078a98f24.txt", target)
    write_seeds(tmp_path / "shared" / "seeds")
    assert folder_hashes(write_seeds(tmp_path / "corpus", target)) == SEED_HASHES


def test_the_working_seeds_folder_is_not_the_suites_corpus():
    assert pristine_seeds().resolve() != (ROOT / "seeds").resolve()
    assert folder_hashes(pristine_seeds()) == SEED_HASHES
