"""The index's fields: their names, written here once and imported wherever a field is read, by either engine.

Each article is indexed in several representations (see docs/index.md):

- ``BODY``/``TITLE``: folded syllables with positions — diacritic-insensitive matching and
  phrases;
- ``BODY_EXACT``/``TITLE_EXACT``: normalised syllables — a query typed with accents ranks exact
  matches first;
- ``WORDS``: pyvi's multi-syllable words, folded and joined by ``_`` — a document where the
  query's syllables form one word ranks higher.

Each article's metadata is stored for display (``DATE``, ``SOURCE``, ``URL``, ``TAGS``) and, where
a search filters, sorts or counts by it, also kept in a column — one value per document: ``DAY``,
``SOURCE`` and ``TAGS``. How each engine stores them is its own (``searchkit.engines.whoosh.schema``,
``searchkit.engines.xapian.terms``).
"""

from __future__ import annotations

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

