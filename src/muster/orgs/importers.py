"""The staff register (units, people) as a part of a whole-organization workbook
(``muster.tabular.workbook``).

It comes first: every other part of such a workbook may name the units and people it adds.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from muster.orgs import access, people_io
from muster.orgs.access import Perm
from muster.orgs.people_io import RosterImportResult
from muster.tabular.errors import ErrorCollector
from muster.tabular.schema import Table
from muster.tabular.workbook import Importer, register


def _require(actor: Any) -> None:
    if not access.can_anywhere(actor, Perm.IMPORT):
        raise access.NotAllowed(Perm.IMPORT)


def _plan(actor: Any, tables: dict[str, Table], errors: ErrorCollector) -> Any:
    return people_io.roster_plan(actor=actor, tables=tables, errors=errors)


def _apply(plan: Any, actor: Any, filename: str, tables: dict[str, Table]) -> None:
    people_io.roster_apply(plan, actor=actor, filename=filename)
    access.forget(actor)  # units may have moved: the later parts check rights on the new paths


def summary(result: RosterImportResult) -> str:
    lines = [
        _("Units: %(created)d created, %(updated)d updated, %(moved)d moved, %(unchanged)d unchanged.")
        % {
            "created": result.units_created,
            "updated": result.units_updated,
            "moved": result.units_moved,
            "unchanged": result.units_unchanged,
        },
        _("People: %(created)d created, %(updated)d updated, %(unchanged)d unchanged.")
        % {
            "created": result.people_created,
            "updated": result.people_updated,
            "unchanged": result.people_unchanged,
        },
    ]
    if result.dry_run:
        lines.append(_("Dry run: nothing was written."))
    return "\n".join(lines)


register(
    Importer(
        key="roster",
        order=10,
        specs=(people_io.UNITS, people_io.PEOPLE),
        require=_require,
        run=people_io.roster_import,
        plan=_plan,
        apply=_apply,
        result=lambda plan: plan.result,
        summary=summary,
        reset=access.forget,
    )
)
