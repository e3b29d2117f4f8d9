"""Reading articles from the seeds folder: encodings, titles, ids and content hashes.

This layer knows nothing of the index. A file that cannot be read becomes a `Skipped` record
so that one bad file never stops a build; only a folder that cannot be read at all raises.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from searchkit.errors import CorpusError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
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
# C0/C1 controls other than tab, newlines, vertical tab and form feed.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")

_UNDECODABLE = "cannot decode text (not UTF-8/UTF-16)"
# UTF-32 first: its little-endian BOM begins with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Article:
    """One article. `id` is its file's path relative to the seeds folder with "/" separators,
    plus "#<record id>" for a JSON Lines record; `path` is the same string, shown to the user.
    `hash` covers title, text and metadata, so any change to them gives a new hash."""

    id: str
    path: str
    title: str
    text: str
    hash: str
    date: str | None = None
    source: str | None = None
    url: str | None = None


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
    """The articles of one file: one for .txt and Markdown, one per line for JSON Lines."""
    path, seeds_dir = Path(path), Path(seeds_dir)
    rel = _relative(path, seeds_dir)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        yield Skipped(rel, f"unsupported file type {suffix or '(no suffix)'}")
        return
    too_big = Skipped(rel, f"larger than {_size(max_bytes)} (limit --max-bytes)")
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            yield Skipped(rel, "not a regular file")
            return
        if info.st_size > max_bytes:
            yield too_big
            return
        with path.open("rb") as handle:
            # One byte more than allowed catches a file that grew after stat.
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        yield Skipped(rel, exc.strerror or str(exc))
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
    elif suffix == ".jsonl":
        yield from _jsonl_articles(text, rel)
    elif suffix == ".txt":
        yield _article(rel, *split_title(text))
    else:
        yield _article(rel, *_markdown_fields(text))


def decode_text(data: bytes) -> str:
    """Decode an article file to NFC text with "\\n" line ends; ValueError says why it cannot be."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            text = _strict(data, codec)
            break
    else:
        if b"\x00" in data:
            codec = _utf16_without_bom(data)
            if codec is None:
                raise ValueError("binary file")
            text = _strict(data, codec)
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = _legacy(data)
    if len(_CONTROL.findall(text)) > 0.05 * len(text):
        raise ValueError("binary file")
    return _clean(text)


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


def _markdown_fields(text: str) -> tuple[str, str, dict[str, str | None]]:
    meta, body = _front_matter(text)
    title = meta.pop("title", None)
    if title:
        return title, body.strip(), meta
    heading = re.search(r"^#[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$", body, re.MULTILINE)
    if heading:
        rest = body[: heading.start()] + body[heading.end() :]
        return heading.group(1).strip(), rest.strip(), meta
    return *split_title(body), meta


def _front_matter(text: str) -> tuple[dict[str, str | None], str]:
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return {}, text
    meta: dict[str, str | None] = {}
    for line in lines[1:end]:
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if colon and key in ("title", "date", "source", "url"):
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            meta[key] = value.strip() or None
    return meta, "\n".join(lines[end + 1 :])


def _jsonl_articles(text: str, rel: str) -> Iterator[Article | Skipped]:
    seen: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{rel}#line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Skipped(where, f"JSON error: {exc.msg} (column {exc.colno})")
            continue
        if not isinstance(record, dict):
            yield Skipped(where, "not a JSON object")
            continue
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
            yield _article(f"{rel}#{key}", title, body, meta)


def _string(value: object) -> str | None:
    # Numbers are accepted for ids and dates written without quotes; anything else is absent.
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return _clean(str(value)).strip() or None


def _article(key: str, title: str, text: str, meta: dict[str, str | None] | None = None) -> Article:
    meta = {name: (meta or {}).get(name) for name in ("date", "source", "url")}
    # JSON keeps the fields apart, so moving text between title and body changes the hash.
    payload = json.dumps([title, text, *meta.values()], ensure_ascii=False)
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    return Article(id=key, path=key, title=title, text=text, hash=digest, **meta)


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _strict(data: bytes, codec: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise ValueError(_UNDECODABLE) from None


def _utf16_without_bom(data: bytes) -> str | None:
    # Text in UTF-16 has a NUL in nearly every ASCII character's high byte, always on the same side.
    pairs = len(data) // 2
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if pairs and odd >= 0.3 * pairs and even <= 0.02 * pairs:
        return "utf-16-le"
    if pairs and even >= 0.3 * pairs and odd <= 0.02 * pairs:
        return "utf-16-be"
    return None


def _legacy(data: bytes) -> str:
    # Windows-1258 maps almost every byte, so accept it only when the result reads like text:
    # no controls, few symbols, and every tone mark composed onto a vowel.
    try:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
    except UnicodeDecodeError:
        raise ValueError(_UNDECODABLE) from None
    controls = len(_CONTROL.findall(text))
    strays = sum(unicodedata.category(char)[0] in "SM" for char in text)
    if controls > 0.05 * len(text):
        raise ValueError("binary file")
    if controls or strays > 0.02 * len(text):
        raise ValueError(_UNDECODABLE)
    return text


def _list_dir(directory: Path | str) -> list[os.DirEntry[str]]:
    with os.scandir(directory) as entries:
        return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)


def _read_tree(
    root: Path, entries: list[os.DirEntry[str]], max_bytes: int
) -> Iterator[Article | Skipped]:
    for entry in entries:
        path = Path(entry.path)
        if not entry.is_dir():
            yield from read_file(path, root, max_bytes=max_bytes)
        elif entry.is_symlink():
            # Not followed: a link back up the tree would loop forever.
            yield Skipped(_relative(path, root) + "/", "link to a folder (not followed)")
        else:
            try:
                children = _list_dir(path)
            except OSError as exc:
                yield Skipped(_relative(path, root) + "/", exc.strerror or str(exc))
                continue
            yield from _read_tree(root, children, max_bytes)


def _relative(path: Path, seeds_dir: Path) -> str:
    try:
        return path.relative_to(seeds_dir).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, seeds_dir)).as_posix()


def _size(count: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"
