"""The metrics contract: every registered metric of a unit's subtree as of a cutoff, as one JSON object.

``{"as_of": ISO 8601 with the offset, "unit": {"code", "name"}, "metrics": {"<metric id>": number, …}}``
— printed by ``muster metrics --json`` and served by ``GET /api/v1/reports/metrics``. Metrics come from
the registry (``muster.reports.registry``), so every app's figures are in it; the ids are stable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from muster.orgs.models import Unit
from muster.reports import registry
from muster.reports.rollup import cutoff


def metrics_contract(unit: Unit, as_of: datetime) -> dict[str, Any]:
    values = {m.id: m.answer(unit, as_of) for m in sorted(registry.metrics(), key=lambda m: m.id)}
    return {
        "as_of": cutoff(as_of).isoformat(),
        "unit": {"code": unit.code, "name": unit.name},
        "metrics": values,
    }
