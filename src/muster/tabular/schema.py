"""Layouts (sheets and their columns) and matching an uploaded workbook against them.

A sheet is found by its name (any spelling of the layout's sheet names, case- and space-insensitive) or,
for a CSV file or an unnamed sheet, by its headers. The header row is the first row (of the first ten
that hold anything) matching the most known headers; rows above it (a title) are ignored. Headers match
after NFKC normalization, trimming and lower-casing, in Chinese or English.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from muster.tabular.cells import header_key, text
from muster.tabular.errors import ErrorCollector
from muster.tabular.reader import RawSheet, Workbook, column_letter, iter_nonempty

_HEADER_SEARCH_ROWS = 10
# A template's example row: its first cell starts with one of these (``muster.tabular.template``).
EXAMPLE_MARKS = ("示例", "example")


def example_mark(chinese: bool) -> str:
    """What a template writes in front of its example row's first cell."""
    return "示例：" if chinese else "Example: "


def is_example(value: Any) -> bool:
    """Whether a row's first cell marks it as a template's example (skipped by the import)."""
    return isinstance(value, str) and value.strip().lower().startswith(EXAMPLE_MARKS)


def use_chinese(language: str | None = None) -> bool:
    """Whether exports use the Chinese headers (the active language is Chinese)."""
    return (language or get_language() or "zh-hans").lower().startswith("zh")


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    def spellings(self) -> tuple[str, ...]:
        return (self.zh, self.en, self.key, *self.aliases)

    def header(self, chinese: bool | None = None) -> str:
        return self.zh if (use_chinese() if chinese is None else chinese) else self.en


@dataclass(frozen=True)
class SheetSpec:
    key: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()

    def title(self, chinese: bool | None = None) -> str:
        return self.zh if (use_chinese() if chinese is None else chinese) else self.en

    def sheet_names(self) -> set[str]:
        return {header_key(n) for n in (self.zh, self.en, self.key, *self.aliases)}

    def header_lookup(self) -> dict[str, Column]:
        out: dict[str, Column] = {}
        for col in self.columns:
            for s in col.spellings():
                out.setdefault(header_key(s), col)
        return out

    def headers(self, chinese: bool | None = None) -> list[str]:
        return [c.header(chinese) for c in self.columns]


@dataclass
class Table:
    """A sheet matched to a layout: where each column is, and the data rows below the header."""

    spec: SheetSpec
    sheet: str  # the name shown in errors
    header_row: int
    index: dict[str, int]  # column key → 0-based position
    headers: dict[str, str]  # column key → header text as written in the file
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)  # (Excel row number, cells)
    examples: int = 0  # example rows of a template, skipped

    def has(self, key: str) -> bool:
        return key in self.index

    def get(self, cells: Sequence[Any], key: str) -> Any:
        i = self.index.get(key)
        if i is None or i >= len(cells):
            return None
        return cells[i]

    def column(self, key: str) -> str:
        """The header to name in errors: as written in the file, else the layout's own."""
        if key in self.headers:
            return self.headers[key]
        col = next(c for c in self.spec.columns if c.key == key)
        return col.header()


