"""Enterprises and liaisons as a part of a whole-organization workbook (``muster.tabular.workbook``):
checked after the same file's units and people are written (they may name them)."""

from __future__ import annotations

from typing import Any

from muster.outreach import tabular_io
from muster.tabular.errors import ErrorCollector
from muster.tabular.schema import Table
from muster.tabular.workbook import Importer, register


def _plan(actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> Any:
    return tabular_io.enterprise_plan(actor=actor, tables=tables, errors=errors)


def _apply(plan: Any, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    tabular_io.enterprise_apply(plan, actor=actor, filename=filename, tables=tables)


register(
    Importer(
        key="outreach",
        order=30,
        specs=tabular_io.SPECS,
        require=tabular_io.require,
        run=tabular_io.enterprise_import,
        plan=_plan,
        apply=_apply,
        result=lambda plan: plan.result,
        summary=tabular_io.summary,
    )
)
