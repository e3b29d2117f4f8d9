#!/usr/bin/env python3
"""Word segmentation, old and new side by side: pyvi's output aligned onto syllables vs searchkit.text.segmentation.

    python3 tests/bench/segmentation.py [--docs N] [--rounds N] [--profile]

On the first N news articles (default 2,000): whether ``analysis.words`` gives the very words the pyvi-based
implementation it replaced gives, and ``segment.tokenize`` the very string ``ViTokenizer.tokenize`` gives, and how
many syllables per second each processes, timed in alternating slices so that a change in the machine's load falls
on both; then the cold import of each in a fresh interpreter. With --profile, where the new ``words`` spends its
time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from itertools import islice
from pathlib import Path

import corpora
from pyvi import ViTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import test_segment as reference  # noqa: E402  the old implementation the test compares with

from searchkit.text import segmentation as segment
from searchkit.text.analysis import Token, nfc, words

SYLLABLE = re.compile(r"[^\W_]+")


def pyvi_words(text: str) -> list[Token]:
    """``analysis.words`` as it was: pyvi's output aligned back onto the syllables of the text."""
    return reference.pyvi_words(ViTokenizer.tokenize(nfc(text)), nfc(text))


IMPORTS = {
    "pyvi": "from pyvi import ViTokenizer",
    "searchkit.text.segmentation": "from searchkit.text import segmentation as segment",
    "searchkit.text.segmentation + model": "from searchkit.text import segmentation as segment; segment._model()",
}


def cold_import(statement: str) -> float:
    code = f"import time\nstarted = time.perf_counter()\n{statement}\nprint(time.perf_counter() - started)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def timed(function: Callable, texts: list[str]) -> tuple[float, float, list]:
    wall, cpu = time.perf_counter(), time.process_time()
    found = [function(text) for text in texts]
    return time.perf_counter() - wall, time.process_time() - cpu, found


def compare(texts: list[str], count: int, slices: int, what: str, old: Callable, new: Callable) -> None:
    """Time ``old`` and ``new`` on ``texts`` in alternating slices, and count the texts where they differ."""
    totals = {"old": [0.0, 0.0], "new": [0.0, 0.0]}
    differing = 0
    size = -(-len(texts) // slices)
    for number, first in enumerate(range(0, len(texts), size)):
        part = texts[first : first + size]
        order = [("old", old), ("new", new)]
        results = {}
        for name, function in order if number % 2 == 0 else order[::-1]:
            wall, cpu, results[name] = timed(function, part)
            totals[name][0] += wall
            totals[name][1] += cpu
        differing += sum(a != b for a, b in zip(results["old"], results["new"], strict=True))
    print(f"{what}: articles whose results differ: {differing}")
    for name, (wall, cpu) in totals.items():
        rates = f"{count / wall:,.0f} syllables/s; {cpu:.1f} s CPU, {count / cpu:,.0f}/s"
        print(f"{what}, {name}: {wall:.1f} s wall, {rates}")
    speedups = f"{totals['old'][0] / totals['new'][0]:.2f}x wall, {totals['old'][1] / totals['new'][1]:.2f}x CPU"
    print(f"{what}, new against old: {speedups}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="segmentation.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", metavar="DIR", type=Path, default=corpora.DEFAULT_DATA, help="shared data folder")
    parser.add_argument("--docs", metavar="N", type=int, default=2000, help="news articles, the first N")
    parser.add_argument("--slices", metavar="N", type=int, default=10, help="alternating timed slices")
    parser.add_argument("--rounds", metavar="N", type=int, default=5, help="cold imports of each")
    parser.add_argument("--profile", action="store_true", help="profile the new words() on the same articles")
    args = parser.parse_args(argv)

    rows = islice(corpora.read_jsonl(args.data / corpora.BAOMOI), args.docs)
    texts = [nfc(row["title"] + "\n" + row["text"]) for row in rows]
    count = sum(len(SYLLABLE.findall(text)) for text in texts)
    print(f"{len(texts)} articles, {count:,} syllables")
    words("khởi động")  # the model loaded before timing, as pyvi's is on import

    compare(texts, count, args.slices, "words", pyvi_words, words)
    compare(texts, count, args.slices, "tokenize", ViTokenizer.tokenize, segment.tokenize)

    imports: dict[str, list[float]] = {name: [] for name in IMPORTS}
    for _ in range(args.rounds):
        for name, statement in IMPORTS.items():
            imports[name].append(cold_import(statement))
    for name, seconds in imports.items():
        print(f"cold import, {name}: median {statistics.median(seconds):.3f} s of {args.rounds}")

    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(lambda: [words(text) for text in texts])
        pstats.Stats(profile).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
