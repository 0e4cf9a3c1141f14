"""Batches (派出批次) over the API: list, read, dispatch, change, cancel, members."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status

from muster.api.common import (
    PageParams,
    ReasonIn,
    actor,
    paginate,
    required_person,
    required_unit,
    resolve_unit,
)
from muster.mobilize import policy, queries, services
from muster.mobilize.models import Deployment, MeasureValue, Request, Shift
from muster.orgs import access
from muster.orgs.access import Perm

from .common import (
    NOT_FOUND,
    WRITE_ERRORS,
    _label,
    _partner,
    _people,
    _ref,
    _teams,
    _warnings,
    coded,
    iso,
    required_when,
    router,
    when,
)


class DeploymentOut(Schema):
    code: str
    seq: int
    unit: dict[str, str] | None
    supported_unit: dict[str, str] | None
    title: str
    site: str
    partner: dict[str, str] | None
    request: str | None
    leader: dict[str, str] | None
    start: str
    end: str
    status: str
    status_label: str
    note: str
    member_count: int


class MemberOut(Schema):
    person: str
    name: str
    team: str | None


class ShiftOut(Schema):
    id: int
    deployment: str | None
    post: str | None
    start: str
    end: str
    seats: int
    assigned: int
    mode: str
    label: str
    token: str
    people: list[str]


class MeasureValueOut(Schema):
    id: int
    kind: str
    name: str
    unit_label: str
    value: int
    on: date | None
    note: str


class DeploymentDetailOut(DeploymentOut):
    members: list[MemberOut]
    shifts: list[ShiftOut]
    measures: list[MeasureValueOut]


class DeploymentPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[DeploymentOut]


class DeploymentFilters(Schema):
    unit: str | None = Field(None, description="batches dispatched or supported in this unit's subtree")
    since: str | None = Field(None, description="batches ending after this time")
    until: str | None = Field(None, description="batches starting before this time")
    status: Literal["active", "cancelled"] | None = None
    request: str | None = Field(None, description="request code")
    q: str | None = Field(None, description="part of the code, task or place")


class DispatchIn(Schema):
    unit: str = Field(description="dispatching unit code")
    title: str
    start: str
    end: str
    teams: list[str] = Field([], description="team codes: all their members go")
    people: list[str] = Field([], description="hand-picked staff numbers")
    leader: str | None = Field(None, description="staff number of the batch leader")
    request: str | None = Field(None, description="request code")
    partner: str | None = Field(None, description="partner code (default: the request's)")
    site: str = ""
    supported_unit: str | None = Field(None, description="the unit this batch supports (宝山 → 松江)")
    code: str = Field("", description="default: <unit code>-<NNN>")
    note: str = ""


class DispatchOut(DeploymentDetailOut):
    warnings: list[dict[str, Any]]


class DeploymentPatch(Schema):
    title: str | None = None
    site: str | None = None
    start: str | None = None
    end: str | None = None
    leader: str | None = None
    note: str | None = None


class MemberIn(Schema):
    person: str
    team: str | None = None


def _deployment_out(d: Deployment, member_count: int | None = None) -> dict[str, Any]:
    return {
        "code": d.code,
        "seq": d.seq,
        "unit": _ref(d.unit),
        "supported_unit": _ref(d.supported_unit),
        "title": d.title,
        "site": d.site,
        "partner": _ref(d.partner),
        "request": d.request.code if d.request_id and d.request else None,
        "leader": _ref(d.leader),
        "start": iso(d.start),
        "end": iso(d.end),
        "status": d.status,
        "status_label": _label(d, "status"),
        "note": d.note,
        "member_count": member_count if member_count is not None else d.memberships.count(),
    }


def _shift_out(s: Shift) -> dict[str, Any]:
    people = sorted(a.person.code for a in s.assignments.all())
    return {
        "id": s.pk,
        "deployment": s.deployment.code if s.deployment_id and s.deployment else None,
        "post": s.post.code if s.post_id and s.post else None,
        "start": iso(s.start),
        "end": iso(s.end),
        "seats": s.seats,
        "assigned": len(people),
        "mode": s.mode,
        "label": s.label,
        "token": s.token,
        "people": people,
    }


def _measure_out(v: MeasureValue) -> dict[str, Any]:
    return {
        "id": v.pk,
        "kind": v.kind.code,
        "name": v.kind.name,
        "unit_label": v.kind.unit_label,
        "value": v.value,
        "on": v.on,
        "note": v.note,
    }


def _deployment_detail(d: Deployment) -> dict[str, Any]:
    d = (
        Deployment.objects.select_related("unit", "supported_unit", "partner", "leader", "request")
        .prefetch_related("memberships__person", "memberships__team")
        .get(pk=d.pk)
    )
    members = sorted(d.memberships.all(), key=lambda m: m.person.code)
    out = _deployment_out(d, len(members))
    out["members"] = [
        {"person": m.person.code, "name": m.person.name, "team": m.team.code if m.team else None}
        for m in members
    ]
    shifts = d.shifts.select_related("deployment", "post").prefetch_related("assignments__person")
    out["shifts"] = [_shift_out(s) for s in shifts.order_by("start", "id")]
    out["measures"] = [_measure_out(v) for v in d.measures.select_related("kind")]
    return out


def _get_deployment(user: Any, code: str) -> Deployment:
    return queries.deployment_get_or_404(user, code=code)


@router.get("/deployments", response=DeploymentPage, summary="Batches (派出批次)")
@coded
def list_deployments(
    request: HttpRequest, filters: Query[DeploymentFilters], page: Query[PageParams]
) -> dict[str, Any]:
    user = actor(request)
    qs = queries.deployment_list(
        user,
        unit=resolve_unit(user, filters.unit, "unit"),
        since=when(filters.since, "since"),
        until=when(filters.until, "until"),
    )
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.request:
        qs = qs.filter(request__code=filters.request)
    if filters.q:
        q = filters.q.strip()
        qs = qs.filter(Q(code__icontains=q) | Q(title__icontains=q) | Q(site__icontains=q))
    items, meta = paginate(qs, page)
    return {**meta, "items": [_deployment_out(d, d.member_count) for d in items]}  # type: ignore[attr-defined]


@router.get(
    "/deployments/{code}",
    response={200: DeploymentDetailOut, **NOT_FOUND},
    summary="A batch with its members, shifts and measures",
)
def get_deployment(request: HttpRequest, code: str) -> dict[str, Any]:
    return _deployment_detail(_get_deployment(actor(request), code))


@router.post("/deployments", response={201: DispatchOut, **WRITE_ERRORS}, summary="Dispatch a batch")
@coded
def dispatch(request: HttpRequest, payload: DispatchIn) -> Status:
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    supported = None
    if payload.supported_unit:
        # Usually another district (no secret); any other unit out of scope reads like an unknown code.
        supported = policy.supportable_unit(user, payload.supported_unit)
        if supported is None:
            raise ValidationError(
                {"supported_unit": _("No unit with the code %(code)s.") % {"code": payload.supported_unit}}
            )
    req = None
    if payload.request:
        req = access.scoped(Request.objects.all(), user, Perm.VIEW).filter(code=payload.request).first()
        if req is None:
            raise ValidationError(
                {"request": _("There is no request with the code %(code)s.") % {"code": payload.request}}
            )
    result = services.deployment_dispatch(
        actor=user,
        unit=unit,
        title=payload.title,
        start=required_when(payload.start, "start"),
        end=required_when(payload.end, "end"),
        teams=_teams(user, payload.teams),
        people=_people(user, payload.people, "people"),
        leader=required_person(user, payload.leader, "leader") if payload.leader else None,
        request=req,
        partner=_partner(user, payload.partner),
        site=payload.site,
        supported_unit=supported,
        code=payload.code,
        note=payload.note,
    )
    out = _deployment_detail(result.deployment)
    out["warnings"] = _warnings(result.warnings)
    return Status(201, out)


@router.patch("/deployments/{code}", response={200: DispatchOut, **WRITE_ERRORS}, summary="Change a batch")
@coded
def update_deployment(request: HttpRequest, code: str, payload: DeploymentPatch) -> dict[str, Any]:
    user = actor(request)
    d = _get_deployment(user, code)
    changes = payload.model_dump(exclude_unset=True)
    for f in ("start", "end"):
        if f in changes:
            changes[f] = when(changes[f], f)
    if changes.get("leader"):
        changes["leader"] = required_person(user, changes["leader"], "leader")
    else:
        changes.pop("leader", None)
    result = services.deployment_update(actor=user, deployment=d, **changes)
    out = _deployment_detail(result.deployment)
    out["warnings"] = _warnings(result.warnings)
    return out


@router.post(
    "/deployments/{code}/cancel",
    response={200: DeploymentDetailOut, **WRITE_ERRORS},
    summary="Cancel a batch",
)
@coded
def cancel_deployment(request: HttpRequest, code: str, payload: ReasonIn) -> dict[str, Any]:
    user = actor(request)
    d = services.deployment_cancel(actor=user, deployment=_get_deployment(user, code), reason=payload.reason)
    return _deployment_detail(d)


@router.post(
    "/deployments/{code}/members",
    response={200: DispatchOut, **WRITE_ERRORS},
    summary="Add a person to a batch",
)
@coded
def add_member(request: HttpRequest, code: str, payload: MemberIn) -> dict[str, Any]:
    user = actor(request)
    d = _get_deployment(user, code)
    team = _teams(user, [payload.team])[0] if payload.team else None
    result = services.deployment_member_add(
        actor=user, deployment=d, person=required_person(user, payload.person, "person"), team=team
    )
    out = _deployment_detail(d)
    out["warnings"] = _warnings(result.warnings)
    return out


@router.delete(
    "/deployments/{code}/members/{person}",
    response={204: None, **WRITE_ERRORS},
    summary="Take a person out of a batch",
)
@coded
def remove_member(request: HttpRequest, code: str, person: str) -> Status:
    user = actor(request)
    d = _get_deployment(user, code)
    member = d.members.filter(code=person).first()
    if member is None:
        raise Http404
    services.deployment_member_remove(actor=user, deployment=d, person=member)
    return Status(204, None)
