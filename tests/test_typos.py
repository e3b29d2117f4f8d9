"""Typos read from the titles and pairs around them: the next reading, foreign neighbours, questions, and a typo
making another written word whose pairs are written often (``kinh hang xe`` for ``kinh hoàng xe``)."""

from __future__ import annotations

import pytest
from test_correction import fixed, searcher_over

from searchkit.search import correction, result_cache
from searchkit.text.analysis import could_take_accents

# Constructed articles. "như" is written far more often than "nhất", and between "sĩ" and "đột" too, but only a
# title writes "sĩ Nhật đột"; "gam" is a Vietnamese word written often, "Games" a foreign one written beside "SEA" in a
# title; "hàng" is written beside "kính" (six times) and before "xe" (often), "hoàng" beside "kinh" far more often.
ARTICLES = {
    "ca-si.txt": "Nữ ca sĩ Nhật đột tử\n\nNữ ca sĩ Nhật đột tử tại nhà riêng ở Tokyo.",
    "nhu.txt": "Trời mưa như trút\n\n" + "Trời mưa như trút, người nghệ sĩ như đột nhiên quên lời. " * 20,
    "sea-games.txt": "Bóng đá nam dự SEA Games\n\nĐội tuyển bóng đá nam đã dự SEA Games với nhiều cầu thủ trẻ.",
    "gam.txt": "Giá vàng mỗi gam\n\n" + "Mỗi gam vàng tăng giá, mỗi gam bạc giảm giá. " * 20,
    "kinh-hoang.txt": "Kinh hoàng xe máy tông nhau\n\n" + "Kinh hoàng cảnh xe máy tông nhau. Kinh hoàng quá. " * 40,
    "hang-xe.txt": "Hãng xe ra mắt mẫu mới\n\n" + "Hãng xe ra mắt mẫu mới, hàng xe chờ đầy bãi. " * 30,
    "kinh-hang.txt": "Cửa kính hàng quán\n\n" + "Cửa kính hàng quán vỡ, người bán lau kính hàng ngày. " * 3,
    "mat-ngu.txt": "Làm gì để không bị mất ngủ\n\nLàm gì để không bị mất ngủ: ngủ đúng giờ, không uống cà phê.",
    "khong.txt": "Không khí mùa thu\n\n" + "Không khí mùa thu không lạnh, không nóng. " * 20,
}


@pytest.fixture(scope="module")
def titled(tmp_path_factory: pytest.TempPathFactory):
    yield from searcher_over(tmp_path_factory, "titled-typos", ARTICLES)


def test_a_title_writing_the_words_around_a_typo_with_the_next_reading_reads_it(titled):
    results = titled.search("ca si nht dot tu")
    assert fixed(results) == {"nht": "nhat"}
    assert results.hits[0].id == "ca-si.txt"


def test_a_typo_beside_a_foreign_word_reads_the_neighbour_a_title_writes_beside_it(titled):
    # No pairs are counted beside "SEA" in the articles: the title's pair is the evidence.
    results = titled.search("du sea gams")
    assert fixed(results) == {"gams": "games"}
    assert results.hits[0].id == "sea-games.txt"


def test_a_typo_making_a_word_written_often_beside_its_neighbours_is_read_from_the_titles(titled):
    results = titled.search("kinh hang xe may tong nhau")
    assert fixed(results) == {"hang": "hoang"}
    assert results.hits[0].id == "kinh-hoang.txt"


@pytest.mark.parametrize(
    "typed",
    [
        "kinh hoang xe may tong nhau",
        "hang xe ra mat",
        "cua kinh hang quan",  # the words a title writes: read as typed
        "kinh hang",  # written beside each other, and no title writes "kinh hoang" alone with nothing after
    ],
)
def test_words_written_beside_each_other_are_never_read_from_the_titles_otherwise(titled, typed):
    assert fixed(titled.search(typed)) == {}


def test_a_question_s_word_never_written_is_corrected(titled):
    # Six words with "gì": searched as a question, partial matches ranked.
    results = titled.search("lam gi de krhong bi mat ngu")
    assert fixed(results) == {"krhong": "khong"}
    assert results.hits[0].id == "mat-ngu.txt"


