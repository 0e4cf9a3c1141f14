"""The Excel 统计台账 of a report (and the CSV of the same rows).

Laid out as such forms are: a merged title row ("…志愿服务统计台账"), the reporting unit (填报单位) and
the cutoff (截至…), a header row, one row per unit, a totals row, then the person in charge (负责人),
the preparer (填报人) and the date. Borders, column widths, hours with two decimals.

``LedgerTable`` is what is written; ``table_of_rollup`` and ``table_of_snapshot`` build it from live
figures or from a published report's frozen ones.

The live ledger has one more sheet per section of the metric registry (care, outreach, …: see
``muster.reports.sections``) after the first, laid out the same way: the unit's child units × the
group's figures as of the cutoff. The first sheet never changes with them. A published report's ledger
has the first sheet only (a snapshot freezes the main figures, not the sections).
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from muster.reports.forms import cutoff_label
from muster.reports.models import Snapshot
from muster.reports.rollup import Figures, Rollup
from muster.reports.sections import SectionTable, number_format, sections_for
from muster.tabular.writer import csv_bytes

# (figure attribute, number format) of the figure columns, in order
COLUMNS: tuple[tuple[str, str], ...] = (
    ("batches", "0"),
    ("person_times", "0"),
    ("persons", "0"),
    ("hours", "0.00"),
    ("community_persons", "0"),
    ("community_hours", "0.00"),
    ("pending_entries", "0"),
)


@dataclass(frozen=True)
class LedgerRow:
    code: str
    name: str
    figures: Figures


@dataclass(frozen=True)
class LedgerTable:
    unit_name: str
    as_of: datetime
    rows: tuple[LedgerRow, ...]
    total: Figures
    snapshot_title: str = ""
    sections: tuple[SectionTable, ...] = ()


def own_label(name: str) -> str:
    return _("%(name)s (itself)") % {"name": name}


def table_of_rollup(report: Rollup, *, sections: Sequence[SectionTable] | None = None) -> LedgerTable:
    """The ledger of a live report; ``sections`` the registry's sections to add as sheets (default: every
    section with data in the unit's subtree — the caller has checked that the user may view the unit)."""
    rows = tuple(LedgerRow(r.code, own_label(r.name) if r.own else r.name, r.figures) for r in report.rows)
    if sections is None:
        sections = sections_for(report.unit, report.as_of)
    name = report.unit.name
    if report.extras.get("basis") == "party_members":  # see ``muster.reports.members``
        name = _("%(name)s: figures of its party members") % {"name": name}
    return LedgerTable(name, report.as_of, rows, report.total, sections=tuple(sections))


def table_of_snapshot(snapshot: Snapshot) -> LedgerTable:
    """The frozen figures of a published report (never the live ones)."""
    rows = tuple(
        LedgerRow(
            r["code"],
            own_label(r["name"]) if r.get("own") else r["name"],
            Figures.from_dict(r["figures"]),
        )
        for r in snapshot.figures["rows"]
    )
    return LedgerTable(
        snapshot.unit.name,
        snapshot.as_of,
        rows,
        Figures.from_dict(snapshot.figures["total"]),
        snapshot_title=snapshot.title,
    )


def headers() -> list[str]:
    return [
        _("No."),
        _("Unit"),
        _("Batches"),
        _("Person-times"),
        _("Persons"),
        _("Dispatch hours"),
        _("Community service persons"),
        _("Community service hours"),
        _("Pending entries (not counted)"),
    ]


def _values(f: Figures) -> list[Any]:
    return [getattr(f, name) for name, _fmt in COLUMNS]


def title_of(table: LedgerTable) -> str:
    return _("%(unit)s volunteer service ledger") % {"unit": table.unit_name}


