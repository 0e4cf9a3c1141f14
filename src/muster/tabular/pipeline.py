"""The one import pipeline: read (bounded) → find the sheets → plan → refuse with every error → apply in one
transaction → result and summary.

An importer is a *registration* (:class:`Importer`): its sheets (``specs``), who may use it (``require``),
a ``plan`` that checks the matched tables against the database and the actor's rights and adds every
problem to an :class:`~muster.tabular.errors.ErrorCollector`, an ``apply`` that writes a clean plan inside
the caller's transaction, and the ``result`` / ``summary`` of a plan. Everything around them is here, once:

- ``import_file`` runs one importer on a file of its own sheets: the file is read within the limits of
  :mod:`muster.tabular.reader`, an empty file or one without data rows is refused, the plan is made and
  every problem reported at once (``TabularError``), and only a clean plan is written, in one transaction;
  a dry run writes nothing. An importer whose checks are only complete once the services have run
  (``check_by_applying``: care, outreach) is applied in a dry run too, then rolled back. A row the checks
  let through and a service refused (``ValidationError``), or a concurrent write (``IntegrityError``),
  refuses the whole file with a clear message; nothing is half written.
- :mod:`muster.tabular.workbook` runs several importers on one workbook, in dependency order, in one
  transaction, with the same steps (``plan_and_apply``).

The helpers the importers share (``chunks`` for ``IN (…)`` lists, ``common_path`` for a summary event's
unit, ``under`` for scope prefixes, ``CodeCells`` and ``TextCells`` for the checks of a code column and a
text column, the messages for a too-long value and a unit code not found in the actor's scope) live here
too, so that no importer carries a copy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from muster.audit.services import log_action
from muster.orgs.rules import cell_problem
from muster.tabular.errors import ErrorCollector, TabularError
from muster.tabular.reader import read_workbook
from muster.tabular.schema import SheetSpec, Table, match_sheets, use_chinese
from muster.tabular.writer import CSV_CONTENT_TYPE, XLSX_CONTENT_TYPE, SheetData, csv_bytes, xlsx_bytes

log = logging.getLogger(__name__)

CHUNK = 900  # values in one ``IN (…)``: under SQLite's old 999-variable limit
UNIT_STEP = 4  # characters of one level of a unit's materialized path (``orgs.models.Unit.steplen``)


# ---------------------------------------------------------------- registration


def plan_result(plan: Any) -> Any:
    """A plan's counts: its ``result`` (every importer's plan carries one)."""
    return plan.result


@dataclass(frozen=True)
class Importer:
    """What the pipeline needs of one importer.

    ``require(actor)`` raises (``PermissionDenied``) unless the actor may use it. ``plan(actor=, tables=,
    errors=)`` checks its tables (keyed by sheet key) and returns a plan, adding every problem to
    ``errors``; ``apply(plan, actor=, filename=, tables=)`` writes a plan inside the caller's
    transaction; ``result(plan)`` gives the counts (``as_dict()``, ``dry_run``; by default the plan's
    ``result``); ``summary(result)`` says them in a few lines. ``reset(actor)``, when given, runs after
    the transaction ends (to drop what was cached about data the import changed).
    ``export(actor=, fmt=, unit=, sheet=)``, when given, writes what the actor may see as a file the
    importer reads back: (content, content type, file name). ``template(actor)``, when given, writes a
    file to fill in (headers, drop-down lists, one example row). ``check_by_applying``: a dry run
    applies the plan too (and rolls it back), because the services the apply step calls make checks
    the plan does not repeat.
    """

    key: str
    order: int
    specs: tuple[SheetSpec, ...]
    require: Callable[[Any], None]
    plan: Callable[..., Any]
    apply: Callable[..., None]
    summary: Callable[[Any], str]
    result: Callable[[Any], Any] = plan_result
    reset: Callable[[Any], None] | None = None
    export: Callable[..., tuple[bytes, str, str]] | None = None
    template: Callable[[Any], tuple[bytes, str, str]] | None = None
    check_by_applying: bool = False

    def run(self, *, actor: Any, filename: str, data: bytes, dry_run: bool = False) -> Any:
        """This importer on a file of its own sheets (see ``import_file``)."""
        return import_file(self, actor=actor, filename=filename, data=data, dry_run=dry_run)

    def may(self, actor: Any) -> bool:
        try:
            self.require(actor)
        except PermissionDenied:
            return False
        return True


_REGISTRY: dict[str, Importer] = {}
_discovered = False


def register(importer: Importer) -> Importer:
    _REGISTRY[importer.key] = importer
    return importer


def unregister(key: str) -> None:
    """Remove an importer (a test's own, when the test is done)."""
    _REGISTRY.pop(key, None)


def importers() -> list[Importer]:
    """The registered importers (every app's ``importers`` module, found on first use), in dependency
    order."""
    global _discovered
    if not _discovered:
        autodiscover_modules("importers")
        _discovered = True
    return sorted(_REGISTRY.values(), key=lambda i: (i.order, i.key))


def importer(key: str) -> Importer | None:
    """The registered importer named ``key`` ("roster", "ledger", …), or None."""
    return next((i for i in importers() if i.key == key), None)


# ---------------------------------------------------------------- the skeleton


def import_file(imp: Importer, *, actor: Any, filename: str, data: bytes, dry_run: bool = False) -> Any:
    """Check a file of ``imp``'s sheets and, unless ``dry_run``, write it (all or nothing).

    Returns ``imp.result(plan)`` with ``dry_run`` set; raises ``TabularError`` listing every problem, or
    what ``imp.require`` raises when the actor may not use the importer (before the file is read).
    """
    imp.require(actor)
    started, cpu0 = time.perf_counter(), time.process_time()
    book = read_workbook(filename, data)
    errors = ErrorCollector(book.file)
    tables = match_sheets(book, list(imp.specs), errors)
    refuse_empty(tables, errors)
    read, cpu1 = time.perf_counter(), time.process_time()
    results: dict[str, Any] = {}
    try:
        atomically(lambda: plan_and_apply([imp], actor, filename, tables, errors, dry_run, results), errors)
    finally:
        if imp.reset is not None:
            imp.reset(actor)
    result = results[imp.key]
    result.dry_run = dry_run
    log.info(
        "%s import %s: read %.2fs (cpu %.2fs), check and write %.2fs (cpu %.2fs): %s",
        imp.key, filename, read - started, cpu1 - cpu0,
        time.perf_counter() - read, time.process_time() - cpu1, result.as_dict(),
    )  # fmt: skip
    return result


def refuse_empty(tables: dict[str, Table], errors: ErrorCollector) -> None:
    """Raise when the sheets themselves are wrong (a missing column, a sheet twice, no known sheet) or
    hold no data rows; problems in the rows are gathered with the plan's."""
    if tables and not any(t.rows for t in tables.values()) and not errors:
        if any(t.examples for t in tables.values()):
            errors.file_error(
                _(
                    "The file holds only the template's example row (its first cell starts with "
                    "“示例” / “Example”), which is never imported. Type your rows below it, or over it "
                    "without the mark, and upload the file again."
                )
            )
        else:
            errors.file_error(_("The file has no data rows."))
    if errors.fatal:
        errors.raise_if_any()


def atomically(work: Callable[[], None], errors: ErrorCollector) -> None:
    """Run ``work`` in one transaction that is undone when it leaves problems in ``errors`` (raised as
    ``TabularError``) or when a concurrent write or a service refuses a row (``work`` itself rolls a dry
    run back)."""
    try:
        with transaction.atomic():
            work()
            errors.raise_if_any()  # undoes everything
    except IntegrityError:
        errors.file_error(
            _("The data changed while the file was being imported; nothing was written. Try again.")
        )
        raise errors.exception() from None
    except ValidationError as exc:  # a row the checks let through and a service refused
        errors.file_error("; ".join(exc.messages))
        raise errors.exception() from None


def plan_and_apply(
    present: Sequence[Importer],
    actor: Any,
    filename: str,
    tables: dict[str, Table],
    errors: ErrorCollector,
    dry_run: bool,
    results: dict[str, Any],
) -> None:
    """Plan and apply each importer in turn (dependency order), inside the caller's transaction.

    Each importer is checked against the database as the earlier ones have left it. With problems, the
    later parts are still checked (so the file's every problem is reported): the earlier part's good rows
    are written for the time of the check, in a savepoint the caller's refusal undoes. A dry run ends
    with ``transaction.set_rollback``.
    """
    for n, imp in enumerate(present):
        mine = {s.key: tables[s.key] for s in imp.specs if s.key in tables}
        plan = imp.plan(actor=actor, tables=mine, errors=errors)
        results[imp.key] = imp.result(plan)
        later = n < len(present) - 1
        if errors.fatal:
            return
        if not errors:
            if later or not dry_run or imp.check_by_applying:
                imp.apply(plan, actor=actor, filename=filename, tables=mine)
            continue
        if not later:
            return
        # Nothing will be written; this part's good rows are, for the check of the later parts only.
        try:
            with transaction.atomic():
                imp.apply(plan, actor=actor, filename=filename, tables=mine)
        except Exception:
            # A plan with problems may not be writable at all; its own problems are reported, and the
            # later parts are not checked against a database without this part's rows.
            log.info("import %s: the %s part could not be applied for the check", filename, imp.key)
            return
    if dry_run:
        transaction.set_rollback(True)


# ---------------------------------------------------------------- export


@dataclass
class ExportSheet:
    """One sheet of an export: its key (the ``sheet`` a .csv names), layout, rows (a generator that
    counts what it yields, read once) and column widths."""

    key: str
    spec: SheetSpec
    rows: Iterable[Sequence[Any]]
    widths: Sequence[int] = ()


def check_export(fmt: str, sheet: str, sheets: Sequence[str]) -> None:
    """Refuse an unknown format or sheet name (``ValidationError`` on the field)."""
    if fmt not in ("xlsx", "csv"):
        raise ValidationError({"fmt": _("Unknown format %(fmt)s; use xlsx or csv.") % {"fmt": fmt}})
    if sheet not in sheets:
        raise ValidationError(
            {
                "sheet": _("Unknown sheet %(sheet)s; use %(names)s.")
                % {"sheet": sheet, "names": _(" or ").join(sheets)}
            }
        )


def export_file(
    *,
    actor: Any,
    action: str,
    name: str,
    fmt: str,
    sheet: str,
    unit: Any,
    sheets: Sequence[ExportSheet],
    counts: dict[str, int],
) -> tuple[bytes, str, str]:
    """Write an export: every sheet in an .xlsx, or the one named ``sheet`` as .csv (headers in the
    active language), then audit it (``action``, with the format, sheet, unit and ``counts`` as the row
    generators left them): (content, content type, file name ``<name>-<unit or all>[-<sheet>]-<time>``)."""
    chinese = use_chinese()
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    base = f"{name}-{unit.code if unit else 'all'}"
    if fmt == "xlsx":
        content = xlsx_bytes(
            [SheetData(s.spec.title(chinese), s.spec.headers(chinese), s.rows, s.widths) for s in sheets]
        )
        content_type, filename = XLSX_CONTENT_TYPE, f"{base}-{stamp}.xlsx"
    else:
        one = next(s for s in sheets if s.key == sheet)
        content = csv_bytes(one.spec.headers(chinese), one.rows)
        content_type, filename = CSV_CONTENT_TYPE, f"{base}-{sheet}-{stamp}.csv"
    log_action(
        actor,
        action=action,
        unit_path=unit.path if unit else "",
        changes={
            "format": fmt,
            "sheet": sheet if fmt == "csv" else "all",
            "unit": unit.code if unit else None,
            **counts,
        },
    )
    return content, content_type, filename


# ---------------------------------------------------------------- shared helpers


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """``items`` in parts small enough for one ``IN (…)`` on every database (a set is sorted first)."""
    seq: Sequence[Any] = sorted(items) if isinstance(items, set | frozenset) else list(items)
    for i in range(0, len(seq), size):
        yield list(seq[i : i + size])


def under(path: str | None, prefixes: list[str] | None) -> bool:
    """Whether a unit path lies in a scope (``None``: everywhere), as ``orgs.access.scope_paths`` gives it."""
    return path is not None and (prefixes is None or any(path.startswith(p) for p in prefixes))


def common_path(paths: Iterable[str], step: int = UNIT_STEP) -> str:
    """The deepest unit path every one of ``paths`` lies under ("" if none, or in different trees)."""
    common: str | None = None
    for p in paths:
        if not p:
            continue
        if common is None:
            common = p
            continue
        n = 0
        while n < min(len(common), len(p)) and common[n] == p[n]:
            n += 1
        common = common[: n - n % step]
        if not common:
            return ""
    return common or ""


def too_long(n: int) -> str:
    return _("too long (at most %(n)d characters)") % {"n": n}


@dataclass
class CodeCells:
    """The code column of one sheet (a batch's code, a unit's, a staff number), checked row by row.

    ``check(rownum, raw, code)`` says whether the row's code is good; if not, it adds the code's one
    problem to ``errors``, in the column of ``key``. ``raw`` is the cell as read and ``code`` its clean text
    (``cells.text(raw)``, which the caller has already). The first that applies is the problem: a blank
    code (``required``: the importer's own words for it); a rule of a code broken
    (``orgs.rules.cell_problem``: a control or invalid character, a character a code may not hold; shown
    with the raw value); more than ``max_len`` characters (``too_long``); a code an earlier good row
    has (``repeated(that row)``). ``seen`` maps each good code to its row.
    """

    errors: ErrorCollector
    t: Table
    _: KW_ONLY
    max_len: int
    required: str
    repeated: Callable[[int], str]
    key: str = "code"
    seen: dict[str, int] = field(default_factory=dict, init=False)

    def check(self, rownum: int, raw: Any, code: str) -> bool:
        """Whether row ``rownum``'s code is good (else its problem is in ``errors``)."""
        problem: str | None
        shown: Any = code
        if not code:
            problem = self.required
        elif problem := cell_problem(raw, self.key, code=True):
            shown = raw
        elif len(code) > self.max_len:
            problem = too_long(self.max_len)
        elif code in self.seen:
            problem = self.repeated(self.seen[code])
        else:
            self.seen[code] = rownum
            return True
        self.errors.add(self.t.sheet, rownum, self.t.column(self.key), shown, problem)
        return False


@dataclass
class TextCells:
    """A text column of one sheet (a name, a task, a place, a note), checked row by row.

    ``check(rownum, raw, value)`` says whether the row's text is good; if not, it adds the text's one problem
    to ``errors``, in the column of ``key``. ``raw`` is the cell as read and ``value`` its clean text
    (``cells.text(raw)``, which the caller has already). The first that applies is the problem: a rule of a
    text broken (``orgs.rules.cell_problem``: a control or invalid character; shown with the raw value); a
    blank value where one is ``required`` (the importer's own words for it; ``None``: a blank is fine);
    more than ``max_len`` characters (``long(max_len)``: ``too_long`` unless the importer has its own words).
    """

    errors: ErrorCollector
    t: Table
    _: KW_ONLY
    key: str
    max_len: int
    required: str | None = None
    long: Callable[[int], str] = too_long

    def check(self, rownum: int, raw: Any, value: str) -> bool:
        """Whether row ``rownum``'s text is good (else its problem is in ``errors``)."""
        shown: Any = value
        if problem := cell_problem(raw, self.key):
            shown = raw
        elif not value and self.required is not None:
            problem = self.required
        elif len(value) > self.max_len:
            problem = self.long(self.max_len)
        else:
            return True
        self.errors.add(self.t.sheet, rownum, self.t.column(self.key), shown, problem)
        return False


def unit_not_in_scope() -> str:
    """A unit code the actor cannot use (the error names the cell, so the code is shown beside it): one
    that does not exist and one outside the actor's scope get the same words, so that an error never
    tells whether a unit the actor may not see exists."""
    return _("there is no unit with this code in your scope (it does not exist, or you do not manage it)")


def person_not_in_scope() -> str:
    """A staff number the actor cannot use: the same words whether nobody has it or the person is
    outside the actor's scope (see ``unit_not_in_scope``)."""
    return _(
        "there is no person with this staff number in your scope (no such person, or not one you manage)"
    )


__all__ = [
    "CHUNK",
    "CodeCells",
    "ExportSheet",
    "Importer",
    "TabularError",
    "TextCells",
    "atomically",
    "check_export",
    "chunks",
    "common_path",
    "export_file",
    "import_file",
    "importer",
    "importers",
    "person_not_in_scope",
    "plan_and_apply",
    "refuse_empty",
    "register",
    "too_long",
    "under",
    "unit_not_in_scope",
]
