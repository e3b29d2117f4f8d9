"""The index's fields: their names, written here once and imported wherever a field is read.

Each article is indexed in several representations (see docs/index.md):

- ``BODY``/``TITLE``: folded syllables with positions — diacritic-insensitive matching and
  phrases;
- ``BODY_EXACT``/``TITLE_EXACT``: normalised syllables — a query typed with accents ranks exact
  matches first;
- ``WORDS``: pyvi's multi-syllable words, folded and joined by ``_`` — a document where the
  query's syllables form one word ranks higher.

Each article's metadata is stored for display (``DATE``, ``SOURCE``, ``URL``, ``TAGS``) and, where
a search filters, sorts or counts by it, also kept in a column — one value per document, which
``searchkit.columns`` reads whole into arrays: ``DAY``, ``SOURCE`` and ``TAGS``.

Accent statistics are kept beside the index, not in it (``searchkit.spellings``).
"""

from __future__ import annotations

from whoosh import columns, fields
from whoosh.analysis import SpaceSeparatedTokenizer

from searchkit.analysis import exact_analyzer, folded_analyzer

ID = "id"
HASH = "hash"
TITLE = "title"
TITLE_EXACT = "title_exact"
BODY = "body"
BODY_EXACT = "body_exact"
WORDS = "words"
DATE = "date"
SOURCE = "source"
URL = "url"
TAGS = "tags"
DAY = "day"

# A content hash (hex SHA-256, ``corpus.Article.hash``) is kept in its column as raw bytes.
HASH_BYTES = 32
# A document's tags are one value, a line each: a column holds one value per document, and a tag
# never holds a line break (its spaces are collapsed when it is read).
TAG_SEPARATOR = "\n"
# The column value of an article without a date; a date is its number yyyymmdd (``dates.day_number``).
NO_DAY = 0

# The fields a query's words are looked up in, and the exact-accent field beside each.
TEXT_FIELDS = (BODY, TITLE)
EXACT = {BODY: BODY_EXACT, TITLE: TITLE_EXACT}


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
