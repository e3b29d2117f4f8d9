"""Markdown articles: YAML front matter for the metadata, and the body as the plain text a reader sees.

The body goes through a CommonMark parser (markdown-it-py, with tables) and its token stream is
rendered to text: emphasis, heading and list markers, code fences, HTML tags, link targets and image
addresses vanish; link texts, image alt texts, code, table cells and paragraphs stay. Blocks are
separated by a blank line (the items of a tight list by a single newline), because snippets and the
article page split the text on newlines. Like the rest of the corpus layer this knows nothing of the
index; the one thing an article can contain that it refuses (with a ValueError saying why) is front
matter nested too deeply to parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from searchkit.corpus.metadata import tag_list

# The front matter keys an Article keeps, besides `title` and `tags`.
META_KEYS = ("date", "source", "url")

_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# YAML spellings of "no value"; every other scalar is kept as the string it is written as.
_NULLS = frozenset(("~", "null", "Null", "NULL"))
# Elements of an HTML block that end a line of its text.
_HTML_LINE_BREAKS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer h1 h2 h3 h4 h5 h6 "
    "header hr li main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_HTML_HIDDEN = frozenset(("script", "style", "template"))


@dataclass(frozen=True)
class MarkdownArticle:
    """What a Markdown file says: `title` from the front matter or the first level-1 heading
    (None when it has neither), the body as plain text, `date`/`source`/`url` and the tags."""

    title: str | None
    text: str
    meta: dict[str, str | None] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass
class _Block:
    text: str
    heading: int = 0  # the level of a heading, 0 for any other block
    tight: bool = False  # an item of a tight list: joined to the item before it by one newline


def read_markdown(text: str) -> MarkdownArticle:
    """Title, plain-text body and metadata of a Markdown article (decoded, NFC, "\\n" line ends).

    Raises ValueError for front matter nested too deeply to parse."""
    front, body = split_front_matter(text)
    blocks = _blocks(_PARSER.parse(body))
    title = _scalar(front.get("title"))
    if title:
        title = " ".join(title.split())
    else:
        title = None
        first = next((block for block in blocks if block.heading == 1), None)
        if first is not None:
            title = " ".join(first.text.split())
            blocks.remove(first)
    meta = {key: _scalar(front.get(key)) for key in META_KEYS}
    return MarkdownArticle(title, _join(blocks), meta, tag_list(front.get("tags"), _scalar))


def split_front_matter(text: str) -> tuple[dict[str, object], str]:
    """(front matter, body) of a text that may open with a YAML block between "---" lines.

    Keys are lowercased; every scalar is the string it is written as (YAML's type guessing would turn
    `title: yes` into a boolean). YAML that cannot be parsed leaves no metadata and the body after it;
    a block that is not a mapping is not front matter, and the whole text is the body. Raises
    ValueError for YAML nested too deeply for the parser (which recurses once per level).
    """
    lines = text.split("\n")
    if lines[0].strip() != "---":
        return {}, text
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return {}, text
    body = "\n".join(lines[end + 1 :])
    try:
        # BaseLoader builds only strings, lists and mappings: no tags are run, no types guessed.
        data = yaml.load("\n".join(lines[1:end]), Loader=yaml.BaseLoader)
    except yaml.YAMLError:
        return {}, body
    except RecursionError:
        raise ValueError("front matter nested too deeply") from None
    if data is None:
        return {}, body
    if not isinstance(data, dict):
        return {}, text
    return {str(key).strip().lower(): value for key, value in data.items()}, body


def _scalar(value: object) -> str | None:
    if not isinstance(value, str) or value.strip() in _NULLS:
        return None
    return value.strip() or None


def _blocks(tokens: list[Token]) -> list[_Block]:
    blocks: list[_Block] = []
    rows: list[str] = []
    cells: list[str] = []
    heading = 0
    tight = False
    for token in tokens:
        kind = token.type
        if kind == "heading_open":
            heading = int(token.tag[1:])
        elif kind == "heading_close":
            heading = 0
        elif kind == "paragraph_open":
            tight = token.hidden  # markdown-it hides the paragraphs of a tight list's items
        elif kind == "paragraph_close":
            tight = False
        elif kind in ("th_open", "td_open"):
            cells.append("")
        elif kind == "inline" and cells:
            cells[-1] = " ".join(_inline_text(token.children or []).split())
        elif kind == "inline":
            blocks.append(_Block(_inline_text(token.children or []), heading, tight))
        elif kind == "tr_close":
            rows.append(" | ".join(cell for cell in cells if cell))
            cells = []
        elif kind == "table_close":
            blocks.append(_Block("\n".join(row for row in rows if row)))
            rows = []
        elif kind in ("fence", "code_block"):
            blocks.append(_Block(token.content.rstrip("\n")))
        elif kind == "html_block":
            blocks.append(_Block(_html_text(token.content)))
    return [block for block in blocks if block.text.strip()]


def _inline_text(children: list[Token]) -> str:
    parts = []
    for child in children:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
        elif child.type in ("softbreak", "hardbreak"):
            # A soft break stays a newline: the text keeps the lines the author wrote, as for .txt.
            parts.append("\n")
        elif child.type == "html_inline" and _tag_name(child.content) == "br":
            parts.append("\n")
        # Everything else (emphasis, links, inline HTML) is markup around text already kept.
    return "\n".join(line.strip() for line in "".join(parts).split("\n"))


def _tag_name(tag: str) -> str:
    words = tag.strip("<>/ \t\n").split()
    return words[0].lower().rstrip("/") if words else ""


def _join(blocks: list[_Block]) -> str:
    out: list[str] = []
    previous: _Block | None = None
    for block in blocks:
        if previous is not None:
            out.append("\n" if block.tight and previous.tight else "\n\n")
        out.append(block.text.strip("\n"))
        previous = block
    return "".join(out).strip()


class _HTMLText(HTMLParser):
    """The character data of an HTML fragment, with a line break where a block element starts or ends."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        if tag in _HTML_HIDDEN:
            self.hidden += 1
        elif tag in _HTML_LINE_BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HTML_HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _HTML_LINE_BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _html_text(html: str) -> str:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)