def xlsx_bytes(table: LedgerTable, *, preparer: str, in_charge: str, today: date) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = _("Ledger")[:31]
    ncol = len(headers())
    last = get_column_letter(ncol)
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    left = Alignment(horizontal="left", vertical="center")
    right = Alignment(horizontal="right", vertical="center")

    # 1: the title, merged across the table
    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = title_of(table)
    ws["A1"].font = Font(bold=True, size=16)
    ws["A1"].alignment = center
    ws.row_dimensions[1].height = 32
    # 2: reporting unit (left half) and cutoff (right half)
    half = ncol // 2
    ws.merge_cells(f"A2:{get_column_letter(half)}2")
    ws["A2"] = _("Reporting unit: %(unit)s") % {"unit": table.unit_name}
    ws["A2"].alignment = left
    ws.merge_cells(f"{get_column_letter(half + 1)}2:{last}2")
    cell = ws.cell(
        row=2, column=half + 1, value=_("As of %(cutoff)s") % {"cutoff": cutoff_label(table.as_of)}
    )
    cell.alignment = right
    # 3: the header row
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    for i, text in enumerate(headers(), start=1):
        c = ws.cell(row=3, column=i, value=text)
        c.font = Font(bold=True)
        c.alignment = center
        c.border = box
        c.fill = head_fill
    ws.row_dimensions[3].height = 30
    # the units, then the totals
    r = 4
    for n, row in enumerate(table.rows, start=1):
        _write_row(ws, r, [n, row.name, *_values(row.figures)], box)
        r += 1
    _write_row(ws, r, ["", _("Total"), *_values(table.total)], box, bold=True)
    ws.merge_cells(f"A{r}:B{r}")
    ws.cell(row=r, column=1, value=_("Total")).alignment = center
    total_row = r
    # the footer: person in charge, preparer, date
    r = total_row + 2
    third = ncol // 3
    spans = [(1, third), (third + 1, 2 * third), (2 * third + 1, ncol)]
    texts = [
        _("Person in charge: %(name)s") % {"name": in_charge},
        _("Preparer: %(name)s") % {"name": preparer},
        _("Date: %(date)s") % {"date": today.isoformat()},
    ]
    for (a, b), text in zip(spans, texts, strict=True):
        ws.merge_cells(start_row=r, start_column=a, end_row=r, end_column=b)
        ws.cell(row=r, column=a, value=text).alignment = left
    note = _("Pending entries are shown apart and never counted.")
    if table.snapshot_title:
        note = _("Published report: %(title)s. %(note)s") % {"title": table.snapshot_title, "note": note}
    ws.merge_cells(start_row=r + 1, start_column=1, end_row=r + 1, end_column=ncol)
    ws.cell(row=r + 1, column=1, value=note).font = Font(italic=True, size=9)

    for i, width in enumerate([6, 28, 9, 11, 9, 13, 15, 15, 15], start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "C4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    taken = {ws.title}
    for section in table.sections:
        _section_sheet(wb, table, section, taken)
    for sheet in wb.worksheets:
        for cells in sheet.iter_rows():
            for c in cells:
                if isinstance(c.value, str):
                    c.value = ILLEGAL_CHARACTERS_RE.sub("", c.value)
                    if c.value.startswith("="):
                        c.data_type = "s"  # text from users (names, the person in charge): never a formula
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_title(title: str, taken: set[str]) -> str:
    """A valid sheet name (31 characters, none of []:*?/\\), unique in the workbook."""
    base = _SHEET_FORBIDDEN.sub(" ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(name)
    return name


def section_sheet_title(section: SectionTable) -> str:
    return str(section.title)


def _section_sheet(wb: Workbook, table: LedgerTable, section: SectionTable, taken: set[str]) -> None:
    """One sheet of a registry section: title, unit and cutoff, a header of the figures' labels, one row
    per child unit (the own row first), the total; "—" for an own row's figures that are not sums."""
    ws = wb.create_sheet(sheet_title(section_sheet_title(section), taken))
    ncol = 2 + len(section.columns)
    last = get_column_letter(ncol)
    thin = Side(style="thin", color="000000")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.merge_cells(f"A1:{last}1")
    ws["A1"] = _("%(unit)s: %(section)s") % {"unit": table.unit_name, "section": section.title}
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = center
    ws.row_dimensions[1].height = 28
    ws["A2"] = _("Reporting unit: %(unit)s") % {"unit": table.unit_name}
    ws.cell(row=2, column=ncol, value=_("As of %(cutoff)s") % {"cutoff": cutoff_label(table.as_of)})
    ws.cell(row=2, column=ncol).alignment = Alignment(horizontal="right")
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    heads = [_("No."), _("Unit"), *(str(m.label) for m in section.columns)]
    for i, text in enumerate(heads, start=1):
        c = ws.cell(row=3, column=i, value=text)
        c.font = Font(bold=True)
        c.alignment = center
        c.border = box
        c.fill = head_fill
    ws.row_dimensions[3].height = 30
    r = 4
    for n, row in enumerate(section.rows, start=1):
        name = own_label(row.name) if row.own else row.name
        _section_row(ws, r, [n, name], section, row.values, box)
        r += 1
    _section_row(ws, r, ["", _("Total")], section, section.total, box, bold=True)
    ws.merge_cells(f"A{r}:B{r}")
    ws.cell(row=r, column=1, value=_("Total")).alignment = center
    ws.column_dimensions["A"].width = 6
    ws.column_dimensions["B"].width = 28
    for i in range(3, ncol + 1):
        ws.column_dimensions[get_column_letter(i)].width = 13
    ws.freeze_panes = "C4"
    ws.print_title_rows = "3:3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1


def _section_row(
    ws: Any,
    r: int,
    head: list[Any],
    section: SectionTable,
    values: Sequence[Any],
    box: Border,
    *,
    bold: bool = False,
) -> None:
    for i, v in enumerate(head, start=1):
        c = ws.cell(row=r, column=i, value=v)
        c.border = box
        c.alignment = Alignment(horizontal="center" if i == 1 else "left")
        if bold:
            c.font = Font(bold=True)
    for i, (m, v) in enumerate(zip(section.columns, values, strict=True), start=len(head) + 1):
        c = ws.cell(row=r, column=i, value="—" if v is None else v)
        c.border = box
        c.alignment = Alignment(horizontal="right")
        if v is not None:
            c.number_format = number_format(m, v)
        if bold:
            c.font = Font(bold=True)


def _write_row(ws: Any, r: int, values: list[Any], box: Border, *, bold: bool = False) -> None:
    for i, v in enumerate(values, start=1):
        c = ws.cell(row=r, column=i, value=v)
        c.border = box
        if bold:
            c.font = Font(bold=True)
        if i > 2:
            c.number_format = COLUMNS[i - 3][1]
            c.alignment = Alignment(horizontal="right")
        elif i == 1:
            c.alignment = Alignment(horizontal="center")


def csv_rows(table: LedgerTable) -> list[list[Any]]:
    rows: list[list[Any]] = [[n, row.name, *_values(row.figures)] for n, row in enumerate(table.rows, 1)]
    rows.append(["", _("Total"), *_values(table.total)])
    return rows


def csv_data(table: LedgerTable) -> bytes:
    return csv_bytes(headers(), csv_rows(table))