def test_a_question_s_written_words_are_never_corrected(titled):
    # "hàng" is rarely written beside "kính" here: in a keyword query that may be a typo, in a question no.
    assert fixed(titled.search("vi sao kinh hang quan lai vo?")) == {}
    assert correction.correctable("krhong")


def test_a_word_read_from_the_titles_alone_stays_beside_another_typo(titled):
    # Beside a word never written, the query as typed is no phrase written whether "hang" was meant or not.
    assert fixed(titled.search("kinh hang xe may tongg nhau")) == {"tongg": "tong"}


# A typo's readings checked in each run of three title words holding them; a word written rarely beside its
# neighbours read from the title around it; an article holding both queries placed by its better tier; a letter
# more than a syllable's keys read as a typo. "sau" is written far more than "siêu", beside "Mỹ" too, but only a
# title writes "siêu tàu sân" (after a colon: "Mỹ: Siêu"); "luôn bằng" is written once, "lương bằng" often, and a
# title writes "Lương Bằng Quang" (another article holds the words as typed, apart); "tổng" is written in the article
# on "Thủ tướng nêu 5 giải pháp" too, and another article writes the same words as typed in order a few words apart
# (not as a phrase); "cân" is written, never beside "ông", "ông Chấn" often; "gám" is written, and titles write
# "SEA Games"; "toái" is written, never beside "hôn", and "hôn trai" three times, a title's among them; the articles
# write "ông trùm" ten times, no pair beside the foreign "Trump", and titles write "Ông Trump" three times, "ông trùm"
# once.
AROUND = {
    "sieu-tau.txt": "Báo Mỹ: Siêu tàu sân bay Nga chỉ là giấc mơ\n\nBáo Mỹ viết rằng siêu tàu sân bay Nga chỉ là mơ.",
    "sau.txt": "Nước Mỹ sau bầu cử\n\n" + "Nước Mỹ sau bầu cử, người Mỹ sau đó đi làm. Sau tàu hỏa là xe buýt. " * 20,
    "luong-bang-quang.txt": "Lương Bằng Quang bị chỉ trích\n\nCa sĩ Lương Bằng Quang bị chỉ trích vì phát ngôn.",
    "tra-luong.txt": "Trả lương bằng tiền mặt\n\n" + "Công ty trả lương bằng tiền mặt, lương bằng chuyển khoản. " * 12,
    "luon.txt": "Anh luôn bằng lòng\n\nAnh luôn bằng lòng. " + "Chị luôn cười, em luôn vui. " * 10,
    "apart.txt": "Chuyện thường ngày\n\n" + "Anh luôn nói bằng lời rằng quang cảnh đẹp, bị mưa thì chỉ trích ai. " * 3,
    "thu-tuong.txt": "Thủ tướng nêu 5 giải pháp phát triển\n\n"
    + "Thủ tướng nêu 5 giải pháp. Thủ tướng nói tổng vốn tăng. " * 6,
    "tieu-thu.txt": "Bàn chuyện tiêu thụ\n\n"
    + "Đo lường tiêu thụ, tổng kết rồi nêu 5 giải pháp và phương pháp. " * 8,
    "ong-chan.txt": "Án oan ông Chấn: vì sao\n\n" + "Ông Chấn kể lại vụ án oan của ông Chấn. " * 8,
    "can.txt": "Cân nặng của trẻ\n\n" + "Cân nặng của trẻ tăng, mẹ cân đo mỗi ngày. " * 12,
    "go-gam.txt": "Gỗ gám quý hiếm\n\n" + "Gỗ gám quý hiếm ở rừng, cây gám lớn. " * 6,
    "hon-trai.txt": "Bảo Anh hôn trai lạ\n\nBảo Anh hôn trai lạ ở sân bay, rồi hôn trai khác.",
    "phien-toai.txt": "Những nỗi phiền toái\n\n" + "Phiền toái mỗi ngày, phiền toái quá. " * 3,
    "ong-trum.txt": "Bắt ông trùm ma túy\n\n" + "Ông trùm ma túy bị bắt, ông trùm khai nhận. " * 5,
} | {f"trump-{n}.txt": f"Ông Trump, ông Putin lần {n}\n\nÔng Trump nói về ông Putin." for n in range(3)} | {
    f"sea-games-{n}.txt": f"SEA Games {n}: đội tuyển lên đường\n\nĐội tuyển dự SEA Games {n}." for n in range(20, 32)}


