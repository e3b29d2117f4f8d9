import codecs
import hashlib
import json
import os
import tracemalloc
import unicodedata
from pathlib import Path

import corpora
import pytest
from pristine_seeds import pristine_seeds

from searchkit.corpus.articles import (
    DEFAULT_MAX_BYTES,
    Article,
    Skipped,
    decode_text,
    read_articles,
    read_file,
    split_title,
)
from searchkit.errors import CorpusError

ROOT = Path(__file__).resolve().parents[1]
SEEDS = pristine_seeds()
XQUAD = corpora.XQUAD / "corpus.jsonl"

HEADLINE = "Thành uỷ Đông Hà sơ kết 3 năm thực hiện Kết luận 01-KL/TW"
BODY = (
    "Cán bộ, đảng viên nêu gương học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh.\n"
    "Đường phố xanh, sạch, đẹp; nhân dân đồng tình, hưởng ứng."
)
ARTICLE = f"{HEADLINE}\n\n{BODY}\n"
VIETNAMESE_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def only(folder: Path, name: str, content: str | bytes, **options) -> Article | Skipped:
    results = list(read_file(write(folder, name, content), folder, **options))
    assert len(results) == 1
    return results[0]


def encode_windows_1258(text: str) -> bytes:
    # Windows-1258 has no precomposed letters for most tones: base letter, then the tone mark.
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
        except UnicodeEncodeError:
            marks = unicodedata.normalize("NFD", char)
            base = "".join(c for c in marks if c not in VIETNAMESE_TONE_MARKS)
            tone = "".join(c for c in marks if c in VIETNAMESE_TONE_MARKS)
            out += unicodedata.normalize("NFC", base).encode("cp1258") + tone.encode("cp1258")
    return bytes(out)


# --- the real seed articles -------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeds() -> dict[str, Article]:
    results = list(read_articles(SEEDS))
    assert all(isinstance(result, Article) for result in results), results
    return {article.id: article for article in results}


def test_seed_ids_are_file_names_in_sorted_order(seeds):
    assert list(seeds) == sorted(path.name for path in SEEDS.glob("*.txt"))
    assert all(article.path == article.id for article in seeds.values())


@pytest.mark.parametrize(
    ("name", "title"),
    [
        (
            "001_4485d4bbea077518.txt",
            "Bình Lục đẩy mạnh học tập, làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
        ),
        (
            "002_9dfebe253e7ee071.txt",
            "Một số kết quả và giải pháp trong triển khai thực hiện Chỉ thị số 05-CT/TW của Bộ "
            "Chính trị ở thị xã Phước Long",
        ),
        (
            "003_b3e0a07a9f4fc9ac.txt",
            "Kết quả nổi bật qua 03 năm thực hiện Kết luận số 01-KL/TW của Bộ Chính trị trên địa "
            "bàn thành phố Đông Hà",
        ),
        (
            "004_a29b889078a98f24.txt",
            "Tạo chuyển biến mới về trách nhiệm nêu gương trong thực hiện Chỉ thị 05",
        ),
    ],
)
def test_seed_headline_is_the_title(seeds, name, title):
    assert seeds[name].title == title
    assert not seeds[name].text.startswith(title)


def test_search_box_label_above_headline_is_dropped(seeds):
    article = seeds["002_9dfebe253e7ee071.txt"]
    assert article.text.startswith("Sau hơn 01 năm triển khai thực hiện Chỉ thị 05-CT/TW")


def test_site_header_above_headline_is_dropped(seeds):
    article = seeds["003_b3e0a07a9f4fc9ac.txt"]
    assert "Chi tiết tin" not in article.title
    assert "Chi tiết tin" not in article.text
    assert article.text.startswith("10:19, Thứ Tư, 22-5-2024")


def test_lead_paragraph_without_headline_gives_short_title_and_stays_in_body(seeds):
    # Seed 000 opens with a lone "." and then the lead paragraph; it has no headline line.
    article = seeds["000_f290433a7163aea1.txt"]
    assert article.title.startswith("Hai năm qua, Đảng bộ thị xã An Khê đã lãnh đạo, chỉ đạo")
    assert article.title.endswith("…")
    assert len(article.title) <= 161
    assert article.text.startswith("(GLO)- Hai năm qua, Đảng bộ thị xã An Khê")


def test_seed_text_is_nfc_and_has_unix_line_ends(seeds):
    for article in seeds.values():
        assert unicodedata.is_normalized("NFC", article.text)
        assert "\r" not in article.text


def test_seed_hash_is_sha256_hex_and_stable(seeds):
    again = {article.id: article.hash for article in read_articles(SEEDS)}
    assert again == {article.id: article.hash for article in seeds.values()}
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in again.values())
    assert len(set(again.values())) == len(again)


# --- titles of plain text ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "junk",
    [
        ".",
        "Search",
        "Tìm kiếm",
        "TÌM KIẾM",
        "•••",
        "10:19, Thứ Tư, 22-5-2024",
        "Trang chủ > Tin tức > Xây dựng Đảng",
        "Trang chủ » Thời sự",
        "Chi tiết tin - Thành ủy Đông Hà",
        "Tin tức - Sự kiện",
        "Banner gửi tỉnh ủy.png",
        "plong.jpg",
        "Đăng nhập",
    ],
)
def test_navigation_line_before_headline_is_skipped(junk):
    assert split_title(f"{junk}\n\n{ARTICLE}") == (HEADLINE, BODY)


def test_plain_headline_is_kept_with_body_after_it():
    assert split_title(ARTICLE) == (HEADLINE, BODY)


def test_headline_opening_with_a_navigation_word_is_still_a_headline():
    title, _ = split_title("Video: Lũ quét tràn qua bản làng ở Lào Cai\n\nNội dung.")
    assert title == "Video: Lũ quét tràn qua bản làng ở Lào Cai"


def test_nfd_navigation_word_is_recognised():
    assert split_title(unicodedata.normalize("NFD", f"Tìm kiếm\n{ARTICLE}"))[0] == (
        unicodedata.normalize("NFD", HEADLINE)
    )


