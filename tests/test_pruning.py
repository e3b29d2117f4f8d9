"""Pruning: an intersection reads its rarest part whole and the others only in the posting blocks that may hold
its documents, and re-ranking reads positions only there; the hits are those of reading every posting."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from corpora import NEWS, news_records
from test_codec import assert_blocks_are_whoosh_s
from whoosh import query as wq

from searchkit.build.index import build
from searchkit.engines import compiled as cq
from searchkit.engines import fields as f
from searchkit.engines.backend import open_backend
from searchkit.engines.filters import Filters
from searchkit.engines.whoosh import execute
from searchkit.engines.whoosh.backend import WhooshBackend
from searchkit.engines.whoosh.cache import PostingCache
from searchkit.engines.whoosh.codec import reading as codec
from searchkit.engines.whoosh.codec import writing
from searchkit.engines.whoosh.execute import Executor
from searchkit.engines.whoosh.matches import Matches, top
from searchkit.engines.whoosh.postings import Scored, drain
from searchkit.errors import SearchkitError
from searchkit.search.searcher import Searcher
from searchkit.text.analysis import fold, syllable_texts

# Enough articles that a common syllable's postings span several blocks of Whoosh's 128 postings, which this
# index is written with (searchkit's own 2,048 would take some 8,000 articles to span three).
ARTICLES = 520
BLOCK = 128
QUERIES = 200
CACHE_BYTES = 64 * 2**20


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    if not NEWS.is_file():
        pytest.fail(f"the news corpus is missing: {NEWS}")
    folder = tmp_path_factory.mktemp("pruning")
    records = news_records(ARTICLES)
    with (folder / "news.jsonl").open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps({k: record[k] for k in ("id", "title", "text")}, ensure_ascii=False) + "\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writing, "BLOCK_POSTINGS", BLOCK)
        assert build(folder / "news.jsonl", folder / "index", procs=1).added == ARTICLES
    return folder / "index", [record["title"] for record in records]


def queries(titles: list[str], count: int) -> list[str]:
    """Title starts, two or three words from anywhere in a title, half of them folded; a few questions,
    phrases, exclusions and alternatives among them."""
    rng = random.Random(26)
    usable = [words for words in (syllable_texts(title) for title in titles) if len(words) >= 4]
    chosen = []
    for n in range(count):
        words = rng.choice(usable)
        kind = n % 10
        if kind < 4:
            text = " ".join(words[: rng.randint(2, 4)])
        elif kind < 7:
            start = rng.randrange(len(words) - 2)
            text = " ".join(words[start : start + rng.randint(2, 3)])
        elif kind == 7:  # a question: its words match partly
            text = " ".join(words[:8]) + " là gì?"
        elif kind == 8:
            text = f'"{words[0]} {words[1]}" {words[2]} -{rng.choice(rng.choice(usable))}'
        else:
            text = f"{words[0]} {words[1]} OR {words[-1]}"
        chosen.append(fold(text) if n % 2 else text)
    return chosen


def searcher(index: Path, *, prune: bool) -> Searcher:
    # Bounds of their own: the two searchers must not share what the other has read.
    backend = WhooshBackend(index, cache_mb=(64 if prune else 65))
    backend.executor.prune = prune
    return Searcher(index, backend=backend)


def answer(found: Searcher, text: str) -> tuple | str:
    try:
        results = found.search(text, limit=10, snippets=False, budget=None)
    except SearchkitError as error:
        return error.code
    return results.total, results.exact, [(hit.id, round(hit.score, 9)) for hit in results.hits]


def test_pruned_runs_find_the_same_top_ten_and_totals_as_reading_every_posting(news):
    index, titles = news
    texts = queries(titles, QUERIES)
    with searcher(index, prune=True) as pruned, searcher(index, prune=False) as exhaustive:
        differ, answered = [], 0
        for text in texts:
            # Each query on an empty cache: what a new query reads, every posting list for the first time.
            for found in (pruned, exhaustive):
                found.backend.executor.cache = PostingCache(CACHE_BYTES)
            ours, theirs = answer(pruned, text), answer(exhaustive, text)
            if ours != theirs:
                differ.append((text, ours, theirs))
            answered += isinstance(ours, tuple) and bool(ours[2])
        assert differ == []
        assert answered > 0.8 * len(texts)


def test_tiers_placed_among_the_contenders_alone_give_the_same_first_pages(news):
    index, titles = news
    with Searcher(index) as found:
        executor, placed = found.backend.executor, 0
        for text in queries(titles, QUERIES):
            try:
                prepared = found.prepared(text)
            except SearchkitError:
                continue
            matches = found.backend.match(prepared.compiled, filters=Filters()).matches
            every = executor.tiers(matches, prepared.tiers)
            for keep in (1, 10, 20):
                assert top(matches, keep, executor.tiers(matches, prepared.tiers, keep=keep)) == top(
                    matches, keep, every
                ), (text, keep)
            placed += len(matches) > 10 and bool(prepared.tiers)
        assert placed > 50


def test_posting_blocks_over_several_blocks_are_whoosh_s(news):
    index, _ = news
    with Searcher(index) as found:
        reader = found.backend.searcher.reader()
        for text in ("va", "la", "cua", "duoc"):
            assert assert_blocks_are_whoosh_s(reader, f.BODY, text) >= 3, text


def test_an_intersection_reads_of_a_common_word_only_the_blocks_holding_the_rare_one(news):
    index, _ = news
    with Searcher(index) as found:
        whoosh_searcher = found.backend.searcher
        reader = whoosh_searcher.reader()
        common = "va"
        holders = set(reader.postings(f.BODY, common).all_ids())
        # A word of a few articles that all hold the common one.
        rare = next(
            text.decode() if isinstance(text, bytes) else text
            for text, info in reader.iter_field(f.BODY)
            if 2 <= info.doc_frequency() <= 3 and set(reader.postings(f.BODY, text).all_ids()) <= holders
        )
        query = cq.And((cq.Term(f.BODY, common), cq.Term(f.BODY, rare)))
        results = {}
        for prune in (True, False):
            cache = PostingCache(CACHE_BYTES)
            # The blocks read, whether still kept or let go since (a term read whole keeps one layout instead).
            read: list = []
            put = cache.put
            cache.put = lambda key, value, read=read, put=put: read.append(key) or put(key, value)
            executor = Executor(whoosh_searcher, cache, prune=prune)
            matches = executor.run(query)
            blocks = {key for key in read if key[0] == "block" and key[3] == common}
            results[prune] = (matches.ids.tolist(), matches.scores.tolist(), len(blocks))
        every = len(codec.posting_blocks(reader, f.BODY, common))
        assert results[True][:2] == results[False][:2] and len(results[True][0]) >= 2
        assert results[False][2] == every >= 4
        assert results[True][2] <= 3


def test_a_common_term_s_scores_are_kept_as_its_distinct_values_and_unpack_to_the_same_bits(
    news: tuple[Path, list[str]],
):
    backend = open_backend(news[0], cache_mb=64)
    try:
        postings = backend.executor.postings
        for text in ("va", "la", "duoc"):  # và, là, được: in most articles
            matches = postings.term(f.BODY, text)
            kept = backend.shared.postings.get(("term", f.BODY, text))
            # Its documents in two bytes each (10,000 articles), unpacked to the numbers scored.
            assert isinstance(kept, Scored) and kept.ids.dtype == np.uint16 and matches.ids.dtype == np.int32
            assert kept.ids.tolist() == matches.ids.tolist()
            # A byte or two a document and fewer values than documents (the more articles, the fewer
            # values a document: at 10,000 news articles the terms' entries hold 38 % less), the very
            # same numbers once unpacked.
            assert len(matches) > ARTICLES / 2 and kept.codes.itemsize <= 2 and len(kept.values) < len(matches)
            assert kept.values.nbytes + kept.codes.nbytes < matches.scores.nbytes
            unpacked = kept.matches()
            assert unpacked.scores.dtype == np.float64
            assert unpacked.scores.tobytes() == matches.scores.tobytes()
            # What Whoosh's own BM25F scorer gives each live document.
            searcher, theirs = backend.searcher, {}
            for sub, offset in searcher.subsearchers or [(searcher, 0)]:
                scorer = searcher.weighting.scorer(sub, f.BODY, text)
                leaf = sub.postings(f.BODY, text)
                while leaf.is_active():
                    theirs[offset + leaf.id()] = scorer.score(leaf)
                    leaf.next()
            assert unpacked.ids.tolist() == sorted(theirs)
            assert np.allclose(unpacked.scores, [theirs[doc] for doc in unpacked.ids.tolist()], rtol=1e-12)
            # Asked again in another run, the same matches come from the compact entry.
            backend.executor.postings.done()
            again = postings.term(f.BODY, text)
            assert again.scores.tobytes() == matches.scores.tobytes() and again.ids.tobytes() == matches.ids.tobytes()
    finally:
        backend.close()


def test_whether_some_documents_hold_a_phrase_is_what_whoosh_s_phrase_matcher_says(news):
    """``holds_any`` checks a phrase a batch of candidates at a time and stops at the first holding it; the
    answer is that of Whoosh's phrase matcher over the whole index, its documents then looked for among them."""
    index, titles = news
    rng = random.Random(7)
    with Searcher(index) as found:
        executor = found.backend.executor
        every = executor.every_document().ids
        seen = {True: 0, False: 0}
        for title in rng.sample(titles, 60):
            words = fold(title).split()[:3]
            if len(words) < 2:
                continue
            for field in (f.BODY, f.TITLE):
                phrase = cq.Phrase(field, tuple(words[:2]), slop=1 + rng.randrange(2))
                # Whoosh's matcher over the whole index (run's phrase), on an executor holding nothing yet.
                holding = Executor(found.backend.searcher).run(phrase).ids
                for candidates in (every, np.sort(rng.sample(every.tolist(), len(every) // 7)), holding[:1], every[:0]):
                    whole = bool(np.isin(holding, candidates, assume_unique=True).any())
                    fresh = Executor(found.backend.searcher)
                    assert fresh.holds_any(phrase, candidates) == whole, (title, field, len(candidates))
                    assert fresh.holds_any(cq.Or((cq.Phrase(field, ("zzzz", "qqqq")), phrase)), candidates) == whole
                    seen[whole] += 1
                    both = cq.And((cq.Term(field, words[0]), cq.Term(field, words[-1])))
                    either = Executor(found.backend.searcher).run(both).ids
                    assert fresh.holds_any(both, candidates) == bool(np.isin(either, candidates).any())
        assert seen[True] > 50 and seen[False] > 50


def test_a_phrase_over_the_whole_index_is_whoosh_s_phrase_matcher(news):
    """A phrase run whole (a quoted query) reads the articles holding its words, then their positions: the
    documents and scores of Whoosh's own phrase matcher, which the executor runs with pruning off."""
    index, titles = news
    rng = random.Random(11)
    with Searcher(index) as found:
        whoosh_searcher, matched = found.backend.searcher, 0
        for title in rng.sample(titles, 40):
            words = tuple(fold(title).split()[:3])
            asked = [(f.BODY, words[:2], 1), (f.TITLE, words, 1), (f.BODY, words[:2], 3), (f.BODY, words[1::-1], 1)]
            for field, phrase_words, slop in [*asked, (f.BODY, (words[0], words[0]), 1)]:
                phrase = cq.Phrase(field, phrase_words, slop=slop, boost=1.5)
                ours = Executor(whoosh_searcher).run(phrase)
                theirs = Executor(whoosh_searcher, prune=False).run(phrase)
                whooshs = whoosh_matches(whoosh_searcher, phrase)
                assert ours.ids.tolist() == theirs.ids.tolist() == sorted(whooshs), (field, phrase_words, slop)
                assert np.allclose(ours.scores, theirs.scores, rtol=1e-12, atol=0)
                assert np.allclose(ours.scores, [1.5 * whooshs[doc] for doc in ours.ids.tolist()], rtol=1e-12, atol=0)
                matched += len(ours) > 0
        assert matched > 60


def whoosh_matches(searcher, phrase: cq.Phrase) -> dict[int, float]:  # noqa: ANN001 - Whoosh's searcher
    ids: list[int] = []
    scores: list[float] = []
    query = wq.Phrase(phrase.field, list(phrase.words), slop=phrase.slop)
    for sub, offset in searcher.subsearchers or [(searcher, 0)]:
        drain(query.matcher(sub, sub.context()), ids, scores, offset)
    return dict(zip(ids, scores, strict=True))


def test_a_phrase_with_no_spelling_asked_is_placed_by_where_it_begins_as_its_stored_text_says(news):
    """A tier's phrase of words typed bare, none read surely (no spelling asked), is placed from where the folded
    phrase begins in each article, without reading its stored text: the same articles as reading it."""
    index, titles = news
    rng = random.Random(5)
    with Searcher(index) as found:
        whoosh_searcher, placed = found.backend.searcher, 0
        every = Executor(whoosh_searcher).every_document().ids
        for title in rng.sample(titles, 50):
            words = tuple(fold(title).split()[:2])
            for field, exact, start in ((f.TITLE, f.TITLE_EXACT, True), (f.TITLE, f.TITLE_EXACT, False),
                                        (f.BODY, f.BODY_EXACT, False)):  # fmt: skip
                spelt = cq.SpeltPhrase(field, words, spelt=(None, None), exact_field=exact, start=start)
                executor = Executor(whoosh_searcher)
                ours = executor.tiers(Matches(every, np.arange(len(every), 0, -1.0)), ((spelt,),))[0]
                folded = Executor(whoosh_searcher).run(cq.Phrase(field, words)).ids.tolist()
                stored = {doc for doc in folded if spelt.written_in(whoosh_searcher.stored_fields(doc).get(field, ""))}
                # Tiers are placed among the best matches on their scores (here the first articles).
                among = set(every[: execute.TIER_DEPTH].tolist())
                assert set(every[ours > 0].tolist()) == stored & among, (title, field, start)
                placed += bool(stored & among)
        assert placed > 20
