"""Reading dates as news sites and readers write them, and finding a plain-text article's dateline."""

from __future__ import annotations

from datetime import date

import pytest
from pristine_seeds import pristine_seeds

from searchkit.text.dates import dateline, day_number, from_day_number, read_date

SEEDS = pristine_seeds()

MAY_22 = date(2024, 5, 22)


@pytest.mark.parametrize(
    "text",
    [
        "2024-05-22",
        "2024-05-22T07:30:00+07:00",
        "2024-05-22T23:59:59.5Z",
        "2024-05-22 19:30",
        "22/05/2024",
        "22/5/2024",
        "22-05-2024",
        "22-5-2024",
        "22/05/2024 08:30",
        " 2024-05-22\n",
    ],
)
def test_iso_and_day_first_dates_read_as_the_same_day(text):
    assert read_date(text) == MAY_22


@pytest.mark.parametrize(
    "text",
    [
        "2024-13-45",
        "31/02/2024",
        "hôm qua",
        "",
        "2024",
        "05/2024",
        "22/05-2024",
        "2024-05-22T25:00",
        "2024-05-22 tối",
        "22 tháng 5 năm 2024",
    ],
)
def test_impossible_or_unreadable_dates_are_none(text):
    assert read_date(text) is None


def test_the_time_zone_does_not_move_the_day():
    # The day printed on the article, not the day it was in another time zone.
    assert read_date("2024-05-22T00:30:00+07:00") == MAY_22


@pytest.mark.parametrize(
    "line, day",
    [
        ("10:19, Thứ Tư, 22-5-2024", MAY_22),
        ("Thứ Hai, 15/05/2024", date(2024, 5, 15)),
        ("thứ hai, 15/05/2024 - 10:19", date(2024, 5, 15)),
        ("22/05/2024 08:30 (GMT+7)", MAY_22),
        ("Cập nhật: 22/05/2024", MAY_22),
        ("Chủ nhật, 2024-05-26", date(2024, 5, 26)),
    ],
)
def test_a_dateline_near_the_top_gives_the_date(line, day):
    text = f"Trang chủ\n\nTiêu đề bài viết\n\n{line}\n\nNội dung bài viết."
    assert dateline(text) == day


@pytest.mark.parametrize(
    "text",
    [
        "Tiêu đề\n\nThực hiện Kết luận số 01-KL/TW, ngày 18/5/2021 của Bộ Chính trị.",
        "Tiêu đề\n\nChiều 9/5, Đảng ủy Khối tổ chức hội nghị.",
        "Tiêu đề\n\n10:19, Thứ Tư, 31-2-2024\n\nNội dung.",
    ],
)
def test_a_date_inside_a_sentence_or_an_impossible_one_is_no_dateline(text):
    assert dateline(text) is None


def test_a_dateline_far_down_the_article_is_not_taken():
    lines = [f"Đoạn văn thứ {n} của bài." for n in range(10)]
    assert dateline("\n".join([*lines, "Thứ Hai, 15/05/2024"])) is None


def test_one_of_the_five_seeds_has_a_dateline():
    found = {path.name: dateline(path.read_text(encoding="utf-8")) for path in sorted(SEEDS.glob("*.txt"))}
    assert {name: day for name, day in found.items() if day} == {"003_b3e0a07a9f4fc9ac.txt": MAY_22}


def test_day_numbers_sort_as_dates_and_read_back():
    assert day_number(MAY_22) == 20240522
    assert day_number(date(2023, 12, 31)) < day_number(date(2024, 1, 1))
    assert from_day_number(20240522) == MAY_22
