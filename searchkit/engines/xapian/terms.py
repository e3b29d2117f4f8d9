"""An article as a Xapian document: the same analysis as the Whoosh index, as prefixed terms.

Each field of ``searchkit.engines.fields`` becomes a term prefix, after Xapian's conventions (``S`` for
the title, ``Q`` for the unique id, ``K`` for tags, ``X…`` for searchkit's own):

=================  ========  ==========================================================
field              prefix    terms
=================  ========  ==========================================================
``body``           (none)    folded syllables, with positions (phrases, proximity)
``title``          ``S``     folded syllables, with positions
``body_exact``     ``XE``    normalised syllables (exact accents rank first)
``title_exact``    ``XT``    normalised syllables
``words``          ``XW``    pyvi's words, folded, joined by ``_``
id                 ``Q``     a digest of the article's id (an update or removal finds it)
version            ``XH``    the id's digest and the content hash: a shard's state, listed in one walk
source             ``XSOURCE``  the source's :func:`searchkit.engines.filters.value_key` (filter)
tags               ``K``     each tag's value key (filter)
=================  ========  ==========================================================

Values: the day (``sortable_serialise`` of yyyymmdd, for date ranges and newest first), the
same with undated articles after every date (oldest first), the year. The document's data is
its stored fields as JSON, read for hits and snippets.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import date

from searchkit.corpus.articles import Article
from searchkit.engines import fields as f
from searchkit.engines import spellings
from searchkit.engines.filters import value_key
from searchkit.engines.xapian.connection import xapian
from searchkit.text.analysis import fold_syllable, normalize_syllable, syllable_texts, word_terms
from searchkit.text.dates import day_number

PREFIX = {f.BODY: "", f.TITLE: "S", f.BODY_EXACT: "XE", f.TITLE_EXACT: "XT", f.WORDS: "XW"}
ID_PREFIX = "Q"
VERSION_PREFIX = "XH"
SOURCE_PREFIX = "XSOURCE"
TAG_PREFIX = "K"
SLOT_DAY, SLOT_OLDEST, SLOT_YEAR = 0, 1, 2
# Sorts after every real day (yyyymmdd), so undated articles come last, oldest first too.
_UNDATED = 99_999_999
# Xapian refuses terms longer than 245 bytes; a longer one (no real syllable) is left out.
MAX_TERM_BYTES = 245
# Hex digits of an id's digest in its terms: ids are paths, which can be longer than a term.
_ID_DIGITS = 32


def id_key(doc_id: str) -> str:
    """The digest naming article ``doc_id`` in its terms."""
    return hashlib.sha256(doc_id.encode("utf-8")).hexdigest()[:_ID_DIGITS]


def id_term(doc_id: str) -> str:
    return ID_PREFIX + id_key(doc_id)


def version_term(doc_id: str, content_hash: str) -> str:
    return VERSION_PREFIX + id_key(doc_id) + content_hash


def read_version(term: str) -> tuple[str, str]:
    """(id digest, content hash) of a version term."""
    body = term[len(VERSION_PREFIX) :]
    return body[:_ID_DIGITS], body[_ID_DIGITS:]


def shard_of(doc_id: str, shards: int) -> int:
    """Which of ``shards`` shards holds article ``doc_id``: a stable hash, the same on every machine."""
    return shard_of_key(id_key(doc_id), shards)


def shard_of_key(key: str, shards: int) -> int:
    """:func:`shard_of` the article whose id digest is ``key``."""
    return int(key[:16], 16) % shards


def stored(article: Article) -> dict:
    """What a hit shows of an article: its stored fields, by the schema's names."""
    return {
        f.ID: article.id,
        f.TITLE: article.title,
        f.BODY: article.text,
        f.DATE: article.date,
        f.SOURCE: article.source,
        f.URL: article.url,
        f.TAGS: list(article.tags),
    }


def analysed(article: Article) -> tuple[str, bytes, spellings.Tally]:
    """Article ``article`` as (id digest, serialised Xapian document, its statistics).

    Pure analysis, run in worker processes: the document crosses back to the writer as bytes.
    """
    bindings = xapian()
    doc = bindings.Document()
    # The syllables of the embedded index's analyzers, folded or normalised (searchkit.text.analysis).
    body, title = syllable_texts(article.text), syllable_texts(article.title)
    for name, found in ((f.BODY, body), (f.TITLE, title)):
        prefix = PREFIX[name]
        for position, syllable in enumerate(found, 1):
            term = prefix + fold_syllable(syllable)
            if len(term.encode("utf-8")) <= MAX_TERM_BYTES:
                doc.add_posting(term, position)
    for name, found in ((f.BODY_EXACT, body), (f.TITLE_EXACT, title)):
        _add_terms(doc, PREFIX[name], Counter(map(normalize_syllable, found)))
    _add_terms(doc, PREFIX[f.WORDS], Counter(word_terms(article.title + "\n" + article.text).split()))
    doc.add_boolean_term(id_term(article.id))
    doc.add_boolean_term(version_term(article.id, article.hash))
    if article.source:
        doc.add_boolean_term(SOURCE_PREFIX + value_key(article.source))
    for tag in article.tags:
        if len(tag.encode("utf-8")) < MAX_TERM_BYTES:
            doc.add_boolean_term(TAG_PREFIX + value_key(tag))
    day = day_number(date.fromisoformat(article.date)) if article.date else None
    if day is not None:
        doc.add_value(SLOT_DAY, bindings.sortable_serialise(day))
        doc.add_value(SLOT_YEAR, str(day // 10_000))
    doc.add_value(SLOT_OLDEST, bindings.sortable_serialise(day if day is not None else _UNDATED))
    doc.set_data(json.dumps(stored(article), ensure_ascii=False))
    return id_key(article.id), doc.serialise(), spellings.counts_of(article.title, article.text)


def _add_terms(doc, prefix: str, counts: Counter[str]) -> None:  # noqa: ANN001
    for text, count in counts.items():
        term = prefix + text
        if len(term.encode("utf-8")) <= MAX_TERM_BYTES:
            doc.add_term(term, count)


def read_stored(data: bytes) -> dict:
    """The stored fields of a document's data."""
    return json.loads(data.decode("utf-8"))
