"""Hostile workbooks: a sheet's extent is checked before it is read, and parsing runs in a child process.

The probe's file: cells at A1 and XFD1048576 (1.5 KB) made python-calamine allocate 512 GB and abort
the process; a cell at Z1000000 took 9.5 s and 1.2 GB. Both are refused with a message naming the cell,
and a workbook that still gets past the checks can only kill the child, never the process that serves.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import translation
from openpyxl import Workbook

from muster.tabular.errors import TabularError
from muster.tabular.reader import read_workbook

# The tests/mobilize fixtures (cast: people with roles on a batch's units).
from tests.mobilize.conftest import cast  # noqa: F401


@pytest.fixture(autouse=True)
def english() -> Any:
    with translation.override("en"):
        yield


def workbook(*cells: str, title: str = "人员") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for i, ref in enumerate(cells):
        ws[ref] = f"v{i}"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def with_sheet_xml(data: bytes, sheet_data: str) -> bytes:
    """The workbook ``data`` with its first sheet's <sheetData> replaced by ``sheet_data``."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = body.decode()
                a, b = text.index("<sheetData"), text.index("</sheetData>") + len("</sheetData>")
                body = (text[:a] + sheet_data + text[b:]).encode()
            dst.writestr(info, body)
    return out.getvalue()


def refusal(name: str, data: bytes) -> str:
    with pytest.raises(TabularError) as exc:
        read_workbook(name, data)
    return " ".join(str(e) for e in exc.value.errors)


BOMB = workbook("A1", "XFD1048576")


def test_the_probes_bomb_is_refused_naming_its_last_cell() -> None:
    assert len(BOMB) < 6000
    message = refusal("bomb.xlsx", BOMB)
    assert "“人员”" in message
    assert "XFD1048576" in message
    assert "200,000 rows" in message


def test_a_cell_a_million_rows_down_is_refused() -> None:
    assert "Z1000000" in refusal("z.xlsx", workbook("A1", "Z1000000"))


def test_rows_and_cells_without_references_are_counted_too() -> None:
    # 300 cells in one row, none with an r="…" reference: they take the next column each.
    cells = "".join(f'<c t="inlineStr"><is><t>{i}</t></is></c>' for i in range(300))
    data = with_sheet_xml(workbook("A1"), f"<sheetData><row>{cells}</row></sheetData>")
    message = refusal("wide.xlsx", data)
    assert "GS1" in message  # column 201 = GS: the first cell past the 200-column cap


@override_settings(MUSTER_IMPORT_MAX_ROWS=10, MUSTER_IMPORT_MAX_COLUMNS=5)
@pytest.mark.parametrize(
    "cell",
    [
        # Spellings a reviewer found that fooled the scan: the check of record is the grid python-calamine
        # reads, so each is refused all the same.
        """<c foo=' r="B2"' r="Z100" t="inlineStr"><is><t>x</t></is></c>""",
        """<c xmlns:x="u" x:r="B2" r="Z100" t="inlineStr"><is><t>x</t></is></c>""",
        """<c foo=">" r="Z100" t="inlineStr"><is><t>x</t></is></c>""",
        """<c r="AAAA2" t="inlineStr"><is><t>x</t></is></c>""",
    ],
)
def test_cells_spelled_to_slip_past_the_scan_are_refused(cell: str) -> None:
    data = with_sheet_xml(workbook("A1"), f"<sheetData><row>{cell}</row></sheetData>")
    message = refusal("sly.xlsx", data)
    assert "a sheet may hold at most 10 rows, 5 columns" in message


def test_styled_empty_cells_do_not_count() -> None:
    # Excel leaves <c r="…" s="1"/> behind a formatted area: no value, not part of the data.
    data = with_sheet_xml(
        workbook("A1"),
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>工号</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576" s="0"/></row></sheetData>',
    )
    book = read_workbook("styled.xlsx", data)
    assert book.sheets[0].rows == [["工号"]]


@override_settings(MUSTER_IMPORT_MAX_ROWS=5, MUSTER_IMPORT_MAX_COLUMNS=3)
def test_the_caps_are_settings() -> None:
    assert read_workbook("ok.xlsx", workbook("A1", "C5")).sheets[0].rows[4][2] == "v1"
    assert "D1" in refusal("wide.xlsx", workbook("A1", "D1"))
    assert "A6" in refusal("long.xlsx", workbook("A1", "A6"))


@override_settings(MUSTER_IMPORT_MAX_CELLS=10)
def test_the_area_cap_counts_the_grid_not_the_cells() -> None:
    # Two cells, but a 4 x 3 grid (12 cells) once the reader pads it out.
    assert "C4" in refusal("grid.xlsx", workbook("A1", "C4"))


@override_settings(
    MUSTER_IMPORT_MAX_ROWS=10**9, MUSTER_IMPORT_MAX_COLUMNS=10**9, MUSTER_IMPORT_MAX_CELLS=10**18
)
def test_a_parse_that_dies_kills_the_child_not_this_process() -> None:
    # With the caps lifted, the bomb reaches python-calamine, whose 512 GB allocation aborts the child
    # (memory limit 1 GB): the reader reports it and this process goes on.
    with override_settings(MUSTER_IMPORT_MEMORY_MB=1024):
        message = refusal("bomb.xlsx", BOMB)
    assert "more memory or time" in message
    assert read_workbook("fine.xlsx", workbook("A1", "B2")).sheets[0].rows[1][1] == "v1"


@override_settings(MUSTER_IMPORT_MAX_ROWS=100)
def test_a_csv_past_the_row_cap_is_refused_while_read() -> None:
    data = ("工号,姓名\n" + "\n" * 5000).encode()
    assert "Row 101" in refusal("long.csv", data)


def test_a_csv_past_the_column_cap_is_refused() -> None:
    assert "at most 200,000 rows, 200 columns" in refusal("wide.csv", ("," * 5000 + "\n").encode())


# ----------------------------------------------------------------- through the interfaces users use


def test_the_staff_register_api_refuses_the_bomb_with_400(
    org: Any, make_user: Callable[..., Any], login: Callable[[Any], Client]
) -> None:
    client = login(make_user("xh-manager", "manager", org.xuhui))
    r = client.post("/api/v1/roster/import?dry_run=true", {"file": SimpleUploadedFile("bomb.xlsx", BOMB)})
    assert 400 <= r.status_code < 500
    assert "XFD1048576" in r.content.decode()


def test_the_ledger_api_refuses_the_bomb_with_400(cast: Any, login: Callable[[Any], Client]) -> None:  # noqa: F811
    r = login(cast.leader).post(
        "/api/v1/mobilize/import?dry_run=true", {"file": SimpleUploadedFile("bomb.xlsx", BOMB)}
    )
    assert 400 <= r.status_code < 500
    assert "XFD1048576" in r.content.decode()
