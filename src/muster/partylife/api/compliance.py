"""Compliance over the API: the dashboard, the calendar, exemptions, inactivity."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Schema, Status

from muster.api.common import BoundedDate, BoundedDateTime, ReasonIn, actor, required_unit
from muster.orgs import access
from muster.orgs.access import Perm
from muster.partylife import queries, services
from muster.partylife.models import Exemption

from .common import WRITE_ERRORS, _as_of, _iso, _period, router


class PeriodQuery(Schema):
    unit: str
    start: BoundedDate | None = Field(None, description="first day (default: this quarter)")
    end: BoundedDate | None = Field(None, description="day after the last (default: end of this quarter)")
    as_of: BoundedDateTime | None = Field(None, description="cutoff instant (default: now)")


class LineOut(Schema):
    code: str
    kind: str
    period: str
    start: date
    end: date
    required: int
    held: int
    gap: int
    exempt: bool
    status: str
    meetings: list[int]
    quorum_failures: list[int]


class OrgRowOut(Schema):
    unit: str
    unit_name: str
    status: str
    lines: list[LineOut]


class DashboardOut(Schema):
    scope: str
    start: date
    end: date
    through: date
    frozen: bool
    frozen_at: str | None
    rows: list[OrgRowOut]
    behind: list[str]


@router.get("/partylife/compliance", response={200: DashboardOut, **WRITE_ERRORS})
def compliance_dashboard(request: HttpRequest, q: Query[PeriodQuery]) -> dict[str, Any]:
    """Required vs held per organization under ``unit`` for a period, as of a cutoff (frozen periods
    answer from their snapshot)."""
    user = actor(request)
    scope = required_unit(user, q.unit, "unit")
    start, end = _period(q.start, q.end)
    d = queries.compliance_dashboard(user, scope, start=start, end=end, as_of=_as_of(q.as_of))
    rows = [
        {
            "unit": r["unit_code"],
            "unit_name": r["unit_name"],
            "status": r["status"],
            "lines": r["lines"],
        }
        for r in d.rows
    ]
    return {
        "scope": scope.code,
        "start": d.start,
        "end": d.end,
        "through": d.through,
        "frozen": d.frozen,
        "frozen_at": _iso(d.frozen_at),
        "rows": rows,
        "behind": [r["unit_code"] for r in d.behind],
    }


class DueOut(Schema):
    unit: str
    unit_name: str
    code: str
    kind: str
    start: date
    end: date
    due_on: date
    required: int
    held: int
    gap: int
    status: str


@router.get("/partylife/calendar", response={200: list[DueOut], **WRITE_ERRORS})
def compliance_calendar(request: HttpRequest, q: Query[PeriodQuery]) -> list[dict[str, Any]]:
    """What is still due (or was missed) under ``unit`` in the period, soonest first."""
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    start, end = _period(q.start, q.end)
    return [
        {
            "unit": d.unit.code,
            "unit_name": d.unit.name,
            "code": d.line.code,
            "kind": d.line.kind,
            "start": d.line.start,
            "end": d.line.end,
            "due_on": d.due_on,
            "required": d.line.required,
            "held": d.line.held,
            "gap": d.line.gap,
            "status": d.line.status,
        }
        for d in queries.compliance_calendar(user, unit, start=start, end=end, as_of=_as_of(q.as_of))
        if access.can(user, Perm.VIEW, d.unit)
    ]


class ExemptionOut(Schema):
    id: int
    unit: str
    requirement: str
    start: date
    end: date = Field(description="exclusive")
    reason: str
    approved_by: str
    approved_at: str | None
    revoked: bool


class ExemptionIn(Schema):
    unit: str = Field(description="the party organization exempted (code)")
    requirement: str = Field(description="a requirement code: theme_day, party_lesson, …")
    start: BoundedDate
    end: BoundedDate = Field(description="exclusive")
    reason: str


class ExemptionQuery(Schema):
    unit: str
    start: BoundedDate | None = None
    end: BoundedDate | None = None


def _exemption_out(x: Any) -> dict[str, Any]:
    return {
        "id": x.pk,
        "unit": x.unit.code,
        "requirement": x.requirement_code,
        "start": x.start,
        "end": x.end,
        "reason": x.reason,
        "approved_by": x.approved_by_name,
        "approved_at": _iso(x.approved_at),
        "revoked": x.revoked,
    }


def _exemptions(user: Any) -> QuerySet[Exemption]:
    return access.scoped(Exemption.objects.select_related("unit"), user, Perm.VIEW)


@router.get("/partylife/exemptions", response={200: list[ExemptionOut], **WRITE_ERRORS})
def list_exemptions(request: HttpRequest, q: Query[ExemptionQuery]) -> list[dict[str, Any]]:
    """Exemptions under ``unit`` overlapping [start, end) (default: the current quarter), revoked ones too."""
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    start, end = _period(q.start, q.end)
    qs = _exemptions(user).filter(unit__path__startswith=unit.path, start__lt=end, end__gt=start)
    return [_exemption_out(x) for x in qs.order_by("unit__path", "start", "pk")]


@router.post("/partylife/exemptions", response={201: ExemptionOut, **WRITE_ERRORS})
def grant_exemption(request: HttpRequest, payload: ExemptionIn) -> Status:
    """Exempt an organization from a requirement for a period; the caller is the approver (the right to
    approve party life on the committee above the organization)."""
    user = actor(request)
    x = services.exemption_grant(
        actor=user,
        unit=required_unit(user, payload.unit, "unit"),
        requirement_code=payload.requirement,
        start=payload.start,
        end=payload.end,
        reason=payload.reason,
    )
    return Status(201, _exemption_out(x))


@router.post("/partylife/exemptions/{exemption_id}/revoke", response={200: ExemptionOut, **WRITE_ERRORS})
def revoke_exemption(request: HttpRequest, exemption_id: int, payload: ReasonIn) -> dict[str, Any]:
    """Revoke an exemption, with the reason (the same approver rule as granting it)."""
    user = actor(request)
    x = access.get_scoped_or_404(_exemptions(user), user, pk=exemption_id)
    return _exemption_out(services.exemption_revoke(actor=user, exemption=x, reason=payload.reason))


class CutoffQuery(Schema):
    unit: str
    as_of: BoundedDateTime | None = Field(None, description="cutoff instant (default: now)")


class InactivityOut(Schema):
    person: str
    name: str
    branch: str
    months: int
    level: int
    last_life: date | None


@router.get("/partylife/inactivity", response={200: list[InactivityOut], **WRITE_ERRORS})
def inactivity(request: HttpRequest, q: Query[CutoffQuery]) -> list[dict[str, Any]]:
    """Members with no organizational life for 3, 4, 5 months (6: the six-month rule is crossed)."""
    user = actor(request)
    unit = required_unit(user, q.unit, "unit")
    return [
        {
            "person": w.person.code,
            "name": w.person.name,
            "branch": w.branch.code,
            "months": w.months,
            "level": w.level,
            "last_life": w.last_life,
        }
        for w in queries.inactivity_warnings(user, unit, as_of=_as_of(q.as_of))
    ]
