"""The three systems measured side by side, behind one small interface.

Each engine builds an index from a seeds folder of JSONL files and answers a query with the ranked
ids of the source articles. With ``snippets=True`` it also produces what a user would see for each
hit (searchkit's snippets, FTS5's ``snippet()``, Whoosh's highlights), so latency includes them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from corpora import SYLLABLE, read_jsonl

Search = Callable[[str, int, bool], list[str]]
"""``search(text, limit, snippets)`` -> ranked article ids."""


def _articles(seeds_dir: Path) -> Iterator[dict]:
    for path in sorted(seeds_dir.glob("*.jsonl")):
        yield from read_jsonl(path)


class Searchkit:
    name = "searchkit"
    label = "searchkit"

    @staticmethod
    def available() -> str | None:
        """None when the library API is importable, else why not."""
        try:
            from searchkit.build.index import build  # noqa: F401
            from searchkit.search.searcher import Searcher  # noqa: F401
        except ImportError as error:
            return f"searchkit's library API is not importable ({error})"
        return None

    def build(self, seeds_dir: Path, index_dir: Path, procs: int | None = None) -> dict:
        from searchkit.build.index import build

        report = build(seeds_dir, index_dir, rebuild=True, procs=procs)
        counts = ("added", "updated", "removed", "unchanged")
        return {key: getattr(report, key) for key in counts} | {"skipped": len(report.skipped)}

    @contextmanager
    def searcher(self, index_dir: Path) -> Iterator[Search]:
        from searchkit.errors import SearchkitError
        from searchkit.search.searcher import Searcher

        with Searcher(index_dir) as searcher:

            def search(text: str, limit: int, snippets: bool) -> list[str]:
                try:
                    results = searcher.search(text, limit=limit, page=1, snippets=snippets)
                except SearchkitError:
                    # A query the library refuses (nothing searchable left) shows the user no hit.
                    return []
                # An article read from a JSONL file is "<file name>#<line id>".
                return [hit.id.split("#", 1)[-1] for hit in results.hits]

            yield search


class Fts5:
    name = "fts5"
    label = "SQLite FTS5"
    FILE = "fts5.sqlite"

    @staticmethod
    def available() -> str | None:
        try:
            db = sqlite3.connect(":memory:")
            db.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
            db.close()
        except sqlite3.Error as error:
            return f"this Python's SQLite has no FTS5 ({error})"
        return None

    def build(self, seeds_dir: Path, index_dir: Path, procs: int | None = None) -> dict:
        index_dir.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(index_dir / self.FILE)
        try:
            with db:
                db.execute(
                    "CREATE VIRTUAL TABLE articles USING fts5("
                    "id UNINDEXED, title, text, tokenize='unicode61 remove_diacritics 2')"
                )
                rows = ((a["id"], a["title"], a["text"]) for a in _articles(seeds_dir))
                db.executemany("INSERT INTO articles(id, title, text) VALUES (?, ?, ?)", rows)
                # Merging the b-tree segments is the documented last step of a bulk load.
                db.execute("INSERT INTO articles(articles) VALUES ('optimize')")
            (count,) = db.execute("SELECT count(*) FROM articles").fetchone()
        finally:
            db.close()
        return {"added": count}

    @staticmethod
    def match_expression(text: str, every_word: bool = False) -> str:
        """The query's tokens, each quoted so that none is read as FTS5 syntax, OR'd or (``every_word``) AND'd.

        searchkit requires every word of a short query, so for titles and short queries the fair
        baseline is FTS5 asked for every word too (``"w1" "w2"``: FTS5's implicit AND); OR is the
        baseline for questions, whose words are not all expected in the answer. A token holds word
        characters only, so quoting is all it needs (FTS5 doubles a ``"`` inside quotes; none is left).
        """
        return (" " if every_word else " OR ").join(f'"{token}"' for token in SYLLABLE.findall(text))

    @contextmanager
    def searcher(self, index_dir: Path, every_word: bool = False) -> Iterator[Search]:
        db = sqlite3.connect(index_dir / self.FILE)
        ranked = "SELECT id FROM articles WHERE articles MATCH ? ORDER BY bm25(articles) LIMIT ?"
        with_snippets = (
            "SELECT id, snippet(articles, 2, '<mark>', '</mark>', '…', 24) FROM articles "
            "WHERE articles MATCH ? ORDER BY bm25(articles) LIMIT ?"
        )

        def search(text: str, limit: int, snippets: bool) -> list[str]:
            expression = self.match_expression(text, every_word)
            if not expression:
                return []
            rows = db.execute(with_snippets if snippets else ranked, (expression, limit)).fetchall()
            return [row[0] for row in rows]

        try:
            yield search
        finally:
            db.close()


class NaiveWhoosh:
    """Whoosh as its tutorial sets it up: StandardAnalyzer, no folding, OR of the query's words."""

    name = "whoosh"
    label = "naive Whoosh"

    @staticmethod
    def available() -> str | None:
        try:
            import whoosh  # noqa: F401
        except ImportError as error:
            return f"whoosh is not installed ({error})"
        return None

    @staticmethod
    def _schema():
        from whoosh.analysis import StandardAnalyzer
        from whoosh.fields import ID, TEXT, Schema

        return Schema(
            id=ID(stored=True, unique=True),
            title=TEXT(analyzer=StandardAnalyzer(), stored=True),
            text=TEXT(analyzer=StandardAnalyzer(), stored=True),
        )

    def build(self, seeds_dir: Path, index_dir: Path, procs: int | None = None) -> dict:
        from whoosh import index

        index_dir.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(index_dir), self._schema())
        writer = ix.writer()
        count = 0
        for article in _articles(seeds_dir):
            writer.add_document(id=article["id"], title=article["title"], text=article["text"])
            count += 1
        writer.commit()
        return {"added": count}

    @staticmethod
    def query_string(text: str) -> str:
        """The query's words only, as FTS5 gets them: '?' and '*' would otherwise be wildcards."""
        return " ".join(SYLLABLE.findall(text))

    @contextmanager
    def searcher(self, index_dir: Path) -> Iterator[Search]:
        from whoosh import index
        from whoosh.qparser import MultifieldParser, OrGroup

        ix = index.open_dir(str(index_dir))
        parser = MultifieldParser(["title", "text"], ix.schema, group=OrGroup)
        searcher = ix.searcher()
        ids: dict[int, str] = {}

        def search(text: str, limit: int, snippets: bool) -> list[str]:
            results = searcher.search(parser.parse(self.query_string(text)), limit=limit)
            if snippets:
                return [hit["id"] for hit in results if hit.highlights("text") is not None]
            # Loading every hit's stored text only to read its id would dominate deep rankings.
            if not ids:
                reader = searcher.reader()
                ids.update((docnum, fields["id"]) for docnum, fields in reader.iter_docs())
            return [ids[results.docnum(rank)] for rank in range(results.scored_length())]

        try:
            yield search
        finally:
            searcher.close()
            ix.close()


ENGINES = {engine.name: engine for engine in (Searchkit(), Fts5(), NaiveWhoosh())}
