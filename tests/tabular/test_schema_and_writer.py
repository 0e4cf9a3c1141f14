"""Matching sheets and headers to a layout; writing a layout back; row errors as people read them."""

from __future__ import annotations

import pytest
from django.utils import translation

from muster.tabular.errors import ErrorCollector, RowError, TabularError
from muster.tabular.reader import read_workbook
from muster.tabular.schema import Column, SheetSpec, match_sheets
from muster.tabular.writer import SheetData, csv_bytes, xlsx_bytes
from tests.tabular.helpers import csv_data, read_back, xlsx

CARS = SheetSpec(
    "cars",
    "车辆",
    "Cars",
    (Column("plate", "车牌", "Plate", ("plate number",), required=True), Column("seats", "座位", "Seats")),
)
DRIVERS = SheetSpec(
    "drivers",
    "司机",
    "Drivers",
    (Column("name", "姓名", "Name", required=True), Column("licence", "驾驶证", "Licence", required=True)),
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def match(filename: str, data: bytes):
    errors = ErrorCollector(filename)
    tables = match_sheets(read_workbook(filename, data), [CARS, DRIVERS], errors)
    return tables, errors


def test_sheets_by_name_in_any_order_case_and_spaces_and_headers_in_either_language():
    data = xlsx(
        {
            " DRIVERS ": [["Name", "LICENCE"], ["王强", "A1"]],
            "notes": [["just some notes"]],
            "车辆": [["座位", " 车 牌 "], [5, "沪A12345"], [None, None], [None, None]],
        }
    )
    tables, errors = match("t.xlsx", data)
    assert not errors
    cars = tables["cars"]
    assert cars.index == {"seats": 0, "plate": 1}
    assert cars.rows == [(2, [5.0, "沪A12345"])]  # trailing empty rows dropped
    assert tables["drivers"].rows == [(2, ["王强", "A1"])]


def test_a_title_row_above_the_header_is_skipped_and_row_numbers_stay_excel_numbers():
    data = xlsx({"Cars": [["2022年车辆台账"], [], ["车牌", "座位"], ["沪A1", 4], [], ["沪A2", 7]]})
    tables, errors = match("t.xlsx", data)
    assert not errors
    t = tables["cars"]
    assert t.header_row == 3
    assert [n for n, _ in t.rows] == [4, 6]


def test_csv_is_recognized_by_its_headers():
    tables, errors = match("d.csv", csv_data([["姓名", "驾驶证"], ["王强", "A1"]]))
    assert not errors and list(tables) == ["drivers"]
    assert tables["drivers"].sheet == "Drivers"


def test_missing_required_column_is_reported_with_the_header_row():
    _tables, errors = match("t.xlsx", xlsx({"司机": [["姓名", "备注"], ["王强", "x"]]}))
    assert errors.fatal
    [e] = errors.errors
    assert (e.sheet, e.row, e.column) == ("司机", 1, "Licence")
    assert "required column is missing" in e.reason and "驾驶证" in e.reason


def test_a_column_given_twice_is_reported():
    _tables, errors = match("t.xlsx", xlsx({"Cars": [["车牌", "Plate"], ["沪A1", "沪A2"]]}))
    [e] = errors.errors
    assert e.row == 1 and "columns A, B" in e.reason


def test_no_known_sheet():
    tables, errors = match("t.xlsx", xlsx({"Sheet1": [["a", "b"], [1, 2]]}))
    assert tables == {} and errors.fatal
    assert "No sheet of the expected layout" in errors.errors[0].reason


def test_formula_cells_are_reported_with_their_cell_and_column():
    _tables, errors = match("t.xlsx", xlsx({"Cars": [["车牌", "座位"], ["沪A1", "=2+3"]]}))
    [e] = errors.errors
    assert (e.sheet, e.row, e.column) == ("Cars", 2, "座位")
    assert "cell B2 holds a formula" in e.reason
    assert not errors.fatal  # the other rows are still checked


def test_row_error_text_and_dict():
    e = RowError(
        "roster.xlsx", "人员", 12, "身份证号", "310104199003071235", "the check digit should be 4, not 5"
    )
    assert str(e) == (
        "roster.xlsx · 人员 · row 12 · 身份证号 = '310104199003071235' : the check digit should be 4, not 5"
    )
    assert e.as_dict() == {
        "file": "roster.xlsx",
        "sheet": "人员",
        "row": 12,
        "column": "身份证号",
        "value": "310104199003071235",
        "reason": "the check digit should be 4, not 5",
    }
    assert str(RowError("a.csv", "", None, "", "", "The file is empty.")) == "a.csv : The file is empty."


def test_errors_are_capped_with_a_closing_note():
    errors = ErrorCollector("big.csv", limit=3)
    for i in range(10):
        errors.add("人员", i + 2, "工号", "", "a staff number is required")
    exc = errors.exception()
    assert isinstance(exc, TabularError)
    assert exc.total == 10
    assert len(exc.errors) == 4
    assert "7 more problems" in exc.errors[-1].reason
    assert "10 problems found" in str(exc)


def test_xlsx_writer_round_trips_and_never_writes_a_formula():
    from datetime import date

    data = xlsx_bytes(
        [SheetData("车辆", ["车牌", "座位", "日期"], [['=HYPERLINK("x")', 5, date(2022, 3, 18)]])]
    )
    rows = read_back(data)["车辆"]
    assert rows[0] == ["车牌", "座位", "日期"]
    assert rows[1][:2] == ['=HYPERLINK("x")', 5]
    book = read_workbook("w.xlsx", data)
    assert book.sheets[0].formulas == []
    assert book.sheets[0].rows[1][2] == date(2022, 3, 18)


def test_csv_writer_escapes_formula_starts_and_reader_undoes_it():
    data = csv_bytes(["姓名", "备注"], [["=cmd|' /C calc'!A0", "+86 138"], ["王强", "-"]])
    assert data.startswith(b"\xef\xbb\xbf")
    sheet = read_workbook("w.csv", data).sheets[0]
    assert sheet.formulas == []
    assert sheet.rows[1] == ["=cmd|' /C calc'!A0", "+86 138"]


def test_a_templates_drop_down_sheet_is_never_data_even_where_its_values_read_like_headers():
    """The template's hidden ``lists`` sheet holds values only; values such as "plate" / "name" match
    headers of the layout, yet the sheet is skipped and the filled-in sheet is the one read."""
    from muster.tabular.template import LISTS_SHEET

    data = xlsx(
        {
            "cars": [["Plate", "Seats"], ["沪A12345", 5]],
            LISTS_SHEET: [["plate", "name"], ["seats", "licence"]],
        }
    )
    tables, errors = match("filled-template.xlsx", data)
    assert not errors
    assert set(tables) == {"cars"}
    # without the skip, the lists sheet scores as a drivers sheet (two matching headers)
    renamed = xlsx(
        {"cars": [["Plate", "Seats"], ["沪A12345", 5]], "other": [["name", "licence"], ["x", "y"]]}
    )
    assert set(match("other.xlsx", renamed)[0]) == {"cars", "drivers"}
