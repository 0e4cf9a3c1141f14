"""Mobilization over the API (/api/v1/mobilize/…): requests, batches, posts, shifts, check-in/out,
roll-call, the service-hours ledger, measures, and the ledger import/export.

Thin, like ``muster.orgs.api``: every read goes through ``muster.mobilize.queries`` (scoped through
``muster.orgs.access``: out of scope = 404 / absent from lists), every write through
``muster.mobilize.services`` (permission-checked, audited; visible but not allowed = 403).

Errors: a service's ``ValidationError`` is answered 422 with ``{"detail", "errors", "code", "codes"}``:
``errors`` is ``{field: [messages]}`` as everywhere in the API, ``codes`` is ``{field: [codes]}`` with the
service's machine-readable codes (``conflict``, ``overlap``, ``too_long``, ``end_before_start``,
``not_checked_in``, ``superseded``…) and ``code`` is the first of them (or null).

Times are read with ``muster.mobilize.clock.parse_datetime``: ISO 8601 (with or without an offset;
without one it is Shanghai time), "2022-03-18 24:00", "2022/3/18 8:00", "2022年3月18日 8时". They are
written as ISO 8601 in local time.

One module per sub-domain, all on the one ``router`` of ``common`` (so the paths keep their order):
``requests``, ``deployments``, ``posts`` (and coverage), ``shifts``, ``checkin`` (check-in/out, roll-call,
fixes), ``ledger``, ``measures`` and ``ledger_io`` (import/export). Paging and error bodies are the shared
ones of ``muster.api.common``; ``common.coded`` adds the services' machine-readable codes to a 422.

Check-in and check-out carry a client key: the same key posted again returns the same body (status 200,
with the header ``Idempotent-Replayed: true``) and writes nothing.
"""

from __future__ import annotations

# The submodules register their operations on ``router`` when imported, in this order (the paths' order).
# isort: off
from muster.mobilize.api.common import router
from muster.mobilize.api import entries, requests, deployments, posts, shifts
from muster.mobilize.api import checkin, ledger, measures, ledger_io
# isort: on

__all__ = [
    "checkin",
    "deployments",
    "entries",
    "ledger",
    "ledger_io",
    "measures",
    "posts",
    "requests",
    "router",
    "shifts",
]

# Operation ids stay what they were when all of this was one module ``muster.mobilize.api`` (ninja derives
# them from the view's module): clients generated from the OpenAPI document keep their method names.
for _path_view in router.path_operations.values():
    for _operation in _path_view.operations:
        if _operation.operation_id is None:
            _operation.operation_id = f"muster_mobilize_api_{_operation.view_func.__name__}"
