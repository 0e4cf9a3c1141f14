"""Blank files to fill in: the layout's header row, drop-down lists and one example row.

Each sheet of a template holds the header row, then ONE example row whose first cell starts with the
example mark ("示例" in Chinese, "Example" in English: see ``muster.tabular.schema.is_example``). The
import skips such rows, so a template filled in below its example imports only the rows typed in, and
the untouched template is refused with a message that says what to do.

Columns with a fixed set of values (unit type, gender, state, kind …) and unit-code columns (the units of
the downloader's scope) get a drop-down list (Excel data validation). The lists live on a hidden sheet
(a list written into the rule itself may hold at most 255 characters; a district has more unit codes);
its rows hold values only, no header, and the reader skips a sheet of that name that no layout names
(``schema.TEMPLATE_LISTS_SHEET``), so a value that reads like a header never makes it a data sheet.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from muster.tabular.reader import column_letter
from muster.tabular.schema import TEMPLATE_LISTS_SHEET, SheetSpec, example_mark
from muster.tabular.writer import XLSX_CONTENT_TYPE

LISTS_SHEET = TEMPLATE_LISTS_SHEET
_MAX_ROWS = 5000  # rows a drop-down applies to
_EXAMPLE_FILL = PatternFill("solid", fgColor="FFF2CC")


@dataclass
class TemplateSheet:
    """One sheet of a template: its layout, drop-down values by column key, the example row by column key
    (its first column gets the example mark in front), column widths."""

    spec: SheetSpec
    choices: dict[str, Sequence[str]] = field(default_factory=dict)
    example: dict[str, Any] = field(default_factory=dict)
    widths: Sequence[int] = ()


def template_bytes(sheets: Sequence[TemplateSheet], *, chinese: bool) -> bytes:
    """An .xlsx template of ``sheets``."""
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    list_col = 0
    mark = example_mark(chinese)
    for ts in sheets:
        ws = wb.create_sheet(ts.spec.title(chinese)[:31], index=len(wb.sheetnames) - 1)
        ws.append(ts.spec.headers(chinese))
        for cell in ws[1]:
            cell.font = bold
        ws.freeze_panes = "A2"
        for i, w in enumerate(ts.widths):
            ws.column_dimensions[column_letter(i)].width = w
        example = []
        for n, col in enumerate(ts.spec.columns):
            value = ts.example.get(col.key, "")
            if n == 0:
                value = f"{mark}{value}"
            example.append(value)
        ws.append(example)
        for cell in ws[2]:
            cell.fill = _EXAMPLE_FILL
        for n, col in enumerate(ts.spec.columns):
            values = [v for v in ts.choices.get(col.key, ()) if v]
            if not values:
                continue
            letter = column_letter(list_col)
            list_col += 1
            for r, v in enumerate(values, start=1):
                lists.cell(row=r, column=list_col, value=v)
            rule = DataValidation(
                type="list",
                formula1=f"{LISTS_SHEET}!${letter}$1:${letter}${len(values)}",
                allow_blank=True,
                showErrorMessage=False,  # a value off the list is checked (and explained) by the import
            )
            rule.promptTitle = col.header(chinese)[:32]
            rule.prompt = _("Pick from the list")[:255]
            rule.showInputMessage = True
            target = column_letter(n)
            rule.add(f"{target}2:{target}{_MAX_ROWS}")
            ws.add_data_validation(rule)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def template_file(sheets: Sequence[TemplateSheet], *, chinese: bool, name: str) -> tuple[bytes, str, str]:
    """(content, content type, file name) of a template."""
    return template_bytes(sheets, chinese=chinese), XLSX_CONTENT_TYPE, name
