"""Writing a layout: a header row, then rows; .xlsx (openpyxl, write-only) or .csv (UTF-8 with BOM).

Text that starts like a formula is written as text (xlsx) or escaped with a leading apostrophe (csv),
so an exported file never runs anything when opened; the reader undoes the escape.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook as XlsxWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class SheetData:
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = ()


def xlsx_bytes(sheets: Iterable[SheetData]) -> bytes:
    wb = XlsxWorkbook(write_only=True)
    bold = Font(bold=True)
    for data in sheets:
        ws = wb.create_sheet(title=data.title[:31])
        for i, w in enumerate(data.widths):
            ws.column_dimensions[_letter(i)].width = w
        ws.freeze_panes = "A2"
        header = []
        for h in data.headers:
            c = WriteOnlyCell(ws, value=h)
            c.font = bold
            header.append(c)
        ws.append(header)
        for row in data.rows:
            ws.append([_xlsx_cell(ws, v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _xlsx_cell(ws: Any, v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, str):
        if not v:
            return None
        v = ILLEGAL_CHARACTERS_RE.sub("", v)
        if v.startswith("="):
            c = WriteOnlyCell(ws, value=v)
            c.data_type = "s"  # text, never a formula
            return c
        return v
    if isinstance(v, datetime):
        c = WriteOnlyCell(ws, value=v)
        c.number_format = "yyyy-mm-dd hh:mm"
        return c
    if isinstance(v, date):
        c = WriteOnlyCell(ws, value=v)
        c.number_format = "yyyy-mm-dd"
        return c
    return v


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for row in rows:
        w.writerow([_csv_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.isoformat(sep=" ", timespec="minutes")
    if isinstance(v, date):
        return v.isoformat()
    s = str(v)
    if s.startswith(_FORMULA_START):
        return "'" + s
    return s


def _letter(i: int) -> str:
    from muster.tabular.reader import column_letter

    return column_letter(i)
