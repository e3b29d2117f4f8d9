"""The Whoosh index: its schema, and building or updating it from the articles folder.

Each article is indexed in several representations (see README, "How the index works"):

- ``body``/``title``: folded syllables with positions — diacritic-insensitive matching and phrases;
- ``body_exact``/``title_exact``: normalised syllables — a query typed with accents ranks exact matches first;
- ``words``: pyvi's multi-syllable words, folded and joined by ``_`` — a document where the query's syllables form
  one word ranks higher.

Updates are incremental by content hash and go through one Whoosh writer whose commit is atomic (Whoosh writes
the new table of contents under a temporary name and renames it): a build killed at any moment leaves the last
committed index answering queries, and the next build completes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.fields import ID, STORED, TEXT, Schema
from whoosh.index import LockError
from whoosh.writing import CLEAR

from searchkit.analysis import exact_analyzer, folded_analyzer, word_terms
from searchkit.corpus import DEFAULT_MAX_BYTES, Article, Skipped, read_articles, read_file
from searchkit.errors import IndexBusyError, IndexMissingError

SCHEMA_VERSION = 1
_META_FILE = "searchkit.json"
# Below this many articles to analyse, starting worker processes costs more than it saves.
_PARALLEL_MIN_ARTICLES = 64


def schema() -> Schema:
    folded, exact = folded_analyzer(), exact_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        hash=STORED(),
        title=TEXT(analyzer=folded, stored=True, phrase=True),
        title_exact=TEXT(analyzer=exact, phrase=False),
        body=TEXT(analyzer=folded, stored=True, phrase=True),
        body_exact=TEXT(analyzer=exact, phrase=False),
        words=TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False),
        date=STORED(),
        source=STORED(),
        url=STORED(),
    )


@dataclass
class BuildReport:
    """What a build did; ``skipped`` lists the files that could not be read, with the reason."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}, "
            f"unchanged {self.unchanged}, skipped {len(self.skipped)}"
        )

    def to_dict(self) -> dict:
        data = asdict(self)
        data["skipped"] = [asdict(s) for s in self.skipped]
        return data


Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while articles are analysed and written."""


def exists(index_dir: Path | str) -> bool:
    """Whether a usable searchkit index with at least one committed generation is in ``index_dir``."""
    index_dir = Path(index_dir)
    return index_dir.is_dir() and whoosh_index.exists_in(str(index_dir)) and _schema_version(index_dir) == (
        SCHEMA_VERSION
    )


def open_index(index_dir: Path | str) -> whoosh_index.Index:
    """The index in ``index_dir``; raises :class:`IndexMissingError` when there is none or it is outdated."""
    index_dir = Path(index_dir)
    if not index_dir.is_dir() or not whoosh_index.exists_in(str(index_dir)):
        raise IndexMissingError(f"no index in {index_dir}: run 'searchkit index' first")
    if _schema_version(index_dir) != SCHEMA_VERSION:
        raise IndexMissingError(
            f"the index in {index_dir} was built by another version: run 'searchkit index --rebuild'"
        )
    return whoosh_index.open_dir(str(index_dir))


def build(
    seeds_dir: Path | str,
    index_dir: Path | str,
    *,
    rebuild: bool = False,
    procs: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> BuildReport:
    """Brings the index in ``index_dir`` up to date with the articles in ``seeds_dir``.

    New articles are added, changed ones re-indexed, deleted ones removed, the rest left alone; ``rebuild``
    re-indexes everything (still in one atomic commit). Raises :class:`IndexBusyError` when another build holds
    the index.
    """
    return _sync(read_articles(seeds_dir, max_bytes=max_bytes), index_dir, rebuild, procs, progress, prune=True)


def add_files(
    paths: Iterable[Path],
    seeds_dir: Path | str,
    index_dir: Path | str,
    *,
    procs: int | None = None,
    progress: Progress | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> BuildReport:
    """Indexes the given files (already inside ``seeds_dir``) without looking at the rest of the folder."""
    seeds_dir = Path(seeds_dir)
    items = (item for path in paths for item in read_file(Path(path), seeds_dir, max_bytes=max_bytes))
    return _sync(items, index_dir, False, procs, progress, prune=False)


def _sync(
    items: Iterable[Article | Skipped],
    index_dir: Path | str,
    rebuild: bool,
    procs: int | None,
    progress: Progress | None,
    *,
    prune: bool,
) -> BuildReport:
    index_dir = Path(index_dir)
    ix = _open_or_create(index_dir, rebuild)
    report = BuildReport()
    articles: list[Article] = []
    for item in items:
        if isinstance(item, Skipped):
            report.skipped.append(item)
        else:
            articles.append(item)

    with ix.searcher() as searcher:
        indexed = {fields["id"]: fields["hash"] for fields in searcher.all_stored_fields()}
    if rebuild:
        changed = articles
        report.added = len(articles)
    else:
        changed = [a for a in articles if indexed.get(a.id) != a.hash]
        report.added = sum(1 for a in changed if a.id not in indexed)
        report.updated = len(changed) - report.added
        report.unchanged = len(articles) - len(changed)
    seen = {a.id for a in articles}
    # A file that became unreadable keeps its last good version: losing it would lose data silently.
    unreadable = {s.path for s in report.skipped}
    gone = [i for i in indexed if i not in seen and i not in unreadable] if prune else []
    if rebuild:
        report.removed = sum(1 for i in indexed if i not in seen)
    else:
        report.removed = len(gone)
    if not changed and not gone and not rebuild:
        return report

    try:
        writer = ix.writer()
    except LockError as exc:
        raise IndexBusyError(f"another build is updating {index_dir}; try again when it has finished") from exc
    try:
        if not rebuild:
            for doc_id in gone:
                writer.delete_by_term("id", doc_id)
        for done, (article, terms) in enumerate(_analysed(changed, procs), start=1):
            fields = _document(article, terms)
            if rebuild or article.id not in indexed:
                writer.add_document(**fields)
            else:
                writer.update_document(**fields)
            if progress:
                progress(done, len(changed))
        writer.commit(mergetype=CLEAR) if rebuild else writer.commit()
    except BaseException:
        writer.cancel()
        raise
    return report


def _document(article: Article, terms: str) -> dict:
    return {
        "id": article.id,
        "hash": article.hash,
        "title": article.title,
        "title_exact": article.title,
        "body": article.text,
        "body_exact": article.text,
        "words": terms,
        "date": article.date,
        "source": article.source,
        "url": article.url,
    }


def _word_terms(article: Article) -> str:
    return word_terms(article.title + "\n" + article.text)


def _analysed(articles: list[Article], procs: int | None) -> Iterator[tuple[Article, str]]:
    """Each article with its pyvi word terms, segmented in worker processes when that pays off."""
    if procs is None:
        procs = os.cpu_count() or 1
    if procs <= 1 or len(articles) < _PARALLEL_MIN_ARTICLES:
        for article in articles:
            yield article, _word_terms(article)
        return
    from pyvi import ViTokenizer  # noqa: F401  loaded once here, so forked workers start warm

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(procs) as pool:
        yield from zip(articles, pool.imap(_word_terms, articles, chunksize=4))


def _open_or_create(index_dir: Path, rebuild: bool) -> whoosh_index.Index:
    index_dir.mkdir(parents=True, exist_ok=True)
    if whoosh_index.exists_in(str(index_dir)) and _schema_version(index_dir) == SCHEMA_VERSION:
        return whoosh_index.open_dir(str(index_dir))
    if whoosh_index.exists_in(str(index_dir)) and not rebuild:
        raise IndexMissingError(
            f"the index in {index_dir} was built by another version: run 'searchkit index --rebuild'"
        )
    ix = whoosh_index.create_in(str(index_dir), schema())
    (index_dir / _META_FILE).write_text(json.dumps({"schema": SCHEMA_VERSION}) + "\n", encoding="utf-8")
    return ix


def _schema_version(index_dir: Path) -> int | None:
    try:
        return json.loads((index_dir / _META_FILE).read_text(encoding="utf-8")).get("schema")
    except (OSError, ValueError, AttributeError):
        return None