def _match_row(cells: Sequence[Any], lookup: dict[str, Column]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for i, v in enumerate(cells):
        col = lookup.get(header_key(v))
        if col is not None:
            found.setdefault(col.key, []).append(i)
    return found


def _best_header(sheet: RawSheet, spec: SheetSpec) -> tuple[int, list[Any], dict[str, list[int]]] | None:
    lookup = spec.header_lookup()
    best: tuple[int, list[Any], dict[str, list[int]]] | None = None
    for n, (rownum, cells) in enumerate(iter_nonempty(sheet.rows)):
        if n >= _HEADER_SEARCH_ROWS:
            break
        found = _match_row(cells, lookup)
        if best is None or len(found) > len(best[2]):
            best = (rownum, cells, found)
    return best


def _score(sheet: RawSheet, spec: SheetSpec) -> int:
    best = _best_header(sheet, spec)
    return len(best[2]) if best else 0


# The hidden sheet of a downloaded template that holds its drop-down lists (``muster.tabular.template``).
TEMPLATE_LISTS_SHEET = "lists"


def match_sheets(book: Workbook, specs: Sequence[SheetSpec], errors: ErrorCollector) -> dict[str, Table]:
    """Find each layout's sheet in ``book``; report missing or repeated columns and formula cells.

    Returns {spec key: Table} for the sheets found. Structural problems (no known sheet, a missing
    required column) are added to ``errors``; the caller stops if there are any.
    """
    chosen: dict[str, tuple[RawSheet, str]] = {}
    by_name = {key: spec for spec in specs for key in spec.sheet_names()}
    for sheet in book.sheets:
        spec = by_name.get(header_key(sheet.name)) if sheet.name else None
        if spec is None and sheet.name == TEMPLATE_LISTS_SHEET:
            continue  # a template's drop-down values: never data, even where a value reads like a header
        if spec is None:
            scores = sorted(((_score(sheet, s), i) for i, s in enumerate(specs)), reverse=True)
            if not scores or scores[0][0] < 2 or (len(scores) > 1 and scores[0][0] == scores[1][0]):
                continue  # not a sheet of this layout (instructions, notes…)
            spec = specs[scores[0][1]]
        if spec.key in chosen:
            errors.add(
                sheet.name,
                None,
                "",
                "",
                _("Two sheets hold %(what)s: %(first)s and %(second)s; keep one.")
                % {"what": spec.title(), "first": chosen[spec.key][0].name, "second": sheet.name},
                fatal=True,
            )
            continue
        chosen[spec.key] = (sheet, sheet.name or spec.title())
    if not chosen:
        names = " / ".join(f"{s.zh} ({s.en})" for s in specs)
        errors.file_error(
            _(
                "No sheet of the expected layout was found: name the sheets %(names)s "
                "or use the layout's column headers."
            )
            % {"names": names}
        )
        return {}
    tables: dict[str, Table] = {}
    for spec in specs:
        if spec.key not in chosen:
            continue
        sheet, shown = chosen[spec.key]
        table = _table(sheet, shown, spec, errors)
        if table is not None:
            tables[spec.key] = table
    return tables


def _table(sheet: RawSheet, shown: str, spec: SheetSpec, errors: ErrorCollector) -> Table | None:
    best = _best_header(sheet, spec)
    if best is None:  # an empty sheet
        return Table(spec, shown, 1, {}, {}, [])
    header_row, cells, found = best
    ok = True
    for positions in found.values():
        if len(positions) > 1:
            ok = False
            letters = ", ".join(column_letter(i) for i in positions)
            errors.add(
                shown,
                header_row,
                text(cells[positions[1]]),
                "",
                _("this column appears more than once (columns %(letters)s)") % {"letters": letters},
                fatal=True,
            )
    for col in spec.columns:
        if col.required and col.key not in found:
            ok = False
            errors.add(
                shown,
                header_row,
                col.header(),
                "",
                _("a required column is missing; add a column headed %(zh)s (or %(en)s)")
                % {"zh": col.zh, "en": col.en},
                fatal=True,
            )
    index = {k: v[0] for k, v in found.items()}
    headers = {k: text(cells[v]) for k, v in index.items()}
    by_position = {v: k for k, v in index.items()}
    for rownum, colidx in sheet.formulas:
        if rownum == 0:
            errors.add(shown, None, "", "", _("this sheet holds formulas; replace them with their values"))
            continue
        key = by_position.get(colidx)
        column = headers[key] if key else column_letter(colidx)
        ref = f"{column_letter(colidx)}{rownum}"
        value = (
            sheet.rows[rownum - 1][colidx]
            if rownum - 1 < len(sheet.rows) and colidx < len(sheet.rows[rownum - 1])
            else ""
        )
        errors.add(
            shown,
            rownum,
            column,
            value,
            _("cell %(ref)s holds a formula; replace it with its value (copy, then paste values only)")
            % {"ref": ref},
        )
    if not ok:
        return None
    rows = [(n + header_row, r) for n, r in iter_nonempty(sheet.rows[header_row:])]
    first = index.get(spec.columns[0].key)
    kept = [(n, r) for n, r in rows if first is None or first >= len(r) or not is_example(r[first])]
    return Table(spec, shown, header_row, index, headers, kept, examples=len(rows) - len(kept))
