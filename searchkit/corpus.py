"""Reading articles from the seeds folder: formats, titles, ids and content hashes.

This layer knows nothing of the index. A file (or a JSON Lines record) that cannot be read
becomes a `Skipped` record so that one bad file never stops a build; only a folder that cannot be
read at all raises. JSON Lines files are read as a stream, one record at a time.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from searchkit.dates import dateline, read_date
from searchkit.decoding import LineTooLong, clean_text, decode_text, text_lines
from searchkit.errors import CorpusError

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


@dataclass(frozen=True)
class Skipped:
    """A file (or "<file>#line <n>" of a JSON Lines file) that gave no article, and why."""

    path: str
    reason: str


def read_articles(
    seeds_dir: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[Article | Skipped]:
    """Every file below `seeds_dir`, recursively and in sorted order, hidden entries ignored.

    `seeds_dir` may also be a single file (a JSON Lines corpus, say): its articles are read as if
    it were alone in a folder. Raises `CorpusError` at once (not on first iteration) if the folder
    cannot be listed.
    """
    root = Path(seeds_dir)
    if not root.exists():
        raise CorpusError(f"articles folder not found: {root}")
    if root.is_file():
        return read_file(root, root.parent, max_bytes=max_bytes)
    if not root.is_dir():
        raise CorpusError(f"not a folder: {root}")
    try:
        entries = _list_dir(root)
    except OSError as exc:
        raise CorpusError(f"cannot read articles folder {root}: {exc.strerror or exc}") from exc
    return _read_tree(root, entries, max_bytes)


def read_file(
    path: Path, seeds_dir: Path, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Iterator[Article | Skipped]:
    """The articles of one file: one for .txt and Markdown, one per line for JSON Lines.

    `max_bytes` limits one article: a whole .txt or Markdown file, or one JSON Lines record.
    """
    path, seeds_dir = Path(path), Path(seeds_dir)
    rel = _relative(path, seeds_dir)
    if _has_surrogates(rel):
        # Bytes that are not UTF-8 in a name: no id, page address or index term can hold them.
        shown = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        yield Skipped(shown, "file name is not UTF-8 (rename the file)")
        return
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        yield Skipped(rel, f"unsupported file type {suffix or '(no suffix)'}")
        return
    too_big = Skipped(rel, _too_big(max_bytes))
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            yield Skipped(rel, "not a regular file")
            return
        if suffix == ".jsonl":
            yield from _read_jsonl(path, rel, max_bytes)
            return
        if info.st_size > max_bytes:
            yield too_big
            return
        with path.open("rb") as handle:
            # One byte more than allowed catches a file that grew after stat.
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        yield Skipped(rel, _os_reason(exc, path))
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
        from searchkit.markdown import read_markdown

        markdown = read_markdown(text)
        if markdown.title:
            title, body = markdown.title, markdown.text
        else:
            title, body = split_title(markdown.text)
        if title or body:
            yield _article(rel, title, body, markdown.meta, markdown.tags)
        else:
            yield Skipped(rel, "no text besides markup")


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


def _read_jsonl(path: Path, rel: str, max_bytes: int) -> Iterator[Article | Skipped]:
    """One article per line, read as a stream; a record over `max_bytes` is skipped by its line."""
    with path.open("rb") as handle:
        try:
            lines = text_lines(handle, max_bytes)
        except ValueError as exc:
            yield Skipped(rel, str(exc))
            return
        yield from _jsonl_records(lines, rel, max_bytes)


def _jsonl_records(
    lines: Iterator[tuple[int, str | ValueError]], rel: str, max_bytes: int
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
        else:
            seen.add(key)
            title = _string(record.get("title"))
            title, body = (title, body.strip()) if title else split_title(body)
            meta = {name: _string(record.get(name)) for name in ("date", "source", "url")}
            yield _article(f"{rel}#{key}", title, body, meta, tag_list(record.get("tags"), _string))
    if empty:
        yield Skipped(rel, "empty file")


def tag_list(value: object, scalar: Callable[[object], str | None]) -> tuple[str, ...]:
    """Tags from a list, or from one string of comma-separated tags; ``scalar`` reads each item.

    Spaces inside a tag are collapsed, and a tag repeated (in any case) is kept once,
    as first written. Items ``scalar`` rejects (nested lists, mappings) are ignored.
    """
    items: Iterable[object] = (
        value.split(",") if isinstance(value, str) else value if isinstance(value, list) else ()
    )
    tags: dict[str, str] = {}
    for item in items:
        tag = scalar(item)
        if tag and (tag := " ".join(tag.split())):
            tags.setdefault(unicodedata.normalize("NFC", tag).casefold(), tag)
    return tuple(tags.values())


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


def _list_dir(directory: Path | str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as entries:
        return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)


def _read_tree(
    root: Path, entries: list[os.DirEntry[str]], max_bytes: int
) -> Iterator[Article | Skipped]:
    for entry in entries:
        path = Path(entry.path)
        try:
            # is_dir() follows links, so a link loop or a missing permission shows up here.
            is_dir = entry.is_dir()
            is_link = is_dir and entry.is_symlink()
        except OSError as exc:
            yield Skipped(_relative(path, root), _os_reason(exc, path))
            continue
        if not is_dir:
            yield from read_file(path, root, max_bytes=max_bytes)
        elif is_link:
            # Not followed: a link back up the tree would loop forever.
            yield Skipped(_relative(path, root) + "/", "link to a folder (not followed)")
        else:
            try:
                children = _list_dir(path)
            except OSError as exc:
                yield Skipped(_relative(path, root) + "/", _os_reason(exc, path))
                continue
            yield from _read_tree(root, children, max_bytes)


def _os_reason(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of symbolic links)"
    if exc.errno == errno.ENOENT:
        return "link to a missing file" if os.path.islink(path) else "vanished while being read"
    return exc.strerror or str(exc)


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
