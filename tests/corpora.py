"""Corpora written to break things, shared by the tests of every face (conftest.py builds their indexes once).

- :func:`write_hostile`: articles whose titles, texts, ids and file names carry what a terminal or a page must
  never act on (terminal escapes, markup, a ``javascript:`` link), and enough articles sharing one word for three
  pages of hits;
- :func:`write_odd_ids`: articles whose ids hold every awkward character a link can carry, each with a word of
  its own to find it by;
- the shared data beside the checkout (XQuAD-vi, the news articles), never copied into it: :func:`news_records`.
"""

from __future__ import annotations

import gzip
import json
from itertools import islice
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
XQUAD = SHARED_DATA / "xquad-vi"  # corpus.jsonl, queries.jsonl, qrels.tsv
NEWS = SHARED_DATA / "baomoi" / "articles.jsonl.gz"  # 35,425 news articles, one JSON record a line


def news_records(count: int, *, every: int = 1) -> list[dict]:
    """``count`` records of the news articles: the first ones, or every ``every``-th from the first."""
    with gzip.open(NEWS, "rt", encoding="utf-8") as lines:
        return [json.loads(line) for line in islice(lines, 0, count * every, every)]


class Built(NamedTuple):
    """An articles folder and its index."""

    seeds: Path
    index: Path


class OddIds(NamedTuple):
    seeds: Path
    index: Path
    words: dict[str, str]  # each article's id, and the word only it holds


# --- hostile -----------------------------------------------------------------------------------------------------

# A title that, printed raw, retitles the terminal's window and clears its screen.
HOSTILE_TITLE = "\x1b]0;PWNED\x07\x1b[2J Tin độc hại về Đông Hà"
NEWLINE_NAME = "new\nline.txt"
# A file the build skips, its name carrying an escape.
SKIPPED_NAME = "bad\x1b[31m.bin"
SCRIPT = "<script>alert(1)</script>"
# Enough articles sharing one word ("phường") for three pages of ten.
PAGED = 27


def write_jsonl(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def write_hostile(folder: Path) -> Path:
    """The hostile articles, written into ``folder`` (returned)."""
    # For a terminal: escapes in a title and a text, a newline in a file name, a skipped file's name.
    (folder / "escape.txt").write_text(
        f"{HOSTILE_TITLE}\n\nCán bộ Đông Hà \x9b31m nêu gương\x7f \u202edấu ngược.\n"
        # Enough plain text that the few controls do not make the file look binary.
        "Thành uỷ Đông Hà tổ chức hội nghị học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh.\n",
        encoding="utf-8",
    )
    (folder / NEWLINE_NAME).write_text("Tin Phong Nha\n\nHang động Phong Nha.\n", encoding="utf-8")
    (folder / SKIPPED_NAME).write_bytes(b"\x00\x01")
    # For a page: markup in a title and a text, an id with a folder, spaces and "#", a javascript: link.
    (folder / "script.txt").write_text(
        f"{SCRIPT} Bài viết có mã độc\n\n"
        f"Trách nhiệm nêu gương {SCRIPT} "
        '<img src=x onerror="alert(2)"> & "trích dẫn" của cán bộ.\n',
        encoding="utf-8",
    )
    nested = folder / "thư mục" / "con"
    nested.mkdir(parents=True)
    (nested / "bài #1 ?.txt").write_text("Bài trong thư mục con\n\nNội dung về Đông Hà.\n", encoding="utf-8")
    write_jsonl(
        folder / "corpus.jsonl",
        [
            {"id": "xq-000", "title": "Tin có liên kết lạ", "text": "Tin về Hội An.", "url": "javascript:alert(3)"},
            {"id": "xq-001", "title": "Tin có nguồn", "text": "Tin về Huế.", "url": "https://example.org/hue"},
        ],
    )
    for i in range(PAGED):
        (folder / f"phuong-{i:02}.txt").write_text(
            f"Tin phường số {i}\n\nHoạt động của phường trong tháng {i + 1}.\n", encoding="utf-8"
        )
    return folder


# --- odd ids -----------------------------------------------------------------------------------------------------

# File names (any character but "/" and NUL) and JSON Lines ids (anything at all) that must open from their links.
ODD_FILES = [
    "new\nline.txt",
    "tab\there.txt",
    "100% đúng.txt",
    "hỏi? #1 & a=b+c.txt",
    "hỏi? #1 & 100%.txt",
    "%0A literally.txt",
    "dấu ; , ' \" ( ) @ ! $ *.md",
]
ODD_RECORD_IDS = ["a/../b", "./x", "x//y", "dòng\nmới", "?q=1#frag", "..", "%2F"]
ODD_IDS = ODD_FILES + [f"corpus.jsonl#{key}" for key in ODD_RECORD_IDS]


def odd_title(word: str) -> str:
    return f"Bài có từ {word}"


def write_odd_ids(folder: Path) -> dict[str, str]:
    """The articles of :data:`ODD_IDS`, written into ``folder``; maps each id to the one word only it holds
    (its title is :func:`odd_title` of that word)."""
    words = {doc_id: f"tuxa{n}" for n, doc_id in enumerate(ODD_IDS)}
    for name in ODD_FILES:
        (folder / name).write_text(
            f"{odd_title(words[name])}\n\nNội dung có từ {words[name]} ở Đông Hà.\n", encoding="utf-8"
        )
    records = []
    for key in ODD_RECORD_IDS:
        word = words[f"corpus.jsonl#{key}"]
        records.append({"id": key, "title": odd_title(word), "text": f"Nội dung có từ {word}."})
    write_jsonl(folder / "corpus.jsonl", records)
    return words
