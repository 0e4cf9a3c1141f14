"""One workbook, several importers: a whole organization (units, people, batches, service records) at once.

Each importer registers itself with the pipeline (``muster.tabular.pipeline``; an ``importers`` module
in its app, found on first use) with its sheets and its dependency order: the staff register (units,
people) before the ledgers (batches, service records). ``workbook_import`` reads the file once and finds
which importers' sheets it holds:

- sheets of one importer only: that importer runs on its own, exactly as it always has;
- sheets of several: they run in one transaction, in dependency order (``pipeline.plan_and_apply``).
  Each importer checks its sheets against the database as the earlier importers have left it (so the
  service records may name the people the same file adds); the earlier one's rows are written first,
  inside the transaction, and the later one is checked after. Any problem anywhere, in any sheet, and
  nothing at all is written. A dry run (and a refused file) rolls everything back; it still reports the
  problems of every part: when an earlier part has problems, its good rows are written for the time of
  the check (and undone) so that the later parts are checked against them, not against a database that
  lacks the file's own units and people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from muster.tabular.errors import ErrorCollector
from muster.tabular.pipeline import (
    Importer,
    atomically,
    importer,
    importers,
    plan_and_apply,
    refuse_empty,
    register,
)
from muster.tabular.reader import read_workbook
from muster.tabular.schema import match_sheets

__all__ = ["Importer", "WorkbookImportResult", "importer", "importers", "register", "workbook_import"]


@dataclass
class WorkbookImportResult:
    """The result of every importer that ran, in dependency order (importer key → its result)."""

    parts: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for result in self.parts.values():
            out.update(result.as_dict())
        out["dry_run"] = self.dry_run
        return out

    def summary(self) -> str:
        by_key = {i.key: i for i in importers()}
        lines: list[str] = []
        for key, result in self.parts.items():
            for line in by_key[key].summary(result).splitlines():
                if line not in lines:  # "Dry run: nothing was written." once
                    lines.append(line)
        return "\n".join(lines)


def workbook_import(
    *, actor: Any, filename: str, data: bytes, dry_run: bool = False, base: str | None = None
) -> WorkbookImportResult:
    """Import a file holding the sheets of one importer or of several (all or nothing).

    ``base`` names the importer the file must involve (an entry point's own, e.g. "roster" for the staff
    register's upload): a file without that importer's sheets goes to it alone, which refuses it as it
    always has. Raises ``TabularError`` listing every problem, or what an importer's ``require`` raises
    when the actor may not import what the file holds.
    """
    known = importers()
    if base is not None:
        known.sort(key=lambda i: i.key != base)  # the base first for a file of no known layout
    if not any(imp.may(actor) for imp in known):
        known[0].require(actor)  # may import nothing: refused before the file is read
    book = read_workbook(filename, data)
    errors = ErrorCollector(book.file)
    tables = match_sheets(book, [s for imp in known for s in imp.specs], errors)
    present = sorted(
        (imp for imp in known if any(s.key in tables for s in imp.specs)), key=lambda i: (i.order, i.key)
    )
    alone: Importer | None = None  # the one importer the file goes to, with its own checks and words
    if not tables:  # no sheet of any layout, or none readable
        alone = known[0]
    elif not errors.fatal:
        if base is not None and base not in {imp.key for imp in present}:
            alone = known[0]
        elif len(present) == 1:
            alone = present[0]
    if alone is not None:
        result = alone.run(actor=actor, filename=filename, data=data, dry_run=dry_run)
        return WorkbookImportResult({alone.key: result}, dry_run=dry_run)
    for imp in present:
        imp.require(actor)
    refuse_empty(tables, errors)
    results: dict[str, Any] = {}
    try:
        atomically(lambda: plan_and_apply(present, actor, filename, tables, errors, dry_run, results), errors)
    finally:
        for imp in present:
            if imp.reset is not None:
                imp.reset(actor)
    for result in results.values():
        result.dry_run = dry_run
    return WorkbookImportResult(results, dry_run=dry_run)
