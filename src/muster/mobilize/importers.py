"""The ledgers (batches, service records) as a part of a whole-organization workbook
(``muster.tabular.workbook``): checked after the same file's units and people are written."""

from __future__ import annotations

from typing import Any

from muster.mobilize import ledger_io
from muster.orgs import access
from muster.orgs.access import Perm
from muster.tabular.errors import ErrorCollector
from muster.tabular.schema import Table
from muster.tabular.workbook import Importer, register


def _require(actor: Any) -> None:
    if not ledger_io.may_import(actor):
        raise access.NotAllowed(Perm.MOBILIZE_DISPATCH)


def _plan(actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> Any:
    return ledger_io.ledger_plan(actor=actor, tables=tables, errors=errors)


def _apply(plan: Any, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    ledger_io.ledger_apply(plan, actor=actor, filename=filename, tables=tables)


register(
    Importer(
        key="ledger",
        order=20,
        specs=ledger_io.LEDGER_SPECS,
        require=_require,
        run=ledger_io.ledger_import,
        plan=_plan,
        apply=_apply,
        result=lambda plan: plan.result,
        summary=ledger_io.summary,
        export=ledger_io.ledger_export,
    )
)
