"""The README is the user's first page: it opens with the quick start, and every link it gives resolves."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def commands(text: str) -> list[str]:
    """The indented command lines of a Markdown text, in order."""
    return [line.strip() for line in text.splitlines() if line.startswith("    ") and line.strip()]


def test_the_readme_opens_with_the_quick_start_and_its_two_commands():
    sections = re.findall(r"(?m)^## (.+)$", README)
    assert sections[0] == "Quick start"
    first, second = commands(README)[:2]
    assert first == 'pip install . && searchkit query "nêu gương"'
    assert second == "make test"
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    quick_start = README.split("## ", 2)[1]
    assert "Python 3.10" in quick_start and "venv" in quick_start


def test_every_document_the_readme_links_to_is_there_and_links_on_resolve():
    linked = re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)\)", README)
    assert {Path(p).name for p in linked} >= {"articles.md", "typing.md", "serving.md", "index.md", "shards.md"}
    for path in linked:
        document = ROOT / path
        assert document.is_file(), path
        for inner in re.findall(r"\]\(([\w./-]+\.md)\)", document.read_text(encoding="utf-8")):
            assert (document.parent / inner).is_file(), f"{path} links to {inner}"


def test_the_readme_stays_short_enough_to_read_first():
    assert len(README.splitlines()) <= 120