@pytest.fixture(scope="module")
def around(tmp_path_factory: pytest.TempPathFactory):
    yield from searcher_over(tmp_path_factory, "around-typos", AROUND)


def test_a_typo_reads_the_word_a_title_writes_with_the_next_words_though_the_pair_before_favours_another(around):
    # "Mỹ sau" is written 40 times, "Mỹ siêu" never; no title writes "Mỹ … tàu" around either.
    results = around.search("bao my siu tau san bay")
    assert fixed(results) == {"siu": "sieu"}
    assert results.hits[0].id == "sieu-tau.txt"


def test_a_word_written_rarely_beside_its_neighbours_is_read_from_the_title_around_it(around):
    results = around.search("luon bang quang bi chi trich")
    assert fixed(results) == {"luon": "luong"}
    assert results.hits[0].id == "luong-bang-quang.txt"


def test_a_title_around_a_word_never_written_beside_its_neighbours_reads_one_the_pairs_favour_at_all(around):
    results = around.search("bao anh hon toai")
    assert fixed(results) == {"toai": "trai"}
    assert results.hits[0].id == "hon-trai.txt"


def test_a_foreign_reading_is_weighed_against_the_first_by_the_titles_pairs(around):
    results = around.search("ong trumb noi")
    assert fixed(results) == {"trumb": "trump"}
    assert results.hits[0].id.startswith("trump-")


@pytest.mark.parametrize(
    "typed", ["luong bang quang bi chi trich", "anh luon bang long", "chi luon cuoi", "nhung noi phien toai"]
)
def test_words_a_title_writes_together_stay_as_typed(around, typed):
    assert fixed(around.search(typed)) == {}


def test_an_article_holding_the_typed_words_apart_and_the_corrected_ones_as_its_title_ranks_by_the_title(around):
    # Both articles hold every word as typed; only one holds them corrected, as its title.
    results = around.search("thu tong neu 5 giai phap")
    assert fixed(results) == {"tong": "tuong"}
    assert results.hits[0].id == "thu-tuong.txt"


def test_a_vowel_doubled_by_mistake_is_read_as_a_typo_where_the_words_beside_it_say_so(around):
    assert around.converted("oan ong caan") == "oan ong caan"  # "ông cân" is never written, "ông Chấn" is
    results = around.search("oan ong caan")
    assert fixed(results) == {"caan": "chan"}
    assert results.hits[0].id == "ong-chan.txt"
    assert around.converted("caan nang") == "cân nang"  # keys, beside the word the articles write with "cân"


def test_a_typo_spelling_keys_beside_a_foreign_word_is_read_as_the_titles_write_it(around):
    # No pair is counted beside "SEA" in the articles; the titles write "SEA Games" twelve times.
    assert around.converted("gams") == "gám"
    assert around.converted("sea gams") == "sea gams"
    results = around.search("sea gams")
    assert fixed(results) == {"gams": "games"}
    assert results.hits[0].id.startswith("sea-games-")


