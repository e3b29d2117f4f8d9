"""Telex and VNI keys typed with the input method off: ``neeu guwowng`` is ``nêu gương``."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from test_suggest import FakeLexicon

from searchkit.build.index import build
from searchkit.cli import main
from searchkit.search.keystrokes import converted, readings, telex, to_telex, to_vni, vni
from searchkit.search.restoration import restore_query
from searchkit.search.searcher import Searcher
from searchkit.text.analysis import could_take_accents, has_marks, normalize_syllable, syllables
from searchkit.webapp.app import create_app

NEU_GUONG = "004_a29b889078a98f24.txt"


# --- reading one word ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "syllable"),
    [
        ("neeu", "nêu"),
        ("guwowng", "gương"),
        ("hocj", "học"),
        ("taapj", "tập"),
        ("ddangr", "đảng"),
        ("vieen", "viên"),
        ("nguowif", "người"),  # uow: both vowels take the horn
        ("nhwngx", "những"),  # w before any vowel: ư
        ("quaw", "quă"),  # the u of qu is part of the consonant
        ("hoaf", "hòa"),  # the tone goes where analysis puts it
        ("tieengs", "tiếng"),
        ("tiengse", "tiếng"),  # a mark or a tone may come at the end of the word
        ("owr", "ở"),
        ("ys", "ý"),
        ("DDangr", "Đảng"),
        ("HOCJ", "HỌC"),
    ],
)
def test_telex_keys_read_as_the_syllable_they_type(keys: str, syllable: str):
    assert telex(keys) == syllable


@pytest.mark.parametrize(
    ("keys", "syllable"),
    [
        ("ne6u", "nêu"),
        ("gu7o7ng", "gương"),
        ("hoc5", "học"),
        ("ta6p5", "tập"),
        ("d9ang3", "đảng"),
        ("vie6n", "viên"),
        ("d9a8ng3", "đẳng"),
        ("nguo7i2", "người"),  # the horn on o takes the u before it too
        ("Vie6t Nam", None),  # one word at a time
    ],
)
def test_vni_keys_read_as_the_syllable_they_type(keys: str, syllable: str | None):
    assert vni(keys) == syllable


@pytest.mark.parametrize(
    "word",
    ["iphone", "covid", "vtv6", "u23", "neu", "guong", "Newcastle", "2015", "dd", "hocjj", "g7", "ss"],
)
def test_words_that_type_no_syllable_have_no_reading(word: str):
    assert readings(word) == []


def test_every_accented_syllable_of_the_seeds_reads_back_from_its_keys(seeds_dir: Path):
    seen = {
        s.text
        for path in seeds_dir.iterdir()
        for s in syllables(path.read_text(encoding="utf-8"))
        if has_marks(s.text) and could_take_accents(s.text)
    }
    assert len(seen) > 500
    for syllable in seen:
        assert normalize_syllable(telex(to_telex(syllable)) or "") == normalize_syllable(syllable), to_telex(syllable)
        assert normalize_syllable(vni(to_vni(syllable)) or "") == normalize_syllable(syllable), to_vni(syllable)


def test_accented_text_typed_as_keys_mechanically():
    assert to_telex("Đảng viên nêu gương, học tập.") == "Ddangr vieen neeu guwowng, hocj taapj."
    assert to_vni("Đảng viên nêu gương") == "D9ang3 vie6n ne6u gu7o7ng"
    assert to_telex("iPhone 7 và covid") == "iPhone 7 vaf covid"


# --- deciding from what the index knows ------------------------------------------------------------


class FakeVocabulary:
    """How often an index writes each syllable (exactly) and each word (in any accents), given directly."""

    def __init__(self, spelt: dict[str, int], written: dict[str, int]):
        self._spelt, self._written = spelt, written

    def spelt(self, syllable: str) -> float:
        return self._spelt.get(normalize_syllable(syllable), 0)

    def written(self, word: str) -> float:
        return self._written.get(word.lower(), 0)


def test_a_word_is_read_as_keys_when_the_index_writes_its_syllable_and_not_the_word():
    vocabulary = FakeVocabulary({"học": 40, "tập": 30, "xông": 50, "xoong": 5}, {"xoong": 5})
    assert converted("hocj taapj", vocabulary) == "học tập"
    assert converted("Hocj tap", vocabulary) == "Học tap"
    # The word as typed is written often enough to be meant: a pot, not "xông".
    assert converted("xoong", vocabulary) == "xoong"
    # A syllable the index never writes is no reading.
    assert converted("ddangr", vocabulary) == "ddangr"


def test_english_words_the_index_writes_stay_english():
    # "as" could be Telex for "á"; an index that writes "as" at all keeps it.
    vocabulary = FakeVocabulary({"á": 300, "í": 40}, {"as": 12, "is": 3})
    assert converted("as is", vocabulary) == "as is"


def test_in_a_query_typed_as_keys_a_rarer_english_word_is_read_as_keys_too():
    vocabulary = FakeVocabulary({"học": 40, "tên": 300, "iphone": 0}, {"teen": 5, "iphone": 50})
    assert converted("teen", vocabulary) == "teen"  # alone, it may be meant: 300 < 100 × 5
    assert converted("hocj teen iphone", vocabulary) == "học tên iphone"


def test_in_a_query_typed_as_keys_a_word_without_keys_is_meant_without_marks():
    lexicon = FakeLexicon("Đảng viên. Đang học. Đang làm. Đang đi. Dáng đi.")
    assert restore_query(lexicon, "dang").syllables[0].form == "đang"
    assert restore_query(lexicon, "dang", as_typed=True).syllables[0].form == "dang"
    # Unless the articles make the bare words very unlikely.
    lexicon = FakeLexicon("Đảng viên. " * 200 + "Đang học. Đang làm. Dang dở.")
    assert restore_query(lexicon, "dang vien", as_typed=True).suggestion == "đảng viên"


def test_a_typo_in_a_few_articles_does_not_stop_the_reading():
    vocabulary = FakeVocabulary({"người": 5000}, {"nguowif": 2})
    assert converted("nguowif", vocabulary) == "người"


def test_query_syntax_survives_the_reading():
    vocabulary = FakeVocabulary({"học": 40, "tập": 30, "nêu": 20, "gương": 20}, {})
    typed = 'title:"hocj taapj" OR -neeu hocj* (guwowng)'
    assert converted(typed, vocabulary) == 'title:"học tập" OR -nêu hocj* (gương)'


# --- searching the seeds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("neeu guwowng", "nêu gương"),
        ("ne6u gu7o7ng", "nêu gương"),
        ("hocj taapj", "học tập"),
        ("ddangr vieen", "đảng viên"),
        ("d9ang3 vie6n", "đảng viên"),
        ("Thanhf uyr DDoong Haf", "Thành ủy Đông Hà"),
    ],
)
def test_a_query_typed_as_keys_is_offered_and_ranked_as_the_syllables_it_types(
    seeds_index: Path, typed: str, meant: str
):
    with Searcher(seeds_index) as searcher:
        results, accented = searcher.search(typed), searcher.search(meant)
    assert results.suggestion == meant
    assert results.query == typed
    assert [h.id for h in results.hits] == [h.id for h in accented.hits]
    assert results.total == accented.total > 0
    assert [h.snippet.marked for h in results.hits] == [h.snippet.marked for h in accented.hits]


def test_keys_and_missing_accents_in_one_query(seeds_index: Path):
    with Searcher(seeds_index) as searcher:
        results = searcher.search("hocj tap")
    assert results.suggestion == "học tập"


@pytest.mark.parametrize("typed", ["iphone", "covid", "vtv6", "neu guong", "nêu gương", "Kuechly"])
def test_a_query_that_makes_sense_as_typed_is_never_read_as_keys(seeds_index: Path, typed: str):
    with Searcher(seeds_index) as searcher:
        assert searcher.converted(typed) == typed


def test_words_the_articles_write_are_never_read_as_keys(tmp_path: Path):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    (seeds / "a.txt").write_text(
        "Đánh giá iPhone và xoong nồi\n\nChiếc iphone mới, kênh vtv6 và bộ xoong chống dính. Xông hơi giải cảm.\n",
        encoding="utf-8",
    )
    (seeds / "b.txt").write_text("Học tập\n\nHọc sinh học tập chăm chỉ.\n", encoding="utf-8")
    build(seeds, index_dir, procs=1)
    with Searcher(index_dir) as searcher:
        for typed in ("iphone", "vtv6", "xoong", "covid"):
            results = searcher.search(typed)
            assert searcher.converted(typed) == typed
            assert results.suggestion is None
        assert [h.id for h in searcher.search("xoong").hits] == ["a.txt"]
        assert [h.id for h in searcher.search("hocj sinh").hits] == ["b.txt"]


def test_the_api_and_the_page_offer_the_syllables_typed_as_keys(seeds_index: Path):
    client = create_app(index_dir=seeds_index).test_client()
    data = client.get("/api/search", query_string={"q": "neeu guwowng"}).get_json()
    assert data["query"] == "neeu guwowng"
    assert data["suggestion"] == "nêu gương"
    assert data["results"][0]["path"] == NEU_GUONG
    page = client.get("/", query_string={"q": "ne6u gu7o7ng"}).get_data(as_text=True)
    assert "Có phải bạn muốn tìm:" in page and "<strong>nêu gương</strong>" in page


def test_the_cli_offers_the_syllables_typed_as_keys(seeds_dir: Path, seeds_index: Path):
    result = CliRunner().invoke(main, ["query", "ddangr vieen", "--seeds", str(seeds_dir), "--index", str(seeds_index)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Có phải bạn muốn tìm: đảng viên\n")
