"""Building roster files for tests: real .xlsx workbooks (openpyxl) and .csv bytes."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

UNIT_HEADERS = ["编码", "名称", "上级编码", "类型"]
PEOPLE_HEADERS = [
    "工号",
    "姓名",
    "性别",
    "出生日期",
    "单位编码",
    "党组织编码",
    "政治面貌",
    "人员状态",
    "手机",
    "身份证号",
    "标签",
]


def xlsx(sheets: dict[str, Sequence[Sequence[Any]]]) -> bytes:
    """A workbook with one sheet per item (name → rows, the first row being the header)."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(title=name)
        for row in rows:
            ws.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_data(rows: Sequence[Sequence[Any]], encoding: str = "utf-8-sig", delimiter: str = ",") -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue().encode(encoding)


def person_row(code: str, name: str, unit: str, **extra: Any) -> list[Any]:
    """A people-sheet row in the order of PEOPLE_HEADERS."""
    values = {
        "gender": "",
        "birth": "",
        "party": "",
        "political": "",
        "status": "",
        "phone": "",
        "id": "",
        "tags": "",
    }
    values.update(extra)
    return [
        code,
        name,
        values["gender"],
        values["birth"],
        unit,
        values["party"],
        values["political"],
        values["status"],
        values["phone"],
        values["id"],
        values["tags"],
    ]


def read_back(data: bytes) -> dict[str, list[list[Any]]]:
    """The sheets of an .xlsx file as lists of rows (through openpyxl, independent of the importer)."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