# A word at the edge of a query, written often beside its one neighbour: only the titles can tell the typo. "đầu gió"
# and "trường Mỹ" are written over fifty times each (correction.SELDOM), "đầu giới" and "tướng Mỹ" a few; titles write
# "lần đầu giới" twice and "lần đầu gọi" once, "tướng Mỹ dự" once, and none "lần đầu gió" or "trường Mỹ dự"; "đầu
# tàn" is written sixty times, "đầu tăng" once, in a title's "lần đầu tăng".
EDGES = {
    "lam-tam-nhu.txt": "Lâm Tâm Như lần đầu giới thiệu mẹ chồng\n\nNữ diễn viên lần đầu giới thiệu mẹ chồng trẻ.",
    "cau-thu.txt": "Cầu thủ lần đầu giới thiệu bạn gái\n\nCầu thủ trẻ lần đầu giới thiệu bạn gái với người hâm mộ.",
    "con-goi.txt": "Con lần đầu gọi mẹ\n\nĐứa bé lần đầu gọi mẹ khi tròn một tuổi.",
    "gio-mua.txt": "Trời trở lạnh\n\n" + "Trời trở lạnh đầu gió mùa, đầu gió đông bắc về sớm. " * 30,
    "tuong-my.txt": "Tướng Mỹ dự báo giành lại thành phố\n\nMột tướng Mỹ dự báo quân đội sẽ giành lại thành phố.",
    "truong-my.txt": "Du học ở trường Mỹ\n\n" + "Học sinh vào trường Mỹ, trường Mỹ nhận thêm người. " * 30,
    "tan-thuoc.txt": "Điếu thuốc\n\n" + "Lần nào điếu thuốc cũng cháy tới đầu tàn, đầu tàn rơi xuống. " * 30,
    "gia-tang.txt": "Giá xăng lần đầu tăng mạnh\n\nGiá xăng lần đầu tăng mạnh trong năm.",
}


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory):
    yield from searcher_over(tmp_path_factory, "edge-typos", EDGES)


@pytest.mark.parametrize(
    ("typed", "meant", "article"),
    [
        ("lam tam nhu lan dau gio", {"gio": "gioi"}, "lam-tam-nhu.txt"),  # "lần đầu giới" titled twice, "gọi" once
        ("truong my du bao gianh lai", {"truong": "tuong"}, "tuong-my.txt"),  # at the start, the run after it
    ],
)
def test_a_typo_at_a_query_s_edge_making_a_word_written_often_beside_its_neighbour_is_read_from_the_titles(
    edges, typed, meant, article
):
    results = edges.search(typed)
    assert fixed(results) == meant
    assert results.hits[0].id == article


@pytest.mark.parametrize(
    "typed",
    [
        "lam tam nhu lan dau gioi",  # a title's words: as typed
        "con lan dau goi",  # "lần đầu gọi" is a title's run too
        "troi tro lanh dau gio",  # no title writes a word one edit from "gió" after "lạnh đầu"
        "du hoc o truong my",
        "dau gio",  # two words: no run of three for the titles to tell
        "lan dau tan",  # "lần đầu tăng" is titled, but a confusion (final n/ng) is the pairs' to read, not the titles'
    ],
)
def test_a_word_at_a_query_s_edge_written_beside_its_neighbour_stays_where_the_titles_say_nothing_else(edges, typed):
    assert fixed(edges.search(typed)) == {}


@pytest.fixture(scope="module")
def edge_phrase(tmp_path_factory: pytest.TempPathFactory):
    # "lần đầu gió" is written in an article, though no title writes it.
    texts = EDGES | {"gio-lon.txt": "Mùa đông\n\nNăm nay lần đầu gió lớn thổi qua làng."}
    yield from searcher_over(tmp_path_factory, "edge-typos-phrase", texts)


def test_an_edge_word_read_from_the_titles_stays_as_typed_where_an_article_holds_the_query_as_a_phrase(
    edge_phrase, monkeypatch: pytest.MonkeyPatch
):
    read: list[correction.Correction | None] = []
    correct = correction.correct

    def reading(*args, **kwargs):
        read.append(correct(*args, **kwargs))
        return read[-1]

    monkeypatch.setattr(correction, "correct", reading)
    results = edge_phrase.search("nam nay lan dau gio")
    assert read[0] is not None and read[0].unsure  # read from the titles, then checked against the phrase
    assert [w.to_dict() for w in read[0].words] == [{"typed": "gio", "corrected": "gioi"}]
    assert fixed(results) == {}
    assert results.hits[0].id == "gio-lon.txt"
    monkeypatch.setattr(correction, "correct", lambda *args, **kwargs: None)
    result_cache.of(edge_phrase).clear()
    hits = [(h.id, h.score) for h in edge_phrase.search("nam nay lan dau gio").hits]
    assert hits == [(h.id, h.score) for h in results.hits]


