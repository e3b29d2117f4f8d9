"""Query syntax: every form parses as written, and bad syntax degrades instead of failing."""

from __future__ import annotations

import pytest

from searchkit.errors import QueryError
from searchkit.search.parse import (
    MAX_DEPTH,
    All,
    Any,
    Field,
    Group,
    Not,
    Phrase,
    Term,
    parse,
    positive_terms,
    prefix_count,
    prefixes,
    term_count,
    word_runs,
)


def words(*texts: str) -> tuple[Term, ...]:
    return tuple(Term(t) for t in texts)


CHI_THI = words("chỉ", "thị")
AN_KHE = Phrase(("an", "khê"))

# Each form of the query language (every one that `searchkit query --help` lists, first) and the tree it means.
PARSED = [
    # Words side by side, AND, OR.
    ("nêu gương", Group(words("nêu", "gương"))),
    ("Đảng AND viên", All(words("Đảng", "viên"))),
    ("hòa OR hoà", Any(words("hòa", "hoà"))),
    ("a OR b c", Any((Term("a"), Group(words("b", "c"))))),
    ("a AND b OR c", Any((All(words("a", "b")), Term("c")))),
    # Exclusions: "-" directly before a word, a phrase, a group or a field, and NOT.
    ("học -tập", Group((Term("học"), Not(Term("tập"))))),
    ("học NOT tập", Group((Term("học"), Not(Term("tập"))))),
    ('chỉ thị -"an khê"', Group((*CHI_THI, Not(AN_KHE)))),
    ('chỉ thị NOT "an khê"', Group((*CHI_THI, Not(AN_KHE)))),
    ("chỉ thị -(khê OR lục)", Group((*CHI_THI, Not(Any(words("khê", "lục")))))),
    ("chỉ thị NOT (khê OR lục)", Group((*CHI_THI, Not(Any(words("khê", "lục")))))),
    ("chỉ thị -title:khê", Group((*CHI_THI, Not(Field("title", Term("khê")))))),
    ('chỉ thị -title:"an khê"', Group((*CHI_THI, Not(Field("title", AN_KHE))))),
    # title:-x leaves out the articles with x in the title, as -title:x does.
    ("title:-an chỉ", Group((Not(Field("title", Term("an"))), Term("chỉ")))),
    ('title:-"an khê" chỉ', Group((Not(Field("title", AN_KHE)), Term("chỉ")))),
    ("chỉ thị AND -khê", All((*CHI_THI, Not(Term("khê"))))),
    ("chỉ AND NOT khê", All((Term("chỉ"), Not(Term("khê"))))),
    ("chỉ -học*", Group((Term("chỉ"), Not(Term("học", prefix=True))))),
    ("hòa OR -bình", Any((Term("hòa"), Not(Term("bình"))))),
    # Two negations cancel out.
    ("chỉ --khê", Group(words("chỉ", "khê"))),
    ("chỉ NOT -khê", Group(words("chỉ", "khê"))),
    ("chỉ -(-khê)", Group(words("chỉ", "khê"))),
    ("-title:-an chỉ", Group((Field("title", Term("an")), Term("chỉ")))),
    # A dash set apart by spaces is punctuation, and inside a word it joins the pieces.
    ("chính trị - xã hội", Group(words("chính", "trị", "xã", "hội"))),
    ("05-CT/TW", Phrase(("05", "CT", "TW"))),
    ("TP.HCM", Phrase(("TP", "HCM"))),
    # Phrases and proximity.
    ('"học tập và làm theo"', Phrase(("học", "tập", "và", "làm", "theo"))),
    ('"nêu gương"~3', Phrase(("nêu", "gương"), 3)),
    ('"gương"', Term("gương")),
    # Fields.
    ('title:"Chỉ thị"', Field("title", Phrase(("Chỉ", "thị")))),
    ("title:Đông", Field("title", Term("Đông"))),
    ("Title:Đông", Field("title", Term("Đông"))),
    ("title:(hòa OR bình)", Field("title", Any(words("hòa", "bình")))),
    ("title:(hòa -bình)", Field("title", Group((Term("hòa"), Not(Term("bình")))))),
    ("title: gương", Field("title", Term("gương"))),
    # A name before ":" that is no field is a word.
    ("http:gương", Group(words("http", "gương"))),
    # Parentheses and prefixes.
    ("(hòa OR bình) Đông", Group((Any(words("hòa", "bình")), Term("Đông")))),
    ("học*", Term("học", prefix=True)),
    ("học* Đảng", Group((Term("học", prefix=True), Term("Đảng")))),
    # Forgiving: unbalanced quotes and parentheses, stray or dangling operators.
    ('"nêu gương', Phrase(("nêu", "gương"))),
    ("(nêu gương", Group(words("nêu", "gương"))),
    ("nêu) gương", Group(words("nêu", "gương"))),
    ("nêu) (gương", Group(words("nêu", "gương"))),
    ("((nêu)) gương", Group(words("nêu", "gương"))),
    ("nêu OR", Term("nêu")),
    ("OR nêu", Term("nêu")),
    ("nêu AND", Term("nêu")),
    ("nêu NOT", Term("nêu")),
    ("nêu -", Term("nêu")),
    ("nêu -(", Term("nêu")),
    ("nêu title:", Term("nêu")),
    ("title:title:nêu", Field("title", Term("nêu"))),
    # Nothing but operators or an empty field: the words themselves are searched.
    ("title:", Term("title")),
    ("AND", Term("AND")),
    ("NOT", Term("NOT")),
    ("OR OR", Group(words("OR", "OR"))),
    # Nesting up to the limit.
    ("(" * MAX_DEPTH + "kinh" + ")" * MAX_DEPTH, Term("kinh")),
    ("-(" * (MAX_DEPTH // 2) + "kinh tế", Group(words("kinh", "tế"))),
]


@pytest.mark.parametrize(("text", "tree"), PARSED, ids=[text[:40] for text, _ in PARSED])
def test_query_parses_as_written(text: str, tree):
    assert parse(text) == tree


REFUSED = [
    ("", "query_empty"),
    ("   ", "query_empty"),
    ('"', "query_no_word"),
    ("(", "query_no_word"),
    ("-", "query_no_word"),
    ("*", "query_no_word"),
    ("()", "query_no_word"),
    (")(", "query_no_word"),
    ("-Đảng", "query_only_excludes"),
    ("NOT Đảng", "query_only_excludes"),
    ('-"an khê"', "query_only_excludes"),
    ("-(khê OR lục)", "query_only_excludes"),
    ("-title:khê", "query_only_excludes"),
    ('-title:"an khê"', "query_only_excludes"),
    ("title:-khê", "query_only_excludes"),
    ("-khê -lục", "query_only_excludes"),
    ("NOT khê AND -lục", "query_only_excludes"),
    ("gương " * 1000, "query_too_long"),
    ("(" * (MAX_DEPTH + 1) + "kinh", "query_too_deep"),
    ("(" * 245 + "kinh" + ")" * 245, "query_too_deep"),
    ("-(" * (MAX_DEPTH // 2) + "-kinh tế", "query_too_deep"),
    ("title:(" * (MAX_DEPTH // 2 + 1) + "kinh", "query_too_deep"),
]


@pytest.mark.parametrize(("text", "code"), REFUSED, ids=[text[:40] for text, _ in REFUSED])
def test_query_is_refused_with_a_one_line_error(text: str, code: str):
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert caught.value.code == code
    assert str(caught.value) and "\n" not in str(caught.value)


def test_only_excluding_query_says_so():
    with pytest.raises(QueryError, match="only excludes"):
        parse('-"an khê"')


def test_too_deep_query_names_its_limit():
    with pytest.raises(QueryError) as caught:
        parse("(" * 245 + "kinh" + ")" * 245)
    assert caught.value.details == {"limit": MAX_DEPTH}
    assert str(MAX_DEPTH) in str(caught.value)


def test_positive_terms_leave_out_excluded_words():
    assert positive_terms(parse('"nêu gương" -Đảng title:Đông')) == {"nêu", "gương", "Đông"}
    assert positive_terms(parse('chỉ -"an khê" -title:khê title:-lục')) == {"chỉ"}


def test_prefixes_are_those_looked_for():
    tree = parse("học* -hỏi* title:Đông*")
    assert prefixes(tree) == {"học", "Đông"}
    # Every prefix costs its expansion, excluded or not.
    assert prefix_count(tree) == 3


def test_term_count_counts_every_syllable_searched_or_excluded():
    assert term_count(parse('chỉ thị -"an khê" title:(khê OR lục)')) == 6


def test_word_runs_leave_out_operators_prefixes_and_field_names():
    runs = word_runs('nêu gương -Đảng title:Đông AND học* "tư tưởng"')
    assert [[t.text for t in run] for run in runs] == [["nêu", "gương"], ["Đảng"], ["Đông"], ["tư", "tưởng"]]
    text = 'nêu gương -Đảng title:Đông AND học* "tư tưởng"'
    assert all(text[t.start : t.end] == t.text for run in runs for t in run)


@pytest.mark.parametrize("text", ['"nêu gương"~-5', '"nêu gương"~3.5', '"nêu gương"~x', '"nêu gương"~5a', '("a b"~-1)'])
def test_a_phrase_distance_that_is_no_whole_number_is_refused_in_one_line(text: str):
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert caught.value.code == "query_phrase_distance"
    assert '"nêu gương"~3' in str(caught.value) and "\n" not in str(caught.value)
    assert f"not \"{caught.value.details['value']}\"" in str(caught.value)


def test_a_bare_tilde_after_a_phrase_is_the_exact_phrase():
    assert parse('"nêu gương"~') == Phrase(("nêu", "gương"))
    assert parse('"nêu gương"~ dang') == Group((Phrase(("nêu", "gương")), Term("dang")))
    assert parse('("nêu gương"~2)') == Phrase(("nêu", "gương"), 2)
