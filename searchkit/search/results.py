"""What a search returns: plain result objects (hits, a page of results, a whole article), built from
an article's stored fields."""

from __future__ import annotations

from dataclasses import dataclass, field

from searchkit.engines import fields as f
from searchkit.engines.filters import RELEVANCE, Facets
from searchkit.search.acronyms import Acronym
from searchkit.search.correction import Corrected
from searchkit.search.highlight import Matcher, Snippet, snippet


@dataclass(frozen=True)
class Hit:
    rank: int
    id: str
    path: str
    title: str
    score: float
    snippet: Snippet | None
    # The article's metadata: an ISO date ("2024-05-22"), its source and tags as written, its address.
    date: str | None = None
    source: str | None = None
    tags: tuple[str, ...] = ()
    url: str | None = None

    def to_dict(self) -> dict:
        return {
            "rank": self.rank,
            "id": self.id,
            "path": self.path,
            "title": self.title,
            "date": self.date,
            "source": self.source,
            "tags": list(self.tags),
            "url": self.url,
            "score": round(self.score, 4),
            "snippet": self.snippet.html() if self.snippet else "",
        }


@dataclass
class SearchResults:
    query: str
    total: int
    page: int
    limit: int
    hits: list[Hit] = field(default_factory=list)
    seconds: float = 0.0
    # The accented query most likely meant ("Có phải bạn muốn tìm: …"); None when the query is
    # already its own best form.
    suggestion: str | None = None
    # The order of the hits (one of ``filters.SORTS``), and the counts beside them when asked for.
    sort: str = RELEVANCE
    facets: Facets | None = None
    # The learnt acronyms the query was expanded with (an acronym typed, or a long form).
    acronyms: list[Acronym] = field(default_factory=list)
    # Whether ``total`` is the count of the matches or an estimate (Xapian's, on shards).
    exact: bool = True
    # The words read as typos of others (``searchkit.search.correction``): the query as typed is
    # searched too, its matches first.
    corrected: list[Corrected] = field(default_factory=list)
    # For a query that found nothing with all its words: the word that blocks it, and the results
    # of the query without it (``Searcher.search``).
    dropped: str | None = None
    without: SearchResults | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit))

    def to_dict(self) -> dict:
        data = {
            "query": self.query,
            "total": self.total,
            "sort": self.sort,
            "acronyms": [a.to_dict() for a in self.acronyms],
            "corrected": [c.to_dict() for c in self.corrected],
            "dropped": (
                {"word": self.dropped, **self.without.to_dict()} if self.dropped and self.without else None
            ),
            "results": [h.to_dict() for h in self.hits],
            "suggestion": self.suggestion,
        }
        if self.facets is not None:
            data["facets"] = self.facets.to_dict()
        return data


@dataclass(frozen=True)
class Document:
    """A whole stored article, as the article page shows it."""

    id: str
    path: str
    title: str
    text: str
    date: str | None = None
    source: str | None = None
    url: str | None = None
    tags: tuple[str, ...] = ()


def stored_hit(rank: int, stored: dict, score: float, matcher: Matcher | None) -> Hit:
    """A hit from an article's stored fields (by the schema's names), its snippet marked by ``matcher``."""
    return Hit(
        rank=rank,
        id=stored[f.ID],
        path=stored[f.ID],
        title=stored.get(f.TITLE, ""),
        score=score,
        snippet=snippet(stored.get(f.BODY, ""), matcher) if matcher is not None else None,
        date=stored.get(f.DATE),
        source=stored.get(f.SOURCE),
        tags=_tags(stored),
        url=stored.get(f.URL),
    )


def stored_document(stored: dict) -> Document:
    """An article's stored fields as the article page shows them."""
    return Document(
        id=stored[f.ID],
        path=stored[f.ID],
        title=stored.get(f.TITLE, ""),
        text=stored.get(f.BODY, ""),
        date=stored.get(f.DATE),
        source=stored.get(f.SOURCE),
        url=stored.get(f.URL),
        tags=_tags(stored),
    )


def _tags(stored: dict) -> tuple[str, ...]:
    tags = stored.get(f.TAGS) or ()
    # The embedded index stores them as one line each; a shard's document data as a list.
    found = tags.split(f.TAG_SEPARATOR) if isinstance(tags, str) else tags
    return tuple(tag for tag in found if tag)