# Names written only in the articles' bodies, never in a title: "Bendigo" and "Maastricht"; "Hanoi" written in a
# title, "Kiev" written in a body (four letters).
BODIES = {
    "bendigo.txt": "Bầu cử ở bang Victoria\n\n"
    + "Đảng Lao động được ưa chuộng ở Bendigo và Geelong, hai thành phố lớn của bang. " * 3,
    "geelong.txt": "Thành phố cảng phía nam\n\n" + "Geelong là thành phố cảng, đảng Tự do thắng ở đó nhiều lần. " * 3,
    "maastricht.txt": "Liên minh châu Âu ra đời\n\nHiệp ước Maastricht được ký kết năm 1992, lập ra Liên minh châu Âu.",
    "hiep-uoc.txt": "Các hiệp ước của châu Âu\n\n"
    + "Hiệp ước được ký kết giữa các nước châu Âu vào nhiều năm, khi nào cũng có. " * 5,
    "kiev.txt": "Thủ đô bên sông Dnepr\n\nKiev là thủ đô, nằm bên sông Dnepr.",
    "hanoi.txt": "Hanoi mùa thu\n\nThủ đô mùa thu đẹp nhất.",
}


@pytest.fixture(scope="module")
def bodies(tmp_path_factory: pytest.TempPathFactory):
    yield from searcher_over(tmp_path_factory, "body-names", BODIES)


@pytest.mark.parametrize(
    ("typed", "read", "first"),
    [
        ("Đảng nào được ưa chuộng ở Bedigo và Geelong?", {"Bedigo": "Bendigo"}, "bendigo.txt"),
        ("Hiệp ước Maastrich được ký kết khi nào?", {"Maastrich": "Maastricht"}, "maastricht.txt"),
        ("hiep uoc maastrich", {"maastrich": "maastricht"}, "maastricht.txt"),
    ],
)
def test_a_name_never_written_is_read_as_the_name_a_body_writes_one_edit_away(bodies, typed, read, first):
    results = bodies.search(typed)
    assert {c.typed: c.corrected for c in results.corrected} == read
    assert results.hits[0].id == first


@pytest.mark.parametrize(
    "typed",
    [
        "Kiet là thủ đô của nước nào?",  # four letters: as likely a name the archive does not hold
        "Bendigo ở bang nào?",  # written as typed
    ],
)
def test_short_or_written_names_are_not_read_from_the_bodies(bodies, typed):
    assert fixed(bodies.search(typed)) == {}


def test_a_titled_word_near_a_name_is_read_before_the_bodies(bodies):
    assert fixed(bodies.search("Thủ đô Hanoy mùa thu ra sao?")) == {"Hanoy": "Hanoi"}


class _Written:
    """The articles' words and how often they are written, each word asked for kept."""

    def __init__(self, counts: dict[str, int]):
        self.counts, self.asked = counts, []

    def written(self, word: str) -> float:
        self.asked.append(word)
        return self.counts.get(word, 0)


def test_a_name_s_readings_are_the_written_words_of_no_vietnamese_shape_one_edit_away_the_most_written_first():
    words = _Written({"bendigo": 3, "bendigos": 30, "vendigoo": 50, "bendiga": 90})
    read = correction._written_near("bendigoo", words)
    # A changed first letter is believed a tenth as much; "bendiga" is two edits away.
    assert [w for w, _ in read] == ["bendigos", "vendigoo", "bendigo"]
    assert read[2] == ("bendigo", pytest.approx(correction.EDIT * 4))
    # "thuong" is a syllable, one edit from "thuongx": the syllables' to read, never looked up here.
    words = _Written({"thuong": 100})
    assert correction._written_near("thuongx", words) == []
    assert words.asked and "thuong" not in words.asked
    assert not any(could_take_accents(w) for w in words.asked)