def test_text_of_only_junk_falls_back_to_first_line():
    assert split_title(".\n\nSearch\n") == (".", "Search")


def test_empty_text_has_empty_title():
    assert split_title("") == ("", "")


# --- encodings --------------------------------------------------------------------------------


def test_utf8_bom_is_removed():
    assert decode_text(codecs.BOM_UTF8 + ARTICLE.encode("utf-8")) == ARTICLE


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom_are_decoded(codec):
    bom = {"utf-16-le": codecs.BOM_UTF16_LE, "utf-16-be": codecs.BOM_UTF16_BE}.get(codec, b"")
    assert decode_text(bom + ARTICLE.encode(codec)) == ARTICLE


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised_by_its_nul_bytes(codec):
    assert decode_text(ARTICLE.encode(codec)) == ARTICLE


def test_nfd_text_comes_out_nfc():
    decoded = decode_text(unicodedata.normalize("NFD", ARTICLE).encode("utf-8"))
    assert decoded == ARTICLE
    assert "Đường" in decoded


def test_windows_line_ends_become_newlines():
    assert decode_text(ARTICLE.replace("\n", "\r\n").encode("utf-8")) == ARTICLE


def test_windows_1258_legacy_text_is_decoded():
    assert decode_text(encode_windows_1258(ARTICLE)) == ARTICLE


