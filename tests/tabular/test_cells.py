"""Cell parsing: text, dates, choices and tags as people type them into Excel."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.utils import translation

from muster.tabular.cells import (
    CellError,
    choice_table,
    header_key,
    parse_choice,
    parse_date,
    split_tags,
    text,
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_text_normalizes_full_width_spaces_and_numbers():
    assert text("１２３") == "123"
    assert text("  张　三  ") == "张 三"
    assert text("a \t  b") == "a b"
    assert text(13812345678.0) == "13812345678"
    assert text(1.5) == "1.5"
    assert text(None) == ""
    assert text(datetime(2022, 3, 18)) == "2022-03-18"


@pytest.mark.parametrize(
    "value",
    [
        "2022-03-18",
        "2022/3/18",
        "2022.3.18",
        "2022年3月18日",
        "2022 年 3 月 18 日",
        "20220318",
        "２０２２－０３－１８",
        " 2022-03-18 ",
        "2022-03-18 00:00:00",
        date(2022, 3, 18),
        datetime(2022, 3, 18, 9, 30),
        44638,  # Excel serial day number
        44638.0,
        "44638",
        20220318.0,
    ],
)
def test_dates_in_every_usual_spelling(value):
    assert parse_date(value) == date(2022, 3, 18)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2022-02-30", "there is no day 30 in 2022-02"),
        ("2023-02-29", "there is no day 29 in 2023-02"),
        ("2022-13-01", "there is no month 13"),
        ("20220230", "there is no day 30 in 2022-02"),
        ("yesterday", "not a date"),
        ("18/03/2022", "not a date"),
    ],
)
def test_impossible_or_unreadable_dates_say_why(value, reason):
    with pytest.raises(CellError) as exc:
        parse_date(value)
    assert reason in str(exc.value)


def test_empty_date_is_none():
    assert parse_date("") is None
    assert parse_date(None) is None
    assert parse_date("   ") is None


def test_choices_by_code_label_or_alias_any_case():
    table = choice_table([("member", ["中共党员", "Party member"]), ("non_party", ["群众"])])
    assert parse_choice("中共党员", table, "") == "member"
    assert parse_choice(" PARTY MEMBER ", table, "") == "member"
    assert parse_choice("member", table, "") == "member"
    assert parse_choice("群众", table, "") == "non_party"
    assert parse_choice("", table, "") is None
    with pytest.raises(CellError) as exc:
        parse_choice("党员们", table, "中共党员, 群众")
    assert "中共党员, 群众" in str(exc.value)


def test_tags_split_on_commas_semicolons_enumeration_comma_and_spaces():
    assert split_tags("青年，骨干;志愿者、 摄影  外语,青年") == ["青年", "骨干", "志愿者", "摄影", "外语"]
    assert split_tags("") == []


def test_header_key_ignores_case_width_spaces_and_underscores():
    assert header_key(" Birth_Date ") == header_key("birth date") == header_key("BIRTHDATE")
    assert header_key("工 号") == header_key("工号")
    assert header_key("身份证号*") == header_key("身份证号")
