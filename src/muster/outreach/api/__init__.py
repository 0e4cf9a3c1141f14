"""Outreach over the API (/api/v1/outreach/…): enterprises and their import/export, liaisons and "my
enterprises", visits, the problem list and its steps, the figures as of a cutoff, taxpayer homes and classes,
the catalog of service measures and the indicators, the service log, co-building agreements.

Thin: reads through ``muster.outreach.queries`` (out of scope = 404 / absent from lists), writes through
``muster.outreach.services`` / ``services_service`` (visible but not allowed = 403; bad input = 422
``{"detail", "errors"}``). Enterprises are referred to by credit code, people by staff number, units by
code. A date-time without an offset is Shanghai time.

One module per sub-domain, all on the one ``router`` of ``common`` (so the paths keep their order):
``enterprises`` (and liaisons), ``visits``, ``problems`` (and the figures), ``homes`` (and classes),
``measures`` (and indicators), ``service_log``, ``agreements``.
"""

from __future__ import annotations

# The submodules register their operations on ``router`` when imported, in this order (the paths' order).
# isort: off
from muster.outreach.api.common import router
from muster.outreach.api import enterprises, visits, problems, homes, measures, service_log, agreements
# isort: on

__all__ = ["agreements", "enterprises", "homes", "measures", "problems", "router", "service_log", "visits"]

# Operation ids stay what they were when all of this was one module ``muster.outreach.api`` (ninja derives
# them from the view's module): clients generated from the OpenAPI document keep their method names.
for _path_view in router.path_operations.values():
    for _operation in _path_view.operations:
        if _operation.operation_id is None:
            _operation.operation_id = f"muster_outreach_api_{_operation.view_func.__name__}"
