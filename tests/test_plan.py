"""A build's change plan, the same for both engines: what to write and what the report says."""

from __future__ import annotations

from searchkit.build.plan import plan
from searchkit.build.report import BuildReport
from searchkit.corpus.articles import Skipped

# Read from the folder now, and held by an engine (keyed by the id itself, as the embedded index does).
READ = {"cau-moi.txt": "h1", "hue.txt": "h2-new", "dong-ha.txt": "h3"}
HELD = {"hue.txt": "h2-old", "dong-ha.txt": "h3", "an-khe.txt": "h4", "tin.jsonl#7": "h5"}


def planned(read=READ, held=HELD, skipped=(), **options):
    report = BuildReport(skipped=list(skipped))
    options = {"rebuild": False, "prune": True, "empties": False, "key": lambda i: i, "doc_id": lambda k: k, **options}
    return plan(read, held, report, **options), report


def test_an_update_writes_the_changed_and_loses_the_replaced_and_the_gone():
    found, report = planned()
    assert found.changed == ["cau-moi.txt", "hue.txt"]
    assert found.stale == ["hue.txt", "an-khe.txt", "tin.jsonl#7"]
    assert report.summary() == "added 1, updated 1, removed 2, unchanged 1, skipped 0"


def test_an_unreadable_file_keeps_its_articles_and_a_refused_one_does_not():
    found, report = planned(skipped=[Skipped("tin.jsonl", "cannot read"), Skipped("an-khe.txt", "link", refused=True)])
    assert found.stale == ["hue.txt", "an-khe.txt"]
    assert (report.removed, report.unchanged) == (1, 1)


def test_added_files_leave_the_others_alone_and_counted_unchanged():
    found, report = planned(read={"cau-moi.txt": "h1"}, prune=False)
    assert found.changed == ["cau-moi.txt"] and found.stale == []
    assert report.summary() == "added 1, updated 0, removed 0, unchanged 4, skipped 0"


def test_a_rebuild_from_nothing_replaces_everything_and_counts_what_it_drops():
    unreadable = [Skipped("tin.jsonl", "cannot read")]
    found, report = planned(rebuild=True, empties=True, skipped=unreadable)
    assert found.changed == list(READ) and found.stale == []
    # A new generation written from nothing holds only what was read: the unreadable file's article goes too.
    assert report.summary() == "added 3, updated 0, removed 2, unchanged 0, skipped 1"


def test_a_rebuild_in_place_keeps_what_an_unreadable_file_held():
    found, report = planned(rebuild=True, skipped=[Skipped("tin.jsonl", "cannot read")])
    assert found.stale == ["hue.txt", "dong-ha.txt", "an-khe.txt"]
    assert report.summary() == "added 3, updated 0, removed 1, unchanged 0, skipped 1"


def test_articles_gone_by_the_second_reading_are_not_counted_as_written():
    found, report = planned()
    found.count_missing(report, {"cau-moi.txt", "hue.txt"})  # both vanished before they were written
    # The replaced article's old version was removed to make room: removed, not updated.
    assert report.summary() == "added 0, updated 0, removed 3, unchanged 1, skipped 0"


def test_keys_other_than_ids_are_planned_alike():
    found, _ = planned(held={"K:hue.txt": "h2-old"}, key=lambda i: "K:" + i, doc_id=lambda k: k[2:], prune=False)
    assert found.changed == list(READ) and found.stale == ["K:hue.txt"] and found.replaced == {"hue.txt"}
