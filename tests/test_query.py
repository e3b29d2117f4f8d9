"""Query syntax: every form parses, and bad syntax degrades instead of failing."""

from __future__ import annotations

import pytest

from searchkit.errors import QueryError
from searchkit.query import All, Any, Field, Group, Not, Phrase, Term, parse, positive_terms, prefixes


def test_words_side_by_side_form_a_group():
    assert parse("nêu gương") == Group((Term("nêu"), Term("gương")))


def test_or_between_words():
    assert parse("hòa OR hoà") == Any((Term("hòa"), Term("hoà")))


def test_explicit_and():
    assert parse("Đảng AND viên") == All((Term("Đảng"), Term("viên")))


def test_minus_and_not_exclude():
    assert parse("học -tập") == Group((Term("học"), Not(Term("tập"))))
    assert parse("học NOT tập") == Group((Term("học"), Not(Term("tập"))))


def test_quoted_phrase_and_proximity():
    assert parse('"học tập và làm theo"') == Phrase(("học", "tập", "và", "làm", "theo"))
    assert parse('"nêu gương"~3') == Phrase(("nêu", "gương"), 3)


def test_title_field():
    assert parse('title:"Chỉ thị"') == Field("title", Phrase(("Chỉ", "thị")))
    assert parse("title:Đông") == Field("title", Term("Đông"))


def test_parentheses_group_clauses():
    assert parse("(hòa OR bình) Đông") == Group((Any((Term("hòa"), Term("bình"))), Term("Đông")))


def test_trailing_star_is_a_prefix():
    tree = parse("học*")
    assert tree == Term("học", prefix=True)
    assert prefixes(tree) == {"học"}


def test_punctuated_word_is_a_phrase_of_its_pieces():
    assert parse("05-CT/TW") == Phrase(("05", "CT", "TW"))


def test_unbalanced_quote_runs_to_the_end():
    assert parse('"nêu gương') == Phrase(("nêu", "gương"))


def test_missing_parenthesis_is_closed():
    assert parse("(nêu gương") == Group((Term("nêu"), Term("gương")))


def test_stray_closing_parenthesis_is_ignored():
    assert parse("nêu) gương") == Group((Term("nêu"), Term("gương")))


def test_field_applies_to_the_next_clause():
    assert parse("title: gương") == Field("title", Term("gương"))


def test_field_with_nothing_after_it_is_searched_as_a_word():
    assert parse("title:") == Term("title")


def test_lone_operator_is_searched_as_a_word():
    assert parse("AND") == Term("AND")


def test_positive_terms_leave_out_excluded_words():
    assert positive_terms(parse('"nêu gương" -Đảng title:Đông')) == {"nêu", "gương", "Đông"}


@pytest.mark.parametrize("text", ["", "   ", '"', "(", "-", "*", "()", ")("])
def test_query_without_words_is_an_error(text: str):
    with pytest.raises(QueryError):
        parse(text)


def test_query_that_only_excludes_is_an_error():
    with pytest.raises(QueryError, match="excludes"):
        parse("-Đảng")


def test_overlong_query_is_an_error():
    with pytest.raises(QueryError, match="too long"):
        parse("gương " * 1000)
