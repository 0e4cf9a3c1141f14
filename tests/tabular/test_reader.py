"""Reading uploads: .xlsx through python-calamine, .csv in UTF-8 or GB18030; file-level refusals."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from django.test import override_settings
from django.utils import translation
from openpyxl import Workbook

from muster.tabular.errors import TabularError
from muster.tabular.reader import CSV, XLSX, check_size, column_index, column_letter, read_workbook
from tests.tabular.helpers import csv_data, xlsx

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refused(filename: str, data: bytes) -> list[str]:
    with pytest.raises(TabularError) as exc:
        read_workbook(filename, data)
    return [str(e) for e in exc.value.errors]


def test_xlsx_rows_keep_excel_row_numbers_and_types():
    wb = Workbook()
    ws = wb.active
    ws.title = "人员"
    ws["B3"] = "工号"
    ws["B4"] = "１２３"
    ws["C4"] = date(2022, 3, 18)
    ws["D4"] = datetime(2022, 3, 18, 8, 0)
    ws["E4"] = 13812345678
    buf = io.BytesIO()
    wb.save(buf)
    book = read_workbook("r.xlsx", buf.getvalue())
    assert book.format == XLSX
    sheet = book.sheets[0]
    assert sheet.name == "人员"
    assert sheet.rows[2][1] == "工号"  # row 3 in Excel
    assert sheet.rows[3][1:5] == ["１２３", date(2022, 3, 18), datetime(2022, 3, 18, 8, 0), 13812345678.0]
    assert sheet.formulas == []


def test_formula_cells_are_found_in_the_sheet_xml():
    wb = Workbook()
    ws = wb.active
    ws.title = "people"
    ws.append(["工号", "姓名"])
    ws.append(["A1", '=CONCAT("张","三")'])
    ws.append(["A2", "李四"])
    ws["C3"] = "=1+1"
    buf = io.BytesIO()
    wb.save(buf)
    book = read_workbook("f.xlsx", buf.getvalue())
    assert sorted(book.sheets[0].formulas) == [(2, 1), (3, 2)]


def test_csv_utf8_with_bom_and_gb18030():
    rows = [["工号", "姓名"], ["P1", "张三"]]
    for encoding in ("utf-8-sig", "utf-8", "gb18030"):
        book = read_workbook("p.csv", csv_data(rows, encoding))
        assert book.format == CSV
        assert book.sheets[0].rows == rows


def test_csv_with_semicolons_or_tabs():
    rows = [["工号", "姓名", "单位编码"], ["P1", "张三", "XH"]]
    assert read_workbook("p.csv", csv_data(rows, delimiter=";")).sheets[0].rows == rows
    assert read_workbook("p.txt", csv_data(rows, delimiter="\t")).sheets[0].rows == rows


def test_csv_formula_cells_are_reported_and_export_escapes_undone():
    data = csv_data([["工号", "姓名"], ["P1", "=1+2"], ["P2", "'=not a formula"]])
    sheet = read_workbook("p.csv", data).sheets[0]
    assert sheet.formulas == [(2, 1)]
    assert sheet.rows[2][1] == "=not a formula"


def test_empty_file_is_refused():
    assert refused("roster.xlsx", b"") == ["roster.xlsx : The file is empty."]


@override_settings(MUSTER_IMPORT_MAX_BYTES=1000)
def test_file_over_the_limit_is_refused_before_parsing():
    data = b"PK\x03\x04" + b"\x00" * 2000  # would not even parse
    [message] = refused("big.xlsx", data)
    assert "limit is 1000 B" in message
    with pytest.raises(TabularError):
        check_size("big.xlsx", 1001)
    check_size("ok.xlsx", 1000)


@pytest.mark.parametrize(
    ("filename", "data", "reason"),
    [
        ("roster.xlsx", "工号,姓名\nP1,张三\n".encode(), "not an Excel workbook"),
        ("roster.xlsx", PNG, "PNG"),
        ("roster.csv", PNG, "PNG"),
        ("roster.png", PNG, "PNG"),
        ("roster.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "old-format Excel"),
        ("roster.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF"),
        ("roster.csv", bytes(range(256)) * 4, "not an Excel workbook"),
    ],
)
def test_files_that_are_not_workbooks_are_refused(filename, data, reason):
    [message] = refused(filename, data)
    assert message.startswith(filename)
    assert reason in message


def test_a_zip_that_is_not_a_workbook_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "hi")
    [message] = refused("roster.xlsx", buf.getvalue())
    assert "zip archive" in message


def test_a_damaged_workbook_is_refused():
    data = xlsx({"人员": [["工号"], ["P1"]]})
    broken = data[: len(data) // 2]
    assert refused("roster.xlsx", broken)


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == ["A", "Z", "AA", "AB", "ZZ", "AAA"]
    assert all(column_index(column_letter(i)) == i for i in range(800))
