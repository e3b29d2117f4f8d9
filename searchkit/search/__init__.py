"""Search: query parsing and understanding, ranking, snippets, suggestions, completion, related articles.

``searchkit.search.Searcher(index_dir).search(text, limit=10)`` is the entry point scripts outside the
package call; it is imported on first use, so that importing one of this package's modules does not
import the searcher and the engines under it.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "Searcher":
        from searchkit.search.searcher import Searcher

        return Searcher
    raise AttributeError(f"module 'searchkit.search' has no attribute {name!r}")
