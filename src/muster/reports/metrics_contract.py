"""The metrics contract: every registered metric of a unit's subtree as of a cutoff, as one JSON object.

``{"as_of": ISO 8601 with the offset, "unit": {"code", "name"}, "metrics": {"<metric id>": number, …}}``
— printed by ``muster metrics --json`` and served by ``GET /api/v1/reports/metrics``. Metrics come from
the registry (``muster.reports.registry``), so every app's figures are in it; the ids are stable.

For a party organization the ``dispatch.*`` and ``community.*`` figures are those of its members
(``muster.reports.members``) and the object says so with ``"basis": "party_members"``; an administrative
unit's object has no ``basis``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from muster.orgs.models import Unit
from muster.reports import registry
from muster.reports.members import basis_of
from muster.reports.rollup import cutoff


def metrics_contract(unit: Unit, as_of: datetime) -> dict[str, Any]:
    with registry.shared_totals():  # the built-in figures read the ledger once
        values = {m.id: m.answer(unit, as_of) for m in sorted(registry.metrics(), key=lambda m: m.id)}
    out: dict[str, Any] = {
        "as_of": cutoff(as_of).isoformat(),
        "unit": {"code": unit.code, "name": unit.name},
        "metrics": values,
    }
    if basis := basis_of(unit):
        out["basis"] = basis
    return out
