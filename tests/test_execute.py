"""The array executor on the compiled tree: Whoosh's own matches and BM25F scores, over segments, within a deadline."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as wq

from searchkit.build.index import build
from searchkit.engines import compiled as cq
from searchkit.engines.budget import Deadline
from searchkit.engines.compiled import MAX_EXPANDED_TERMS, MAX_PREFIX_TERMS, prefix_terms
from searchkit.engines.whoosh import execute
from searchkit.engines.whoosh.execute import Executor
from searchkit.engines.whoosh.postings import drain
from searchkit.errors import QueryError
from searchkit.search.searcher import Searcher

TERMS = [
    ("body", "nguoi"),
    ("body", "guong"),
    ("body_exact", "gương"),
    ("body_exact", "đảng"),
    ("title", "chi"),
    ("words", "dang_vien"),
    ("body", "khanh"),
    ("body", "trung"),
    ("body", "khong-co-tu-nay"),
]

DA_NANG = "Đà Nẵng khánh thành cầu mới\n\nNgười dân Đà Nẵng đến dự lễ khánh thành cây cầu mới bắc qua sông Hàn.\n"
HUE = "Huế trùng tu Đại Nội\n\nNgười dân và du khách đến xem Đại Nội sau đợt trùng tu; người đứng đầu tỉnh dự lễ.\n"


def whoosh_matches(searcher, query: wq.Query) -> dict[int, float]:
    ids: list[int] = []
    scores: list[float] = []
    for sub, offset in searcher.subsearchers or [(searcher, 0)]:
        drain(query.matcher(sub, sub.context()), ids, scores, offset)
    return dict(zip(ids, scores, strict=True))


def assert_same_as_whoosh(index_dir: Path) -> None:
    with Searcher(index_dir) as searcher:
        whoosh_searcher = searcher.backend.searcher
        executor = Executor(whoosh_searcher)
        for fieldname, text in TERMS:
            ours = executor.run(cq.Term(fieldname, text))
            theirs = whoosh_matches(whoosh_searcher, wq.Term(fieldname, text))
            assert ours.ids.tolist() == sorted(theirs), (fieldname, text)
            assert np.allclose(ours.scores, [theirs[d] for d in sorted(theirs)]), (fieldname, text)


def test_term_scores_are_whooshs_bm25f(seeds_index: Path):
    assert_same_as_whoosh(seeds_index)


def test_several_segments_and_deleted_articles(seeds_dir: Path, seeds_index: Path, tmp_path: Path):
    seeds = Path(shutil.copytree(seeds_dir, tmp_path / "seeds"))
    index_dir = Path(shutil.copytree(seeds_index, tmp_path / "index"))
    (seeds / "da-nang.txt").write_text(DA_NANG, encoding="utf-8")
    build(seeds, index_dir, procs=1)
    (seeds / "hue.txt").write_text(HUE, encoding="utf-8")
    (seeds / "da-nang.txt").unlink()
    build(seeds, index_dir, procs=1)
    with Searcher(index_dir) as searcher:
        whoosh_searcher = searcher.backend.searcher
        assert whoosh_searcher.reader().has_deletions() or len(whoosh_searcher.subsearchers or []) > 1
        # The removed article is gone; the new one is found.
        assert [hit.id for hit in searcher.search('"khánh thành cầu mới"').hits] == []
        assert [hit.id for hit in searcher.search('"trùng tu Đại Nội"').hits] == ["hue.txt"]
        # An intersection read rarest first, among the other segments' numbers too, as when reading it all.
        matched = 0
        for words in (("nguoi", "dan"), ("dai", "noi", "nguoi"), ("khanh", "cau"), ("nguoi", "dung", "dau")):
            query = cq.And(tuple(cq.Term("body", word) for word in words))
            runs = [Executor(whoosh_searcher, prune=prune).run(query) for prune in (True, False)]
            assert runs[0].ids.tolist() == runs[1].ids.tolist() and runs[0].scores.tolist() == runs[1].scores.tolist()
            phrase = cq.Phrase("body", words)
            every = Executor(whoosh_searcher).every_document().ids  # the live articles
            found = [Executor(whoosh_searcher, prune=prune)._phrase_within(phrase, every) for prune in (True, False)]
            assert found[0].ids.tolist() == found[1].ids.tolist()
            assert found[0].scores.tolist() == found[1].scores.tolist()
            assert set(found[0].ids.tolist()) <= set(runs[0].ids.tolist())
            matched += len(runs[0]) > 0 and len(found[0]) > 0
        assert matched >= 2
    assert_same_as_whoosh(index_dir)


@pytest.mark.parametrize(
    "words, slop",
    [(["nguoi", "dung", "dau"], 1), (["neu", "guong"], 1), (["can", "bo"], 3), (["guong", "neu"], 1)],
)
def test_phrases_match_where_whooshs_do(seeds_index: Path, words: list[str], slop: int):
    with Searcher(seeds_index) as searcher:
        executor = Executor(searcher.backend.searcher)
        everything = np.arange(searcher.backend.searcher.doc_count_all(), dtype=np.int64)
        ours = executor._phrase_within(cq.Phrase("body", tuple(words), slop=slop), everything)
        theirs = whoosh_matches(searcher.backend.searcher, wq.Phrase("body", words, slop=slop))
        assert ours.ids.tolist() == sorted(theirs)


def test_a_phrase_asked_again_is_checked_only_in_the_documents_not_checked_before(news_index: Path):
    with Searcher(news_index) as searcher:
        whoosh_searcher = searcher.backend.searcher
        everything = np.arange(whoosh_searcher.doc_count_all(), dtype=np.int64)
        phrase = cq.Phrase("body", ("viet", "nam"), boost=1.5)
        remembering, checked = Executor(whoosh_searcher), []
        unremembered = remembering._phrase_within
        remembering._phrase_within = lambda query, docs, starts=None: checked.append(len(docs)) or unremembered(
            query, docs, starts
        )
        half = everything[::2]
        first, _ = remembering._remembered(phrase, half)
        whole, starts = remembering._remembered(phrase, everything)
        again, _ = remembering._remembered(phrase, half)
        fresh = Executor(whoosh_searcher)._phrase_within(phrase, everything)
        assert checked == [len(half), len(everything) - len(half)]
        assert whole.ids.tolist() == fresh.ids.tolist() and np.allclose(whole.scores, fresh.scores)
        assert again.ids.tolist() == first.ids.tolist() == [d for d in fresh.ids.tolist() if d % 2 == 0]
        assert len(fresh) >= 2 and set(starts) == set(fresh.ids.tolist())


def test_operators_match_the_same_articles(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        executor = Executor(searcher.backend.searcher)
        # Each compiled node beside the Whoosh query meaning the same, run by Whoosh's own matchers.
        pairs = [
            (
                cq.And((cq.Term("body", "neu"), cq.Term("body", "guong"))),
                wq.And([wq.Term("body", "neu"), wq.Term("body", "guong")]),
            ),
            (
                cq.Or((cq.Term("body", "khanh"), cq.Term("body", "phuoc"))),
                wq.Or([wq.Term("body", "khanh"), wq.Term("body", "phuoc")]),
            ),
            (
                cq.AndNot(cq.Term("body", "chi"), cq.Term("body", "phuoc")),
                wq.AndNot(wq.Term("body", "chi"), wq.Term("body", "phuoc")),
            ),
            (
                cq.AndMaybe(cq.Term("body", "chi"), cq.Term("title", "chi")),
                wq.AndMaybe(wq.Term("body", "chi"), wq.Term("title", "chi")),
            ),
            (cq.Prefix("body", "guon"), wq.Prefix("body", "guon")),
            (cq.Not(cq.Term("body", "phuoc")), wq.Not(wq.Term("body", "phuoc"))),
        ]
        for ours_query, theirs_query in pairs:
            ours = executor.run(ours_query)
            theirs = {hit.docnum for hit in searcher.backend.searcher.search(theirs_query, limit=None)}
            assert set(ours.ids.tolist()) == theirs, ours_query
            assert len(ours) > 0, ours_query


def test_a_run_past_its_deadline_stops_between_leaves(seeds_index: Path):
    # A clock that moves one second each time it is read: the run may look at it three times.
    clock = itertools.count()
    words = ["chi", "thi", "neu", "guong", "dong"]
    query = cq.Or(tuple(cq.Term("body", word) for word in words))
    with Searcher(seeds_index) as searcher:
        executor = Executor(searcher.backend.searcher)
        with pytest.raises(QueryError) as caught:
            executor.run(query, deadline=Deadline.after(3, clock=lambda: next(clock)))
        assert caught.value.code == "query_timeout"
        assert caught.value.details == {"limit": 3}
        # The union and two of its terms were read; the third was not started.
        assert sorted(key[2] for key in executor.cache.keys() if key[0] == "term") == ["chi", "thi"]
        # Without a deadline the same query runs to the end.
        assert len(executor.run(query)) > 0


def test_each_word_of_a_prefix_is_a_step_of_the_run(seeds_index: Path):
    clock = itertools.count()
    with Searcher(seeds_index) as searcher:
        executor = Executor(searcher.backend.searcher)
        expanded = list(searcher.backend.searcher.reader().expand_prefix("body", "c"))
        assert len(expanded) > 5
        with pytest.raises(QueryError):
            executor.run(cq.Prefix("body", "c"), deadline=Deadline.after(4, clock=lambda: next(clock)))
        assert len([key for key in executor.cache.keys() if key[0] == "term"]) == 3


def test_a_query_shares_its_expanded_words_between_its_prefixes(seeds_index: Path):
    assert prefix_terms(1) == MAX_PREFIX_TERMS
    assert prefix_terms(8) * 8 <= MAX_EXPANDED_TERMS
    with Searcher(seeds_index) as searcher:
        executor = searcher.backend.executor
        reader = searcher.backend.searcher.reader()
        words = sorted(reader.expand_prefix("body", "d"), key=lambda t: -reader.doc_frequency("body", t))
        assert len(words) > prefix_terms(8)

        def union(texts) -> execute.Matches:
            return executor.run(cq.Or(tuple(cq.Term("body", t.decode()) for t in texts)))

        alone = executor.run(cq.Prefix("body", "d"))
        expected = union(words[:MAX_PREFIX_TERMS])
        assert list(alone.ids) == list(expected.ids) and np.allclose(alone.scores, expected.scores)
        # Beside seven other prefixes (here matching nothing), "d*" stands for fewer words.
        others = [cq.Prefix("body", p) for p in ("zqa", "zqb", "zqc", "zqd", "zqe", "zqf", "zqg")]
        shared = executor.run(cq.Or((cq.Prefix("body", "d"), *others)))
        expected = union(words[: prefix_terms(8)])
        assert list(shared.ids) == list(expected.ids) and np.allclose(shared.scores, expected.scores)
        assert not np.allclose(shared.scores, alone.scores)
