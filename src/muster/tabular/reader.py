"""Reading an uploaded file into sheets of raw cell values: .xlsx (python-calamine) or .csv.

Problems with the file as a whole (too big, empty, not a workbook, a sheet past the row/column caps)
raise ``TabularError`` at once. An .xlsx is parsed in a child process with bounded memory and CPU, each
sheet's extent checked before it is read (:mod:`muster.tabular.xlsx_parse`); a CSV is capped while it
is read. Formula cells are found by scanning the sheet XML for ``<f>`` elements, so a formula is
reported even where the workbook holds a cached value for it.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import pickle
import posixpath
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.conf import settings
from django.utils.translation import gettext as _

from muster.tabular.errors import ErrorCollector, TabularError

XLSX = "xlsx"
CSV = "csv"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, or a password-protected workbook
_BINARY_MAGIC = {
    b"\x89PNG": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF8": "GIF",
    b"%PDF": "PDF",
    b"\x1f\x8b": "gzip",
    b"Rar!": "RAR",
    b"7z\xbc\xaf": "7z",
}
# How much larger than the upload limit the unpacked workbook may be (a guard against zip bombs).
_UNPACKED_FACTOR = 30


@dataclass
class RawSheet:
    """One sheet: ``rows[i]`` is Excel's row ``i + 1``; ``formulas`` are (row number, column index) pairs."""

    name: str
    rows: list[list[Any]]
    formulas: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Workbook:
    file: str
    format: str
    sheets: list[RawSheet]


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} B"


def max_bytes() -> int:
    return int(getattr(settings, "MUSTER_IMPORT_MAX_BYTES", 20 * 1024 * 1024))


def check_size(filename: str, size: int, limit: int | None = None) -> None:
    """Refuse a file over the configured limit (call before reading it) or an empty one."""
    limit = max_bytes() if limit is None else limit
    errors = ErrorCollector(filename)
    if size == 0:
        errors.file_error(_("The file is empty."))
    elif size > limit:
        errors.file_error(
            _("The file is %(size)s; the limit is %(limit)s.")
            % {"size": human_size(size), "limit": human_size(limit)}
        )
    errors.raise_if_any()


def read_workbook(filename: str, data: bytes, *, limit: int | None = None) -> Workbook:
    """Read ``data`` (the bytes of ``filename``) into raw sheets, or raise ``TabularError``."""
    check_size(filename, len(data), limit)
    ext = posixpath.splitext(filename.lower())[1]
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(filename, data, limit=max_bytes() if limit is None else limit)
    if data.startswith(_OLE_MAGIC):
        _fail(
            filename,
            _(
                "This is an old-format Excel file (.xls) or a password-protected workbook; "
                "save it as an unprotected .xlsx or as .csv and try again."
            ),
        )
    if ext in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        _fail(filename, _not_a_workbook(data))
    return _read_csv(filename, data)


def _fail(filename: str, reason: str) -> NoReturn:
    errors = ErrorCollector(filename)
    errors.file_error(reason)
    raise errors.exception()


def _not_a_workbook(data: bytes) -> str:
    for magic, kind in _BINARY_MAGIC.items():
        if data.startswith(magic):
            return _(
                "This is not an Excel workbook (.xlsx) or a CSV file; it looks like a %(kind)s file."
            ) % {"kind": kind}
    return _("This is not an Excel workbook (.xlsx) or a CSV file.")


# ---------------------------------------------------------------- xlsx


def max_rows() -> int:
    return int(getattr(settings, "MUSTER_IMPORT_MAX_ROWS", 200_000))


def max_columns() -> int:
    return int(getattr(settings, "MUSTER_IMPORT_MAX_COLUMNS", 200))


def max_cells() -> int:
    return int(getattr(settings, "MUSTER_IMPORT_MAX_CELLS", 10_000_000))


def _too_big(filename: str, sheet: str, row: int, col: int) -> NoReturn:
    limits = {"rows": f"{max_rows():,}", "cols": f"{max_columns():,}", "cells": f"{max_cells():,}"}
    if not sheet:  # a CSV file
        _fail(
            filename,
            _(
                "Row %(row)s goes past the limits: a file may hold at most %(rows)s rows, %(cols)s "
                "columns and %(cells)s cells in all. Split it into smaller files and try again."
            )
            % {"row": f"{row:,}", **limits},
        )
    _fail(
        filename,
        _(
            "Sheet “%(sheet)s” has a cell at %(cell)s; a sheet may hold at most %(rows)s rows, "
            "%(cols)s columns and %(cells)s cells in all. Delete what lies below and to the right of "
            "your data (Ctrl+End in Excel shows the last cell), save the file and try again."
        )
        % {"sheet": sheet, "cell": f"{column_letter(col)}{row}" if row > 0 and col >= 0 else "?", **limits},
    )


