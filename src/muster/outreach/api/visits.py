"""Visits and surveys."""

from __future__ import annotations

from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Schema, Status

from muster.api.common import (
    BoundedDate,
    PageParams,
    actor,
    paginate,
    required_unit,
    resolve_unit,
    unit_ref,
)
from muster.outreach import queries, services
from muster.outreach.api.common import (
    NOT_FOUND,
    WRITE_ERRORS,
    _enterprises,
    _partners,
    _people,
    router,
)
from muster.outreach.models import (
    Visit,
)

# ================================================================ visits


class OutreachVisitIn(Schema):
    held_on: BoundedDate
    unit: str
    form: Literal["on_site", "meeting", "online"] = "on_site"
    branch: str | None = None
    visitors: list[str] = Field(..., max_length=200)
    enterprises: list[str] = Field([], max_length=500)
    partners: list[str] = Field([], max_length=500)
    topics: str = ""
    findings: str = ""
    meeting: int | None = Field(None, ge=1, le=2**62)


def _visit_out(user: Any, v: Visit) -> dict[str, Any]:
    return {
        "id": v.pk,
        "held_on": v.held_on.isoformat(),
        "form": v.form,
        "unit": unit_ref(user, v.unit),
        "branch": unit_ref(user, v.branch),
        "meeting": v.meeting_id,
        "topics": v.topics,
        "findings": v.findings,
        "visitors": [p.code for p in v.visitors.all() if queries.person_visible(user, p)],
        "enterprises": [e.credit_code for e in v.enterprises.all() if queries.enterprise_visible(user, e)],
        "partners": [p.code for p in v.partners.all() if queries.partner_visible(user, p)],
    }


@router.get("/visits", response=dict[str, Any])
def list_visits(
    request: HttpRequest,
    page: Query[PageParams],
    unit: str | None = None,
    start: BoundedDate | None = None,
    end: BoundedDate | None = None,
) -> Any:
    user = actor(request)
    qs = queries.visits(user).prefetch_related(*queries.VISIT_RELATED)
    scope = resolve_unit(user, unit, "unit")
    if scope is not None:
        qs = qs.filter(queries.subtree_q(scope))
    if start is not None:
        qs = qs.filter(held_on__gte=start)
    if end is not None:
        qs = qs.filter(held_on__lte=end)
    items, meta = paginate(qs, page)
    return {**meta, "items": [_visit_out(user, v) for v in items]}


@router.post("/visits", response={201: dict[str, Any], **WRITE_ERRORS})
def record_visit(request: HttpRequest, payload: OutreachVisitIn) -> Any:
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    branch = resolve_unit(user, payload.branch, "branch")
    meeting_unit = None
    if payload.meeting is not None:
        from muster.partylife.queries import meeting_get  # read-only: the meeting must be visible

        try:
            meeting_unit = meeting_get(user, payload.meeting).unit
        except Exception:  # Http404: unknown or out of scope, the same answer
            raise ValidationError({"meeting": _("There is no such meeting.")}) from None
    v = services.visit_record(
        actor=user,
        held_on=payload.held_on,
        unit=unit,
        form=payload.form,
        branch=branch,
        visitors=_people(user, payload.visitors, "visitors"),
        enterprises=_enterprises(user, payload.enterprises, "enterprises"),
        partners=_partners(user, payload.partners),
        topics=payload.topics,
        findings=payload.findings,
        meeting_id=payload.meeting,
        meeting_unit=meeting_unit,
    )
    return Status(201, _visit_out(user, v))


@router.get("/visits/{pk}", response={200: dict[str, Any], **NOT_FOUND})
def get_visit(request: HttpRequest, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    return _visit_out(user, queries.visit_get(user, pk))
