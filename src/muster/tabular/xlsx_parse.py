"""Parsing an .xlsx workbook within bounds, in a child process (pure Python + python-calamine, no Django).

A workbook is only a zip of XML: a 1.5 KB file whose sheet has cells at A1 and XFD1048576 declares a
grid of 17 billion cells, and python-calamine allocates the whole grid (512 GB) before it returns a
single row — the allocation failure aborts the process. So:

1. every worksheet part is scanned first (a streaming pattern scan, no XML parser, no entity
   expansion) for the last row and column that hold a cell, and a sheet over the caps is refused
   before python-calamine sees it;
2. the whole parse runs in a child process (``python -m muster.tabular.xlsx_parse``) with a memory and
   CPU limit, so whatever a hostile file still manages to do, it cannot take the web process down.

The parent (:mod:`muster.tabular.reader`) sends the file on stdin and the limits on the command line,
and reads back a pickled ``dict``: ``{"sheets": [(name, rows, formulas), …]}`` or
``{"error": code, …details}``; it turns error codes into translated messages.
"""

from __future__ import annotations

import html
import io
import pickle
import posixpath
import re
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

_SHEET_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\s([^>]*)>")
_REL_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Relationship\s([^>]*)>")
_ATTR_RE = re.compile(rb"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_FORMULA_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s/>]")
_CELL_RE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br=[\"']([A-Z]{1,3})(\d+)[\"'][^>]*?"
    rb"(?:/>|>(.*?)</(?:[A-Za-z_][\w.-]*:)?c>)",
    re.DOTALL,
)
# The start tags of rows and cells, in document order: (tag name, attributes, "/" when self-closing).
_ROW_CELL_TAG_RE = re.compile(
    rb"<(?:[^\s<>/:!?]*:)?(row|c)((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
)
_TAG_ATTR_RE = re.compile(rb"\s+([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REF_VALUE_RE = re.compile(rb"^\s*([A-Za-z]*)(\d*)\s*$")
# The fast path: every row and cell tag, those of them with a reference, and the cells that may hold a
# value (not self-closing) with their reference.
_ANY_TAG_RE = re.compile(rb"<(?:[^\s<>/:!?]*:)?(?:row|c)[\s/>]")
_REF_TAG_RE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:row|c)\s[^>]*?\br\s*=\s*[\"'][A-Z]{0,3}\d+[\"']")
_VALUE_CELL_RE = re.compile(
    rb"<(?:[A-Za-z_][\w.-]*:)?c\s[^>]*?\br\s*=\s*[\"']([A-Z]{1,3})(\d+)[\"'][^>]*(?<!/)>"
)
_CHUNK = 1 << 20


class SheetTooBig(Exception):
    def __init__(self, part: str, row: int, col: int) -> None:
        super().__init__(part)
        self.part, self.row, self.col = part, row, col


def _attrs(tag: bytes) -> dict[str, str]:
    out = {}
    for k, v1, v2 in _ATTR_RE.findall(tag):
        out[k.decode()] = html.unescape((v1 or v2).decode("utf-8", "replace"))
    return out


def column_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """{sheet name: its XML part in the zip}, read with patterns (no XML parser, no entity expansion)."""
    names = set(zf.namelist())
    rels_name = "xl/_rels/workbook.xml.rels"
    targets: dict[str, str] = {}
    if rels_name in names:
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


def _chunks(zf: zipfile.ZipFile, part: str) -> Iterator[bytes]:
    """The part's bytes in chunks that each end after a complete tag (an unfinished tag waits)."""
    tail = b""
    with zf.open(part) as fh:
        while chunk := fh.read(_CHUNK):
            buf = tail + chunk
            cut = buf.rfind(b"<")
            if cut != -1 and buf.find(b">", cut) == -1:
                buf, tail = buf[:cut], buf[cut:]
                if len(tail) > _CHUNK:  # one tag longer than a megabyte: not a worksheet
                    raise SheetTooBig(part, 0, 0)
            else:
                tail = b""
            yield buf
    if tail:
        yield tail


def _column_key(letters: bytes) -> tuple[int, bytes]:
    return (len(letters), letters)


def sheet_extent(
    zf: zipfile.ZipFile, part: str, *, max_rows: int, max_cols: int, max_cells: int
) -> tuple[int, int]:
    """(last row, number of columns) of the cells of a worksheet part that may hold a value.

    Streams the part in chunks and raises ``SheetTooBig`` as soon as the extent passes a cap, so a
    hostile sheet costs one pass over its XML at most. Cells written as ``<c …/>`` (a style with no
    value) do not count: they are what Excel leaves behind a formatted but empty area, and
    python-calamine skips them too. Every cell Excel or openpyxl writes has an ``r`` reference; the
    patterns find them in C. Rows or cells without one take the next position, as spreadsheet readers
    do: such a part gets the slower walk tag by tag.
    """
    last_row = last_col = 0
    for buf in _chunks(zf, part):
        if len(_ANY_TAG_RE.findall(buf)) != len(_REF_TAG_RE.findall(buf)):
            return _walk_extent(zf, part, max_rows=max_rows, max_cols=max_cols, max_cells=max_cells)
        cells = _VALUE_CELL_RE.findall(buf)
        if not cells:
            continue
        letters = max({c for c, _ in cells}, key=_column_key)
        row, col = max(map(int, {d for _, d in cells})), column_index(letters.decode())
        last_row, last_col = max(last_row, row), max(last_col, col + 1)
        if last_row > max_rows or last_col > max_cols or last_row * last_col > max_cells:
            # Name a cell past the caps: the right-most of the bottom row, or the bottom-most of the
            # right-most column.
            if last_row > max_rows or last_col <= max_cols:
                col = max(column_index(c.decode()) for c, d in cells if int(d) == row)
            else:
                row = max(int(d) for c, d in cells if c == letters)
            raise SheetTooBig(part, row, col)
    return last_row, last_col


