"""Reading an uploaded file into sheets of raw cell values: .xlsx (python-calamine) or .csv.

Problems with the file as a whole (too big, empty, not a workbook) raise ``TabularError`` at once.
Formula cells are found by scanning the sheet XML for ``<f>`` elements, so a formula is reported even
where the workbook holds a cached value for it.
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import posixpath
import re
import zipfile
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
_SHEET_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\s([^>]*)>")
_REL_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Relationship\s([^>]*)>")
_ATTR_RE = re.compile(rb"([\w:.-]+)\s*=\s*\"([^\"]*)\"")
_FORMULA_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
_CELL_RE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br=\"([A-Z]{1,3})(\d+)\"[^>]*?(?:/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?c>)",
    re.DOTALL,
)
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


def _read_xlsx(filename: str, data: bytes, *, limit: int) -> Workbook:
    import python_calamine

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
        unpacked = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, ValueError):
        _fail(filename, _not_a_workbook(data))
    if "xl/workbook.xml" not in names:
        _fail(filename, _("This is a zip archive, not an Excel workbook (.xlsx)."))
    if unpacked > limit * _UNPACKED_FACTOR:
        _fail(
            filename,
            _("The workbook unpacks to %(size)s, which is too large.") % {"size": human_size(unpacked)},
        )
    try:
        parts = _sheet_parts(zf)
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for meta in book.sheets_metadata:
            if str(meta.typ).rsplit(".", 1)[-1] != "WorkSheet":
                continue
            rows = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
            part = parts.get(meta.name)
            formulas = _formula_cells(zf, part) if part else []
            sheets.append(RawSheet(meta.name, rows, formulas))
    except (
        python_calamine.CalamineError,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
    ) as exc:
        _fail(
            filename,
            _("The workbook cannot be read (%(detail)s); open it in Excel and save it again.")
            % {"detail": str(exc)[:200]},
        )
    return Workbook(filename, XLSX, sheets)


def _attrs(tag: bytes) -> dict[str, str]:
    return {k.decode(): html.unescape(v.decode("utf-8")) for k, v in _ATTR_RE.findall(tag)}


def _sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: its XML part in the zip}. Read with patterns, not an XML parser (no entity expansion)."""
    rels_name = "xl/_rels/workbook.xml.rels"
    targets: dict[str, str] = {}
    if rels_name in zf.namelist():
        for m in _REL_RE.finditer(zf.read(rels_name)):
            a = _attrs(m.group(1))
            target = a.get("Target", "")
            if target.startswith("/"):
                part = target.lstrip("/")
            else:
                part = posixpath.normpath(posixpath.join("xl", target))
            targets[a.get("Id", "")] = part
    out = {}
    for m in _SHEET_RE.finditer(zf.read("xl/workbook.xml")):
        a = _attrs(m.group(1))
        rid = next((v for k, v in a.items() if k.endswith(":id")), "")
        if rid in targets:
            out[a.get("name", "")] = targets[rid]
    return out


def _formula_cells(zf: zipfile.ZipFile, part: str) -> list[tuple[int, int]]:
    """Cells of a sheet that hold a formula: [(row, column index)]; scans the XML in chunks first."""
    if part not in zf.namelist():
        return []
    found = False
    tail = b""
    with zf.open(part) as fh:
        while chunk := fh.read(1 << 20):
            if _FORMULA_RE.search(tail + chunk):
                found = True
                break
            tail = chunk[-16:]
    if not found:
        return []
    xml = zf.read(part)
    cells = []
    for m in _CELL_RE.finditer(xml):
        inner = m.group(3)
        if inner and _FORMULA_RE.search(inner):
            cells.append((int(m.group(2)), column_index(m.group(1).decode())))
    if not cells:  # formulas in cells without a reference: report the sheet
        cells.append((0, -1))
    return cells


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
    try:
        for i, record in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
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
