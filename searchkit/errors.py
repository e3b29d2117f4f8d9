"""The one exception family the library raises; the CLI and the page turn it into messages."""


class SearchkitError(Exception):
    """Base class: a problem the user can act on, shown as a one-line message."""


class QueryError(SearchkitError):
    """The query cannot be run (empty, too long, nothing searchable left)."""


class IndexMissingError(SearchkitError):
    """No index exists where one was expected."""


class IndexBusyError(SearchkitError):
    """Another build holds the index's write lock."""


class CorpusError(SearchkitError):
    """The articles folder cannot be read at all (a single bad file is skipped, not raised)."""