def _ref(attrs: bytes) -> re.Match[bytes] | None:
    """The value of the attribute named exactly ``r`` (not ``x:r``, not text inside another value)."""
    for name, v1, v2 in _TAG_ATTR_RE.findall(attrs):
        if name == b"r":
            return _REF_VALUE_RE.match(v1 or v2)
    return None


def _walk_extent(
    zf: zipfile.ZipFile, part: str, *, max_rows: int, max_cols: int, max_cells: int
) -> tuple[int, int]:
    last_row = last_col = 0
    row = 0
    col = -1
    for buf in _chunks(zf, part):
        for m in _ROW_CELL_TAG_RE.finditer(buf):
            ref = _ref(m.group(2) or b"")
            if m.group(1) == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                col = -1
                continue
            if ref and ref.group(1) and ref.group(2):
                col = column_index(ref.group(1).decode())
                row = int(ref.group(2))
            else:
                col += 1
            if m.group(3):  # <c …/>: no value
                continue
            last_row, last_col = max(last_row, row), max(last_col, col + 1)
            if last_row > max_rows or last_col > max_cols or last_row * last_col > max_cells:
                raise SheetTooBig(part, row, col)
    return last_row, last_col


def formula_cells(zf: zipfile.ZipFile, part: str) -> list[tuple[int, int]]:
    """Cells of a sheet that hold a formula: [(row, column index)]; scans the XML in chunks first."""
    found = False
    tail = b""
    with zf.open(part) as fh:
        while chunk := fh.read(_CHUNK):
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


def parse(data: bytes, *, max_rows: int, max_cols: int, max_cells: int, max_unpacked: int) -> dict[str, Any]:
    """Parse the bytes of an .xlsx file into ``{"sheets": [...]}`` or ``{"error": code, ...}``."""
    import python_calamine

    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
        names = {i.filename for i in infos}
        unpacked = sum(i.file_size for i in infos)
    except (zipfile.BadZipFile, ValueError, OSError):
        return {"error": "not_a_workbook"}
    if "xl/workbook.xml" not in names:
        return {"error": "zip_not_workbook"}
    if unpacked > max_unpacked:
        return {"error": "unpacks_too_large", "size": unpacked}
    try:
        parts = sheet_parts(zf)
        part_names = {v: k for k, v in parts.items()}
        # Every worksheet part, whether or not the workbook's relationships could be read here.
        scan = set(parts.values()) | {
            n for n in names if n.startswith("xl/worksheets/") and n.endswith(".xml")
        }
        for scanned in sorted(scan & names):
            try:
                sheet_extent(zf, scanned, max_rows=max_rows, max_cols=max_cols, max_cells=max_cells)
            except SheetTooBig as exc:
                return {
                    "error": "sheet_too_big",
                    "sheet": part_names.get(scanned, posixpath.basename(scanned)),
                    "row": exc.row,
                    "col": exc.col,
                }
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for meta in book.sheets_metadata:
            if str(meta.typ).rsplit(".", 1)[-1] != "WorkSheet":
                continue
            part = parts.get(meta.name)
            if part is None or part not in names:
                # A sheet this scan could not locate was not bounds-checked: do not hand it over.
                return {"error": "unreadable", "detail": f"sheet {meta.name!r} has no worksheet part"}
            sheet = book.get_sheet_by_name(meta.name)
            # The scan above is a fast pre-filter that refuses a hostile sheet before python-calamine
            # builds its grid; this is the check of record, on the grid python-calamine actually read
            # (whatever spelling of cells, names or relationships the scan might have missed — a grid
            # too big to build at all kills this process at its memory limit, which is refused too).
            end = sheet.end
            if end is not None:
                last_row, last_col = end[0] + 1, end[1] + 1
                if last_row > max_rows or last_col > max_cols or last_row * last_col > max_cells:
                    return {"error": "sheet_too_big", "sheet": meta.name, "row": last_row, "col": end[1]}
            rows = sheet.to_python(skip_empty_area=False)
            sheets.append((meta.name, rows, formula_cells(zf, part)))
    except (python_calamine.CalamineError, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        return {"error": "unreadable", "detail": str(exc)[:200]}
    return {"sheets": sheets}


def _limit_resources(memory_bytes: int, cpu_seconds: int) -> None:
    import resource

    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def main(argv: list[str]) -> int:
    """``python -m muster.tabular.xlsx_parse MAX_ROWS MAX_COLS MAX_CELLS MAX_UNPACKED MEMORY CPU``."""
    max_rows, max_cols, max_cells, max_unpacked, memory, cpu = (int(a) for a in argv)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but the result goes to the parent's pipe
    _limit_resources(memory, cpu)
    data = sys.stdin.buffer.read()
    try:
        result = parse(
            data, max_rows=max_rows, max_cols=max_cols, max_cells=max_cells, max_unpacked=max_unpacked
        )
    except MemoryError:
        result = {"error": "resources"}
    out.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
