"""The Whoosh schema: how the embedded engine stores each field of :mod:`searchkit.engines.fields`.

Columns (one value per document, which ``searchkit.engines.whoosh.columns`` reads whole into arrays)
hold the id, the hash, ``DAY``, ``SOURCE`` and ``TAGS``. Accent statistics are kept beside the index,
not in it (``searchkit.engines.spellings``).
"""

from __future__ import annotations

from whoosh import columns, fields
from whoosh.analysis import SpaceSeparatedTokenizer

from searchkit.engines.fields import (
    BODY,
    BODY_EXACT,
    DATE,
    DAY,
    HASH,
    HASH_BYTES,
    ID,
    NO_DAY,
    SOURCE,
    TAGS,
    TITLE,
    TITLE_EXACT,
    URL,
    WORDS,
)
from searchkit.engines.whoosh.analyzers import exact_analyzer, folded_analyzer


def schema() -> fields.Schema:
    folded, exact = folded_analyzer(), exact_analyzer()
    return fields.Schema(
        **{
            # Columns let an update read every id and hash without loading the bodies. The id is also
            # a term (an update deletes by it); the hash is only ever read from its column, as the
            # SHA-256's 32 bytes.
            ID: fields.ID(stored=True, unique=True, sortable=True),
            HASH: fields.COLUMN(columns.FixedBytesColumn(HASH_BYTES)),
            TITLE: fields.TEXT(analyzer=folded, stored=True, phrase=True),
            TITLE_EXACT: fields.TEXT(analyzer=exact, phrase=False),
            BODY: fields.TEXT(analyzer=folded, stored=True, phrase=True),
            BODY_EXACT: fields.TEXT(analyzer=exact, phrase=False),
            WORDS: fields.TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False),
            # The ISO date ("2024-05-22") shown with a hit; DAY is the same date as a number.
            DATE: fields.STORED(),
            DAY: fields.COLUMN(columns.NumericColumn("i", default=NO_DAY)),
            # As written; the column feeds the source filter and facet.
            SOURCE: fields.ID(stored=True, sortable=True),
            URL: fields.STORED(),
            TAGS: fields.ID(stored=True, sortable=True),
        }
    )
