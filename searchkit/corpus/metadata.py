"""Metadata shared by every format of article: what the Markdown front matter and a JSON Lines record
both carry, read the same way whichever wrote it."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable


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
