"""The search page's address: what it holds, and the addresses one change away."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from searchkit.errors import QueryError
from searchkit.search.filters import Filters
from searchkit.webapp.address import SearchAddress

ADDRESS = SearchAddress(text="việt nam", since="1/5/2024", sources=("Tuổi Trẻ",), tags=("kinh tế",), sort="newest")


def test_the_query_string_is_read_with_repeated_sources_and_tags_and_blanks_dropped():
    args = MultiDict([("q", "việt nam"), ("source", "Tuổi Trẻ"), ("source", " "), ("tag", " kinh tế "),
                      ("since", " 1/5/2024 "), ("until", ""), ("sort", "newest")])
    assert SearchAddress.from_args(args) == ADDRESS
    assert SearchAddress.from_args(MultiDict()) == SearchAddress()


def test_params_leave_out_what_is_empty_and_the_first_page():
    assert ADDRESS.params() == {
        "q": "việt nam", "source": ["Tuổi Trẻ"], "tag": ["kinh tế"], "since": "1/5/2024", "sort": "newest"
    }
    assert SearchAddress(tags=("a",)).params(page=3) == {"tag": ["a"], "page": "3"}


def test_adding_and_removing_match_any_spelling():
    assert ADDRESS.adding("source", "tuoi tre") == ADDRESS
    assert ADDRESS.adding("source", "VnExpress").sources == ("Tuổi Trẻ", "VnExpress")
    assert ADDRESS.removing("source", "TUOI TRE").sources == ()
    assert ADDRESS.removing("tag", "kinh te").tags == () and ADDRESS.removing("tag", "kinh te").sources == ("Tuổi Trẻ",)
    assert ADDRESS.has("tag", "Kinh Tế") and not ADDRESS.has("source", "kinh tế")


def test_a_year_is_a_date_range():
    in_2023 = ADDRESS.in_year(2023)
    assert (in_2023.since, in_2023.until) == ("2023-01-01", "2023-12-31")
    assert in_2023.is_year(2023) and not ADDRESS.is_year(2024)


def test_each_chip_drops_its_own_filter():
    assert [(chip.kind, chip.value, chip.without.params()) for chip in ADDRESS.chips()] == [
        ("source", "Tuổi Trẻ", {"q": "việt nam", "tag": ["kinh tế"], "since": "1/5/2024", "sort": "newest"}),
        ("tag", "kinh tế", {"q": "việt nam", "source": ["Tuổi Trẻ"], "since": "1/5/2024", "sort": "newest"}),
        ("since", "1/5/2024", {"q": "việt nam", "source": ["Tuổi Trẻ"], "tag": ["kinh tế"], "sort": "newest"}),
    ]
    assert ADDRESS.unfiltered().params() == {"q": "việt nam", "sort": "newest"}


def test_hidden_fields_keep_every_other_choice():
    assert ADDRESS.hidden(keep_text=False) == [
        ("source", "Tuổi Trẻ"), ("tag", "kinh tế"), ("since", "1/5/2024"), ("sort", "newest")
    ]
    assert ADDRESS.hidden(keep_text=True)[0] == ("q", "việt nam")


def test_filters_are_read_by_the_library():
    assert ADDRESS.filters() == Filters.parse(since="2024-05-01", sources=["Tuổi Trẻ"], tags=["kinh tế"])
    with pytest.raises(QueryError):
        SearchAddress(until="hôm qua").filters()
