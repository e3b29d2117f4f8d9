"""Reading articles from the seeds folder: formats, titles, ids and content hashes.

This layer knows nothing of the index. A file (or a JSON Lines record) that cannot be read
becomes a `Skipped` record so that one bad file never stops a build; only a folder that cannot be
read at all raises. JSON Lines files are read as a stream, one record at a time.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import stat
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from searchkit.corpus.decoding import LineTooLong, clean_text, decode_text, text_lines
from searchkit.corpus.folder import Skipped, link_refusal, list_dir, os_reason, shown_name, walk
from searchkit.corpus.metadata import tag_list
from searchkit.errors import CorpusError
from searchkit.text.dates import dateline, read_date

# The largest article: a .txt or Markdown file, or one record (line) of a JSON Lines file. Four
# MiB is a long book; measured (tests/bench/large.py, 2 cores), a 4 MB article indexes in 23 s at
# 185 MB resident and its page answers in 0.25 s, while one of 15 MB takes 75 s and 570 MB, its page
# 0.5 s, and eight visitors opening it hold up other requests for 3 s: what still grows with an
# article is reading its stored text, once per hit and per page.
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".jsonl")

# A line longer than this is a lead paragraph rather than a headline; derived titles are cut to it.
TITLE_MAX_CHARS = 160

# Lines that scraped pages put above the headline and that are never a title by themselves.
NAVIGATION_WORDS = frozenset(
    re.split(
        r",\s*",
        """search, tìm kiếm, menu, home, trang chủ, đăng nhập, đăng ký, login, sign in,
        skip to content, skip to main content, chuyển đến nội dung, chia sẻ, share, in bài,
        in bài viết, print, bình luận, video, tin tức, tin khác, các tin khác, tin liên quan,
        xem thêm, đọc thêm, english, tiếng việt, liên hệ, sơ đồ trang, sitemap, rss, quay lại,
        trở về, back, mới nhất""",
    )
)
# Page-kind words that open a breadcrumb or a site header ("Chi tiết tin - Thành ủy Đông Hà").
NAVIGATION_PREFIXES = tuple(
    "chi tiết tin|chi tiết bài viết|tin chi tiết|trang chủ|home|tin tức|bạn đang ở".split("|")
)

_NAV_PREFIX = re.compile(
    "^(?:" + "|".join(map(re.escape, NAVIGATION_PREFIXES)) + r")\s*[-–—:>»›|/]"
)
_CRUMB_SEPARATOR = re.compile(r"\s+[>»›|]\s+")
_FILE_NAME = re.compile(r"\.(?:jpe?g|png|gif|webp|svg|bmp|pdf|docx?)$", re.IGNORECASE)
# "(GLO)- " or "(Baonghean.vn) - ": the paper's dateline, noise at the head of a derived title.
_SOURCE_TAG = re.compile(r"^\([^()]{1,40}\)\s*[-–—:]?\s*")
_SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")


@dataclass(frozen=True)
class Article:
    """One article. `id` is its file's path relative to the seeds folder with "/" separators,
    plus "#<record id>" for a JSON Lines record; `path` is the same string, shown to the user.
    `hash` covers title, text and metadata, so any change to them gives a new hash. `date` is an
    ISO date ("2024-05-22") however the article wrote it; `warnings` say what metadata could not be
    read and was left out (the article is indexed without it)."""

    id: str
    path: str
    title: str
    text: str
    hash: str
    date: str | None = None
    source: str | None = None
    url: str | None = None
    tags: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def read_articles(
    seeds_dir: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES, follow_links: bool = False
) -> Iterator[Article | Skipped]:
    """Every file below `seeds_dir`, recursively and in sorted order, hidden entries ignored.

    `seeds_dir` may also be a single file (a JSON Lines corpus, say, or a link to one): its articles
    are read as if it were alone in a folder. Raises `CorpusError` at once (not on first iteration)
    if the folder cannot be listed. A link to a file outside the folder is skipped unless
    `follow_links`; see :func:`read_file`. Two articles never share an id: the second one read
    is skipped, naming the first.
    """
    root = Path(seeds_dir)
    if not root.exists():
        raise CorpusError(f"articles folder not found: {root}")
    if root.is_file():
        # Named by the user: a link is read wherever it points.
        return read_file(root, root.parent, max_bytes=max_bytes, follow_links=True)
    if not root.is_dir():
        raise CorpusError(f"not a folder: {root}")
    try:
        entries = list_dir(root)
    except OSError as exc:
        raise CorpusError(f"cannot read articles folder {root}: {exc.strerror or exc}") from exc
    return _read_tree(root, entries, max_bytes, follow_links)


def read_file(
    path: Path,
    seeds_dir: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_links: bool = False,
    taken: dict[str, str] | None = None,
) -> Iterator[Article | Skipped]:
    """The articles of one file: one for .txt and Markdown, one per line for JSON Lines.

    `max_bytes` limits one article: a whole .txt or Markdown file, or one JSON Lines record.
    A symbolic link is skipped when its target (however reached: an absolute path, "..", a chain
    of links) lies outside `seeds_dir`, unless `follow_links`; a link to a file the folder's walk
    reads anyway is skipped too, so no article is read twice. `taken` maps the ids already read
    to where they were read: an article whose id is among them is skipped, naming the other,
    and each article read is added to it.
    """
    path, seeds_dir = Path(path), Path(seeds_dir)
    rel = _relative(path, seeds_dir)
    if _has_surrogates(rel):
        # Bytes that are not UTF-8 in a name: no id, page address or index term can hold them.
        yield Skipped(shown_name(rel), "file name is not UTF-8 (rename the file)")
        return
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        yield Skipped(rel, f"unsupported file type {suffix or '(no suffix)'}")
        return
    if path.is_symlink():
        refusal = link_refusal(path, rel, seeds_dir, follow_links)
        if refusal is not None:
            yield refusal
            return
    taken = {} if taken is None else taken
    for item in _read_contents(path, rel, suffix, max_bytes, taken):
        if isinstance(item, Article) and suffix != ".jsonl":  # records are checked as they are read
            if item.id in taken:
                item = Skipped(rel, f"same id as {taken[item.id]} (rename one of them)")
            else:
                taken[item.id] = rel
        yield item


def _read_contents(
    path: Path, rel: str, suffix: str, max_bytes: int, taken: dict[str, str]
) -> Iterator[Article | Skipped]:
    too_big = Skipped(rel, _too_big(max_bytes))
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            yield Skipped(rel, "not a regular file")
            return
        if suffix == ".jsonl":
            yield from _read_jsonl(path, rel, max_bytes, taken)
            return
        if info.st_size > max_bytes:
            yield too_big
            return
        with path.open("rb") as handle:
            # One byte more than allowed catches a file that grew after stat.
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        yield Skipped(rel, os_reason(exc, path))
        return
    if len(data) > max_bytes:
        yield too_big
        return
    try:
        text = decode_text(data)
    except ValueError as exc:
        yield Skipped(rel, str(exc))
        return
    if not text.strip():
        yield Skipped(rel, "empty file")
    elif suffix == ".txt":
        found = dateline(text)
        yield _article(rel, *split_title(text), {"date": found.isoformat() if found else None})
    else:
        # Imported here: markdown-it and YAML take longer to import than a query takes to run.
        from searchkit.corpus.markdown import read_markdown

        try:
            markdown = read_markdown(text)
        except ValueError as exc:
            yield Skipped(rel, str(exc))
            return
        if markdown.title:
            title, body = markdown.title, markdown.text
        else:
            title, body = split_title(markdown.text)
        if title or body:
            yield _article(rel, title, body, markdown.meta, markdown.tags)
        else:
            yield Skipped(rel, "no text besides markup")


def ids_beside(seeds_dir: Path, name: str, listing: list[str], *, max_bytes: int) -> dict[str, str]:
    """The ids that other entries of `seeds_dir` give their articles and that a file `name` put
    there could give too, each with the path it is read from; `listing` is the folder's sorted names.

    Ids meet only across a "#": a record "b.txt" of "a.jsonl" and a file "a.jsonl#b.txt" are both
    "a.jsonl#b.txt"; so only a JSON Lines file whose name and a "#" begin `name`, and (when `name` is
    JSON Lines itself) what begins with `name` and a "#", are read.
    """
    seeds_dir = Path(seeds_dir)

    def listed(other: str) -> bool:
        at = bisect.bisect_left(listing, other)
        return listing[at : at + 1] == [other]

    near = [name[:at] for at, char in enumerate(name) if char == "#" and name[:at].lower().endswith(".jsonl")]
    near = [other for other in near if listed(other)]
    if name.lower().endswith(".jsonl"):
        for other in listing[bisect.bisect_left(listing, name + "#") :]:
            if not other.startswith(name + "#"):
                break
            near.append(other)
    found: dict[str, str] = {}
    for other in near:
        path = seeds_dir / other
        if path.is_dir() and not path.is_symlink():
            files = [Path(entry.path) for entry in walk(path) if not isinstance(entry, Skipped)]
        else:
            files = [path]
        for file in files:
            for item in read_file(file, seeds_dir, max_bytes=max_bytes):
                if isinstance(item, Article):
                    found[item.id] = _relative(file, seeds_dir)
    return found


def split_title(text: str) -> tuple[str, str]:
    """(title, body) of a plain-text article whose first lines may be scraped page furniture.

    The title is the first line that is not navigation junk. A lead paragraph standing where a
    headline should be gives a shortened title and stays in the body, so its words stay searchable.
    """
    lines = text.split("\n")
    for number, line in enumerate(lines):
        if not line.strip() or _is_junk(line):
            continue
        if len(line.strip()) > TITLE_MAX_CHARS:
            return _shorten(line), "\n".join(lines[number:]).strip()
        return " ".join(line.split()), "\n".join(lines[number + 1 :]).strip()
    # Nothing but junk: the first non-blank line is still a better title than none.
    for number, line in enumerate(lines):
        if line.strip():
            return " ".join(line.split()), "\n".join(lines[number + 1 :]).strip()
    return "", ""


def _is_junk(line: str) -> bool:
    stripped = unicodedata.normalize("NFC", line.strip())
    key = stripped.casefold().strip(" .:…-–—|•*")
    letters = sum(char.isalpha() for char in stripped)
    digits = sum(char.isdigit() for char in stripped)
    if letters == 0 or digits >= letters:  # ".", "•••", "10:19, 22-5-2024"
        return True
    if len(stripped.split()) == 1:  # a single word is a menu item, a logo or a file name
        return True
    if key in NAVIGATION_WORDS or _NAV_PREFIX.match(key) or _FILE_NAME.search(stripped):
        return True
    crumbs = _CRUMB_SEPARATOR.split(stripped)
    return len(crumbs) >= 3 and all(len(crumb.split()) <= 4 for crumb in crumbs)


def _shorten(line: str) -> str:
    lead = " ".join(_SOURCE_TAG.sub("", line.strip(), count=1).split())
    for end in _SENTENCE_END.finditer(lead):
        # Skip abbreviations such as "TP." that end a "sentence" a few words in.
        if 30 <= end.end() <= TITLE_MAX_CHARS:
            return lead[: end.end()]
        if end.end() > TITLE_MAX_CHARS:
            break
    cut = lead.rfind(" ", 0, TITLE_MAX_CHARS)
    return lead[: cut if cut > 0 else TITLE_MAX_CHARS].rstrip(" ,;:-–—") + "…"


def _read_jsonl(path: Path, rel: str, max_bytes: int, taken: dict[str, str]) -> Iterator[Article | Skipped]:
    """One article per line, read as a stream; a record over `max_bytes` is skipped by its line."""
    with path.open("rb") as handle:
        try:
            lines = text_lines(handle, max_bytes)
        except ValueError as exc:
            yield Skipped(rel, str(exc))
            return
        yield from _jsonl_records(lines, rel, max_bytes, taken)


def _jsonl_records(
    lines: Iterator[tuple[int, str | ValueError]], rel: str, max_bytes: int, taken: dict[str, str]
) -> Iterator[Article | Skipped]:
    seen: set[str] = set()
    empty = True
    for number, line in lines:
        where = f"{rel}#line {number}"
        if isinstance(line, ValueError):
            empty = False
            yield Skipped(
                where, _too_big(max_bytes) if isinstance(line, LineTooLong) else str(line)
            )
            continue
        if not line.strip():
            continue
        empty = False
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Skipped(where, f"JSON error: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield Skipped(where, "JSON error: nested too deeply")
            continue
        except ValueError:
            # Python refuses to convert a longer run of digits to a number (sys.set_int_max_str_digits).
            yield Skipped(where, f"JSON error: a number of more than {sys.get_int_max_str_digits()} digits")
            continue
        if not isinstance(record, dict):
            yield Skipped(where, "not a JSON object")
            continue
        if "\\u" in line:
            # Only an escape ("\ud800") puts a lone surrogate in a string; the index cannot hold one.
            record = {name: _without_surrogates(value) for name, value in record.items()}
        key = _string(record.get("id"))
        body = _string(record.get("text"))
        if not key:
            yield Skipped(where, "missing id")
        elif not body:
            yield Skipped(where, "missing text")
        elif key in seen:
            yield Skipped(where, f"duplicate id {key}")
        elif f"{rel}#{key}" in taken:
            # "a.jsonl" with a record "b.txt" and a file "a.jsonl#b.txt" beside it, say.
            yield Skipped(where, f"id {key} gives {rel}#{key}, the same id as {taken[f'{rel}#{key}']} (rename one)")
        else:
            seen.add(key)
            taken[f"{rel}#{key}"] = where
            title = _string(record.get("title"))
            title, body = (title, body.strip()) if title else split_title(body)
            meta = {name: _string(record.get(name)) for name in ("date", "source", "url")}
            yield _article(f"{rel}#{key}", title, body, meta, tag_list(record.get("tags"), _string))
    if empty:
        yield Skipped(rel, "empty file")


def _string(value: object) -> str | None:
    # Numbers are accepted for ids and dates written without quotes; anything else is absent.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return clean_text(str(value)).strip() or None


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _without_surrogates(value: object) -> object:
    if not isinstance(value, str):
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _article(
    key: str,
    title: str,
    text: str,
    meta: dict[str, str | None] | None = None,
    tags: tuple[str, ...] = (),
) -> Article:
    meta = {name: (meta or {}).get(name) for name in ("date", "source", "url")}
    warnings = ()
    written, day = meta["date"], read_date(meta["date"])
    meta["date"] = day.isoformat() if day else None
    if written and day is None:
        warnings = (f"date {written!r} is not a date (indexed without one)",)
    # JSON keeps the fields apart, so moving text between title and body changes the hash. Tags
    # join the payload only when there are some, so articles without tags keep their old hashes.
    fields = [title, text, *meta.values()] + ([list(tags)] if tags else [])
    digest = hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode("utf-8")).hexdigest()
    return Article(id=key, path=key, title=title, text=text, hash=digest, tags=tags, warnings=warnings, **meta)


def _read_tree(
    root: Path, entries: list[os.DirEntry[str]], max_bytes: int, follow_links: bool
) -> Iterator[Article | Skipped]:
    taken: dict[str, str] = {}
    for entry in walk(root, entries):
        if isinstance(entry, Skipped):
            yield entry
        else:
            yield from read_file(Path(entry.path), root, max_bytes=max_bytes, follow_links=follow_links, taken=taken)


def _relative(path: Path, seeds_dir: Path) -> str:
    try:
        return path.relative_to(seeds_dir).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, seeds_dir)).as_posix()


def _too_big(max_bytes: int) -> str:
    return f"larger than {_size(max_bytes)} (limit --max-bytes)"


def _size(count: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"
