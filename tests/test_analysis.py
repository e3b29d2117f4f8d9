"""Vietnamese analysis, each step on real sentences."""

from __future__ import annotations

import unicodedata

import pytest
from pristine_seeds import pristine_seeds

from searchkit.engines.whoosh.analyzers import exact_analyzer, folded_analyzer
from searchkit.text.analysis import (
    accent_terms,
    fold,
    fold_syllable,
    has_marks,
    normalize,
    normalize_syllable,
    syllables,
    word_terms,
    words,
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def test_fold_strips_every_mark_and_maps_d_bar():
    assert fold("Đảng viên") == "dang vien"
    assert fold("ĐƯỜNG đi") == "duong di"
    assert fold("nêu gương") == "neu guong"


def test_fold_of_nfd_text_equals_fold_of_nfc_text():
    assert fold(nfd("Thành uỷ Đông Hà")) == fold("Thành uỷ Đông Hà") == "thanh uy dong ha"


@pytest.mark.parametrize(
    ("old", "new"),
    [("hoà", "hòa"), ("toả", "tỏa"), ("uỷ", "ủy"), ("qúy", "quý"), ("khoẻ", "khỏe"), ("thuỷ", "thủy")],
)
def test_old_and_new_tone_placement_normalise_alike(old: str, new: str):
    assert normalize_syllable(old) == normalize_syllable(new)


@pytest.mark.parametrize(
    "syllable",
    ["giường", "quốc", "thuở", "khuyến", "rượu", "ngoài", "già", "gì", "mùa", "hoàn", "tiếng", "Đảng"],
)
def test_normalisation_keeps_correctly_placed_marks(syllable: str):
    assert normalize_syllable(syllable) == syllable.lower()


def test_normalize_keeps_text_and_lower_cases():
    assert normalize("Thành Uỷ Đông Hà, lan toả") == "thành ủy đông hà, lan tỏa"


def test_normalize_leaves_foreign_words_alone():
    assert normalize_syllable("café") == "café"


def test_normalize_of_nfd_input_is_nfc():
    assert normalize(nfd("Thành uỷ")) == "thành ủy"


def test_has_marks_tells_typed_accents():
    assert has_marks("nêu gương")
    assert has_marks("dang Đông")
    assert not has_marks("neu guong")


def test_syllables_carry_offsets_into_the_text():
    text = "Chỉ thị 05-CT/TW, nêu gương."
    tokens = syllables(text)
    assert [t.text for t in tokens] == ["Chỉ", "thị", "05", "CT", "TW", "nêu", "gương"]
    assert all(text[t.start : t.end] == t.text for t in tokens)


def test_whoosh_folded_analyzer_keeps_offsets_for_highlighting():
    text = "Thành uỷ Đông Hà"
    # Whoosh reuses one token object, so read each as it comes.
    stream = folded_analyzer()(text, positions=True, chars=True)
    tokens = [(t.text, text[t.startchar : t.endchar], t.pos) for t in stream]
    assert tokens == [("thanh", "Thành", 0), ("uy", "uỷ", 1), ("dong", "Đông", 2), ("ha", "Hà", 3)]


def test_whoosh_folded_analyzer_keeps_nfd_words_whole():
    # Whoosh's stock tokenizer would split NFD "Đường" into three pieces.
    assert [t.text for t in folded_analyzer()(nfd("Đường phố"))] == ["duong", "pho"]


def test_whoosh_exact_analyzer_unifies_tone_placement():
    assert [t.text for t in exact_analyzer()("Thành uỷ và Thành ủy")] == ["thành", "ủy", "và", "thành", "ủy"]


def test_fold_syllable_is_the_folded_form_of_one_syllable():
    assert fold_syllable("Đức") == "duc"


def test_words_finds_compounds_with_offsets():
    text = "Đảng bộ đẩy mạnh học tập và làm theo tư tưởng Hồ Chí Minh."
    found = words(text)
    assert {w.text for w in found} >= {"học_tập", "Hồ_Chí_Minh", "đẩy_mạnh"}
    for word in found:
        assert text[word.start : word.end].replace(" ", "_") == word.text


def test_words_aligns_across_text_pyvi_rewrites():
    # pyvi splits "TP.HCM" and keeps "11.713" whole; offsets must still point into the original.
    text = "Tại TP.HCM có 11.713 cán bộ, đảng viên học tập nêu gương."
    for word in words(text):
        assert text[word.start : word.end].replace(" ", "_") == word.text
    assert "cán_bộ" in {w.text for w in words(text)}


def test_words_of_nfd_text_point_into_its_nfc_form():
    text = nfd("Thành uỷ Đông Hà")
    nfc_text = unicodedata.normalize("NFC", text)
    for word in words(text):
        assert nfc_text[word.start : word.end].replace(" ", "_") == word.text


# Characters that show nothing, as copy and paste leaves them inside words.
INVISIBLE = {
    "zero-width joiner": "\u200d",
    "zero-width space": "\u200b",
    "zero-width non-joiner": "\u200c",
    "soft hyphen": "\u00ad",
    "byte order mark": "\ufeff",
    "word joiner": "\u2060",
    "left-to-right mark": "\u200e",
}


@pytest.mark.parametrize("name", INVISIBLE)
def test_an_invisible_character_inside_a_syllable_is_left_out_of_its_text_not_its_offsets(name: str):
    mark = INVISIBLE[name]
    text = f"Cán bộ nê{mark}u gư{mark}{mark}ơng sáng"
    found = syllables(text)
    assert [s.text for s in found] == ["Cán", "bộ", "nêu", "gương", "sáng"]
    assert [text[s.start : s.end] for s in found] == ["Cán", "bộ", f"nê{mark}u", f"gư{mark}{mark}ơng", "sáng"]
    tokens = [(t.text, t.startchar, t.endchar) for t in folded_analyzer()(text, chars=True)]
    assert tokens == [("can", 0, 3), ("bo", 4, 6), ("neu", 7, 11), ("guong", 12, 19), ("sang", 20, 24)]
    assert [t.text for t in exact_analyzer()(text)] == ["cán", "bộ", "nêu", "gương", "sáng"]
    assert fold(text) == "can bo neu guong sang"
    assert normalize_syllable(f"Uỷ{mark}") == "ủy"


def test_invisible_characters_between_syllables_keep_them_side_by_side():
    assert accent_terms("Nêu\u200b gương.") == accent_terms("Nêu gương.")
    assert accent_terms("nê\u00adu gư\u200dơng") == ["neu|nêu", "guong|gương", "neu guong|nêu gương"]


def test_fullwidth_letters_and_digits_fold_and_normalise_as_their_nfkc_forms():
    assert fold_syllable("ｎｅｕ") == "neu"
    assert fold_syllable("ＧƯƠＮＧ") == "guong"
    assert normalize_syllable("ｇưｏｎｇ") == normalize_syllable("gưong")
    assert normalize_syllable("Ｕỷ") == "ủy"
    assert fold("Ngày ２２/０５/２０２４") == "ngay 22/05/2024"
    assert [s.text for s in syllables("ｎｅｕ ｇｕｏｎｇ")] == ["ｎｅｕ", "ｇｕｏｎｇ"]  # shown as written


SEEDS = pristine_seeds()


def test_a_long_text_is_segmented_a_piece_at_a_time_with_offsets_into_the_whole(monkeypatch):
    import searchkit.text.analysis
    import searchkit.text.segmentation

    paragraphs = [p for path in sorted(SEEDS.iterdir()) for p in path.read_text(encoding="utf-8").split("\n") if p]
    text = "\n".join(paragraphs * 4)  # about 130,000 characters
    assert len(text) > 2 * searchkit.text.analysis.WORDS_PIECE_CHARS
    segmented: list[int] = []
    tokens = searchkit.text.segmentation.tokens

    def counted(part: str):
        segmented.append(len(part))
        return tokens(part)

    monkeypatch.setattr(searchkit.text.segmentation, "tokens", counted)
    found = words(text)
    # pyvi's tagger never holds more than a piece's features at once.
    assert len(segmented) >= 3 and max(segmented) <= searchkit.text.analysis.WORDS_PIECE_CHARS
    for word in found:
        assert "_".join(text[word.start : word.end].split()) == word.text
    assert word_terms(text) == " ".join(fold(w.text) for w in found)
    # Pieces end after line breaks, far from most words' context: the same words as segmenting it whole.
    monkeypatch.setattr(searchkit.text.analysis, "WORDS_PIECE_CHARS", len(text))
    assert words(text) == found and max(segmented) == len(text)
