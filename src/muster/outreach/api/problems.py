"""The problem list, its steps and the figures as of a cutoff."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Schema, Status

from muster.api.common import (
    BoundedDate,
    BoundedDateTime,
    ErrorOut,
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
    _as_of,
    _enterprises,
    _people,
    router,
)
from muster.outreach.models import (
    Problem,
)

# ================================================================ problems


class ProblemIn(Schema):
    title: str
    unit: str
    raised_on: BoundedDate
    category: str = ""
    description: str = ""
    owner: str | None = None
    enterprise: str | None = None
    visit: int | None = Field(None, ge=1, le=2**62)
    deadline: BoundedDate | None = None


class ProblemPatch(Schema):
    title: str | None = None
    category: str | None = None
    description: str | None = None
    owner: str | None = None
    deadline: BoundedDate | None = None


class ProblemStepIn(Schema):
    on: BoundedDate | None = None


class ResolveIn(ProblemStepIn):
    resolution: str = ""
    evidence: str = ""


class ReasonStepIn(ProblemStepIn):
    reason: str = ""


def _problem_out(user: Any, pr: Problem, *, history: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": pr.pk,
        "title": pr.title,
        "category": pr.category,
        "description": pr.description,
        "raised_on": pr.raised_on.isoformat(),
        "unit": unit_ref(user, pr.unit),
        "branch": unit_ref(user, pr.branch),
        "owner": pr.owner.code if pr.owner is not None and queries.person_visible(user, pr.owner) else None,
        "enterprise": (
            pr.enterprise.credit_code
            if pr.enterprise is not None and queries.enterprise_visible(user, pr.enterprise)
            else None
        ),
        "visit": pr.visit_id,
        "deadline": pr.deadline.isoformat() if pr.deadline else None,
        "status": pr.status,
        "resolved_on": pr.resolved_on.isoformat() if pr.resolved_on else None,
        "resolution": pr.resolution,
        "evidence": pr.evidence,
        "reason": pr.reason,
    }
    if history:
        out["history"] = [
            {
                "action": ev.action,
                "status": ev.status,
                "on": ev.on.isoformat(),
                "text": ev.text,
                "by": ev.actor_name,
            }
            for ev in pr.events.order_by("on", "id")
        ]
    return out


@router.get("/problems", response=dict[str, Any])
def list_problems(
    request: HttpRequest,
    page: Query[PageParams],
    unit: str | None = None,
    status: Literal["open", "in_progress", "resolved", "unsolvable"] | None = None,
    overdue_on: BoundedDate | None = None,
) -> Any:
    user = actor(request)
    qs = queries.overdue(user, overdue_on) if overdue_on is not None else queries.problems(user)
    scope = resolve_unit(user, unit, "unit")
    if scope is not None:
        qs = qs.filter(queries.subtree_q(scope))
    if status is not None:
        qs = qs.filter(status=status)
    items, meta = paginate(qs, page)
    return {**meta, "items": [_problem_out(user, pr) for pr in items]}


@router.post("/problems", response={201: dict[str, Any], **WRITE_ERRORS})
def raise_problem(request: HttpRequest, payload: ProblemIn) -> Any:
    user = actor(request)
    unit = required_unit(user, payload.unit, "unit")
    owner = _people(user, [payload.owner], "owner")[0] if payload.owner else None
    enterprise = _enterprises(user, [payload.enterprise], "enterprise")[0] if payload.enterprise else None
    visit = None
    if payload.visit is not None:
        visit = queries.visits(user).filter(pk=payload.visit).first()
        if visit is None:
            raise ValidationError({"visit": _("There is no such visit.")})
    pr = services.problem_raise(
        actor=user,
        title=payload.title,
        unit=unit,
        raised_on=payload.raised_on,
        category=payload.category,
        description=payload.description,
        owner=owner,
        enterprise=enterprise,
        visit=visit,
        deadline=payload.deadline,
    )
    return Status(201, _problem_out(user, pr, history=True))


@router.get("/problems/{pk}", response={200: dict[str, Any], **NOT_FOUND})
def get_problem(request: HttpRequest, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    return _problem_out(user, queries.problem_get(user, pk), history=True)


@router.patch("/problems/{pk}", response={200: dict[str, Any], **WRITE_ERRORS})
def update_problem(request: HttpRequest, payload: ProblemPatch, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    pr = queries.problem_get(user, pk)
    fields = payload.dict(exclude_unset=True)
    if "owner" in fields:
        fields["owner"] = _people(user, [fields["owner"]], "owner")[0] if fields["owner"] else None
    return _problem_out(user, services.problem_update(actor=user, problem=pr, **fields), history=True)


@router.post("/problems/{pk}/start", response={200: dict[str, Any], **WRITE_ERRORS})
def start_problem(request: HttpRequest, payload: ProblemStepIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    pr = services.problem_start(actor=user, problem=queries.problem_get(user, pk), on=payload.on)
    return _problem_out(user, pr, history=True)


@router.post("/problems/{pk}/resolve", response={200: dict[str, Any], **WRITE_ERRORS})
def resolve_problem(request: HttpRequest, payload: ResolveIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    pr = services.problem_resolve(
        actor=user,
        problem=queries.problem_get(user, pk),
        resolution=payload.resolution,
        evidence=payload.evidence,
        on=payload.on,
    )
    return _problem_out(user, pr, history=True)


@router.post("/problems/{pk}/unsolvable", response={200: dict[str, Any], **WRITE_ERRORS})
def unsolvable_problem(
    request: HttpRequest, payload: ReasonStepIn, pk: int = Path(..., ge=1, le=2**62)
) -> Any:
    user = actor(request)
    pr = services.problem_declare_unsolvable(
        actor=user, problem=queries.problem_get(user, pk), reason=payload.reason, on=payload.on
    )
    return _problem_out(user, pr, history=True)


@router.post("/problems/{pk}/reopen", response={200: dict[str, Any], **WRITE_ERRORS})
def reopen_problem(request: HttpRequest, payload: ReasonStepIn, pk: int = Path(..., ge=1, le=2**62)) -> Any:
    user = actor(request)
    pr = services.problem_reopen(
        actor=user, problem=queries.problem_get(user, pk), reason=payload.reason, on=payload.on
    )
    return _problem_out(user, pr, history=True)


# ================================================================ figures


class OutreachFiguresOut(Schema):
    unit: str
    as_of: str
    visits: int
    enterprises_visited: int
    problems: int
    problems_resolved: int
    problems_overdue: int
    resolution_rate: Decimal | None
    resolution_rate_text: str


@router.get("/figures", response={200: OutreachFiguresOut, **NOT_FOUND, 422: ErrorOut})
def figures(request: HttpRequest, unit: str, as_of: BoundedDateTime | None = None) -> Any:
    """The outreach figures of a unit's subtree as of a cutoff; the rate is cut to one decimal."""
    user = actor(request)
    scope = required_unit(user, unit, "unit")
    f = queries.figures(scope, _as_of(as_of))
    return {
        "unit": scope.code,
        "as_of": timezone.localtime(f.as_of, ZoneInfo(settings.TIME_ZONE)).isoformat(),
        "visits": f.visits,
        "enterprises_visited": f.enterprises_visited,
        "problems": f.problems,
        "problems_resolved": f.resolved,
        "problems_overdue": f.overdue,
        "resolution_rate": f.rate,
        "resolution_rate_text": f.rate_text,
    }
