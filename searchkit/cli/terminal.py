"""What the commands print, made safe for a terminal: escapes for what a terminal would act on, JSON likewise.

An article, a file name or a JSON Lines id may hold characters a terminal would obey instead of showing (ESC
starts a sequence that can retitle the window, clear the screen or rewrite what is shown; a right-to-left override
reorders the line). Everything a command prints from the articles or the command line goes through here.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the search path is loaded by the commands that search, not by every command
    from searchkit.search.highlight import Snippet

# Characters an article, a file name or a JSON Lines id may hold that a terminal would act on
# instead of showing: C0 and C1 controls (ESC starts a sequence that can retitle the window, clear
# the screen or rewrite what is shown), DEL, line and paragraph separators, and the bidirectional
# overrides and isolates that reorder a line as it is displayed.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Of those, the ones JSON leaves as they are (it escapes only U+0000 to U+001F).
_UNPRINTABLE_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SPACES = re.compile(r"[\t\n\x0b\x0c\r]")


def escaped(text: object) -> str:
    """``text`` (a path, an id, a message naming one) safe to print in a terminal, on one line.

    Every control character is written as an escape a reader can see and copy: a newline as
    ``\\n``, ESC as ``\\x1b``, a right-to-left override as ``\\u202e``; nothing reaches the
    terminal that it would act on.
    """
    return _UNPRINTABLE.sub(_escape, str(text))


def escaped_text(text: str) -> str:
    """Article text (a title, a snippet) safe to print in a terminal: line breaks and tabs become
    spaces, every other control character an escape, as in :func:`escaped`."""
    return escaped(_SPACES.sub(" ", text))


def _escape(found: re.Match[str]) -> str:
    char = found.group()
    if char in _ESCAPES:
        return _ESCAPES[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def json_text(data: object) -> str:
    """``data`` as indented JSON whose every control character is escaped, so it is safe in a
    terminal too; it parses to the same value."""
    text = json.dumps(data, ensure_ascii=False, indent=2)
    return _UNPRINTABLE_IN_JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def snippet_text(snippet: Snippet | None, color: bool) -> str:
    """A snippet for the terminal: its marks in bold yellow when ``color``, else between ``**``."""
    if snippet is None:
        return ""
    if not color:
        return escaped_text(snippet.text("**", "**"))
    return "".join(
        click.style(escaped_text(t), fg="yellow", bold=True) if m else escaped_text(t) for t, m in snippet.fragments
    )


def folder(path: Path) -> str:
    """``index/``: a folder named so that it reads as one ("No index in index yet" did not)."""
    text = str(path)
    return text if text.endswith(os.sep) or path.is_file() else text + os.sep
