"""``CodeCells`` and ``TextCells``: the checks of a sheet's code column and of a text column that the staff
register (units, people) and the ledger (batches, service entries) share, once (issue 23: importers are
registrations, not copies). A cell gets at most one problem, the first that applies: for a code, blank, a
broken rule of a code, too long, a repeat of an earlier good row; for a text, a control or invalid
character, blank where required, too long."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from muster.tabular.cells import text
from muster.tabular.errors import ErrorCollector, RowError
from muster.tabular.pipeline import CodeCells, TextCells
from muster.tabular.schema import Column, SheetSpec, Table

SPEC = SheetSpec(
    "things",
    "事物",
    "Things",
    (Column("code", "编码", "Code", required=True), Column("name", "名称", "Name")),
)


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _table(header: str = "Thing code", name_header: str = "Thing name") -> Table:
    return Table(SPEC, "Things", 1, {"code": 0, "name": 1}, {"code": header, "name": name_header})


def _repeated(row: int) -> str:
    return f"as in row {row}"


def _check(values: list[Any], *, max_len: int = 8) -> tuple[list[bool], list[RowError], CodeCells]:
    """Check ``values`` as the code cells of rows 2, 3, …; (each row's verdict, the errors, the checker)."""
    errors = ErrorCollector("things.xlsx")
    cells = CodeCells(errors, _table(), max_len=max_len, required="a code, please", repeated=_repeated)
    oks = [cells.check(n, raw, text(raw)) for n, raw in enumerate(values, start=2)]
    return oks, errors.errors, cells


def test_good_codes_pass_and_are_remembered_with_their_rows() -> None:
    oks, errors, cells = _check(["A-1", "b_2.x", 1001.0, "ＡＢ１", 7])
    assert oks == [True] * 5
    assert errors == []
    assert cells.seen == {"A-1": 2, "b_2.x": 3, "1001": 4, "AB1": 5, "7": 6}


# A vertical tab is white space: a code of nothing else is blank before it is a control character (the
# order the importers always had; a text cell says the control character first).
@pytest.mark.parametrize("raw", [None, "", "   ", "\t", "\u3000", "\x0b", " \x1c "])
def test_a_blank_code_gets_the_importers_own_words(raw: Any) -> None:
    oks, errors, cells = _check([raw])
    assert oks == [False]
    assert [(e.sheet, e.row, e.column, e.value, e.reason) for e in errors] == [
        ("Things", 2, "Thing code", "", "a code, please")
    ]
    assert cells.seen == {}


def test_a_control_character_is_refused_showing_the_raw_cell() -> None:
    oks, errors, _cells = _check(["AB\x07C"])
    assert oks == [False]
    (e,) = errors
    assert (e.column, e.value) == ("Thing code", "AB\x07C")
    assert e.reason == "Code contains a control character (U+0007), which is not allowed."


def test_a_lone_surrogate_is_an_invalid_character() -> None:
    _oks, errors, _cells = _check(["A\ud800"])
    assert [e.reason for e in errors] == [
        "Code contains an invalid character (U+D800), which is not allowed."
    ]


@pytest.mark.parametrize("raw", ["A B", "a/b", "张三#1", "x,y"])
def test_a_character_a_code_may_not_hold_is_refused(raw: str) -> None:
    _oks, errors, _cells = _check([raw])
    assert [(e.value, e.reason) for e in errors] == [
        (raw, "Code may contain only letters, digits, hyphens (-), underscores (_) and dots (.).")
    ]


def test_too_long_counts_the_clean_text_and_shows_it() -> None:
    oks, errors, cells = _check(["ABCDEFGH", " ABCDEFGHI ", "ＡＢＣＤＥＦＧＨ"], max_len=8)
    assert oks == [True, False, False]
    assert [(e.row, e.value, e.reason) for e in errors] == [
        (3, "ABCDEFGHI", "too long (at most 8 characters)"),
        (4, "ABCDEFGH", "as in row 2"),  # full-width is the same code once clean
    ]
    assert cells.seen == {"ABCDEFGH": 2}


def test_a_repeat_names_the_first_good_row_and_only_good_rows_count() -> None:
    oks, errors, cells = _check(["TOOLONGCODE", "A1", "TOOLONGCODE", "A1", "a1", "A1"], max_len=8)
    assert oks == [False, True, False, False, True, False]
    assert [(e.row, e.value, e.reason) for e in errors] == [
        (2, "TOOLONGCODE", "too long (at most 8 characters)"),
        (4, "TOOLONGCODE", "too long (at most 8 characters)"),  # a bad row is no first occurrence
        (5, "A1", "as in row 3"),
        (7, "A1", "as in row 3"),  # a repeat is not remembered in its turn
    ]
    assert cells.seen == {"A1": 3, "a1": 6}  # codes compare as written (case counts)


def test_a_cell_has_one_problem_the_first_that_applies() -> None:
    # Rows 3 and 4 are too long and (but for their bad character) a repeat: only the character is said.
    oks, errors, _cells = _check(["AB", "AB\x00" + "C" * 20, "AB " + "x" * 20, "AB"], max_len=8)
    assert oks == [True, False, False, False]
    assert [(e.row, e.reason) for e in errors] == [
        (3, "Code contains a control character (U+0000), which is not allowed."),
        (4, "Code may contain only letters, digits, hyphens (-), underscores (_) and dots (.)."),
        (5, "as in row 2"),
    ]


def test_numbers_and_booleans_from_excel_are_their_text() -> None:
    oks, errors, cells = _check([12345678901.0, 1.5, True, 12345678901], max_len=20)
    assert oks == [True, True, True, False]
    assert [(e.row, e.value) for e in errors] == [(5, "12345678901")]
    assert cells.seen == {"12345678901": 2, "1.5": 3, "TRUE": 4}


def test_another_key_names_its_own_column_and_label() -> None:
    spec = SheetSpec("staff", "人员", "People", (Column("person", "工号", "Staff number"),))
    errors = ErrorCollector("f.csv")
    table = Table(spec, "People", 1, {"person": 0}, {})  # no header as written: the layout's own
    cells = CodeCells(errors, table, max_len=5, required="who?", repeated=_repeated, key="person")
    assert not cells.check(2, "", "")
    assert not cells.check(3, "x y", "x y")
    assert [(e.column, e.reason) for e in errors.errors] == [
        ("Staff number", "who?"),
        (
            "Staff number",
            "Staff number may contain only letters, digits, hyphens (-), underscores (_) and dots (.).",
        ),
    ]


def test_the_words_are_the_catalogs_in_chinese() -> None:
    errors = ErrorCollector("f.xlsx")
    with translation.override("zh-hans"):
        cells = CodeCells(errors, _table("编码"), max_len=3, required="?", repeated=_repeated)
        cells.check(2, "ABCD", "ABCD")
        cells.check(3, "A\x01", "A\x01")
    assert [e.reason for e in errors.errors] == [
        "过长（最多 3 个字符）",
        "代码含有控制字符（U+0001），不允许使用。",
    ]


# ---------------------------------------------------------------- TextCells (a name, a task, a place, a note)


def _check_text(values: list[Any], *, max_len: int = 6, required: str | None = "a name, please") -> list[Any]:
    errors = ErrorCollector("things.xlsx")
    cells = TextCells(errors, _table(), key="name", max_len=max_len, required=required)
    oks = [cells.check(n, raw, text(raw)) for n, raw in enumerate(values, start=2)]
    return [oks, [(e.sheet, e.row, e.column, e.value, e.reason) for e in errors.errors]]


def test_good_texts_pass_and_a_text_may_repeat() -> None:
    oks, errors = _check_text(["张三", "张三", "A B C", " x ", 12.0, "ｗｉｄｅ"])
    assert oks == [True] * 6
    assert errors == []


@pytest.mark.parametrize("raw", [None, "", "  ", "\u3000"])
def test_a_blank_required_text_gets_the_importers_words_and_an_optional_one_passes(raw: Any) -> None:
    assert _check_text([raw]) == [[False], [("Things", 2, "Thing name", "", "a name, please")]]
    assert _check_text([raw], required=None) == [[True], []]


def test_a_too_long_text_is_counted_clean_and_shown_clean() -> None:
    oks, errors = _check_text(["123456", "  1234567  ", "１２３４５６"], max_len=6, required=None)
    assert oks == [True, False, True]
    assert errors == [("Things", 3, "Thing name", "1234567", "too long (at most 6 characters)")]


def test_a_control_character_comes_first_and_shows_the_raw_cell() -> None:
    # Row 2 is blank once clean and row 3 too long, but the control character is what is said.
    oks, errors = _check_text(["\x0b", " abc\x7fdefghij "], max_len=6)
    assert oks == [False, False]
    assert errors == [
        (
            "Things",
            2,
            "Thing name",
            "\x0b",
            "Name contains a control character (U+000B), which is not allowed.",
        ),
        (
            "Things",
            3,
            "Thing name",
            " abc\x7fdefghij ",
            "Name contains a control character (U+007F), which is not allowed.",
        ),
    ]


def test_a_text_is_not_held_to_the_rules_of_a_code() -> None:
    oks, errors = _check_text(["a/b #1", "x,y"], max_len=20)
    assert oks == [True, True]
    assert errors == []


def test_the_text_words_are_the_catalogs_in_chinese() -> None:
    errors = ErrorCollector("f.xlsx")
    with translation.override("zh-hans"):
        cells = TextCells(errors, _table("编码", "名称"), key="name", max_len=2, required=None)
        assert not cells.check(2, "甲乙丙", "甲乙丙")
    assert [(e.column, e.reason) for e in errors.errors] == [("名称", "过长（最多 2 个字符）")]
