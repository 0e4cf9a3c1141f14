"""Party life over the API (/api/v1/partylife/…): meetings and their review, compliance, talks, the
membership pipeline, posts and contact points. (Awards and commendations — ``/partylife/honors…`` — are
served by the honors app, ``muster.honors.award_api``, on the same paths.)

Thin, like ``muster.orgs.api``: reads go through ``muster.partylife.queries`` / ``muster.orgs.access``
(out of scope = 404 / absent from lists), writes through ``muster.partylife.services`` (permission-checked,
audited; visible but not allowed = 403; bad input = 422 ``{"detail", "errors"}``).

One module per sub-domain, all on the one ``router`` of ``common`` (so the paths keep their order):
``meetings``, ``compliance``, ``talks``, ``pipeline`` (the membership pipeline) and ``posts`` (and contact
points).

People are referred to by staff number (工号), units by code. A date-time without an offset is Shanghai
time.
"""

from __future__ import annotations

# The submodules register their operations on ``router`` when imported, in this order (the paths' order).
# isort: off
from muster.partylife.api.common import router
from muster.partylife.api import meetings, compliance, talks, pipeline, posts
# isort: on

__all__ = ["compliance", "meetings", "pipeline", "posts", "router", "talks"]

# Operation ids stay what they were when all of this was one module ``muster.partylife.api`` (ninja
# derives them from the view's module): clients generated from the OpenAPI document keep their method names.
for _path_view in router.path_operations.values():
    for _operation in _path_view.operations:
        if _operation.operation_id is None:
            _operation.operation_id = f"muster_partylife_api_{_operation.view_func.__name__}"
