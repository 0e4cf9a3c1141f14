"""One workbook, several importers: a whole organization (units, people, batches, service records) at once.

Each importer registers itself here (an ``importers`` module in its app, found on first use) with its
sheets and its dependency order: the staff register (units, people) before the ledgers (batches, service
records). ``workbook_import`` reads the file once and finds which importers' sheets it holds:

- sheets of one importer only: that importer runs on its own, exactly as it always has;
- sheets of several: they run in one transaction, in dependency order. Each importer checks its sheets
  against the database as the earlier importers have left it (so the service records may name the people
  the same file adds); the earlier one's rows are written first, inside the transaction, and the later
  one is checked after. Any problem anywhere, in any sheet, and nothing at all is written. A dry run (and
  a refused file) rolls everything back; it still reports the problems of every part: when an earlier
  part has problems, its good rows are written for the time of the check (and undone) so that the later
  parts are checked against them, not against a database that lacks the file's own units and people.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from muster.tabular.errors import ErrorCollector
from muster.tabular.reader import read_workbook
from muster.tabular.schema import SheetSpec, Table, match_sheets

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Importer:
    """What a workbook import needs of one importer.

    ``require(actor)`` raises unless the actor may use it. ``run(actor=, filename=, data=, dry_run=)`` is the
    importer on its own (a file holding only its sheets). ``plan(actor, tables, errors)`` checks its tables
    (keyed by sheet key) and returns a plan, adding every problem to ``errors``; ``apply(plan, actor,
    filename, tables)`` writes a plan inside the caller's transaction; ``result(plan)`` gives the counts
    (``as_dict()``, ``dry_run``); ``summary(result)`` says them in a few lines. ``reset(actor)``, when given,
    runs after the transaction ends (to drop what was cached about data the import changed).
    ``export(actor=, fmt=, unit=, sheet=)``, when given, writes what the actor may see as a file the
    importer reads back: (content, content type, file name) — the generic ``muster export`` command finds
    an app's export here instead of importing the app.
    """

    key: str
    order: int
    specs: tuple[SheetSpec, ...]
    require: Callable[[Any], None]
    run: Callable[..., Any]
    plan: Callable[[Any, dict[str, Table], ErrorCollector], Any]
    apply: Callable[[Any, Any, str, dict[str, Table]], None]
    result: Callable[[Any], Any]
    summary: Callable[[Any], str]
    reset: Callable[[Any], None] | None = None
    export: Callable[..., tuple[bytes, str, str]] | None = None


_REGISTRY: dict[str, Importer] = {}
_discovered = False


def register(importer: Importer) -> None:
    _REGISTRY[importer.key] = importer


def importers() -> list[Importer]:
    """The registered importers, in dependency order."""
    global _discovered
    if not _discovered:
        autodiscover_modules("importers")
        _discovered = True
    return sorted(_REGISTRY.values(), key=lambda i: (i.order, i.key))


def importer(key: str) -> Importer | None:
    """The registered importer named ``key`` ("roster", "ledger", …), or None."""
    return next((i for i in importers() if i.key == key), None)


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

    ``base`` names the importer the file must involve (an entry point's own, e.g. "roster" for the roster
    upload): a file without that importer's sheets goes to it alone, which refuses it as it always has.
    Raises ``TabularError`` listing every problem, or what an importer's ``require`` raises when the actor
    may not import what the file holds.
    """
    known = importers()
    if base is not None:
        known.sort(key=lambda i: i.key != base)  # the base first for a file of no known layout
    if not any(_may(imp, actor) for imp in known):
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
    if tables and not any(t.rows for t in tables.values()) and not errors:
        errors.file_error(_("The file has no data rows."))
    if errors.fatal:  # the sheets themselves (a missing column, a sheet twice)
        errors.raise_if_any()
    results: dict[str, Any] = {}
    try:
        with transaction.atomic():
            _run(present, actor, filename, tables, errors, dry_run, results)
            errors.raise_if_any()  # undoes everything
            if dry_run:
                transaction.set_rollback(True)
    except IntegrityError:
        errors.file_error(
            _("The data changed while the file was being imported; nothing was written. Try again.")
        )
        raise errors.exception() from None
    finally:
        for imp in present:
            if imp.reset is not None:
                imp.reset(actor)
    for result in results.values():
        result.dry_run = dry_run
    return WorkbookImportResult(results, dry_run=dry_run)


def _may(imp: Importer, actor: Any) -> bool:
    try:
        imp.require(actor)
    except PermissionDenied:
        return False
    return True


def _run(
    present: list[Importer],
    actor: Any,
    filename: str,
    tables: dict[str, Table],
    errors: ErrorCollector,
    dry_run: bool,
    results: dict[str, Any],
) -> None:
    for n, imp in enumerate(present):
        mine = {s.key: tables[s.key] for s in imp.specs if s.key in tables}
        plan = imp.plan(actor, mine, errors)
        results[imp.key] = imp.result(plan)
        later = n < len(present) - 1
        if errors.fatal:
            return
        if not errors:
            if later or not dry_run:
                imp.apply(plan, actor, filename, mine)
            continue
        if not later:
            return
        # Nothing will be written; this part's good rows are, for the check of the later parts only.
        try:
            with transaction.atomic():
                imp.apply(plan, actor, filename, mine)
        except Exception:
            # A plan with problems may not be writable at all; its own problems are reported, and the
            # later parts are not checked against a database without this part's rows.
            log.info("workbook import %s: the %s part could not be applied for the check", filename, imp.key)
            return