def test_png_header_is_binary():
    with pytest.raises(ValueError, match="binary file"):
        decode_text(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06")


def test_control_bytes_without_nul_are_binary():
    with pytest.raises(ValueError, match="binary file"):
        decode_text(bytes(range(1, 32)) * 20)


def test_text_that_is_neither_utf8_nor_plausible_legacy_is_undecodable():
    # Stray tone marks after spaces and symbols: Windows-1258 decodes it, but not into text.
    with pytest.raises(ValueError, match="cannot decode text"):
        decode_text(b"\xcc \xec \xde \xd2 \xf2 \xa4\xa7\xb6 " * 10)


# --- files that give no article ---------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"  \n\t\n", codecs.BOM_UTF8, " \n".encode("utf-16")])
def test_empty_file_is_skipped(tmp_path, content):
    assert only(tmp_path, "trong.txt", content) == Skipped("trong.txt", "empty file")


def test_binary_file_with_text_suffix_is_skipped(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
    assert only(tmp_path, "anh.txt", png) == Skipped("anh.txt", "binary file")


def test_oversized_file_is_skipped_with_the_limit(tmp_path):
    result = only(tmp_path, "dai.txt", ARTICLE * 10, max_bytes=100)
    assert result == Skipped("dai.txt", "larger than 100 bytes (limit --max-bytes)")


def test_default_limit_is_named_in_mebibytes(tmp_path, monkeypatch):
    path = write(tmp_path, "lon.txt", ARTICLE)
    real_stat = Path.stat

    class Huge:
        def __init__(self, info):
            self.st_mode, self.st_size = info.st_mode, DEFAULT_MAX_BYTES + 1

    monkeypatch.setattr(Path, "stat", lambda self, **kw: Huge(real_stat(self, **kw)))
    [result] = read_file(path, tmp_path)
    assert result == Skipped("lon.txt", "larger than 4 MiB (limit --max-bytes)")


def test_file_at_the_limit_is_read(tmp_path):
    size = len(ARTICLE.encode("utf-8"))
    assert isinstance(only(tmp_path, "vua.txt", ARTICLE, max_bytes=size), Article)


def test_unsupported_suffix_is_skipped(tmp_path):
    assert only(tmp_path, "bao-cao.pdf", b"%PDF-1.7") == Skipped(
        "bao-cao.pdf", "unsupported file type .pdf"
    )


def test_unreadable_file_is_skipped_with_the_os_reason(tmp_path, monkeypatch):
    path = write(tmp_path, "khoa.txt", ARTICLE)

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    assert list(read_file(path, tmp_path)) == [Skipped("khoa.txt", "Permission denied")]


# --- Markdown ---------------------------------------------------------------------------------


def test_markdown_front_matter_gives_title_and_metadata(tmp_path):
    content = (
        "---\n"
        f'title: "{HEADLINE}"\n'
        "date: 2024-05-22\n"
        "source: 'Thành ủy Đông Hà'\n"
        "url: https://dongha.example/tin/01-kl-tw\n"
        "---\n\n"
        f"{BODY}\n"
    )
    article = only(tmp_path, "dong-ha.md", content)
    assert article == Article(
        id="dong-ha.md",
        path="dong-ha.md",
        title=HEADLINE,
        text=BODY,
        hash=article.hash,
        date="2024-05-22",
        source="Thành ủy Đông Hà",
        url="https://dongha.example/tin/01-kl-tw",
    )


def test_markdown_heading_is_the_title_and_leaves_the_body(tmp_path):
    # The body is plain text now: the emphasis markers of the Markdown source are not words.
    article = only(tmp_path, "nêu-gương.markdown", f"# {HEADLINE}\n\n**Nêu gương** mỗi ngày.\n")
    assert (article.title, article.text) == (HEADLINE, "Nêu gương mỗi ngày.")


def test_markdown_without_heading_uses_first_meaningful_line(tmp_path):
    article = only(tmp_path, "ghi-chu.md", f"Tìm kiếm\n\n{ARTICLE}")
    assert (article.title, article.text) == (HEADLINE, BODY)


def test_markdown_front_matter_without_title_falls_back_to_heading(tmp_path):
    article = only(tmp_path, "tin.md", f"---\ndate: 2024-05-22\n---\n# {HEADLINE}\n{BODY}\n")
    assert (article.title, article.text, article.date) == (HEADLINE, BODY, "2024-05-22")


FESTIVAL_MD = """\
# Festival Huế 2024: **di sản** và [hội nhập](https://festivalhue.example/gioi-thieu)

Festival Huế thu hút _đông đảo_ du khách đến với cố đô.
Lễ khai mạc diễn ra tại ![Ngọ Môn](https://anh.example/ngo-mon.jpg "Ngọ Môn") tối 7-6.

## Chương trình chính

- Lễ tế Nam Giao
- Đêm hoàng cung
  1. Múa cung đình

> Sân khấu ngoài trời ở **Đại Nội**, vé tại `quầy số 2`.

```text
lịch diễn: 19 giờ 30
```

| Địa điểm | Ngày |
|---|---|
| Đại Nội | 7-6 |
| [Kỳ Đài](https://festivalhue.example/ky-dai) | 8-6 |

<div class="ghi-chu"><p>Vé miễn phí cho người dân Huế.</p><script>theoDoi("ve")</script></div>
"""

FESTIVAL_TEXT = (
    "Festival Huế thu hút đông đảo du khách đến với cố đô.\n"
    "Lễ khai mạc diễn ra tại Ngọ Môn tối 7-6.\n"
    "\n"
    "Chương trình chính\n"
    "\n"
    "Lễ tế Nam Giao\n"
    "Đêm hoàng cung\n"
    "Múa cung đình\n"
    "\n"
    "Sân khấu ngoài trời ở Đại Nội, vé tại quầy số 2.\n"
    "\n"
    "lịch diễn: 19 giờ 30\n"
    "\n"
    "Địa điểm | Ngày\n"
    "Đại Nội | 7-6\n"
    "Kỳ Đài | 8-6\n"
    "\n"
    "Vé miễn phí cho người dân Huế."
)


def test_markdown_body_is_the_text_a_reader_sees(tmp_path):
    article = only(tmp_path, "festival.md", FESTIVAL_MD)
    assert article.title == "Festival Huế 2024: di sản và hội nhập"
    assert article.text == FESTIVAL_TEXT


@pytest.mark.parametrize(
    "markup",
    ["https", "example", ".jpg", "**", "_", "](", "](", "`", "#", "<", ">", "- ", "1.", "theoDoi"],
)
def test_markdown_markup_and_link_targets_are_not_searchable_words(tmp_path, markup):
    article = only(tmp_path, "festival.md", FESTIVAL_MD)
    assert markup not in article.title + "\n" + article.text


def test_markdown_heading_title_is_its_plain_text_and_underlined_headings_count(tmp_path):
    article = only(tmp_path, "hue.md", f"Festival *Huế* 2024\n============\n\n{BODY}\n")
    assert (article.title, article.text) == ("Festival Huế 2024", BODY)


def test_markdown_front_matter_title_keeps_the_heading_in_the_body(tmp_path):
    content = f"---\ntitle: {HEADLINE}\n---\n# Kết luận **01-KL/TW**\n\n{BODY}\n"
    article = only(tmp_path, "ket-luan.md", content)
    assert (article.title, article.text) == (HEADLINE, f"Kết luận 01-KL/TW\n\n{BODY}")


def test_markdown_of_plain_prose_keeps_its_text_and_its_hash(tmp_path):
    # Articles written without markup read as before, so an update does not re-index them.
    article = only(tmp_path, "ghi-chu.md", f"Tìm kiếm\n\n{ARTICLE}")
    payload = json.dumps([HEADLINE, BODY, None, None, None], ensure_ascii=False)
    assert (article.title, article.text) == (HEADLINE, BODY)
    assert article.hash == hashlib.sha256(payload.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    "content", ["![](anh/cau-rong.jpg)\n", "---\ndate: 2024-05-22\n---\n\n***\n"]
)
def test_markdown_with_nothing_but_markup_is_skipped(tmp_path, content):
    assert only(tmp_path, "anh.md", content) == Skipped("anh.md", "no text besides markup")


# --- front matter -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tags",
    [
        "tags: [Huế, di sản văn hoá, Huế]",
        "tags:\n  - Huế\n  - di sản   văn hoá\n  - [lồng, nhau]",
        "tags: 'Huế, di sản văn hoá,'",
    ],
)
def test_front_matter_tags_are_a_list_or_comma_separated(tmp_path, tags):
    article = only(tmp_path, "hue.md", f"---\ntitle: Festival Huế\n{tags}\n---\n{BODY}\n")
    assert article.tags == ("Huế", "di sản văn hoá")
    assert (article.title, article.text) == ("Festival Huế", BODY)


def test_tags_change_the_hash_and_an_article_without_tags_keeps_the_old_one(tmp_path):
    plain = only(tmp_path, "hue.md", f"---\ntitle: Festival Huế\n---\n{BODY}\n")
    tagged = only(tmp_path, "hue.md", f"---\ntitle: Festival Huế\ntags: [Huế]\n---\n{BODY}\n")
    payload = json.dumps(["Festival Huế", BODY, None, None, None], ensure_ascii=False)
    assert plain.tags == () and plain.hash == hashlib.sha256(payload.encode("utf-8")).hexdigest()
    assert tagged.tags == ("Huế",) and tagged.hash != plain.hash


def test_front_matter_values_stay_the_strings_they_are_written_as(tmp_path):
    # The date is the one value read for what it means: the day, whatever the time beside it.
    content = f"---\ntitle: Có\ndate: 2024-05-22 19:30\nsource: 2024\nurl: ~\n---\n{BODY}\n"
    article = only(tmp_path, "co.md", content)
    assert (article.title, article.date, article.source, article.url) == (
        "Có",
        "2024-05-22",
        "2024",
        None,
    )


@pytest.mark.parametrize(
    "front",
    [
        'title: "Festival Huế\ndate: [2024-05-22',
        # YAML reads a second ": " as a nested mapping: such a title must be quoted.
        "title: Video: Lũ quét tràn qua bản làng ở Lào Cai\ndate: 2024-05-22",
        "title: Festival Huế\n  date: 2024-05-22\n source: Báo Huế",
        "title: [Festival Huế, 2024]\ndate: {năm: 2024}\ntags: {Huế: 1}",
    ],
)
def test_malformed_front_matter_leaves_the_article_without_metadata(tmp_path, front):
    article = only(tmp_path, "hong.md", f"---\n{front}\n---\n# {HEADLINE}\n\n{BODY}\n")
    assert isinstance(article, Article)
    assert (article.title, article.text) == (HEADLINE, BODY)
    assert (article.date, article.source, article.url, article.tags) == (None, None, None, ())


def test_dashes_around_a_line_that_is_not_yaml_mapping_are_markdown(tmp_path):
    # A thematic break, then a heading underlined with dashes: not front matter.
    article = only(tmp_path, "hue.md", f"---\nLễ hội Huế\n---\n{BODY}\n")
    assert (article.title, article.text) == ("Lễ hội Huế", BODY)


# --- JSON Lines -------------------------------------------------------------------------------


def jsonl(*records: object) -> str:
    return "\n".join(
        r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records
    )


def test_jsonl_bad_lines_are_skipped_and_good_lines_read(tmp_path):
    content = jsonl(
        {"id": "a", "title": HEADLINE, "text": BODY, "date": "2024-05-22", "source": "Đông Hà"},
        '{"id": "b", "title": "hỏng"',
        {"id": "c", "title": "Không có nội dung"},
        {"title": "Không có mã", "text": BODY},
        "",
        {"id": "a", "title": "Trùng mã", "text": BODY},
        ["không", "phải", "đối tượng"],
        {"id": 7, "text": f"Tìm kiếm\n{ARTICLE}"},
    )
    results = list(read_file(write(tmp_path, "sub/tin.jsonl", content), tmp_path))
    articles = [r for r in results if isinstance(r, Article)]
    skipped = [r for r in results if isinstance(r, Skipped)]
    assert [a.id for a in articles] == ["sub/tin.jsonl#a", "sub/tin.jsonl#7"]
    assert (articles[0].title, articles[0].text, articles[0].date) == (HEADLINE, BODY, "2024-05-22")
    assert articles[0].source == "Đông Hà" and articles[0].url is None
    assert (articles[1].title, articles[1].text) == (HEADLINE, BODY)
    assert [s.path for s in skipped] == [f"sub/tin.jsonl#line {n}" for n in (2, 3, 4, 6, 7)]
    assert skipped[0].reason.startswith("JSON error: ")
    assert [s.reason for s in skipped[1:]] == [
        "missing text",
        "missing id",
        "duplicate id a",
        "not a JSON object",
    ]


def test_jsonl_nfd_strings_come_out_nfc(tmp_path):
    record = json.dumps({"id": "x", "title": unicodedata.normalize("NFD", HEADLINE), "text": BODY})
    [article] = read_file(write(tmp_path, "x.jsonl", record), tmp_path)
    assert article.title == HEADLINE


@pytest.mark.skipif(not XQUAD.exists(), reason="shared XQuAD-vi data not present")
def test_xquad_corpus_reads_all_240_paragraphs():
    results = list(read_file(XQUAD, XQUAD.parent))
    assert all(isinstance(r, Article) for r in results)
    assert len(results) == 240
    records = [json.loads(line) for line in XQUAD.read_text(encoding="utf-8").splitlines()]
    assert [a.id for a in results] == [f"corpus.jsonl#{r['id']}" for r in records]
    assert [a.title for a in results] == [r["title"] for r in records]
    assert [a.text for a in results] == [r["text"].strip() for r in records]


def news(key: str, paragraphs: int = 1) -> dict[str, str]:
    return {
        "id": key,
        "title": HEADLINE,
        "text": "\n".join([BODY] * paragraphs),
        "source": "Đông Hà",
    }


def test_jsonl_record_over_the_limit_is_skipped_by_its_line_and_the_others_read(tmp_path):
    content = jsonl(news("a"), news("dai", paragraphs=20), news("b"))
    path = write(tmp_path, "tin.jsonl", content)
    assert path.stat().st_size > 1000  # the file as a whole is over the limit
    results = list(read_file(path, tmp_path, max_bytes=1000))
    assert [r.id for r in results if isinstance(r, Article)] == ["tin.jsonl#a", "tin.jsonl#b"]
    assert results[1] == Skipped("tin.jsonl#line 2", "larger than 1000 bytes (limit --max-bytes)")
    assert [(a.title, a.text) for a in results[::2]] == [(HEADLINE, BODY)] * 2


def test_jsonl_record_at_the_limit_is_read_and_its_line_end_does_not_count(tmp_path):
    line = json.dumps(news("a"), ensure_ascii=False).encode("utf-8")
    path = write(tmp_path, "tin.jsonl", line + b"\r\n" + line.replace(b'"a"', b'"b"') + b"\r\n")
    assert [r.id for r in read_file(path, tmp_path, max_bytes=len(line))] == [
        "tin.jsonl#a",
        "tin.jsonl#b",
    ]
    too_big = Skipped("tin.jsonl#line 1", f"larger than {len(line) - 1} bytes (limit --max-bytes)")
    assert next(read_file(path, tmp_path, max_bytes=len(line) - 1)) == too_big


@pytest.mark.parametrize(
    ("codec", "bom"),
    [
        ("utf-8", codecs.BOM_UTF8),
        ("utf-16-le", codecs.BOM_UTF16_LE),
        ("utf-16-be", codecs.BOM_UTF16_BE),
        ("utf-16-le", b""),
        ("utf-16-be", b""),
        ("utf-32-le", codecs.BOM_UTF32_LE),
    ],
)
def test_jsonl_in_utf16_or_with_a_bom_gives_the_same_articles_and_hashes(tmp_path, codec, bom):
    content = jsonl(news("a"), '{"id": "hong"', news("dai", paragraphs=30), news("b"), "") + "\n"
    expected = list(read_file(write(tmp_path, "utf8.jsonl", content), tmp_path, max_bytes=2000))
    encoded = bom + content.replace("\n", "\r\n").encode(codec)
    results = list(read_file(write(tmp_path, "khac.jsonl", encoded), tmp_path, max_bytes=2000))
    assert [(type(r), r.path.replace("khac", "utf8")) for r in results] == [
        (type(r), r.path) for r in expected
    ]
    assert [r.hash for r in results if isinstance(r, Article)] == [
        r.hash for r in expected if isinstance(r, Article)
    ]
    assert [r.path for r in results if isinstance(r, Skipped)] == [
        "khac.jsonl#line 2",
        "khac.jsonl#line 3",
    ]
    assert results[2].reason == "larger than 2000 bytes (limit --max-bytes)"


def test_jsonl_line_that_cannot_be_decoded_costs_only_itself(tmp_path):
    broken = b'{"id": "x", "title": "H\x81\x8d", "text": "N\x81i dung"}'
    lines = [json.dumps(news(key), ensure_ascii=False).encode("utf-8") for key in "ab"]
    path = write(tmp_path, "tin.jsonl", b"\n".join([lines[0], broken, lines[1]]))
    results = list(read_file(path, tmp_path))
    assert [r.path for r in results] == ["tin.jsonl#a", "tin.jsonl#line 2", "tin.jsonl#b"]
    assert results[1].reason.startswith("cannot decode text")


def test_jsonl_in_windows_1258_is_read(tmp_path):
    content = jsonl(news("a"), news("b"))
    path = write(tmp_path, "tin.jsonl", encode_windows_1258(content))
    results = list(read_file(path, tmp_path))
    assert [(r.id, r.title, r.text, r.source) for r in results] == [
        (f"tin.jsonl#{key}", HEADLINE, BODY, "Đông Hà") for key in "ab"
    ]


def test_jsonl_lines_are_numbered_across_every_kind_of_line_end(tmp_path):
    record = json.dumps(news("a"), ensure_ascii=False)
    content = f"{record}\r\n\rkhông phải JSON\r\n\n[1]\r{record}"
    results = list(read_file(write(tmp_path, "tin.jsonl", content), tmp_path))
    assert [r.path for r in results] == [
        "tin.jsonl#a",
        "tin.jsonl#line 3",
        "tin.jsonl#line 5",
        "tin.jsonl#line 6",
    ]
    assert [r.reason for r in results[1:]] == [
        "JSON error: Expecting value (column 1)",
        "not a JSON object",
        "duplicate id a",
    ]


@pytest.mark.parametrize("content", [b"\n \n\r\n", codecs.BOM_UTF16_LE + " \n".encode("utf-16-le")])
def test_jsonl_of_blank_lines_is_an_empty_file(tmp_path, content):
    assert only(tmp_path, "trong.jsonl", content) == Skipped("trong.jsonl", "empty file")


def test_jsonl_escaped_lone_surrogate_becomes_a_replacement_character(tmp_path):
    # json.loads accepts "\\ud800", but no index or page can write a lone surrogate.
    content = '{"id": "a\\ud800", "title": "Lễ hội Huế", "text": "Festival \\udce9 Huế"}'
    [article] = read_file(write(tmp_path, "tin.jsonl", content), tmp_path)
    assert (article.id, article.text) == ("tin.jsonl#a\ufffd", "Festival \ufffd Huế")


def test_binary_file_named_jsonl_is_skipped_whole(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
    assert only(tmp_path, "anh.jsonl", png) == Skipped("anh.jsonl", "binary file")


def test_jsonl_is_read_one_record_at_a_time(tmp_path):
    content = jsonl(*(news(f"tin-{n}", paragraphs=40) for n in range(400)))
    path = write(tmp_path, "lon.jsonl", content)
    size = path.stat().st_size
    assert size > 3_000_000
    tracemalloc.start()
    try:
        count = sum(isinstance(r, Article) for r in read_file(path, tmp_path, max_bytes=20_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 400
    # Holding the file, or its text, would take at least its size.
    assert peak < size / 8


# --- content hash -----------------------------------------------------------------------------


def test_hash_is_stable_when_nothing_changes(tmp_path):
    first = only(tmp_path, "a.txt", ARTICLE)
    assert only(tmp_path, "a.txt", ARTICLE).hash == first.hash
    # Only the content counts, not the encoding it was saved in.
    assert only(tmp_path, "a.txt", codecs.BOM_UTF16_LE + ARTICLE.encode("utf-16-le")) == first


def test_hash_changes_when_text_changes(tmp_path):
    first = only(tmp_path, "a.txt", ARTICLE)
    assert only(tmp_path, "a.txt", ARTICLE.replace("nêu gương", "nêu gương tốt")).hash != first.hash


def test_hash_changes_when_metadata_changes(tmp_path):
    first = only(tmp_path, "a.md", f"---\ndate: 2024-05-22\n---\n{ARTICLE}")
    second = only(tmp_path, "a.md", f"---\ndate: 2024-05-23\n---\n{ARTICLE}")
    assert (second.title, second.text) == (first.title, first.text)
    assert second.hash != first.hash


# --- dates, sources and tags ------------------------------------------------------------------


@pytest.mark.parametrize("written", ["2024-05-22", "22/05/2024", "22-5-2024", "2024-05-22T07:30:00+07:00"])
def test_front_matter_dates_read_as_iso_days_whichever_way_written(tmp_path, written):
    article = only(tmp_path, "tin.md", f"---\ntitle: {HEADLINE}\ndate: '{written}'\n---\n{BODY}\n")
    assert (article.date, article.warnings) == ("2024-05-22", ())


def test_the_same_day_written_another_way_keeps_the_hash(tmp_path):
    first = only(tmp_path, "tin.md", f"---\ndate: 2024-05-22\n---\n{ARTICLE}")
    second = only(tmp_path, "tin.md", f"---\ndate: 22/05/2024\n---\n{ARTICLE}")
    assert second.hash == first.hash


@pytest.mark.parametrize("written", ["2024-13-45", "hôm qua"])
def test_a_front_matter_date_that_is_no_date_leaves_the_article_without_one_and_warns(tmp_path, written):
    article = only(tmp_path, "tin.md", f"---\ntitle: {HEADLINE}\ndate: {written}\nsource: Báo Huế\n---\n{BODY}\n")
    assert isinstance(article, Article)
    assert (article.title, article.text, article.date, article.source) == (HEADLINE, BODY, None, "Báo Huế")
    assert article.warnings == (f"date {written!r} is not a date (indexed without one)",)


def test_a_plain_text_dateline_gives_the_date_and_stays_in_the_text(tmp_path):
    text = f"Chi tiết tin - Thành ủy Đông Hà\n\n{HEADLINE}\n\n10:19, Thứ Tư, 22-5-2024\n\n{BODY}\n"
    article = only(tmp_path, "tin.txt", text)
    assert (article.title, article.date) == (HEADLINE, "2024-05-22")
    assert article.text.startswith("10:19, Thứ Tư, 22-5-2024")


def test_a_plain_text_article_without_dateline_has_no_date(tmp_path):
    assert only(tmp_path, "tin.txt", ARTICLE).date is None


def test_jsonl_records_give_date_source_url_and_tags(tmp_path):
    content = jsonl(
        {
            "id": "a",
            "title": HEADLINE,
            "text": BODY,
            "date": "22/05/2024",
            "source": "Thành ủy  Đông Hà",
            "url": "https://dongha.example/a",
            "tags": ["Kết luận 01", "đảng viên", "Đảng viên", 2024],
        },
        {"id": "b", "title": HEADLINE, "text": BODY, "tags": "nêu gương, Đông Hà ,, "},
        {"id": "c", "title": HEADLINE, "text": BODY, "date": "hôm qua", "tags": {"không": "phải"}},
    )
    a, b, c = read_file(write(tmp_path, "tin.jsonl", content), tmp_path)
    assert (a.date, a.source, a.url) == ("2024-05-22", "Thành ủy  Đông Hà", "https://dongha.example/a")
    assert a.tags == ("Kết luận 01", "đảng viên", "2024")
    assert b.tags == ("nêu gương", "Đông Hà") and b.date is None and b.warnings == ()
    assert (c.date, c.tags, c.warnings) == (None, (), ("date 'hôm qua' is not a date (indexed without one)",))


# --- the folder -------------------------------------------------------------------------------


def test_subfolder_ids_are_relative_with_forward_slashes(tmp_path):
    write(tmp_path, "b.txt", ARTICLE)
    write(tmp_path, "a/z.md", f"# {HEADLINE}\n{BODY}")
    write(tmp_path, "a/b/c.txt", ARTICLE)
    write(tmp_path, "ghi-chu.docx", b"PK\x03\x04")
    ids = [result.path for result in read_articles(tmp_path)]
    assert ids == ["a/b/c.txt", "a/z.md", "b.txt", "ghi-chu.docx"]


def test_hidden_files_and_folders_are_ignored(tmp_path):
    write(tmp_path, ".git/config.txt", ARTICLE)
    write(tmp_path, ".nhap.txt", ARTICLE)
    write(tmp_path, "bai.txt", ARTICLE)
    assert [result.id for result in read_articles(str(tmp_path))] == ["bai.txt"]


def test_missing_folder_raises_at_once(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        read_articles(tmp_path / "khong-co")


def test_a_file_instead_of_a_folder_is_read_alone(tmp_path):
    write(tmp_path, "khac.txt", ARTICLE)
    corpus = write(tmp_path, "tin.jsonl", '{"id": "a1", "title": "Tin", "text": "Nêu gương"}\n')
    assert [result.id for result in read_articles(corpus)] == ["tin.jsonl#a1"]


def test_neither_file_nor_folder_raises():
    with pytest.raises(CorpusError, match="not a folder"):
        read_articles("/dev/null")


def test_link_to_a_folder_is_not_followed(tmp_path):
    write(tmp_path, "bai.txt", ARTICLE)
    (tmp_path / "vong").symlink_to(tmp_path, target_is_directory=True)
    assert list(read_articles(tmp_path))[1:] == [
        Skipped("vong/", "link to a folder (not followed)")
    ]


# --- odd entries while walking the folder -------------------------------------------------------


def test_symlink_loop_is_skipped_and_the_rest_read(tmp_path):
    write(tmp_path, "bai.txt", ARTICLE)
    (tmp_path / "a.txt").symlink_to("b.txt")
    (tmp_path / "b.txt").symlink_to("a.txt")
    write(tmp_path, "c/tin.md", f"# {HEADLINE}\n\n{BODY}\n")
    (tmp_path / "c" / "vong.jsonl").symlink_to("vong.jsonl")
    results = list(read_articles(tmp_path))
    loop = "symbolic link loop (too many levels of symbolic links)"
    assert results[:2] == [Skipped("a.txt", loop), Skipped("b.txt", loop)]
    assert [r.id for r in results if isinstance(r, Article)] == ["bai.txt", "c/tin.md"]
    assert results[-1] == Skipped("c/vong.jsonl", loop)


def test_link_to_a_missing_file_is_skipped(tmp_path):
    write(tmp_path, "bai.txt", ARTICLE)
    (tmp_path / "cu.txt").symlink_to("da-xoa.txt")
    assert list(read_articles(tmp_path))[1:] == [Skipped("cu.txt", "link to a missing file")]


def test_file_that_vanishes_before_it_is_read_is_skipped(tmp_path):
    write(tmp_path, "a.txt", ARTICLE)
    write(tmp_path, "b.txt", ARTICLE)
    results = read_articles(tmp_path)  # the folder is listed here
    (tmp_path / "a.txt").unlink()
    assert [(r.path, type(r)) for r in results] == [("a.txt", Skipped), ("b.txt", Article)]


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root from reading")
def test_unreadable_file_and_folder_are_skipped(tmp_path):
    write(tmp_path, "bai.txt", ARTICLE)
    write(tmp_path, "khoa.txt", ARTICLE).chmod(0)
    write(tmp_path, "kin/tin.txt", ARTICLE)
    (tmp_path / "kin").chmod(0)
    try:
        results = list(read_articles(tmp_path))
    finally:
        (tmp_path / "kin").chmod(0o755)
    assert results == [
        results[0],
        Skipped("khoa.txt", "Permission denied"),
        Skipped("kin/", "Permission denied"),
    ]
    assert isinstance(results[0], Article)


def test_too_deep_a_folder_is_skipped(tmp_path):
    write(tmp_path, "bai.txt", ARTICLE)
    # Nested by relative steps: each is short, the whole path is longer than the system allows.
    top = os.open(tmp_path, os.O_RDONLY)
    fd = top
    try:
        for _ in range(40):
            os.mkdir("t" * 200, dir_fd=fd)
            child = os.open("t" * 200, os.O_RDONLY, dir_fd=fd)
            if fd != top:
                os.close(fd)
            fd = child
        with open(os.open("sau.txt", os.O_WRONLY | os.O_CREAT, dir_fd=fd), "w") as handle:
            handle.write(ARTICLE)
    finally:
        os.close(fd)
        if fd != top:
            os.close(top)
    results = list(read_articles(tmp_path))
    assert isinstance(results[0], Article)
    assert len(results) == 2 and results[1].reason == "File name too long"


@pytest.mark.parametrize(
    "name", ["tin\nmới.txt", "bài #1.md", "giảm 50%.txt", "vì sao?.txt", "a#b.jsonl"]
)
def test_odd_file_names_are_read_with_stable_ids(tmp_path, name):
    if name.endswith(".jsonl"):
        write(tmp_path, name, jsonl(news("x")))
        key = f"{name}#x"
    else:
        write(tmp_path, name, ARTICLE)
        key = name
    first, again = list(read_articles(tmp_path)), list(read_articles(tmp_path))
    assert [(a.id, a.path, a.title, a.text) for a in first] == [(key, key, HEADLINE, BODY)]
    assert first == again


def test_file_name_that_is_not_utf8_is_skipped_and_shown_escaped(tmp_path):
    write(tmp_path, "bai.txt", ARTICLE)
    (tmp_path / os.fsdecode(b"hu\xe9.txt")).write_text(ARTICLE, encoding="utf-8")
    assert list(read_articles(tmp_path))[1:] == [
        Skipped("hu\\xe9.txt", "file name is not UTF-8 (rename the file)")
    ]


# --- links, depth and ids -----------------------------------------------------------------------


OUTSIDE = "link to a file outside the articles folder (not read; --follow-links reads it)"


def test_a_link_out_of_the_folder_is_skipped_however_its_path_is_written(tmp_path):
    seeds = tmp_path / "seeds"
    write(seeds, "bai.txt", ARTICLE)
    secret = write(tmp_path, "mat/khau.txt", "Mật khẩu\n\nroot:x:0:0:root:/root:/bin/bash\n")
    (seeds / "tuyet-doi.txt").symlink_to(secret)  # absolute
    (seeds / "sub").mkdir()
    (seeds / "sub" / "tuong-doi.txt").symlink_to("../../mat/khau.txt")  # up and out
    (seeds / "trung-gian.txt").symlink_to("sub/tuong-doi.txt")  # a link inside to a link out
    (seeds / "noi-tiep.txt").symlink_to(seeds / "trung-gian.txt")  # a chain of three
    (seeds / "thu-muc").symlink_to(tmp_path / "mat", target_is_directory=True)
    results = list(read_articles(seeds))
    assert [r.id for r in results if isinstance(r, Article)] == ["bai.txt"]
    assert [r for r in results if isinstance(r, Skipped)] == [
        Skipped("noi-tiep.txt", OUTSIDE),
        Skipped("sub/tuong-doi.txt", OUTSIDE),
        Skipped("thu-muc/", "link to a folder outside the articles folder (not followed)"),
        Skipped("trung-gian.txt", OUTSIDE),
        Skipped("tuyet-doi.txt", OUTSIDE),
    ]
    assert not any("bin/bash" in r.text for r in results if isinstance(r, Article))


def test_follow_links_reads_a_link_out_of_the_folder_under_its_own_name(tmp_path):
    seeds = tmp_path / "seeds"
    write(seeds, "bai.txt", ARTICLE)
    (seeds / "ngoai.txt").symlink_to(write(tmp_path, "kho/ngoai.txt", f"Tin ngoài\n\n{BODY}\n"))
    (seeds / "thu-muc").symlink_to(tmp_path / "kho", target_is_directory=True)
    results = list(read_articles(seeds, follow_links=True))
    assert [(r.id, r.title) for r in results if isinstance(r, Article)] == [
        ("bai.txt", HEADLINE),
        ("ngoai.txt", "Tin ngoài"),
    ]
    assert results[-1] == Skipped("thu-muc/", "link to a folder outside the articles folder (not followed)")


def test_a_link_inside_the_folder_gives_no_second_copy_of_its_article(tmp_path):
    write(tmp_path, "tin/bai.txt", ARTICLE)
    write(tmp_path, ".nhap/ban-thao.md", f"# Bản thảo\n\n{BODY}\n")
    (tmp_path / "ban-sao.txt").symlink_to("tin/bai.txt")
    (tmp_path / "ban-thao.md").symlink_to(".nhap/ban-thao.md")  # the walk never reads a hidden folder
    results = list(read_articles(tmp_path))
    assert results[0] == Skipped("ban-sao.txt", "link to tin/bai.txt, read under that name")
    assert [(r.id, r.title) for r in results[1:]] == [("ban-thao.md", "Bản thảo"), ("tin/bai.txt", HEADLINE)]


def test_a_single_file_named_as_the_folder_is_read_through_its_link(tmp_path):
    corpus = write(tmp_path, "kho/tin.jsonl", jsonl(news("a1")))
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "tin.jsonl").symlink_to(corpus)
    assert [r.id for r in read_articles(tmp_path / "seeds" / "tin.jsonl")] == ["tin.jsonl#a1"]


def test_a_folder_nested_deeper_than_the_limit_is_skipped_and_the_rest_read(tmp_path, nest):
    from searchkit.corpus.folder import MAX_DEPTH

    write(tmp_path, "bai.txt", ARTICLE)
    write(nest(tmp_path, MAX_DEPTH), "sau.txt", ARTICLE)
    write(nest(tmp_path, 1200), "sau-hon.txt", ARTICLE)
    results = list(read_articles(tmp_path))
    assert [r.id for r in results if isinstance(r, Article)] == ["bai.txt", "d/" * MAX_DEPTH + "sau.txt"]
    deeper = Skipped("d/" * (MAX_DEPTH + 1), f"folder nested more than {MAX_DEPTH} levels deep (not read)")
    assert [r for r in results if isinstance(r, Skipped)] == [deeper]


def test_the_walk_enters_folders_without_recursion(tmp_path, monkeypatch, nest):
    from searchkit.corpus import folder

    monkeypatch.setattr(folder, "MAX_DEPTH", 5000)
    write(nest(tmp_path, 1200), "sau.txt", ARTICLE)
    [article] = read_articles(tmp_path)
    assert article.id == "d/" * 1200 + "sau.txt"


def test_a_record_and_a_file_with_the_same_id_keep_the_first_and_name_it(tmp_path):
    write(tmp_path, "c.jsonl", jsonl(news("x/y.txt"), news("b.txt"), news("z")))
    write(tmp_path, "c.jsonl#x/y.txt", ARTICLE)  # a folder "c.jsonl#x" holding y.txt
    write(tmp_path, "c.jsonl#b.txt", ARTICLE)
    write(tmp_path, "c.jsonl#z.jsonl", jsonl(news("k.txt")))
    write(tmp_path, "c.jsonl#z.jsonl#k.txt", ARTICLE)
    write(tmp_path, "d.jsonl", jsonl(news("z.jsonl#k")))  # no clash: another file's records
    results = list(read_articles(tmp_path))
    ids = [r.id for r in results if isinstance(r, Article)]
    assert ids == ["c.jsonl#x/y.txt", "c.jsonl#b.txt", "c.jsonl#z", "c.jsonl#z.jsonl#k.txt", "d.jsonl#z.jsonl#k"]
    assert len(set(ids)) == len(ids)
    assert [r for r in results if isinstance(r, Skipped)] == [
        Skipped("c.jsonl#b.txt", "same id as c.jsonl#line 2 (rename one of them)"),
        Skipped("c.jsonl#x/y.txt", "same id as c.jsonl#line 1 (rename one of them)"),
        Skipped("c.jsonl#z.jsonl#k.txt", "same id as c.jsonl#z.jsonl#line 1 (rename one of them)"),
    ]
    assert list(read_articles(tmp_path)) == results  # the same one wins every time


def test_records_of_two_files_with_the_same_id_keep_the_first(tmp_path):
    write(tmp_path, "a.jsonl", jsonl(news("b.jsonl#c")))
    write(tmp_path, "a.jsonl#b.jsonl", jsonl(news("d"), news("c")))
    results = list(read_articles(tmp_path))
    assert [r.id for r in results if isinstance(r, Article)] == ["a.jsonl#b.jsonl#c", "a.jsonl#b.jsonl#d"]
    assert results[-1] == Skipped(
        "a.jsonl#b.jsonl#line 2", "id c gives a.jsonl#b.jsonl#c, the same id as a.jsonl#line 1 (rename one)"
    )


# --- records and front matter that would exhaust the parser ------------------------------------


def test_jsonl_record_nested_too_deeply_or_with_a_huge_number_is_skipped_by_its_line(tmp_path):
    deep = '{"id": "sau", "text": "Tin", "x": ' + "[" * 5000 + "]" * 5000 + "}"
    huge = '{"id": "so", "text": "Tin", "luot-xem": ' + "1" * 5001 + "}"
    results = list(read_file(write(tmp_path, "tin.jsonl", jsonl(news("a"), deep, huge, news("b"))), tmp_path))
    assert [r.id for r in results if isinstance(r, Article)] == ["tin.jsonl#a", "tin.jsonl#b"]
    assert [r for r in results if isinstance(r, Skipped)] == [
        Skipped("tin.jsonl#line 2", "JSON error: nested too deeply"),
        Skipped("tin.jsonl#line 3", "JSON error: a number of more than 4300 digits"),
    ]


def test_front_matter_nested_too_deeply_skips_the_file_with_why(tmp_path):
    write(tmp_path, "a.md", "---\ntitle: Tin\nx: " + "[" * 3000 + "]" * 3000 + f"\n---\n# {HEADLINE}\n\n{BODY}\n")
    write(tmp_path, "b.md", f"---\ntitle: {HEADLINE}\nx: [[[1]]]\n---\n{BODY}\n")
    results = list(read_articles(tmp_path))
    assert results[0] == Skipped("a.md", "front matter nested too deeply")
    assert (results[1].id, results[1].title) == ("b.md", HEADLINE)


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_utf32_without_bom_is_recognised_by_its_nul_bytes(codec):
    seed = (SEEDS / "003_b3e0a07a9f4fc9ac.txt").read_text(encoding="utf-8")
    assert decode_text(seed.encode(codec)) == decode_text(seed.encode("utf-8"))
    assert decode_text(ARTICLE.encode(codec)) == ARTICLE


def test_jsonl_in_utf32_without_bom_gives_the_same_articles(tmp_path):
    content = jsonl(news("a"), news("b")) + "\n"
    plain = list(read_file(write(tmp_path, "a.jsonl", content), tmp_path))
    wide = list(read_file(write(tmp_path, "b.jsonl", content.encode("utf-32-le")), tmp_path))
    assert [(a.id[2:], a.hash) for a in wide] == [(a.id[2:], a.hash) for a in plain]
    assert len(plain) == 2
