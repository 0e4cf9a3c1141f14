"""The membership pipeline over the API: cases, talks, stages, extensions, closing."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Query, Schema, Status

from muster.api.common import BoundedDate, ReasonIn, actor, required_person, required_unit
from muster.orgs import access
from muster.partylife import queries, services
from muster.partylife.models import MembershipCase

from .common import WRITE_ERRORS, _as_of, _people, router
from .compliance import CutoffQuery


class CaseOut(Schema):
    id: int
    person: str
    name: str
    branch: str
    stage: str
    applied_on: date
    talked_on: date | None
    activist_on: date | None
    candidate_on: date | None
    probationary_on: date | None
    extension_months: int
    full_on: date | None
    closed: bool
    closed_reason: str


class CaseIn(Schema):
    person: str
    branch: str
    applied_on: BoundedDate
    note: str = ""


class CaseFilters(Schema):
    unit: str
    include_closed: bool = False


class AdvanceIn(Schema):
    stage: str
    on: BoundedDate
    introducers: list[str] = []
    note: str = ""


class TalkedIn(Schema):
    on: BoundedDate


class ExtendIn(Schema):
    months: int
    reason: str


class DueCaseOut(Schema):
    case: int
    person: str
    name: str
    stage: str
    milestone: str
    date: date
    status: str


def _case_out(c: MembershipCase) -> dict[str, Any]:
    return {
        "id": c.pk,
        "person": c.person.code,
        "name": c.person.name,
        "branch": c.branch.code,
        "stage": c.stage,
        "applied_on": c.applied_on,
        "talked_on": c.talked_on,
        "activist_on": c.activist_on,
        "candidate_on": c.candidate_on,
        "probationary_on": c.probationary_on,
        "extension_months": c.extension_months,
        "full_on": c.full_on,
        "closed": c.closed,
        "closed_reason": c.closed_reason,
    }


def _get_case(user: Any, case_id: int) -> MembershipCase:
    return access.get_scoped_or_404(
        MembershipCase.objects.select_related("person", "branch"), user, pk=case_id
    )


@router.get("/partylife/cases", response={200: list[CaseOut], **WRITE_ERRORS})
def list_cases(request: HttpRequest, q: Query[CaseFilters]) -> list[dict[str, Any]]:
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    qs = queries.pipeline_cases(user, unit, include_closed=q.include_closed)
    return [_case_out(c) for c in qs.order_by("applied_on", "id")]


@router.get("/partylife/cases/due", response={200: list[DueCaseOut], **WRITE_ERRORS})
def cases_due(request: HttpRequest, q: Query[CutoffQuery]) -> list[dict[str, Any]]:
    """Who is due for what in the membership pipeline, soonest first."""
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    return [
        {
            "case": d.case.pk,
            "person": d.case.person.code,
            "name": d.case.person.name,
            "stage": d.case.stage,
            "milestone": d.milestone.code,
            "date": d.milestone.date,
            "status": d.milestone.status,
        }
        for d in queries.pipeline_due(user, unit, as_of=_as_of(q.as_of))
    ]


@router.post("/partylife/cases", response={201: CaseOut, **WRITE_ERRORS})
def open_case(request: HttpRequest, payload: CaseIn) -> Status:
    """Record an application to join the party (入党申请书)."""
    user = actor(request)
    c = services.membership_case_open(
        actor=user,
        person=required_person(user, payload.person, "person"),
        branch=required_unit(user, payload.branch, "branch"),
        applied_on=payload.applied_on,
        note=payload.note,
    )
    return Status(201, _case_out(c))


@router.post("/partylife/cases/{case_id}/talk", response={200: CaseOut, **WRITE_ERRORS})
def case_talk(request: HttpRequest, case_id: int, payload: TalkedIn) -> dict[str, Any]:
    user = actor(request)
    c = services.membership_case_talk(actor=user, case=_get_case(user, case_id), on=payload.on)
    return _case_out(c)


@router.post("/partylife/cases/{case_id}/advance", response={200: CaseOut, **WRITE_ERRORS})
def advance_case(request: HttpRequest, case_id: int, payload: AdvanceIn) -> dict[str, Any]:
    """Move a case to its next stage (the standard waiting periods are checked)."""
    user = actor(request)
    c = services.membership_case_advance(
        actor=user,
        case=_get_case(user, case_id),
        stage=payload.stage,
        on=payload.on,
        introducers=_people(user, payload.introducers, "introducers"),
        note=payload.note,
    )
    return _case_out(c)


@router.post("/partylife/cases/{case_id}/extend", response={200: CaseOut, **WRITE_ERRORS})
def extend_case(request: HttpRequest, case_id: int, payload: ExtendIn) -> dict[str, Any]:
    user = actor(request)
    c = services.membership_case_extend(
        actor=user, case=_get_case(user, case_id), months=payload.months, reason=payload.reason
    )
    return _case_out(c)


@router.post("/partylife/cases/{case_id}/close", response={200: CaseOut, **WRITE_ERRORS})
def close_case(request: HttpRequest, case_id: int, payload: ReasonIn) -> dict[str, Any]:
    user = actor(request)
    c = services.membership_case_close(actor=user, case=_get_case(user, case_id), reason=payload.reason)
    return _case_out(c)