def _read_xlsx(filename: str, data: bytes, *, limit: int) -> Workbook:
    """Parse in a child process with bounded memory and CPU (:mod:`muster.tabular.xlsx_parse`)."""
    memory = int(getattr(settings, "MUSTER_IMPORT_MEMORY_MB", 2048)) * 1024 * 1024
    cpu = int(getattr(settings, "MUSTER_IMPORT_CPU_SECONDS", 120))
    args = [
        str(max_rows()),
        str(max_columns()),
        str(max_cells()),
        str(limit * _UNPACKED_FACTOR),
        str(memory),
        str(cpu),
    ]
    env = {k: v for k, v in os.environ.items() if k in _CHILD_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    try:
        proc = subprocess.run(  # noqa: S603 — our own module, arguments are numbers
            [sys.executable, "-m", "muster.tabular.xlsx_parse", *args],
            input=data,
            capture_output=True,
            timeout=cpu * 2 + 30,
            env=env,
            check=False,
        )
        result = pickle.loads(proc.stdout) if proc.returncode == 0 and proc.stdout else {"error": "resources"}  # noqa: S301 — written by our child process
    except (subprocess.TimeoutExpired, pickle.UnpicklingError, EOFError):
        result = {"error": "resources"}
    if "error" in result:
        _xlsx_error(filename, data, result["error"], result)
    return Workbook(
        filename, XLSX, [RawSheet(name, rows, formulas) for name, rows, formulas in result["sheets"]]
    )


# What the child inherits of the environment (locale and paths; no secrets).
_CHILD_ENV = {"PATH", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "HOME", "SYSTEMROOT"}


def _xlsx_error(filename: str, data: bytes, code: str, result: dict[str, Any]) -> NoReturn:
    if code == "not_a_workbook":
        _fail(filename, _not_a_workbook(data))
    if code == "zip_not_workbook":
        _fail(filename, _("This is a zip archive, not an Excel workbook (.xlsx)."))
    if code == "unpacks_too_large":
        _fail(
            filename,
            _("The workbook unpacks to %(size)s, which is too large.") % {"size": human_size(result["size"])},
        )
    if code == "sheet_too_big":
        _too_big(filename, result["sheet"], result["row"], result["col"])
    if code == "unreadable":
        _fail(
            filename,
            _("The workbook cannot be read (%(detail)s); open it in Excel and save it again.")
            % {"detail": result.get("detail", "")},
        )
    _fail(
        filename,
        _(
            "The workbook needs more memory or time to read than an import may take; split it into "
            "smaller files, or save it again from Excel, and try again."
        ),
    )


def column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def column_letter(index: int) -> str:
    s = ""
    n = index + 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


# ---------------------------------------------------------------- csv


def _read_csv(filename: str, data: bytes) -> Workbook:
    text = _decode(filename, data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max((",", "\t", ";"), key=first.count) if first else ","
    rows: list[list[Any]] = []
    formulas: list[tuple[int, int]] = []
    row_cap, col_cap, cell_cap = max_rows(), max_columns(), max_cells()
    cells_read = 0
    try:
        for i, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            cells_read += len(record)
            if i > row_cap or len(record) > col_cap or cells_read > cell_cap:
                _too_big(filename, "", i, min(len(record), col_cap + 1) - 1)
            cells: list[Any] = []
            for j, value in enumerate(record):
                stripped = value.strip()
                if stripped.startswith("=") and len(stripped) > 1:
                    formulas.append((i, j))
                elif len(stripped) > 1 and stripped[0] == "'" and stripped[1] in "=+-@":
                    value = stripped[1:]  # our own export escapes these against formula injection
                cells.append(value)
            rows.append(cells)
    except csv.Error as exc:
        _fail(filename, _("The CSV file cannot be read: %(detail)s") % {"detail": str(exc)})
    return Workbook(filename, CSV, [RawSheet("", rows, formulas)])


def _decode(filename: str, data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            _fail(filename, _not_a_workbook(data))
    head = data[:65536]
    if b"\x00" in head or data.startswith(tuple(_BINARY_MAGIC)):
        _fail(filename, _not_a_workbook(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            _fail(filename, _("The CSV file is neither UTF-8 nor GB18030 text."))
    sample = text[:20000]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if sample and controls > len(sample) // 100:
        _fail(filename, _not_a_workbook(data))
    return text


def iter_nonempty(rows: Iterable[list[Any]]) -> Iterable[tuple[int, list[Any]]]:
    """(Excel row number, cells) of the rows that hold anything (blank strings hold nothing)."""
    for i, row in enumerate(rows, start=1):
        for v in row:
            if (v or v == 0) and not (type(v) is str and v.isspace()):
                yield i, row
                break


__all__ = [
    "CSV",
    "XLSX",
    "RawSheet",
    "TabularError",
    "Workbook",
    "check_size",
    "column_index",
    "column_letter",
    "iter_nonempty",
    "read_workbook",
]
