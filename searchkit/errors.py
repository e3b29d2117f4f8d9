"""The one exception family the library raises; the CLI and the page turn it into messages.

Every error carries a ``code`` (a short English identifier such as ``query_too_long``) and the
``details`` its message was built from. The faces translate codes, never the English sentence: the
page looks its Vietnamese message up by code, the JSON API returns the code beside the message.
"""

from __future__ import annotations


class SearchkitError(Exception):
    """Base class: a problem the user can act on, shown as a one-line message."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, **details: object):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.details = details


class QueryError(SearchkitError):
    """The query cannot be run (empty, too long, too costly, nothing searchable left)."""

    code = "query"


class IndexMissingError(SearchkitError):
    """No index exists where one was expected."""

    code = "index_missing"


class IndexDamagedError(IndexMissingError):
    """The index's files cannot be read; ``searchkit index --rebuild`` builds a new one."""

    code = "index_damaged"


class IndexBusyError(SearchkitError):
    """Another build holds the index's write lock."""

    code = "index_busy"


class CorpusError(SearchkitError):
    """The articles folder cannot be read at all (a single bad file is skipped, not raised)."""

    code = "corpus"
